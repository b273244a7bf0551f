"""The notebook suite's wall time under nbval, each notebook's, and the floor they compare with.

The floor is what the suite cannot go below: as many fresh kernels as there are notebooks, each
only importing the course's libraries. Targets: suite <= 1.5 x floor, and <= 90 s on 2 cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from helpers.paths import REPO_ROOT
from scripts.run_notebooks import execute, notebook_paths

IMPORTS = """
import matplotlib.pyplot as plt
import numpy as np
import openai
import pandas as pd
import sklearn.metrics
import tiktoken
import tqdm

import helpers.backend, helpers.datasets, helpers.jobs, helpers.tokens
"""


def fresh_env(root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TUTORIAL_BACKEND": "simulator",
        "SIMULATOR_STATE": str(root / "simulator"),
        "TUTORIAL_WORK_DIR": str(root / "work"),
    }


def time_nbval() -> float:
    with tempfile.TemporaryDirectory() as root:
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "--nbval",
                "--nbval-current-env",
                "notebooks",
                "--nbval-sanitize-with",
                "tests/nbval_sanitize.cfg",
                "-o",
                "testpaths=notebooks",
            ],
            cwd=REPO_ROOT,
            env=fresh_env(Path(root)),
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError("nbval failed:\n" + done.stdout[-2000:])
    return seconds


def time_each_notebook() -> dict[str, float]:
    """Each notebook in order, in one fresh state, as `make run` does."""
    timings = {}
    with tempfile.TemporaryDirectory() as root:
        saved = dict(os.environ)
        os.environ.update(fresh_env(Path(root)))
        try:
            for path in notebook_paths([]):
                _, seconds = execute(path)
                timings[path.stem] = round(seconds, 2)
        finally:
            os.environ.clear()
            os.environ.update(saved)
    return timings


def time_floor(n_kernels: int) -> float:
    started = time.perf_counter()
    for _ in range(n_kernels):
        notebook = new_notebook(cells=[new_code_cell(IMPORTS)])
        NotebookClient(notebook, kernel_name="python3", timeout=120).execute()
    return time.perf_counter() - started


def run() -> dict:
    n = len(notebook_paths([]))
    suite = time_nbval()
    floor = time_floor(n)
    return {
        "notebooks": n,
        "nbval_suite_seconds": round(suite, 2),
        "floor_seconds": round(floor, 2),
        "suite_over_floor": round(suite / floor, 2),
        "target_suite_over_floor": 1.5,
        "target_suite_seconds": 90,
        "per_notebook_seconds": time_each_notebook(),
    }
