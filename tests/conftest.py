"""Shared test set-up: offline data from ../shared when it is there, never a paid backend."""

from __future__ import annotations

import os

from helpers.paths import use_shared_data

# The same defaults as the course's entry points, so that a bare `pytest` works too.
use_shared_data()
# Tests must never spend a learner's key.
os.environ["TUTORIAL_BACKEND"] = "simulator"
