"""The course's commands, with or without make: `python -m scripts.course COMMAND [ARGS...]`.

    run        execute every notebook offline against the simulator; write build/
    test       lint, every test, nbval (stops at the first part that fails)
    lint       ruff check and ruff format --check, notebooks included
    unit       the tests in tests/ (ARGS go to pytest, e.g. tests/test_costs.py -k cost)
    nbval      re-run every notebook and compare its outputs with the stored ones
    outputs    store fresh outputs in the notebooks, exactly as nbval will see them (and in
               the Chinese edition, by sync-zh)
    bench      print the performance figures as JSON
    check      check this machine: Python, platform, packages, data, backend
    lab-check  open every notebook in JupyterLab in a real browser (Chromium) and run 01
    sync-zh    rebuild the Chinese edition (notebooks/zh/) from the English notebooks and the
               Chinese prose in notebooks/zh/prose/ (--check: only report drift)
    setup      only create .venv and install requirements.txt (--dev: and the test tools;
               --lab: and the browser check's)
    clean      remove build/

Each command first checks this Python, then creates `.venv` beside this folder when it is missing
and installs the pinned requirements into it only when they changed (a fingerprint of the
requirements files is kept in `.venv/.requirements*.stamp`), then runs inside `.venv`. The Makefile
calls this module, so `make run` and `python -m scripts.course run` are the same thing.

This module uses only the standard library: it runs before the virtual environment exists.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import venv
from pathlib import Path

from helpers.atomic import write_text_atomically
from helpers.check_env import python_problem
from helpers.paths import REPO_ROOT, use_shared_data

VENV = REPO_ROOT / ".venv"
BUILD = REPO_ROOT / "build"
# Notebooks always run against a fresh simulator state and a fresh working folder, so that
# `run`, `outputs`, `nbval` and `lab-check` all see the same ids, numbers and outputs.
NB_STATE = BUILD / ".state"
BASE, DEV, LAB = "requirements.txt", "requirements-dev.txt", "requirements-lab.txt"


class CommandFailed(Exception):
    def __init__(self, returncode: int):
        super().__init__(returncode)
        self.returncode = returncode


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def venv_version() -> tuple[int, ...] | None:
    """The version of .venv's Python, or None when there is no working one."""
    python = venv_python()
    if not python.is_file():
        return None
    code = "import sys; print(*sys.version_info[:3])"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        return None
    return tuple(int(part) for part in done.stdout.split())


def remove_tree(path: Path) -> None:
    """Remove a folder, read-only files included (Windows refuses to delete those)."""

    def make_writable_and_retry(function, name, _exc):
        os.chmod(name, stat.S_IWRITE)
        function(name)

    if path.exists():
        if sys.version_info >= (3, 12):
            shutil.rmtree(path, onexc=make_writable_and_retry)
        else:
            shutil.rmtree(path, onerror=make_writable_and_retry)


def ensure_venv() -> None:
    version = venv_version()
    if version is not None and python_problem(version, str(venv_python())) is None:
        return
    if version is not None:
        print(f"{VENV} was made with Python {'.'.join(map(str, version))}: making it again.")
        remove_tree(VENV)
    elif VENV.exists():
        print(f"{VENV} has no working Python: making it again.")
        remove_tree(VENV)
    print(f"Creating {VENV} with Python {sys.version.split()[0]} ...", flush=True)
    try:
        venv.EnvBuilder(with_pip=True).create(VENV)
    except (OSError, subprocess.CalledProcessError) as exc:
        remove_tree(VENV)
        print(
            f"This Python could not create a virtual environment ({exc}).\n"
            "On Debian or Ubuntu, install its venv module (`sudo apt install python3-venv`); "
            "elsewhere, a Python from python.org has it.",
            file=sys.stderr,
        )
        raise CommandFailed(1) from None
    call(str(venv_python()), "-m", "pip", "install", "--quiet", "--upgrade", "pip")


def included_files(requirements: Path) -> list[Path]:
    """`requirements` and every file it includes with `-r`, recursively."""
    files = [requirements]
    for line in requirements.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in ("-r", "--requirement"):
            files += included_files(requirements.parent / words[1])
    return files


