import os
import subprocess
import sys

from helpers import check_env
from helpers.paths import REPO_ROOT


def test_only_the_supported_pythons_pass():
    assert not check_env.check_python((3, 10, 12)).ok
    assert check_env.check_python((3, 11, 0)).ok
    assert check_env.check_python((3, 14, 2)).ok
    assert not check_env.check_python((3, 15, 0)).ok


def test_an_unsupported_python_is_told_what_to_install():
    problem = check_env.python_problem((3, 10, 12), "/usr/bin/python3")
    assert "Python 3.10.12 (/usr/bin/python3)" in problem
    assert "Python 3.11 to 3.14" in problem
    assert "py -3.14 -m scripts.course run" in problem
    assert check_env.python_problem((3, 12, 1), "python") is None


def test_the_platform_is_reported_as_tested_or_supported():
    assert check_env.check_platform("Linux").detail.endswith(", tested")
    windows = check_env.check_platform("Windows")
    assert (
        windows.ok and windows.detail.startswith("Windows ") and "not tested here" in windows.detail
    )


def test_jupyterlab_is_reported_against_the_version_the_course_is_tested_with(tmp_path):
    req = tmp_path / "requirements.txt"
    installed = check_env.metadata.version("jupyterlab")
    req.write_text(f"jupyterlab=={installed}\n")
    assert (
        check_env.check_jupyterlab(req).detail
        == f"{installed}, the version the course is tested with"
    )
    req.write_text("jupyterlab==0.1\n")
    other = check_env.check_jupyterlab(req)
    assert not other.ok and not other.required and "tested with 0.1" in other.detail


def test_missing_test_tools_warn_and_name_the_command_that_needs_them(tmp_path):
    req = tmp_path / "requirements-lab.txt"
    req.write_text("-r requirements.txt\nnot-a-real-package-xyz==1.0\n")
    [check] = check_env.check_packages(req, needed_for="make lab-check")
    assert not check.ok and not check.required
    assert check.detail == "not installed (pinned 1.0); needed only for `make lab-check`"


def test_pins_are_read_from_requirements(tmp_path):
    req = tmp_path / "requirements.txt"
    req.write_text("openai==3.54.0  # comment\n# note\n-e .\nnot-a-real-package-xyz==1.0\n")
    checks = {c.name: c for c in check_env.check_packages(req)}
    assert checks["openai"].ok
    missing = checks["not-a-real-package-xyz"]
    assert not missing.ok and missing.required and "not installed" in missing.detail


def test_every_pinned_requirement_is_installed():
    failing = [c.line() for c in check_env.check_packages() if c.required and not c.ok]
    assert failing == []


def run_check(**env_changes):
    env = {**os.environ, **env_changes}
    return subprocess.run(
        [sys.executable, "-m", "helpers.check_env"],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )


def test_the_report_names_python_platform_packages_and_jupyterlab():
    done = run_check()
    lines = done.stdout.splitlines()
    assert any(line.startswith("[OK  ] Python: ") for line in lines)
    assert any(line.startswith("[OK  ] Platform: ") for line in lines)
    assert any(line.startswith("[OK  ] pandas: ") for line in lines)
    assert any(line.startswith("[OK  ] JupyterLab: ") for line in lines)


def test_missing_data_makes_the_check_fail(tmp_path):
    done = run_check(
        SCIKIT_LEARN_DATA=str(tmp_path),
        TIKTOKEN_CACHE_DIR=str(tmp_path),
        HTTPS_PROXY="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
    )
    assert done.returncode == 1
    assert "[FAIL] 20 Newsgroups posts" in done.stdout
    assert "[FAIL] tiktoken o200k_base" in done.stdout
    assert "Traceback" not in done.stderr


def test_paid_backend_without_key_fails_and_never_prints_a_key():
    done = run_check(TUTORIAL_BACKEND="openai", OPENAI_API_KEY="")
    assert done.returncode == 1
    assert "[FAIL] API backend: openai, but OPENAI_API_KEY is not set" in done.stdout
    done = run_check(TUTORIAL_BACKEND="openai", OPENAI_API_KEY="sk-test-secret-value-123")
    assert "sk-test-secret-value-123" not in done.stdout + done.stderr


def test_default_backend_is_the_simulator_even_with_a_key():
    env = {k: v for k, v in os.environ.items() if k != "TUTORIAL_BACKEND"}
    env["OPENAI_API_KEY"] = "sk-test-secret-value-123"
    done = subprocess.run(
        [sys.executable, "-m", "helpers.check_env"],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert "API backend: the offline simulator" in done.stdout
