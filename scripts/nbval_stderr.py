"""Show what a notebook cell wrote to stderr when nbval fails it.

nbval reports "Unexpected output fields from running code: {'stderr'}" without the text, so a
failure that happens once (a warning from a library, a log line of the simulator's background
thread landing in whichever cell is running) cannot be told from another. This plugin adds
the cell's stderr to the failure report, as pytest shows captured output.

Loaded with the notebooks (`-p scripts.nbval_stderr`, see `scripts/course.py`).
"""

from __future__ import annotations

import pytest

SECTION = "stderr of the cell"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    text = cell_stderr(getattr(item, "test_outputs", None) or [])
    if text:
        report.sections.append((SECTION, text))


def cell_stderr(outputs: list) -> str:
    """The text a cell's outputs wrote to stderr, in order."""
    return "".join(
        out.get("text", "")
        for out in outputs
        if out.get("output_type") == "stream" and out.get("name") == "stderr"
    )
