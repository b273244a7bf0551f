"""Dollar signs that JupyterLab would turn into math: `python -m scripts.markdown_math [--fix]`.

JupyterLab reads the text between two dollar signs as LaTeX, in two passes, and a price in prose
has to get through both:

1. before the Markdown is rendered, two unescaped `$` in one paragraph are math:
   "about $0.17 ... at $1.60 per 1M" shows as an italic run of letters with no spaces;
2. after it is rendered, MathJax reads the page's text again, where `\\$` has become `$`: two of
   them in one run of text (no bold, code, link or other markup between them) are math again.

So a price is written `\\$0.17`, and one that shares a run of text with another is set in bold,
`**\\$0.17**` (bold, code and links end a run of text; so do paragraphs and table cells). This
renders as "$0.17" in JupyterLab, in the HTML of `make run`, on GitHub and in other viewers. Math
meant as math is written `$$...$$` or `\\(...\\)`; code spans and fenced code are never math.

Checks every markdown cell of the notebooks and every Markdown file of the course, prints each
stray pair (file, cell, line) and exits 1 when there is one; `--fix` escapes them in place, and
sets the prices among them in bold. Standard library only.
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
# What ends a run of rendered text (MathJax pairs dollars only within one): emphasis, links,
# HTML tags, table cells, and the start of a heading, list item or quote.
MARKUP = re.compile(
    r"\*+|(?<!\w)_+|_+(?!\w)|\[|\]\([^)]*\)|\]|<[^>\n]*>|\||^[ \t]*(?:#+|>|[-+]|\d+[.)])[ \t]",
    re.MULTILINE,
)
PRICE = re.compile(r"\\?\$(\d[\d,]*(?:\.\d+)?)")
RUN_END = "\0"


@dataclass
class StrayPair:
    line: int  # 1-based, in the text checked
    text: str  # from the first dollar to the second: what would become math

    def __str__(self) -> str:
        return f"line {self.line}: {self.text!r}"


def blank(match: re.Match, fill: str = " ") -> str:
    """The match with everything but its newlines replaced by `fill` (offsets stay put)."""
    return re.sub(r"[^\n]", fill, match.group(0))


def run_end(match: re.Match) -> str:
    return blank(match, RUN_END)


def mask_fences(text: str) -> str:
    lines, fence = [], None
    for line in text.split("\n"):
        opened = FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
            lines.append(RUN_END * len(line))
        elif fence is not None:
            mark = line.strip()
            closes = set(mark) == {fence[0]} and len(mark) >= len(fence)
            lines.append(RUN_END * len(line))
            if closes:
                fence = None
        else:
            lines.append(line)
    return "\n".join(lines)


def mask_code(text: str) -> str:
    """Fenced code and code spans (never math, and each ends a run of text) blanked out."""
    text = mask_fences(text)
    return CODE_SPAN.sub(lambda m: run_end(m) if "\n\n" not in m.group(0) else m.group(0), text)


def paragraphs(text: str):
    start = 0
    for end in [m.start() for m in PARAGRAPH_BREAK.finditer(text)] + [len(text)]:
        yield start, end
        start = end


def paired(text: str, dollars: list[int], runs: bool) -> list[int]:
    """The offsets among `dollars` that share a paragraph (or, if `runs`, a run of text) with
    another."""
    pattern = re.compile(f"[^{RUN_END}]+" if runs else r"[\s\S]+")
    found = []
    for start, end in paragraphs(text):
        for run in pattern.finditer(text, start, end):
            inside = [d for d in dollars if run.start() <= d < run.end()]
            if len(inside) >= 2:
                found += inside
    return found


def backslashes_before(text: str, offset: int) -> int:
    count = 0
    while offset - count > 0 and text[offset - count - 1] == "\\":
        count += 1
    return count


def stray_dollars(text: str) -> list[int]:
    """Offsets of the dollars JupyterLab would read as math delimiters, in either pass."""
    code_free = mask_code(text)
    source = INTENDED_MATH.sub(blank, code_free)
    dollars = {i: backslashes_before(source, i) for i, c in enumerate(source) if c == "$"}
    # Pass 1: any backslash before a dollar escapes it (JupyterLab looks no further back).
    first = paired(source, [i for i, n in dollars.items() if n == 0], runs=False)
    # Pass 2: Markdown has made each `\\\\` a `\\` and `\\$` a `$`; MathJax then reads a dollar
    # after an odd number of backslashes as escaped. Unescaped dollars left unpaired count too.
    shown = [
        i for i, n in dollars.items() if (n == 0 and i not in first) or (n and n // 2 % 2 == 0)
    ]
    runs = INTENDED_MATH.sub(run_end, MARKUP.sub(run_end, code_free))
    second = paired(runs, shown, runs=True)
    return sorted(set(first) | set(second))


def stray_pairs(text: str) -> list[StrayPair]:
    dollars = stray_dollars(text)
    pairs = []
    for first, second in zip(dollars[::2], dollars[1::2], strict=False):
        start = first - 1 if text[first - 1 : first] == "\\" else first
        pairs.append(StrayPair(text.count("\n", 0, first) + 1, text[start : second + 1]))
    return pairs


def escape_stray_dollars(text: str) -> str:
    """`text` with each stray dollar escaped, and each stray price set in bold: `**\\$0.17**`."""
    for offset in reversed(stray_dollars(text)):
        start = offset - 1 if text[offset - 1 : offset] == "\\" else offset
        price = PRICE.match(text, start)
        if price:
            text = f"{text[:start]}**\\${price.group(1)}**{text[price.end() :]}"
        elif start == offset:
            text = text[:offset] + "\\" + text[offset:]
    return text


def has_intended_math(text: str) -> bool:
    return bool(INTENDED_MATH.search(ESCAPE.sub(blank, mask_code(text))))


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
        print(
            f"\n{found} pair(s) of dollars would render as math in JupyterLab: write a price as "
            "\\$0.17, or **\\$0.17** when another shares its sentence (--fix does that)."
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
