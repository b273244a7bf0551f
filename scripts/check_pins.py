"""Does every pinned requirement have a release for a given Python? `python -m scripts.check_pins`.

    python -m scripts.check_pins                  # the oldest and newest Python supported
    python -m scripts.check_pins --python 3.10    # any other version
    python -m scripts.check_pins --platform win_amd64 --platform macosx_11_0_arm64

For each pin of requirements*.txt it asks pip for that exact release as it would install it on that
Python (and platform): a wheel, or else a source archive, which pip builds on the learner's machine.
It needs the package index (it downloads into a temporary folder, then deletes it), so it is run by
hand when the pins or the supported Pythons change, never by `make test`. Standard library only.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile

from helpers.check_env import SUPPORTED_PYTHON, pinned_requirements
from helpers.paths import REPO_ROOT

REQUIREMENT_FILES = sorted(REPO_ROOT.glob("requirements*.txt"))


def pip_download(pin: str, python: str, platform: str | None, only_binary: bool) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        command += ["--python-version", python, "-d", folder, pin]
        if only_binary:
            command.append("--only-binary=:all:")
        if platform:
            command += ["--platform", platform]
        done = subprocess.run(command, capture_output=True, text=True)
        return done.returncode == 0


def check(pin: str, python: str, platform: str | None) -> str:
    """'wheel', 'source' (no wheel, but a source archive pip can build) or 'MISSING'."""
    if pip_download(pin, python, platform, only_binary=True):
        return "wheel"
    if pip_download(pin, python, platform, only_binary=False):
        return "source"
    return "MISSING"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    oldest, newest = SUPPORTED_PYTHON
    default = [".".join(map(str, oldest)), ".".join(map(str, newest))]
    parser.add_argument("--python", action="append", help=f"default: {' and '.join(default)}")
    parser.add_argument("--platform", action="append", help="a wheel tag; default: this machine's")
    args = parser.parse_args(argv)

    pins = {}
    for path in REQUIREMENT_FILES:
        pins.update(pinned_requirements(path))
    missing = 0
    for python in args.python or default:
        for platform in args.platform or [None]:
            where = f"Python {python}" + (f" on {platform}" if platform else "")
            results = {
                name: check(f"{name}=={version}", python, platform)
                for name, version in pins.items()
            }
            for name, result in results.items():
                print(f"{where}: {name}=={pins[name]}: {result}", flush=True)
            bad = [n for n, r in results.items() if r == "MISSING"]
            missing += len(bad)
            summary = f"no release for {', '.join(bad)}" if bad else "every pin has a release"
            print(f"{where}: {len(results)} pins, {summary}\n", flush=True)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
