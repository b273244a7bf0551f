"""Timestamps: a simulated clock that gives the same times on every run, or the real one.

The simulated clock starts at a fixed instant and moves only when something happens: each
request that creates something moves it on by a second, and a job's events are spaced by the
simulated minutes its work would take. Every timestamp is computed on the simulated clock; with
the real clock, the moment a thing happens is stamped with the wall time instead.
"""

from __future__ import annotations

import time

# 2026-01-01 00:00:00 UTC.
SIMULATED_EPOCH = 1_767_225_600


class Clock:
    def __init__(self, mode: str):
        self.simulated = mode == "simulated"

    def stamp(self, simulated_time: int) -> int:
        """The timestamp to report for something that happens now at `simulated_time`."""
        return int(simulated_time) if self.simulated else int(time.time())

    def later(self, simulated_time: int, wall_seconds_from_now: float) -> int:
        """The timestamp of a future moment (an estimated finish)."""
        if self.simulated:
            return int(simulated_time)
        return int(time.time() + wall_seconds_from_now)