def fingerprint(requirements: Path) -> str:
    """What the installed packages of `requirements` depend on: its files, pyproject.toml
    (the course's own helpers are installed from it) and .venv's Python."""
    digest = hashlib.sha256(str(venv_version()).encode())
    for path in [*included_files(requirements), REPO_ROOT / "pyproject.toml"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def stamp(requirements: Path) -> Path:
    return VENV / f".{requirements.stem}.stamp"


def install(name: str) -> None:
    """Create .venv if needed and install `name` (a requirements file) when it changed."""
    ensure_venv()
    requirements = REPO_ROOT / name
    if read(stamp(requirements)) == fingerprint(requirements):
        return
    print(f"Installing {name} into {VENV} ...", flush=True)
    try:
        call(str(venv_python()), "-m", "pip", "install", "--quiet", "-r", str(requirements))
    except CommandFailed:
        print(f"pip could not install {name}: see its message above.", file=sys.stderr)
        raise
    # Installing a file installs the files it includes too: none of them needs doing again.
    for path in included_files(requirements):
        write_text_atomically(stamp(path), fingerprint(path))


def read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def call(*command: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(command, cwd=REPO_ROOT, env=env)
    if done.returncode != 0:
        raise CommandFailed(done.returncode)


def python(*args: str, env: dict[str, str] | None = None) -> None:
    """Run .venv's Python from the repository's root."""
    call(str(venv_python()), *args, env=env)


def notebook_env() -> dict[str, str]:
    """A fresh simulator state and working folder, under build/.state, for notebook runs."""
    remove_tree(NB_STATE)
    return {
        **os.environ,
        "TUTORIAL_BACKEND": "simulator",
        "SIMULATOR_STATE": str(NB_STATE / "simulator"),
        "TUTORIAL_WORK_DIR": str(NB_STATE / "work"),
        "PYTHONHASHSEED": "0",
        # Kernels start in notebooks/, so `helpers` would come from wherever `-e .` was first
        # installed: with a .venv shared by two checkouts, the other one's code.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }


def run(args: list[str]) -> None:
    install(BASE)
    python("-m", "scripts.run_notebooks", "--out", "build", *args, env=notebook_env())


def lint(args: list[str]) -> None:
    install(DEV)
    python("-m", "ruff", "check", ".", *args)
    python("-m", "ruff", "format", "--check", ".", *args)


# Loaded before pytest's other plugins: nbformat then starts without a grammar no test uses.
QUICK_START = ["-p", "scripts.skip_iri_grammar"]


# The whole suite runs on every core (at most four), each test file on one worker, so that a
# file's shared fixtures (a server, a trained model) are built once: on two cores it takes about
# half as long. A selection (ARGS) runs in one process, where tracebacks and pdb read plainly.
WORKERS = ["--numprocesses", "auto", "--maxprocesses", "4", "--dist", "loadfile"]


def unit(args: list[str]) -> None:
    install(DEV)
    python("-m", "pytest", *QUICK_START, *(args or [*WORKERS, "tests"]))


def nbval_args() -> list[str]:
    sanitize = ["--nbval-sanitize-with", str(Path("tests", "nbval_sanitize.cfg"))]
    # The Chinese edition carries the English outputs and is never run: tests/test_editions.py
    # checks that it equals its English twins instead.
    skip = ["--ignore", str(Path("notebooks", "zh"))]
    # Notebooks use neither property-based tests, async tests nor platformdirs' fixtures: the
    # plugins for them (hypothesis's, anyio's, platformdirs') would add 0.9 s to the start.
    plugins = ["-p", "no:hypothesispytest", "-p", "no:anyio", "-p", "no:platformdirs"]
    current = ["--nbval", "--nbval-current-env"]
    # A cell failed for writing to stderr shows what it wrote (nbval names only the field).
    plugins += ["-p", "scripts.nbval_stderr"]
    return [*QUICK_START, *current, *sanitize, *skip, *plugins, "-o", "testpaths=notebooks"]


def nbval(args: list[str]) -> None:
    install(DEV)
    python("-m", "pytest", *nbval_args(), *(args or ["notebooks"]), env=notebook_env())


def test(args: list[str]) -> None:
    lint([])
    unit([])
    nbval([])


def outputs(args: list[str]) -> None:
    install(DEV)
    python("-m", "scripts.run_notebooks", "--in-place", *args, env=notebook_env())
    # The Chinese edition carries the English outputs: bring it along.
    python("-m", "scripts.sync_editions")


def bench(args: list[str]) -> None:
    install(DEV)
    python("-m", "benchmarks.run", *args, env=notebook_env())


def check(args: list[str]) -> None:
    install(BASE)
    python("-m", "helpers.check_env", *args)


def lab_check(args: list[str]) -> None:
    install(LAB)
    python("-m", "scripts.lab_check", *args, env=notebook_env())


def sync_zh(args: list[str]) -> None:
    install(BASE)
    python("-m", "scripts.sync_editions", *args)


def setup(args: list[str]) -> None:
    install(BASE)
    if "--dev" in args:
        install(DEV)
    if "--lab" in args:
        install(LAB)


def clean(args: list[str]) -> None:
    remove_tree(BUILD)


COMMANDS = {
    "run": run,
    "test": test,
    "lint": lint,
    "unit": unit,
    "nbval": nbval,
    "outputs": outputs,
    "bench": bench,
    "check": check,
    "lab-check": lab_check,
    "sync-zh": sync_zh,
    "setup": setup,
    "clean": clean,
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    # Before anything is installed: a Python the pins have no release for cannot go further.
    problem = python_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    use_shared_data()
    try:
        COMMANDS[argv[0]](argv[1:])
    except CommandFailed as failed:
        return failed.returncode
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
