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


def test_escaped_prices_in_one_run_of_text_are_found_too():
    # JupyterLab renders `\\$` as `$`, and its MathJax then pairs those again.
    [pair] = stray_pairs("about \\$0.17 and\nthen \\$1.60 per 1M")
    assert pair.line == 1 and pair.text == "\\$0.17 and\nthen \\$"


@pytest.mark.parametrize(
    "text",
    [
        "about **\\$0.17**, at **\\$1.60** per 1M",  # as the course writes prices
        "one price, \\$0.17, is not a pair",
        "nor is one $1 alone",
        "| 03 | about \\$0.60 |\n| 04 | about \\$0.17 |",  # table cells are runs of their own
        "- about \\$0.60\n- about \\$0.17",  # and so are list items
        "about $0.17.\n\nAnother paragraph at $1.60.",  # math never spans paragraphs
        "about \\\\$0.17 at \\\\$1.60",  # MathJax reads the `\\$` this renders as escaped
        "set `$HOME` and `$PATH`",
        "``a ` $x`` and ``$y``",
        "```bash\necho $HOME $PATH\n```",
        "~~~\n$a $b\n~~~\n",
        "The loss $$L = -\\log p$$ is intended math.",
        "The loss \\(L = -\\log p\\) is intended math, and so is \\[x^2\\].",
    ],
)
def test_prices_set_apart_code_and_intended_math_are_allowed(text):
    assert stray_pairs(text) == []


def test_an_escaped_dollar_and_an_unescaped_one_pair_up_once_rendered():
    assert len(stray_pairs("about \\$1 or $2")) == 1


def test_a_fence_only_hides_what_is_inside_it():
    assert len(stray_pairs("```\n$a\n```\nabout $1 and $2")) == 1


def test_fixing_sets_prices_apart_and_leaves_no_pair():
    fixed = escape_stray_dollars(GARBLED + "\n\n`$keep` and $$x$$, at \\$2 and \\$3")
    assert fixed == (
        "**Cost:** about **\\$0.17**: 238 completions,\n"
        "104,638 prompt tokens at **\\$1.60** per 1M."
        "\n\n`$keep` and $$x$$, at **\\$2** and **\\$3**"
    )
    assert stray_pairs(fixed) == []


def test_fixing_escapes_a_stray_dollar_that_is_no_price():
    assert escape_stray_dollars("from $x to $y") == "from \\$x to \\$y"


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
    assert "".join(fixed["cells"][0]["source"]) == escape_stray_dollars(GARBLED)
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
    assert stray == [], "python -m scripts.markdown_math --fix sets them apart:\n" + "\n".join(
        stray
    )
