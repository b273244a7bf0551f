"""The whole course, solutions included, run twice under nbval in one environment.

The second run must pass too, and create nothing: no job, no upload, no ` (1)` copy of a file.
It takes about four minutes on two cores, so it is not part of the default run; ask for it with

    COURSE_TWICE=1 .venv/bin/python -m pytest tests/test_course_twice.py
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from helpers.paths import REPO_ROOT

pytestmark = pytest.mark.skipif(
    os.environ.get("COURSE_TWICE") != "1", reason="slow: set COURSE_TWICE=1 to run it"
)


def run_course(env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [
        sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "notebooks",
        "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", "-o", "testpaths=notebooks", "-q",
    ]  # fmt: skip
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)


def counts(state) -> dict[str, int]:
    """Every job, batch and upload the simulator ever recorded, deleted files included."""
    with sqlite3.connect(state / "state.sqlite3") as db:
        return {
            table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("jobs", "batches", "files")
        }


def copies(work) -> list[str]:
    return sorted(p.name for p in work.rglob("*") if " (1)" in p.name)


def test_the_course_run_twice_passes_and_creates_nothing_the_second_time(tmp_path):
    env = os.environ | {
        "TUTORIAL_BACKEND": "simulator",
        "SIMULATOR_STATE": str(tmp_path / "simulator"),
        "TUTORIAL_WORK_DIR": str(tmp_path / "work"),
        "PYTHONHASHSEED": "0",
    }
    first = run_course(env)
    assert first.returncode == 0, first.stdout[-3000:]
    after_first = counts(tmp_path / "simulator")
    assert after_first["jobs"] > 0 and after_first["batches"] > 0 and after_first["files"] > 0

    second = run_course(env)
    assert second.returncode == 0, second.stdout[-3000:]
    assert counts(tmp_path / "simulator") == after_first
    assert copies(tmp_path / "work") == []
