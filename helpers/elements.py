"""The periodic table's facts the course checks limericks against (`data/elements.csv`)."""

from __future__ import annotations

import csv
import functools

from helpers.paths import DATA_DIR

ELEMENTS_CSV = DATA_DIR / "elements.csv"


@functools.cache
def elements() -> dict[int, dict]:
    """Every element by atomic number: a dict of the CSV's columns (number, symbol, name, phase,
    group, period, block, discovered), all text but the number."""
    with open(ELEMENTS_CSV, encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return {int(r["number"]): {**r, "number": int(r["number"])} for r in rows}
