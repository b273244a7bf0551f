"""Where the course keeps things: its own data, and one git-ignored folder for what it writes."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
# Data that is not ours (20 Newsgroups cache, tiktoken encodings) may sit beside the checkout.
SHARED_DIR = REPO_ROOT.parent / "shared"


def work_dir() -> Path:
    """The one folder the notebooks write to (prepared files, downloaded results).

    `TUTORIAL_WORK_DIR` moves it (the tests point it at a temporary folder).
    """
    path = Path(os.environ.get("TUTORIAL_WORK_DIR") or REPO_ROOT / "work")
    path.mkdir(parents=True, exist_ok=True)
    return path
