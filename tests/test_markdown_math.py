"""No prose in the course's Markdown reads as math: JupyterLab renders `$...$` as LaTeX."""

import json

import pytest

from scripts import markdown_math
from scripts.markdown_math import escape_stray_dollars, has_intended_math, stray_pairs

GARBLED = "**Cost:** about $0.17: 238 completions,\n104,638 prompt tokens at $1.60 per 1M."


def test_a_stray_pair_of_prices_is_found_with_its_line():
    [pair] = stray_pairs("# Title\n\n" + GARBLED)
    assert pair.line == 3
    assert pair.text == "$0.17: 238 completions,\n104,638 prompt tokens at $"


@pytest.mark.parametrize(
    "text",
    [
        "about \\$0.17, at \\$1.60 per 1M",  # escaped, as the course writes prices
        "one price, $0.17, is not a pair",
        "about $0.17.\n\nAnother paragraph at $1.60.",  # math never spans paragraphs
        "set `$HOME` and `$PATH`",
        "``a ` $x`` and ``$y``",
        "```bash\necho $HOME $PATH\n```",
        "~~~\n$a $b\n~~~\n",
        "The loss $$L = -\\log p$$ is intended math.",
        "The loss \\(L = -\\log p\\) is intended math, and so is \\[x^2\\].",
    ],
)
def test_escaped_dollars_code_and_intended_math_are_allowed(text):
    assert stray_pairs(text) == []


def test_an_escaped_backslash_does_not_escape_the_dollar_after_it():
    assert len(stray_pairs("a \\\\$x and $y")) == 1


def test_a_fence_only_hides_what_is_inside_it():
    assert len(stray_pairs("```\n$a\n```\nabout $1 and $2")) == 1


def test_escaping_adds_only_backslashes_and_leaves_no_pair():
    fixed = escape_stray_dollars(GARBLED + "\n\n`$keep` and $$x$$")
    assert fixed.replace("\\$", "$") == GARBLED + "\n\n`$keep` and $$x$$"
    assert stray_pairs(fixed) == []
    assert "`$keep` and $$x$$" in fixed


def test_intended_math_is_told_from_prices():
    assert has_intended_math("the loss $$L$$")
    assert has_intended_math("the loss \\(L\\)")
    assert not has_intended_math(GARBLED)
    assert not has_intended_math("`$$not math$$`")


def test_fixing_a_notebook_changes_only_its_markdown_dollars(tmp_path):
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": GARBLED.splitlines(True)},
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": ["print('$1 and $2')"],
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "n.ipynb"
    path.write_text(markdown_math.stored(notebook), encoding="utf-8")
    assert markdown_math.fix(path)
    fixed = json.loads(path.read_text(encoding="utf-8"))
    assert "".join(fixed["cells"][0]["source"]) == GARBLED.replace("$", "\\$")
    assert fixed["cells"][1] == notebook["cells"][1]


def test_the_course_has_no_prose_that_renders_as_math():
    paths = markdown_math.course_markdown()
    assert any(p.name == "README.md" for p in paths)
    assert sum(p.suffix == ".ipynb" for p in paths) >= 6
    stray = [
        f"{where}, {pair}"
        for path in paths
        for where, text in markdown_math.markdown_texts(path)
        for pair in stray_pairs(text)
    ]
    assert stray == [], "write a price as \\$0.17:\n" + "\n".join(stray)
