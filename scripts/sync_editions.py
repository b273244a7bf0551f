"""The course's Chinese edition, rebuilt from the English notebooks.

    python -m scripts.sync_editions           # rebuild notebooks/zh/ (make sync-zh does this)
    python -m scripts.sync_editions --check   # only report drift; exit 1 when there is some

The English notebooks are the one source of the code and its outputs. A Chinese notebook
(`notebooks/zh/NN-....ipynb`, `notebooks/zh/solutions/NN-solutions.ipynb`) is its English twin with
every markdown cell replaced by its translation, and one cell added at the top that links the
English twin and the glossary. The translations live per cell in `notebooks/zh/prose/`, one
Markdown file per notebook, each entry headed by

    <!-- cell: CELL-ID en: HASH -->

where CELL-ID is the English markdown cell's id and HASH the first 10 hex digits of the SHA-256 of
the English text the entry translates. When the English text changes, the hash no longer matches
and the entry is stale until someone updates the translation and its hash (the report gives the
new one). An English markdown cell with no entry gets one, holding the English text and marked
`en: todo`, so a translator finds it where it belongs; the edition shows the English until then.

Code cells, outputs, cell order and metadata come from the English notebook every time, so after
`make outputs` or a code change, running this again is all the Chinese edition needs.
tests/test_editions.py fails on any drift and names the notebook, the cell and the reason.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.atomic import write_text_atomically
from helpers.paths import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
ZH = NOTEBOOKS / "zh"
PROSE = ZH / "prose"
GLOSSARY = ZH / "术语表.md"
SYNC_COMMAND = "python -m scripts.course sync-zh"
# The cell the edition adds at the top of every Chinese notebook.
BANNER_ID = "zh-edition"
TODO = "todo"
ENTRY = re.compile(r"^<!-- cell: (?P<id>\S+) en: (?P<hash>[0-9a-f]{10}|todo) -->$")
PROSE_HEADER = (
    "<!-- 中文译文：{english}，每个 markdown 单元一段。`en:` 记录所译英文原文的哈希；"
    "英文改动后请更新译文和哈希，再运行 `{command}`。 -->\n"
)


class ProseError(Exception):
    """A prose file that cannot be read as entries (names the file and line)."""


@dataclass
class Entry:
    cell_id: str
    en_hash: str  # the hash of the English text translated, or "todo"
    text: str


@dataclass(frozen=True)
class Drift:
    notebook: str  # the Chinese notebook, relative to the repository
    cell: str  # "cell-04 (#5)", or "" for the notebook as a whole
    reason: str

    def __str__(self) -> str:
        where = f"{self.notebook}, {self.cell}" if self.cell else self.notebook
        return f"{where}: {self.reason}"


def english_notebooks() -> list[Path]:
    """The course's notebooks, then the solutions: the ones `make run` executes."""
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    return paths + sorted((NOTEBOOKS / "solutions").glob("[0-9][0-9]-*.ipynb"))


def twin(english: Path) -> Path:
    return ZH / english.relative_to(NOTEBOOKS)


def prose_path(english: Path) -> Path:
    return PROSE / english.relative_to(NOTEBOOKS).with_suffix(".md")


def source_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def relative(path: Path) -> str:
    try:
        return path.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def read_prose(path: Path) -> list[Entry]:
    """The entries of a prose file, in order; [] when there is none."""
    if not path.exists():
        return []
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    lines: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = ENTRY.match(line)
        if match:
            if entries:
                entries[-1].text = "\n".join(lines).strip("\n")
            if match["id"] in seen:
                raise ProseError(
                    f"{relative(path)}, line {number}: a second entry for cell "
                    f"{match['id']} (the first is on line {seen[match['id']]})"
                )
            seen[match["id"]] = number
            entries.append(Entry(match["id"], match["hash"], ""))
            lines = []
        elif entries:
            lines.append(line)
        elif line.startswith("<!--") and line.endswith("-->"):
            continue  # the file's header
        elif line.strip():
            raise ProseError(
                f"{relative(path)}, line {number}: text before the first "
                "`<!-- cell: ID en: HASH -->` line"
            )
    if entries:
        entries[-1].text = "\n".join(lines).strip("\n")
    return entries


def format_prose(english: Path, entries: list[Entry]) -> str:
    parts = [PROSE_HEADER.format(english=relative(english), command=SYNC_COMMAND)]
    for entry in entries:
        parts.append(f"\n<!-- cell: {entry.cell_id} en: {entry.en_hash} -->\n{entry.text}\n")
    return "".join(parts)


def banner(english: Path) -> str:
    """The links at the top of a Chinese notebook: its English twin and the glossary."""
    here = twin(english).parent
    to_english = Path(os.path.relpath(english, here)).as_posix()
    to_glossary = Path(os.path.relpath(GLOSSARY, here)).as_posix()
    return (
        f"> 中文版 · [English version]({to_english}) · [术语表]({to_glossary})\n>\n"
        "> 代码和输出与英文版逐字相同，说明文字为中文。"
    )


