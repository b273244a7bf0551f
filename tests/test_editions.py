"""The Chinese edition (notebooks/zh/) keeps in step with the English one and reads as Chinese.

The edition is compared with what scripts/sync_editions.py would build, never executed: its
outputs are the English notebooks' own, which nbval checks.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from helpers.paths import REPO_ROOT
from scripts import course, run_notebooks
from scripts import sync_editions as editions

HAN = re.compile(r"[\u4e00-\u9fff]")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]+`")
LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]+)\)")
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# An English aside in parentheses after a Chinese term: 五行打油诗（limerick）.
ASIDE = re.compile(r"（[^）]*）|\([^)]*\)")
# Six English words in a row, with nothing Chinese between them: a sentence left untranslated.
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'-]*(?:[ ,;:]+[A-Za-z][A-Za-z'-]*){5,}")


def prose(text: str) -> str:
    """The words of a Markdown text: no code, no comments, no link targets, external links whole
    (their titles are the English names of OpenAI's pages)."""
    text = COMMENT.sub(" ", FENCE.sub(" ", text))
    text = CODE_SPAN.sub(" ", text)
    return LINK.sub(lambda m: " " if m[2].startswith("http") else f" {m[1]} ", text)


def chinese_notebooks() -> list[tuple[Path, nbformat.NotebookNode]]:
    return [
        (editions.twin(p), nbformat.read(editions.twin(p), as_version=4))
        for p in editions.english_notebooks()
    ]


def glossary_terms() -> list[str]:
    """The English forms the glossary says are translated in prose (its rows marked 否)."""
    terms = []
    for line in editions.GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[2] == "否":
            terms += [t.strip() for t in re.split(r"[/,]", cells[1]) if t.strip()]
    return terms


# The edition as a whole


def test_the_chinese_edition_is_in_step_with_the_english():
    drift = editions.drift()
    assert not drift, (
        "The Chinese edition has drifted from the English notebooks:\n"
        + "\n".join(f"  {d}" for d in drift)
        + f"\nRun `{editions.SYNC_COMMAND}` (make sync-zh) to bring code and outputs over; a "
        "missing or stale translation is written in notebooks/zh/prose/ first."
    )


def test_every_english_notebook_has_a_chinese_twin_with_identical_code_and_outputs():
    english = editions.english_notebooks()
    assert len(english) >= 12
    for path in english:
        mine = nbformat.read(path, as_version=4)
        theirs = nbformat.read(editions.twin(path), as_version=4)
        code = [(c.source, c.outputs) for c in mine.cells if c.cell_type == "code"]
        assert code == [(c.source, c.outputs) for c in theirs.cells if c.cell_type == "code"]


def test_the_chinese_prose_is_at_least_a_third_chinese():
    for path, notebook in chinese_notebooks():
        text = prose("\n".join(c.source for c in notebook.cells if c.cell_type == "markdown"))
        letters = re.sub(r"\s", "", text)
        share = len(HAN.findall(letters)) / len(letters)
        assert share >= 1 / 3, f"{path.name}: only {share:.0%} of its prose is Chinese"


def test_no_english_sentence_is_left_in_the_chinese_prose():
    for path, notebook in chinese_notebooks():
        for cell in notebook.cells:
            if cell.cell_type == "markdown" and cell.id != editions.BANNER_ID:
                left = ENGLISH_RUN.findall(prose(cell.source))
                assert not left, f"{path.name}, cell {cell.id}: untranslated {left}"


def test_glossary_terms_are_written_in_chinese():
    terms = glossary_terms()
    assert {"fine-tuning", "prompt", "completion", "separator", "checkpoint"} <= set(terms)
    alternatives = "|".join(map(re.escape, terms))
    pattern = re.compile(rf"\b(?:{alternatives})s?\b", re.IGNORECASE)
    for path, notebook in chinese_notebooks():
        for cell in notebook.cells:
            if cell.cell_type == "markdown" and cell.id != editions.BANNER_ID:
                left = pattern.findall(ASIDE.sub(" ", prose(cell.source)))
                assert not left, f"{path.name}, cell {cell.id}: {left} (see 术语表.md)"


def test_every_chinese_notebook_links_its_english_twin_and_the_glossary():
    for english in editions.english_notebooks():
        notebook = nbformat.read(editions.twin(english), as_version=4)
        top = notebook.cells[0]
        assert top.id == editions.BANNER_ID
        here = editions.twin(english).parent
        targets = {(here / target).resolve() for _, target in LINK.findall(top.source)}
        assert english.resolve() in targets and editions.GLOSSARY.resolve() in targets


def test_every_english_notebook_links_its_chinese_twin_at_the_top():
    for english in editions.english_notebooks():
        top = nbformat.read(english, as_version=4).cells[0]
        targets = {(english.parent / target).resolve() for _, target in LINK.findall(top.source)}
        assert editions.twin(english).resolve() in targets, english.name


def test_links_in_the_chinese_prose_resolve_and_stay_in_the_edition():
    for path, notebook in chinese_notebooks():
        for cell in notebook.cells:
            if cell.cell_type != "markdown":
                continue
            for _, target in LINK.findall(cell.source):
                if target.startswith(("http://", "https://", "#")):
                    continue
                resolved = (path.parent / target.split("#")[0]).resolve()
                assert resolved.exists(), f"{path.name}, cell {cell.id}: {target} is missing"
                if resolved.suffix == ".ipynb" and cell.id != editions.BANNER_ID:
                    assert editions.ZH.resolve() in resolved.parents, (
                        f"{path.name}, cell {cell.id}: {target} leaves the Chinese edition"
                    )
                if resolved.name == "README.md":
                    pytest.fail(f"{path.name}, cell {cell.id}: link README.zh.md, not README.md")


def test_the_readmes_link_each_other_and_list_every_chinese_notebook():
    english = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    chinese = (REPO_ROOT / "README.zh.md").read_text(encoding="utf-8")
    assert "(README.zh.md)" in english.split("\n## ")[0]
    assert "(README.md)" in chinese.split("\n## ")[0]
    for path in run_notebooks.notebook_paths([]):
        if path.parent.name != "solutions":
            assert f"(notebooks/zh/{path.name})" in chinese, path.name
    assert "python -m scripts.course run" in chinese and "make test" in chinese


def test_nbval_and_make_outputs_never_run_the_chinese_edition():
    assert all(editions.ZH not in p.parents for p in run_notebooks.notebook_paths([]))
    args = course.nbval_args()
    assert args[args.index("--ignore") + 1] == str(Path("notebooks", "zh"))


# The machinery, on a small course of its own


@pytest.fixture
def course_dir(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    monkeypatch.setattr(editions, "NOTEBOOKS", notebooks)
    monkeypatch.setattr(editions, "ZH", notebooks / "zh")
    monkeypatch.setattr(editions, "PROSE", notebooks / "zh" / "prose")
    monkeypatch.setattr(editions, "GLOSSARY", notebooks / "zh" / "术语表.md")
    monkeypatch.setattr(editions, "REPO_ROOT", tmp_path)
    notebook = nbformat.v4.new_notebook()
    title = nbformat.v4.new_markdown_cell("# 01 · The data\n\nWhat you will learn.")
    code = nbformat.v4.new_code_cell("print(1 + 1)")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    notebook.cells = [title, code, nbformat.v4.new_markdown_cell("## Exercises")]
    for number, cell in enumerate(notebook.cells):
        cell.id = f"cell-{number:02}"
    english = notebooks / "01-load-data.ipynb"
    write(english, notebook)
    return english


def write(path: Path, notebook: nbformat.NotebookNode) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(editions.notebook_text(notebook), encoding="utf-8")


def translate(english: Path, texts: dict[str, str]) -> None:
    """Write translations for the given cells, tied to the English they translate now."""
    notebook = nbformat.read(english, as_version=4)
    sources = {c.id: c.source for c in notebook.cells}
    entries = [editions.Entry(i, editions.source_hash(sources[i]), t) for i, t in texts.items()]
    path = editions.prose_path(english)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(editions.format_prose(english, entries), encoding="utf-8")


def reasons(drift: list[editions.Drift]) -> list[str]:
    return [f"{d.cell}: {d.reason}" for d in drift]


def test_a_new_cell_gets_a_todo_entry_and_is_reported_until_translated(course_dir):
    left = editions.sync()
    assert [d.cell.split()[0] for d in left] == ["cell-00", "cell-02"]
    entries = editions.read_prose(editions.prose_path(course_dir))
    assert [(e.cell_id, e.en_hash) for e in entries] == [("cell-00", "todo"), ("cell-02", "todo")]
    assert entries[0].text.startswith("# 01 · The data")  # the English, for the translator
    assert all("not translated yet" in r for r in reasons(editions.drift()))

    translate(course_dir, {"cell-00": "# 01 · 数据\n\n本节内容。", "cell-02": "## 练习"})
    editions.sync()
    assert editions.drift() == []
    built = nbformat.read(editions.twin(course_dir), as_version=4)
    sources = [c.source for c in built.cells[1:]]
    assert sources == ["# 01 · 数据\n\n本节内容。", "print(1 + 1)", "## 练习"]
    assert built.cells[2].outputs[0].text == "2\n"
    assert "[English version](../01-load-data.ipynb)" in built.cells[0].source


def test_changed_code_or_outputs_are_drift_and_the_sync_carries_them_over(course_dir):
    translate(course_dir, {"cell-00": "# 01 · 数据", "cell-02": "## 练习"})
    editions.sync()
    notebook = nbformat.read(course_dir, as_version=4)
    notebook.cells[1].source = "print(2 + 2)"
    notebook.cells[1].outputs[0].text = "4\n"
    write(course_dir, notebook)
    assert reasons(editions.drift()) == [
        "cell-01 (#3): code differs from the English",
        "cell-01 (#3): outputs differ from the English",
    ]
    editions.sync()
    assert editions.drift() == []
    assert nbformat.read(editions.twin(course_dir), as_version=4).cells[2].source == "print(2 + 2)"


def test_changed_english_prose_makes_its_translation_stale(course_dir):
    translate(course_dir, {"cell-00": "# 01 · 数据", "cell-02": "## 练习"})
    editions.sync()
    notebook = nbformat.read(course_dir, as_version=4)
    notebook.cells[2].source = "## Exercises, with solutions"
    write(course_dir, notebook)
    editions.sync()  # carries nothing over: only a translator can
    [stale] = editions.drift()
    now = editions.source_hash("## Exercises, with solutions")
    assert stale.cell.startswith("cell-02") and "stale" in stale.reason and now in stale.reason
    assert stale.notebook == "notebooks/zh/01-load-data.ipynb"


def test_moved_cells_and_hand_edits_in_the_edition_are_drift(course_dir):
    translate(course_dir, {"cell-00": "# 01 · 数据", "cell-02": "## 练习"})
    editions.sync()
    twin = editions.twin(course_dir)
    edition = nbformat.read(twin, as_version=4)
    edition.cells[1].source = "# 01 · 数据（手改）"
    write(twin, edition)
    assert "edit the prose file instead" in editions.drift()[0].reason
    edition.cells[1:] = edition.cells[:0:-1]
    write(twin, edition)
    assert "cell order differs" in editions.drift()[0].reason


def test_a_translation_of_a_removed_cell_and_a_notebook_without_twin_are_reported(course_dir):
    translate(course_dir, {"cell-00": "# 01 · 数据", "cell-02": "## 练习"})
    editions.sync()
    write(editions.ZH / "07-recipes.ipynb", nbformat.v4.new_notebook())
    notebook = nbformat.read(course_dir, as_version=4)
    del notebook.cells[2]
    write(course_dir, notebook)
    editions.sync()
    found = reasons(editions.drift())
    assert found == [
        "cell-02: has a translation, but the English notebook has no such cell",
        ": has no English twin in notebooks/",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("stray words\n<!-- cell: a en: todo -->\nx\n", "line 1: text before the first"),
        ("<!-- cell: a en: todo -->\nx\n<!-- cell: a en: todo -->\ny\n", "line 3: a second entry"),
    ],
)
def test_a_prose_file_that_cannot_be_read_names_its_line(tmp_path, text, problem):
    path = tmp_path / "01.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(editions.ProseError, match=problem):
        editions.read_prose(path)
