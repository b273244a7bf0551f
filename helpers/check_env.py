"""Check that this machine can run the course: `python -m helpers.check_env`.

Reports the Python version and the platform, whether each pinned requirement is installed (and at
which version), the JupyterLab version next to the one the course is tested with, whether the
20 Newsgroups posts and tiktoken's encodings are available, and which API backend the notebooks
would use. Exits 1 when something required is missing.

Importing this module needs only the standard library: `python -m scripts.course` uses its Python
check before any virtual environment exists.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from helpers.paths import REPO_ROOT, use_shared_data

# The oldest and the newest Python the course supports: every pin of requirements*.txt has a
# release for both (`python -m scripts.check_pins` asks the package index). pyproject.toml's
# requires-python, ruff's target-version and the README say the same; a test keeps them in step.
SUPPORTED_PYTHON = ((3, 11), (3, 14))
# Where the course's own checks run; elsewhere it is supported by construction (see the README).
TESTED_PLATFORMS = ("Linux",)
REQUIREMENTS = REPO_ROOT / "requirements.txt"
# Needed only for `make test` and `make lab-check`: missing ones are reported, not failed.
OPTIONAL_REQUIREMENTS = {
    "requirements-dev.txt": "make test",
    "requirements-lab.txt": "make lab-check",
}
NEWSGROUPS_CACHE = "20news-bydate_py3.pkz"
NEWSGROUPS_URL = "https://ndownloader.figshare.com/files/5975967"
TIKTOKEN_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;#]+)")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True

    def line(self) -> str:
        mark = "OK  " if self.ok else ("FAIL" if self.required else "WARN")
        return f"[{mark}] {self.name}: {self.detail}"


def version_text(version) -> str:
    return ".".join(str(part) for part in version)


def python_problem(version=None, executable: str | None = None) -> str | None:
    """A plain explanation of why this Python cannot run the course, or None when it can."""
    version = version or sys.version_info
    executable = executable or sys.executable
    oldest, newest = SUPPORTED_PYTHON
    if oldest <= tuple(version[:2]) <= newest:
        return None
    found = version_text(version[:3])
    supported = f"{version_text(oldest)} to {version_text(newest)}"
    return (
        f"This is Python {found} ({executable}); the course runs on Python {supported}.\n"
        f"Install a Python from {supported} (python.org, the Microsoft Store, Homebrew or your "
        "package manager),\nthen run the same command with it, for example "
        f"`py -{version_text(newest)} -m scripts.course run` on Windows\n"
        f"or `python{version_text(newest)} -m scripts.course run` elsewhere "
        f"(with make: `make run PYTHON=python{version_text(newest)}`)."
    )


def check_python(version=None) -> Check:
    version = version or sys.version_info
    found = version_text(version[:3])
    problem = python_problem(version)
    oldest, newest = SUPPORTED_PYTHON
    supported = f"{version_text(oldest)} to {version_text(newest)}"
    if problem:
        return Check("Python", False, f"{found}; the course runs on Python {supported}")
    return Check("Python", True, f"{found} (supported: {supported})")


def check_platform(system: str | None = None) -> Check:
    system = system or platform.system()
    where = f"{system} {platform.release()} ({platform.machine()})"
    how = "tested" if system in TESTED_PLATFORMS else "supported, not tested here"
    return Check("Platform", True, f"{where}, {how}")


def pinned_requirements(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def check_packages(path: Path = REQUIREMENTS, needed_for: str | None = None) -> list[Check]:
    """One line per pin of `path`: installed or not, and at which version.

    A missing pin of requirements.txt fails; one of a file `needed_for` a single command warns.
    """
    checks = []
    for name, pinned in pinned_requirements(path).items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            detail = f"not installed (pinned {pinned})"
            if needed_for:
                detail += f"; needed only for `{needed_for}`"
            checks.append(Check(name, False, detail, required=needed_for is None))
            continue
        same = installed == pinned
        detail = installed if same else f"{installed} installed, {pinned} pinned"
        # Another version usually works; only a missing package stops the course.
        checks.append(Check(name, same, detail, required=False))
    return checks


def check_optional_packages() -> list[Check]:
    checks = []
    for file_name, command in OPTIONAL_REQUIREMENTS.items():
        if (REPO_ROOT / file_name).is_file():
            checks += check_packages(REPO_ROOT / file_name, needed_for=command)
    return checks


def check_jupyterlab(requirements: Path = REQUIREMENTS) -> Check:
    tested = pinned_requirements(requirements).get("jupyterlab", "?")
    try:
        installed = metadata.version("jupyterlab")
    except metadata.PackageNotFoundError:
        return Check("JupyterLab", False, f"not installed; the course is tested with {tested}")
    if installed == tested:
        return Check("JupyterLab", True, f"{installed}, the version the course is tested with")
    detail = f"{installed}; the course is tested with {tested}"
    return Check("JupyterLab", False, detail, required=False)


def reachable(url: str, timeout: float = 3.0) -> bool:
    try:
        request = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(request, timeout=timeout):
            return True
    except Exception:  # any failure means "not downloadable from here now"
        return False


def check_newsgroups() -> Check:
    from sklearn.datasets import get_data_home

    home = Path(get_data_home())  # honours SCIKIT_LEARN_DATA
    cached = home / NEWSGROUPS_CACHE
    if cached.is_file():
        return Check("20 Newsgroups posts", True, f"cached in {home}")
    if reachable(NEWSGROUPS_URL):
        return Check("20 Newsgroups posts", True, "not cached; scikit-learn will download them")
    return Check(
        "20 Newsgroups posts",
        False,
        f"not cached in {home} and not downloadable: connect to the internet once, "
        "or set SCIKIT_LEARN_DATA to a folder holding " + NEWSGROUPS_CACHE,
    )


def tiktoken_cache_dir() -> Path:
    # The same order tiktoken itself uses.
    for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if var in os.environ:
            return Path(os.environ[var])
    return Path(tempfile.gettempdir()) / "data-gym-cache"


def check_encodings() -> list[Check]:
    cache = tiktoken_cache_dir()
    checks = []
    for name, url in TIKTOKEN_URLS.items():
        cached = cache / hashlib.sha1(url.encode()).hexdigest()
        if cached.is_file():
            checks.append(Check(f"tiktoken {name}", True, f"cached in {cache}"))
        elif reachable(url):
            checks.append(Check(f"tiktoken {name}", True, "not cached; tiktoken will download it"))
        else:
            checks.append(
                Check(
                    f"tiktoken {name}",
                    False,
                    f"not cached in {cache} and not downloadable: connect to the internet "
                    "once, or set TIKTOKEN_CACHE_DIR to a folder that holds it",
                )
            )
    return checks


def check_backend() -> Check:
    from helpers.backend import DESCRIPTIONS, BackendError, chosen_backend, missing_settings

    try:
        name = chosen_backend()
    except BackendError as exc:
        return Check("API backend", False, str(exc))
    missing = missing_settings(name)
    if missing:
        return Check("API backend", False, f"{name}, but {', '.join(missing)} is not set")
    return Check("API backend", True, DESCRIPTIONS[name])


def run_checks() -> list[Check]:
    return [
        check_python(),
        check_platform(),
        *check_packages(),
        *check_optional_packages(),
        check_jupyterlab(),
        check_newsgroups(),
        *check_encodings(),
        check_backend(),
    ]


def main() -> int:
    use_shared_data()
    checks = run_checks()
    for check in checks:
        print(check.line())
    failed = [c for c in checks if c.required and not c.ok]
    if failed:
        print(f"\n{len(failed)} required check(s) failed: see FAIL above.")
        return 1
    print("\nEverything the course needs is here.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
