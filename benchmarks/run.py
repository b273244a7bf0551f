"""`make bench`: run every `benchmarks/bench_*.py` and print their figures as one JSON object.

Each module has a `run() -> dict` that measures and returns its figures (seconds, accuracies,
and the target each is compared with). Nothing here asserts: the figures are for reading.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path


def main(selected: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if selected:
        names = [n for n in names if n.removeprefix("bench_") in selected or n in selected]
    figures = {}
    for name in names:
        started = time.perf_counter()
        module = importlib.import_module(f"benchmarks.{name}")
        figures[name.removeprefix("bench_")] = module.run()
        print(f"{name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
