"""Ids and timestamps: both depend only on the seed and on the order things happen in.

A fresh state with the same seed therefore hands out the same ids run after run. Ids of what
belongs to a job (its events, checkpoints, results file, model name) are derived from the job's
own id, so they do not depend on what other clients did meanwhile.

Timestamps come from a simulated clock that gives the same times on every run, or from the real
one. The simulated clock starts at a fixed instant and moves only when something happens: each
request that creates something moves it on by a second, and a job's events are spaced by the
simulated minutes its work would take. Every timestamp is computed on the simulated clock; with
the real clock, the moment a thing happens is stamped with the wall time instead.
"""

from __future__ import annotations

import hashlib
import time

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
LOWER_ALPHANUMERIC = "0123456789abcdefghijklmnopqrstuvwxyz"

# Prefix and length of each kind of id, as the real API shapes them.
SHAPES = {
    "file": ("file-", 22),
    "ftjob": ("ftjob-", 24),
    "ftevent": ("ftevent-", 24),
    "ftckpt": ("ftckpt_", 24),
    "chatcmpl": ("chatcmpl-", 29),
    "cmpl": ("cmpl-", 29),
    "batch": ("batch_", 32),
    "batch_req": ("batch_req_", 32),
    "request": ("req_", 32),
}


def _digits(material: str, length: int, alphabet: str) -> str:
    number = int.from_bytes(hashlib.sha256(material.encode()).digest(), "big")
    out = []
    for _ in range(length):
        number, rest = divmod(number, len(alphabet))
        out.append(alphabet[rest])
    return "".join(out)


def make_id(kind: str, seed: int, number: int) -> str:
    """The `number`-th id of `kind` handed out in a state started with `seed`."""
    prefix, length = SHAPES[kind]
    return prefix + _digits(f"{seed}:{kind}:{number}", length, ALPHANUMERIC)


def derived_id(kind: str, parent: str, number: int = 0) -> str:
    """An id owned by `parent` (for example the 5th event of a job)."""
    prefix, length = SHAPES[kind]
    return prefix + _digits(f"{parent}:{kind}:{number}", length, ALPHANUMERIC)


def model_code(job_id: str) -> str:
    """The short lower-case code that ends a fine-tuned model's name, like the real 8-char ones."""
    return _digits(f"{job_id}:model", 8, LOWER_ALPHANUMERIC)


def fingerprint(seed: int) -> str:
    """The `system_fingerprint` of this simulator's answers."""
    return "fp_" + _digits(f"{seed}:fingerprint", 10, LOWER_ALPHANUMERIC)


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
