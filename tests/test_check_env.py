import os
import subprocess
import sys

from helpers import check_env
from helpers.paths import REPO_ROOT


def test_old_python_fails_and_new_python_passes():
    assert not check_env.check_python((3, 9, 18)).ok
    assert check_env.check_python((3, 10, 0)).ok


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
