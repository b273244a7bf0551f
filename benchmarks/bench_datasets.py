"""What loading the classifier's posts costs a notebook: the train and test tables of
`helpers.datasets.sports_table`, in a fresh process after `import pandas`.

- derive_ms: with an empty working folder (scikit-learn imported, its archive unpacked twice);
- kept_ms: the second time, from the tables kept in the working folder.

Medians of RUNS runs, each with a fresh working folder.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile

RUNS = 3
PROBE = """
import time
import pandas
started = time.perf_counter()
from helpers.datasets import sports_table
sports_table("train"), sports_table("test")
print((time.perf_counter() - started) * 1000)
"""


def run() -> dict:
    derive, kept = [], []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as work:
            env = {**os.environ, "TUTORIAL_WORK_DIR": work}
            derive.append(_probe(env))
            kept.append(_probe(env))
    return {
        "derive_ms": round(statistics.median(derive), 1),
        "kept_ms": round(statistics.median(kept), 1),
        "runs": RUNS,
    }


def _probe(env: dict) -> float:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])
