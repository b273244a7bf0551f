"""Identifiers that depend only on the seed and on the order things are created in.

A fresh state with the same seed therefore hands out the same ids run after run. Ids of what
belongs to a job (its events, checkpoints, results file, model name) are derived from the job's
own id, so they do not depend on what other clients did meanwhile.
"""

from __future__ import annotations

import hashlib

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
