"""Shared test set-up: offline data from ../shared when it is there, never a paid backend."""

from __future__ import annotations

import os

from helpers.paths import SHARED_DIR

# The same defaults as .ci/run and the Makefile, so that a bare `pytest` works too.
if (SHARED_DIR / "scikit_learn_data").is_dir():
    os.environ.setdefault("SCIKIT_LEARN_DATA", str(SHARED_DIR / "scikit_learn_data"))
if (SHARED_DIR / "tiktoken_cache").is_dir():
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(SHARED_DIR / "tiktoken_cache"))
# Tests must never spend a learner's key.
os.environ["TUTORIAL_BACKEND"] = "simulator"
