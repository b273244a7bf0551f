"""Check that this machine can run the course: `python -m helpers.check_env`.

Reports the Python version, installed versus pinned packages, whether the 20 Newsgroups posts and
tiktoken's encodings are available, and which API backend the notebooks would use. Exits 1 when
something required is missing.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from helpers.paths import REPO_ROOT

MIN_PYTHON = (3, 10)
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


def check_python(version=sys.version_info) -> Check:
    found = f"{version[0]}.{version[1]}.{version[2]}"
    ok = tuple(version[:2]) >= MIN_PYTHON
    need = ".".join(map(str, MIN_PYTHON))
    return Check("Python", ok, found if ok else f"{found}; the course needs {need} or newer")


def pinned_requirements(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def check_packages(path: Path = REPO_ROOT / "requirements.txt") -> list[Check]:
    checks = []
    for name, pinned in pinned_requirements(path).items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            checks.append(Check(name, False, f"not installed (pinned {pinned})"))
            continue
        same = installed == pinned
        detail = installed if same else f"{installed} installed, {pinned} pinned"
        # Another version usually works; only a missing package stops the course.
        checks.append(Check(name, same, detail, required=False))
    return checks


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
        *check_packages(),
        check_newsgroups(),
        *check_encodings(),
        check_backend(),
    ]


def main() -> int:
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
