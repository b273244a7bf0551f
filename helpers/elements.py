"""The periodic table's facts the course checks limericks against (`data/elements.csv`)."""

from __future__ import annotations

import csv
import functools

from helpers.paths import DATA_DIR

ELEMENTS_CSV = DATA_DIR / "elements.csv"


@functools.cache
def elements() -> dict[int, dict]:
    with open(ELEMENTS_CSV, encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return {int(r["number"]): {**r, "number": int(r["number"])} for r in rows}


def element(number: int) -> dict:
    """{"number", "symbol", "name", "phase"} of the element with this atomic number."""
    return elements()[int(number)]


def phase_of(number: int) -> str:
    """ "gas", "liquid", "solid", or "unknown" (never made in bulk), at 25 degrees C."""
    return element(number)["phase"]