def build(english: Path, notebook: nbformat.NotebookNode, entries: list[Entry]):
    """The Chinese notebook made from `notebook` (English) and `entries`, and what is wrong with
    the translations: (notebook, [(cell label, reason)])."""
    by_id = {entry.cell_id: entry for entry in entries}
    edition = copy.deepcopy(notebook)
    problems: list[tuple[str, str]] = []
    for index, cell in enumerate(edition.cells):
        if cell.cell_type != "markdown":
            continue
        label = f"{cell.get('id', '?')} (#{index + 1} in English)"
        entry = by_id.get(cell.get("id"))
        now = source_hash(cell.source)
        if entry is None:
            problems.append((label, "has no translation"))
        elif entry.en_hash == TODO:
            problems.append((label, "is not translated yet (its entry is marked `en: todo`)"))
        else:
            if entry.en_hash != now:
                problems.append(
                    (
                        label,
                        f"translation is stale: the English changed since it was translated "
                        f"(en: {entry.en_hash}, now {now}); update the translation and set "
                        f"en: {now}",
                    )
                )
            cell.source = entry.text
    ids = {cell.get("id") for cell in notebook.cells if cell.cell_type == "markdown"}
    for entry in entries:
        if entry.cell_id not in ids:
            problems.append(
                (entry.cell_id, "has a translation, but the English notebook has no such cell")
            )
    top = nbformat.v4.new_markdown_cell(banner(english))
    top.id = BANNER_ID
    edition.cells.insert(0, top)
    return edition, problems


def with_stubs(notebook: nbformat.NotebookNode, entries: list[Entry]) -> list[Entry]:
    """`entries` in the English notebook's order, with a `todo` entry (the English text) for each
    markdown cell that has none; entries of cells that are gone stay, at the end."""
    by_id = {entry.cell_id: entry for entry in entries}
    ordered = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            ordered.append(by_id.pop(cell.id, None) or Entry(cell.id, TODO, cell.source))
    return ordered + list(by_id.values())


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"  # as scripts/run_notebooks.py stores notebooks


def compare(expected: nbformat.NotebookNode, found: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """How the Chinese notebook on disk differs from the one the sync would write."""
    shape = [(c.cell_type, c.get("id")) for c in expected.cells]
    if [(c.cell_type, c.get("id")) for c in found.cells] != shape:
        return [("", "cell order differs from the English (cells added, removed or moved)")]
    problems = []
    for index, (want, have) in enumerate(zip(expected.cells, found.cells, strict=True)):
        label = f"{want.get('id')} (#{index + 1})"
        if want.source != have.source:
            what = "code differs from the English" if want.cell_type == "code" else "prose differs"
            if want.cell_type == "markdown":
                what += " from its translation in notebooks/zh/prose/ (edit the prose file instead)"
            problems.append((label, what))
        if want.get("outputs") != have.get("outputs"):
            problems.append((label, "outputs differ from the English"))
        elif want != have and want.source == have.source:
            problems.append((label, "metadata or execution count differs from the English"))
    if not problems and expected.metadata != found.metadata:
        problems.append(("", "notebook metadata differs from the English"))
    return problems


def drift() -> list[Drift]:
    """Everything that keeps the Chinese edition from being what the sync writes."""
    found: list[Drift] = []
    englishes = english_notebooks()
    for english in englishes:
        target = relative(twin(english))
        try:
            entries = read_prose(prose_path(english))
        except ProseError as exc:
            found.append(Drift(target, "", str(exc)))
            continue
        notebook = nbformat.read(english, as_version=4)
        expected, problems = build(english, notebook, entries)
        if twin(english).exists():
            on_disk = nbformat.read(twin(english), as_version=4)
            problems += compare(expected, on_disk)
            stored = twin(english).read_text(encoding="utf-8")
            if not problems and stored != notebook_text(expected):
                problems.append(("", "is not stored as the sync writes it"))
        else:
            problems.append(("", f"is missing (the twin of {relative(english)})"))
        found += [Drift(target, cell, reason) for cell, reason in problems]
    twins = {twin(english) for english in englishes}
    for path in sorted(ZH.rglob("*.ipynb")):
        if path not in twins and ".ipynb_checkpoints" not in path.parts:
            found.append(Drift(relative(path), "", "has no English twin in notebooks/"))
    return found


def sync() -> list[Drift]:
    """Rebuild every Chinese notebook; add `todo` entries for untranslated cells. Returns what
    still needs a translator."""
    left: list[Drift] = []
    for english in english_notebooks():
        notebook = nbformat.read(english, as_version=4)
        entries = read_prose(prose_path(english))
        completed = with_stubs(notebook, entries)
        text = format_prose(english, completed)
        if not prose_path(english).exists() or prose_path(english).read_text("utf-8") != text:
            write_text_atomically(prose_path(english), text)
        edition, problems = build(english, notebook, completed)
        left += [Drift(relative(twin(english)), cell, reason) for cell, reason in problems]
        text = notebook_text(edition)
        path = twin(english)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            write_text_atomically(path, text)
            print(f"Wrote {relative(path)}")
    return left


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report drift, write nothing")
    args = parser.parse_args(argv)
    try:
        problems = drift() if args.check else sync()
    except ProseError as exc:
        print(exc, file=sys.stderr)
        return 1
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems and args.check:
        print(f"\nThe Chinese edition has drifted: run `{SYNC_COMMAND}`.", file=sys.stderr)
        return 1
    if problems:
        print(
            f"\n{len(problems)} translation(s) to write or update in notebooks/zh/prose/ "
            "(see above); the edition shows the English text until then.",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
