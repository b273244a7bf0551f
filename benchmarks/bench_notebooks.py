"""The notebook suite's wall time under nbval, each notebook's, and the floors they compare with.

The suite is every numbered notebook under nbval in one fresh state, as `make test` runs them;
the solutions are timed separately after them (they use what the course made). A floor is what
the suite cannot go below: one fresh kernel per numbered notebook, each only importing the
libraries the course uses (floor A), or importing them and calling `use_backend()`, which starts
the simulator (floor B). Their kernels shut down gracefully, running their exit handlers (the
target was set against this floor); nbval kills the suite's kernels instead, so floor B is also
measured that way ("killed"), the fairer yardstick of what the notebooks themselves cost. Suite
and floors are measured in pairs, one after the other, three times; the figures are the medians.
Targets: suite <= 1.5 x floor B, and under 45 s on 2 cores.

The machine's speed drifts (a shared 2-core machine ran the same code more than twice as slowly
on one day as on another), and the ratio has drifted with it: 1.49 to 1.57 on a fast day, 1.61 to
1.96 on a slow one, for the same code. So each pair also reports `machine_seconds`: a fixed
pure-Python loop, timed in a fresh process before and after the pair, to read each ratio against.
The bench reports, too, the CPU seconds the suite and floor B used: nbval's, the kernels' and this
process's (not those of processes started in a session of their own, such as the prior's
background build). On a slow day the CPU ratio was 2.0 to 2.2 where the wall ratio was 1.8 to 1.9:
there the suite spent more CPU per second of the floor's, not more time waiting.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from helpers.paths import REPO_ROOT
from scripts.course import nbval_args
from scripts.run_notebooks import NOTEBOOKS, execute

RUNS = 3
IMPORTS = "import openai, pandas, sklearn, matplotlib.pyplot, tiktoken\n"
BACKEND = "from helpers.backend import use_backend\nuse_backend()\n"


def fresh_env(root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TUTORIAL_BACKEND": "simulator",
        "SIMULATOR_STATE": str(root / "simulator"),
        "TUTORIAL_WORK_DIR": str(root / "work"),
    }


def course_notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def solution_notebooks() -> list[Path]:
    return sorted((NOTEBOOKS / "solutions").glob("[0-9][0-9]-*.ipynb"))


def time_nbval(paths: list[Path], root: Path) -> float:
    """Seconds for nbval to run `paths` in order in the state under `root`."""
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *nbval_args(),
            *[str(p.relative_to(REPO_ROOT)) for p in paths],
        ],
        cwd=REPO_ROOT, env=fresh_env(root), capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError("nbval failed:\n" + done.stdout[-3000:])
    return seconds


def time_floor(n_kernels: int, source: str, shutdown: str = "graceful") -> float:
    """Seconds for `n_kernels` fresh kernels, one after the other, each running `source`, then
    shut down as `shutdown` says: "graceful" (the kernel exits by itself, running its exit
    handlers) or "immediate" (killed, as nbval stops the suite's kernels)."""
    with tempfile.TemporaryDirectory() as root, _environment(fresh_env(Path(root))):
        started = time.perf_counter()
        for _ in range(n_kernels):
            notebook = new_notebook(cells=[new_code_cell(source)])
            client = NotebookClient(
                notebook, kernel_name="python3", timeout=120, shutdown_kernel=shutdown
            )
            client.execute()
        return time.perf_counter() - started


MACHINE_LOOP = """
import time
started = time.perf_counter()
total = 0
for i in range(5_000_000):
    total += i
print(time.perf_counter() - started)
"""


def machine_seconds() -> float:
    """Seconds a fresh Python takes for a fixed loop of 5 million additions: how fast the
    machine runs Python just now (about 0.2 s on an idle 2-core machine of ours)."""
    done = subprocess.run(
        [sys.executable, "-c", MACHINE_LOOP], capture_output=True, text=True, check=True
    )
    return float(done.stdout)


def cpu_seconds() -> float:
    """CPU seconds (user and system) of this process and of every child it has waited for: the
    kernels a floor starts, and nbval's process with its kernels. (Windows counts no children.)"""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def time_each_notebook() -> dict[str, float]:
    """Each notebook in order, solutions last, in one fresh state, as `make run` does."""
    timings = {}
    with tempfile.TemporaryDirectory() as root, _environment(fresh_env(Path(root))):
        for path in course_notebooks() + solution_notebooks():
            _, seconds = execute(path)
            name = path.stem if path.parent == NOTEBOOKS else f"solutions/{path.stem}"
            timings[name] = round(seconds, 2)
    return timings


class _environment:
    """Run with `env` as os.environ (kernels inherit it), and put the old one back."""

    def __init__(self, env: dict[str, str]):
        self.env, self.saved = env, dict(os.environ)

    def __enter__(self):
        os.environ.update(self.env)

    def __exit__(self, *exc):
        os.environ.clear()
        os.environ.update(self.saved)


def run() -> dict:
    course = course_notebooks()
    runs = []
    for _ in range(RUNS):
        before = machine_seconds()
        with tempfile.TemporaryDirectory() as root:
            cpu = cpu_seconds()
            suite = time_nbval(course, Path(root))
            suite_cpu = cpu_seconds() - cpu
            solutions = time_nbval(solution_notebooks(), Path(root))
        floor_a = time_floor(len(course), IMPORTS)
        cpu = cpu_seconds()
        floor_b = time_floor(len(course), IMPORTS + BACKEND)
        floor_b_cpu = cpu_seconds() - cpu
        floor_b_killed = time_floor(len(course), IMPORTS + BACKEND, shutdown="immediate")
        runs.append(
            {
                "machine_seconds": (before + machine_seconds()) / 2,
                "suite": suite,
                "solutions": solutions,
                "floor_a": floor_a,
                "floor_b": floor_b,
                "floor_b_killed": floor_b_killed,
                "suite_over_floor_a": suite / floor_a,
                "suite_over_floor_b": suite / floor_b,
                "suite_over_floor_b_killed": suite / floor_b_killed,
                "suite_cpu": suite_cpu,
                "floor_b_cpu": floor_b_cpu,
                "suite_over_floor_b_cpu": suite_cpu / floor_b_cpu,
            }
        )
    median = {key: round(statistics.median(r[key] for r in runs), 2) for key in runs[0]}
    return {
        "notebooks": len(course),
        "runs": RUNS,
        "suite_seconds": median["suite"],
        "floor_a_seconds (imports)": median["floor_a"],
        "floor_b_seconds (imports + use_backend)": median["floor_b"],
        "suite_over_floor_a": median["suite_over_floor_a"],
        "suite_over_floor_b": median["suite_over_floor_b"],
        "floor_b_killed_seconds (as floor B, each kernel killed as nbval does)": median[
            "floor_b_killed"
        ],
        "suite_over_floor_b_killed": median["suite_over_floor_b_killed"],
        "target_suite_over_floor_b": 1.5,
        "target_suite_seconds": 45,
        "solutions_seconds": median["solutions"],
        "suite_cpu_seconds": median["suite_cpu"],
        "floor_b_cpu_seconds": median["floor_b_cpu"],
        "suite_over_floor_b_cpu": median["suite_over_floor_b_cpu"],
        "machine_seconds (a fixed Python loop; higher is a slower machine)": median[
            "machine_seconds"
        ],
        "each_run": [{k: round(v, 2) for k, v in r.items()} for r in runs],
        "per_notebook_seconds": time_each_notebook(),
    }
