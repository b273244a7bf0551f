"""Where the course keeps things: its own data, and one git-ignored folder for what it writes."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
# Data that is not ours (20 Newsgroups cache, tiktoken encodings) may sit beside the checkout.
SHARED_DIR = REPO_ROOT.parent / "shared"
# Each library's cache variable, and the folder of ../shared that can serve as that cache.
SHARED_CACHES = {
    "SCIKIT_LEARN_DATA": "scikit_learn_data",
    "TIKTOKEN_CACHE_DIR": "tiktoken_cache",
}


def use_shared_data() -> dict[str, str]:
    """Point scikit-learn and tiktoken at ../shared's caches when they are there.

    This is the one place that knows about ../shared: the course entry points, the tests and the
    simulator call it. A variable the learner set is kept; on a machine with internet and no
    ../shared nothing changes and both libraries download as usual. Returns what is now set.
    """
    for variable, folder in SHARED_CACHES.items():
        if (SHARED_DIR / folder).is_dir():
            os.environ.setdefault(variable, str(SHARED_DIR / folder))
    return {v: os.environ[v] for v in SHARED_CACHES if v in os.environ}


def work_dir() -> Path:
    """The one folder the notebooks write to (prepared files, downloaded results).

    `TUTORIAL_WORK_DIR` moves it (the tests point it at a temporary folder).
    """
    path = Path(os.environ.get("TUTORIAL_WORK_DIR") or REPO_ROOT / "work")
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Where what the course derives once and reads many times is kept (posts, the simulator's
    language prior): `cache/` in the working folder, rebuilt whenever it is deleted."""
    return work_dir() / "cache"
