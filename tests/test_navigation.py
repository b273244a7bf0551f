"""Every numbered notebook, in both editions, opens and ends with the same Previous / Next table,
linking the notebooks before and after it (the README around the ends)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from helpers.paths import REPO_ROOT
from scripts import sync_editions as editions

# A table row of two cells, each a link: | [previous](...) | [next](...) |
ROW = re.compile(r"^\|\s*\[[^\]]*\]\(([^)\s]+)\)\s*\|\s*\[[^\]]*\]\(([^)\s]+)\)\s*\|\s*$", re.M)
HEADERS = ("| Previous | Next |", "| 上一节 | 下一节 |")


def course(folder: Path) -> list[Path]:
    return sorted(folder.glob("[0-9][0-9]-*.ipynb"))


def navigation(path: Path) -> list[tuple[Path, Path]]:
    """Each Previous / Next table of a notebook, as the files its two links point to."""
    tables = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown" and any(h in cell.source for h in HEADERS):
            for previous, following in ROW.findall(cell.source):
                tables.append(
                    ((path.parent / previous).resolve(), (path.parent / following).resolve())
                )
    return tables


@pytest.mark.parametrize(
    ("folder", "readme"),
    [(editions.NOTEBOOKS, "README.md"), (editions.ZH, "README.zh.md")],
    ids=["english", "chinese"],
)
def test_each_notebook_links_the_ones_before_and_after_it_at_both_ends(folder, readme):
    notebooks = course(folder)
    assert len(notebooks) >= 7
    ends = (REPO_ROOT / readme).resolve()
    for index, path in enumerate(notebooks):
        previous = notebooks[index - 1].resolve() if index else ends
        following = notebooks[index + 1].resolve() if index + 1 < len(notebooks) else ends
        tables = navigation(path)
        assert len(tables) == 2, f"{path.name}: {len(tables)} navigation tables, not two"
        assert tables == [(previous, following)] * 2, f"{path.name}: {tables}"
