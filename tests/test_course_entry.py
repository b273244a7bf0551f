"""`python -m scripts.course`: the one way in, with or without make, on any platform."""

import os
import re
import subprocess
import sys
import tomllib

import pytest

from helpers.check_env import SUPPORTED_PYTHON, pinned_requirements
from helpers.paths import REPO_ROOT
from scripts import course

OLDEST, NEWEST = (".".join(map(str, v)) for v in SUPPORTED_PYTHON)


def test_every_place_states_the_same_pythons():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["requires-python"] == f">={OLDEST},<3.{SUPPORTED_PYTHON[1][1] + 1}"
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + OLDEST.replace(".", "")
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert f"Python {OLDEST} to {NEWEST}" in readme
    assert not re.search(r"Python 3\.\d+ or newer", readme)
    requirements = (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert f"(Python {OLDEST} to {NEWEST})" in requirements.splitlines()[0]


def test_the_readme_names_the_jupyterlab_the_course_is_tested_with():
    tested = pinned_requirements(REPO_ROOT / "requirements.txt")["jupyterlab"]
    assert f"JupyterLab {tested}" in (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_an_unsupported_python_stops_before_anything_is_installed(monkeypatch, capsys):
    def must_not_run(*args, **kwargs):
        raise AssertionError("nothing may be installed or run on an unsupported Python")

    monkeypatch.setattr(course, "install", must_not_run)
    monkeypatch.setattr(course, "ensure_venv", must_not_run)
    monkeypatch.setattr(sys, "version_info", (3, 10, 12, "final", 0))
    assert course.main(["run"]) == 2
    err = capsys.readouterr().err
    assert "This is Python 3.10.12" in err and f"Python {OLDEST} to {NEWEST}" in err


def test_an_unknown_command_lists_the_commands():
    done = subprocess.run(
        [sys.executable, "-m", "scripts.course", "nonsense"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 2
    assert "lab-check" in done.stderr and "Traceback" not in done.stderr


def test_the_entry_point_needs_only_the_standard_library():
    # -S: no site-packages, as before the virtual environment exists.
    code = "import scripts.course, scripts.check_pins, scripts.markdown_math"
    done = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A checkout with two requirements files, and a pip that only records what it is asked."""
    (tmp_path / "requirements.txt").write_text("a==1\n")
    (tmp_path / "requirements-dev.txt").write_text("-r requirements.txt\nb==2\n")
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    (tmp_path / ".venv").mkdir()
    monkeypatch.setattr(course, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(course, "VENV", tmp_path / ".venv")
    monkeypatch.setattr(course, "ensure_venv", lambda: None)
    monkeypatch.setattr(course, "venv_version", lambda: (3, 11, 7))
    installed = []
    monkeypatch.setattr(course, "call", lambda *command, env=None: installed.append(command[-1]))
    return tmp_path, installed


def test_requirements_are_installed_only_when_they_changed(checkout):
    root, installed = checkout
    course.install("requirements-dev.txt")
    course.install("requirements.txt")  # came with the dev file
    course.install("requirements-dev.txt")
    assert installed == [str(root / "requirements-dev.txt")]
    (root / "requirements.txt").write_text("a==2\n")
    course.install("requirements-dev.txt")
    assert installed[-1] == str(root / "requirements-dev.txt") and len(installed) == 2
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    course.install("requirements.txt")
    assert installed[-1] == str(root / "requirements.txt") and len(installed) == 3


def test_a_failed_install_is_tried_again_next_time(checkout, monkeypatch):
    root, installed = checkout

    def pip_fails(*command, env=None):
        installed.append(command[-1])
        raise course.CommandFailed(1)

    monkeypatch.setattr(course, "call", pip_fails)
    for _ in range(2):
        with pytest.raises(course.CommandFailed):
            course.install("requirements.txt")
    assert len(installed) == 2


def test_the_makefile_only_calls_the_entry_point():
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    phony = re.search(r"^\.PHONY:(.*?)(?<!\\)\n", makefile, re.MULTILINE | re.DOTALL).group(1)
    targets = {t for t in phony.replace("\\\n", " ").split() if not t.startswith(".venv")}
    assert targets <= set(course.COMMANDS) and {"run", "test", "lab-check"} <= targets
    recipes = [line.strip() for line in makefile.splitlines() if line.startswith("\t")]
    assert recipes and all(r.startswith("$(COURSE) ") for r in recipes)


def test_only_helpers_paths_knows_about_shared():
    for name in ("Makefile", ".ci/run", "scripts/course.py"):
        text = (REPO_ROOT / name).read_text(encoding="utf-8")
        assert "SCIKIT_LEARN_DATA" not in text and "TIKTOKEN_CACHE_DIR" not in text, name


def test_notebooks_run_against_a_fresh_simulator_state(tmp_path, monkeypatch):
    monkeypatch.setattr(course, "NB_STATE", tmp_path / ".state")
    (tmp_path / ".state" / "simulator").mkdir(parents=True)
    env = course.notebook_env()
    assert not (tmp_path / ".state").exists()
    assert env["TUTORIAL_BACKEND"] == "simulator" and env["PYTHONHASHSEED"] == "0"
    assert env["SIMULATOR_STATE"] == str(tmp_path / ".state" / "simulator")
    assert env["TUTORIAL_WORK_DIR"] == str(tmp_path / ".state" / "work")


def test_notebook_kernels_import_this_checkouts_helpers(monkeypatch):
    # A kernel starts in notebooks/; without the checkout on its path it would import `helpers`
    # from wherever the shared .venv's editable install points.
    monkeypatch.setenv("PYTHONPATH", "elsewhere")
    monkeypatch.setattr(course, "remove_tree", lambda path: None)
    paths = course.notebook_env()["PYTHONPATH"].split(os.pathsep)
    assert paths == [str(REPO_ROOT), "elsewhere"]


def test_test_runners_skip_the_iri_grammar_and_still_validate_notebooks():
    """The runners load scripts.skip_iri_grammar first; nbformat still rejects a bad notebook."""
    assert course.nbval_args()[:2] == course.QUICK_START == ["-p", "scripts.skip_iri_grammar"]
    probe = (
        "import scripts.skip_iri_grammar, sys, nbformat\n"
        "from nbformat.v4 import new_code_cell, new_notebook\n"
        "assert sys.modules['rfc3987_syntax'] is None\n"
        "nb = new_notebook(cells=[new_code_cell('1 + 1')])\n"
        "nbformat.validate(nb)\n"
        "nb.cells[0]['cell_type'] = 'no such type'\n"
        "try:\n"
        "    nbformat.validate(nb)\n"
        "except nbformat.ValidationError:\n"
        "    print('rejected')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "rejected"


def test_a_notebook_cell_failed_for_its_stderr_shows_what_it_wrote(tmp_path):
    """nbval names only the field; the runners' plugin adds the text to the failure."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    quiet = nbformat.v4.new_code_cell("print('shown')")
    quiet.outputs = [nbformat.v4.new_output("stream", name="stdout", text="shown\n")]
    quiet.execution_count = 1
    noisy = nbformat.v4.new_code_cell("import sys\nprint('a one-off warning', file=sys.stderr)")
    noisy.execution_count = 2
    notebook.cells = [quiet, noisy]
    path = tmp_path / "noisy.ipynb"
    nbformat.write(notebook, path)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *course.nbval_args(), str(path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout
    assert "Unexpected output fields from running code: {'stderr'}" in done.stdout
    assert "stderr of the cell" in done.stdout and "a one-off warning" in done.stdout
    assert "1 failed, 1 passed" in done.stdout


def test_make_run_starts_kernels_that_do_not_warn_of_eavesdropping(tmp_path):
    """Over plain TCP each kernel warns that its messages can be read; `make run` encrypts."""
    import nbformat

    path = tmp_path / "tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), path)
    probe = (
        "import sys\nfrom pathlib import Path\nfrom scripts.run_notebooks import execute\n"
        "notebook, _ = execute(Path(sys.argv[1]))\n"
        "print(notebook.cells[0].outputs[0]['data']['text/plain'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "2", done.stderr
    assert "without encryption" not in done.stderr and "eavesdropping" not in done.stderr
