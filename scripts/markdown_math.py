"""Dollar signs that JupyterLab would turn into math: `python -m scripts.markdown_math [--fix]`.

JupyterLab (and GitHub, and most Markdown viewers with math) reads the text between two `$` of
one paragraph as LaTeX: "about $0.17 ... at $1.60 per 1M" shows as an italic run of letters
with no spaces. A price is written `\\$0.17`. Math meant as math is written `$$...$$` or
`\\(...\\)`; code spans and fenced code are never math.

Checks every markdown cell of the notebooks and every Markdown file of the course, prints each
stray pair (file, cell, line) and exits 1 when there is one; `--fix` escapes them in place.
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from helpers.atomic import write_text_atomically
from helpers.paths import REPO_ROOT

# Folders that hold no course text (or someone else's).
NOT_COURSE = {".git", ".venv", "build", "work", ".simulator", ".pytest_cache", ".ruff_cache"}

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
ESCAPE = re.compile(r"\\[\\$]")
INTENDED_MATH = re.compile(r"\$\$.+?\$\$|\\\(.+?\\\)|\\\[.+?\\\]", re.DOTALL)
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


@dataclass
class StrayPair:
    line: int  # 1-based, in the text checked
    text: str  # from the first dollar to the second: what would become math

    def __str__(self) -> str:
        return f"line {self.line}: {self.text!r}"


def blank(match: re.Match) -> str:
    """The match with everything but its newlines turned into spaces (offsets stay put)."""
    return re.sub(r"[^\n]", " ", match.group(0))


def mask_fences(text: str) -> str:
    lines, fence = [], None
    for line in text.split("\n"):
        opened = FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
            lines.append(" " * len(line))
        elif fence is not None:
            mark = line.strip()
            closes = set(mark) == {fence[0]} and len(mark) >= len(fence)
            lines.append(" " * len(line))
            if closes:
                fence = None
        else:
            lines.append(line)
    return "\n".join(lines)


def plain_text(text: str) -> str:
    """`text` with code, escaped characters and intended math blanked out, offsets unchanged."""
    text = mask_fences(text)
    text = CODE_SPAN.sub(lambda m: blank(m) if "\n\n" not in m.group(0) else m.group(0), text)
    text = ESCAPE.sub(blank, text)
    return INTENDED_MATH.sub(blank, text)


def stray_dollars(text: str) -> list[int]:
    """Offsets of the dollars that pair up with another in their paragraph."""
    plain = plain_text(text)
    stray, start = [], 0
    for end in [m.start() for m in PARAGRAPH_BREAK.finditer(plain)] + [len(plain)]:
        dollars = [start + i for i, c in enumerate(plain[start:end]) if c == "$"]
        if len(dollars) >= 2:
            stray += dollars
        start = end
    return stray


def stray_pairs(text: str) -> list[StrayPair]:
    dollars = stray_dollars(text)
    pairs = []
    for first, second in zip(dollars[::2], dollars[1::2], strict=False):
        pairs.append(StrayPair(text.count("\n", 0, first) + 1, text[first : second + 1]))
    return pairs


def escape_stray_dollars(text: str) -> str:
    for offset in reversed(stray_dollars(text)):
        text = text[:offset] + "\\" + text[offset:]
    return text


def has_intended_math(text: str) -> bool:
    masked = ESCAPE.sub(blank, CODE_SPAN.sub(blank, mask_fences(text)))
    return bool(INTENDED_MATH.search(masked))


def course_markdown() -> list[Path]:
    """The notebooks and Markdown files of the course, in every folder but the ignored ones."""
    found = []
    for entry in sorted(REPO_ROOT.iterdir()):
        if entry.name in NOT_COURSE:
            continue
        if entry.is_dir():
            found += sorted(p for p in entry.rglob("*") if p.suffix in (".ipynb", ".md"))
        elif entry.suffix in (".ipynb", ".md"):
            found.append(entry)
    return [p for p in found if ".ipynb_checkpoints" not in p.parts]


def markdown_texts(path: Path) -> list[tuple[str, str]]:
    """(where, text) for each markdown text of `path`: its cells, or the whole file."""
    if path.suffix == ".md":
        return [(str(path.relative_to(REPO_ROOT)), path.read_text(encoding="utf-8"))]
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [
        (f"{path.relative_to(REPO_ROOT)}, cell {number}", "".join(cell["source"]))
        for number, cell in enumerate(notebook["cells"], start=1)
        if cell["cell_type"] == "markdown"
    ]


def fix(path: Path) -> bool:
    """Escape the stray dollars of `path` in place, touching nothing else. True if it changed."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        fixed = escape_stray_dollars(text)
    else:
        notebook = json.loads(text)
        if stored(notebook) != text:
            raise SystemExit(f"{path} is not stored as nbformat stores it: fix it by hand")
        for cell in notebook["cells"]:
            if cell["cell_type"] == "markdown":
                source = escape_stray_dollars("".join(cell["source"]))
                cell["source"] = source.splitlines(keepends=True)
        fixed = stored(notebook)
    if fixed != text:
        write_text_atomically(path, fixed)
    return fixed != text


def stored(notebook: dict) -> str:
    """A notebook's text exactly as nbformat writes it (and `make outputs` stores it)."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fix", action="store_true", help="escape the stray dollars in place")
    args = parser.parse_args(argv)
    found = 0
    for path in course_markdown():
        if args.fix and fix(path):
            print(f"escaped the stray dollars of {path.relative_to(REPO_ROOT)}")
        for where, text in markdown_texts(path):
            for pair in stray_pairs(text):
                print(f"{where}, {pair}")
                found += 1
    if found:
        print(f"\n{found} pair(s) of dollars would render as math: write a price as \\$0.17.")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
