"""The limerick data set: every entry's form and facts, the split, the chat files, bad input."""

import json
import re

import periodictable
import pytest

from helpers import atomic
from helpers.limerick_checks import (
    SPELLINGS,
    categories_of,
    check_facts,
    check_form,
    elements,
    plain,
    position,
    stated_numbers,
)
from helpers.limericks import (
    FILE_NAMES,
    LIMERICKS_JSONL,
    SPLIT,
    SYSTEM_PROMPT,
    LimerickDataError,
    held_out_questions,
    load_limericks,
    main,
    write_chat_files,
)
from helpers.training_format import check_chat_example

LIMERICKS = load_limericks()
BY_NAME = {"ids": lambda e: e["name"]}
CHECKABLE = {
    "atomic_number",
    "symbol",
    "group",
    "period",
    "phase",
    "discovered",
    "category",
    "block",
}
PROSE = {"use", "named_after", "known_for"}


def prose_phrases(entry):
    for key in PROSE & set(entry["facts"]):
        value = entry["facts"][key]
        yield from [value] if isinstance(value, str) else value


def squeezed(text: str) -> str:
    return re.sub(r"\s+", " ", plain(text))


# --------------------------------------------------------------------------- the file


def test_one_limerick_for_each_element_sorted_one_object_a_line():
    raw = LIMERICKS_JSONL.read_bytes()
    assert raw.endswith(b"\n") and b"\r" not in raw and not raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8").splitlines()
    assert len(lines) == 118 and all(line.strip() for line in lines)
    assert [json.loads(line)["number"] for line in lines] == list(range(1, 119))


@pytest.mark.parametrize("entry", LIMERICKS, **BY_NAME)
def test_entry_has_exactly_the_documented_fields(entry):
    assert set(entry) - {"other_numbers"} == {"number", "symbol", "name", "facts", "limerick"}
    assert set(entry["facts"]) <= CHECKABLE | PROSE
    assert CHECKABLE & set(entry["facts"]), "at least one checkable fact"


def test_names_and_symbols_match_periodictable():
    for entry in LIMERICKS:
        known = periodictable.elements[entry["number"]]
        assert entry["symbol"] == known.symbol
        assert known.name in (entry["name"].lower(), SPELLINGS.get(entry["name"].lower()))


# --------------------------------------------------------------------------- form


@pytest.mark.parametrize("entry", LIMERICKS, **BY_NAME)
def test_every_limerick_has_the_form(entry):
    form = check_form(entry["limerick"], entry["name"])
    assert form["five_lines"], form["n_lines"]
    assert form["names_element"]
    assert form["rhyme_aabba"], (form["endings"], form["rhyme_pairs"])
    assert entry["limerick"] == entry["limerick"].strip()


# --------------------------------------------------------------------------- facts


@pytest.mark.parametrize("entry", LIMERICKS, **BY_NAME)
def test_every_recorded_fact_is_true(entry):
    """Each structured fact against periodictable or the facts table, not against the text."""
    number, facts = entry["number"], entry["facts"]
    row = elements()[number]
    group, period, block = position(number)
    assert facts["atomic_number"] == number
    if "symbol" in facts:
        assert facts["symbol"] == periodictable.elements[number].symbol
    if "group" in facts:
        assert facts["group"] == row.group == group
    if "period" in facts:
        assert facts["period"] == row.period == period
    if "block" in facts:
        assert facts["block"] == row.block == block
    if "phase" in facts:
        assert row.phase != "unknown" and facts["phase"] == row.phase
    if "discovered" in facts:
        assert isinstance(row.discovered, int) and facts["discovered"] == row.discovered
    if "category" in facts:
        assert facts["category"] in categories_of(number, group)


@pytest.mark.parametrize("entry", LIMERICKS, **BY_NAME)
def test_the_text_states_exactly_the_recorded_facts_and_all_are_right(entry):
    result = check_facts(entry["limerick"], entry["number"])
    assert result["wrong"] == 0, result["wrong_facts"]
    assert result["unchecked"] == [], "state only facts that can be checked"
    stated = {}
    for claim in result["claims"]:
        stated.setdefault(claim["fact"], set()).add(claim["stated"])
    recorded = {k: v for k, v in entry["facts"].items() if k in CHECKABLE}
    assert stated == {k: {v} for k, v in recorded.items()}
    for phrase in prose_phrases(entry):
        assert squeezed(phrase) in squeezed(entry["limerick"]), phrase


@pytest.mark.parametrize("entry", LIMERICKS, **BY_NAME)
def test_every_atomic_number_stated_is_right_and_no_number_is_unexplained(entry):
    numbers = stated_numbers(entry["limerick"])
    atomic = [n["value"] for n in numbers if n["kind"] == "atomic_number"]
    assert atomic and set(atomic) == {entry["number"]}
    explained = entry.get("other_numbers", {})
    unexplained = {str(n["value"]) for n in numbers if n["kind"] in ("other", "year")}
    assert unexplained == set(explained), "a number that is not a fact must say what it is"


# --------------------------------------------------------------------------- the split


def test_split_is_disjoint_and_covers_every_element():
    parts = [set(SPLIT[p]) for p in ("train", "validation", "test")]
    assert [len(p) for p in parts] == [94, 12, 12]
    assert sum(len(p) for p in parts) == 118
    assert set().union(*parts) == set(range(1, 119))


def test_held_out_elements_cover_every_period_and_block():
    table = elements()
    assert {table[n].period for n in SPLIT["test"]} == set(range(1, 8))
    assert {table[n].block for n in SPLIT["test"]} == set("spdf")


# --------------------------------------------------------------------------- the chat files


def test_chat_files_are_valid_deterministic_and_keep_the_split(tmp_path):
    first = write_chat_files(tmp_path / "a")
    second = write_chat_files(tmp_path / "b")
    assert set(first) == {"train", "valid", "test"}
    for key in first:
        assert first[key].name == FILE_NAMES[key]
        assert first[key].read_bytes() == second[key].read_bytes()
    by_text = {e["limerick"]: e["number"] for e in LIMERICKS}
    for key, part in (("train", "train"), ("valid", "validation")):
        lines = first[key].read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(SPLIT[part])
        numbers = []
        for line in lines:
            example = json.loads(line)
            assert check_chat_example(example) == []
            roles = [m["role"] for m in example["messages"]]
            assert roles == ["system", "user", "assistant"]
            system, user, answer = (m["content"] for m in example["messages"])
            assert system == SYSTEM_PROMPT
            numbers.append(by_text[answer])
            assert elements()[by_text[answer]].name in user
        assert numbers == list(SPLIT[part])
    assert not list((tmp_path / "a").glob(".*.tmp")), "no temporary files left behind"


def test_held_out_questions_file_is_ready_to_send(tmp_path):
    written = write_chat_files(tmp_path)
    rows = [json.loads(line) for line in written["test"].read_text(encoding="utf-8").splitlines()]
    assert rows == held_out_questions()
    assert [r["number"] for r in rows] == list(SPLIT["test"])
    for row in rows:
        assert [m["role"] for m in row["messages"]] == ["system", "user"]
        assert row["messages"][1]["content"] == row["question"]
        assert row["name"] in row["question"]


def test_a_failed_write_leaves_the_old_file_and_no_scraps(tmp_path, monkeypatch):
    old = tmp_path / FILE_NAMES["train"]
    old.write_text("old\n", encoding="utf-8")

    def refuse(*args):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", refuse)
    with pytest.raises(OSError):
        write_chat_files(tmp_path)
    assert old.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILE_NAMES["train"]]


# --------------------------------------------------------------------------- bad input


def write_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


GOOD = json.dumps({"number": 1, "symbol": "H", "name": "Hydrogen", "facts": {}, "limerick": "x"})


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([GOOD, "", "{not json"], "line 3: is not valid JSON"),
        ([GOOD, "[1, 2]"], "line 2: is a list, not a JSON object"),
        ([GOOD.replace('"limerick": "x"', '"poem": "x"')], 'line 1, field "limerick": is missing'),
        (
            [GOOD.replace('"number": 1', '"number": "1"')],
            'line 1, field "number": must be a whole number, not "1"',
        ),
        (
            [GOOD.replace('"number": 1', '"number": true')],
            'line 1, field "number": must be a whole number, not true',
        ),
        (
            [GOOD.replace('"number": 1', '"number": 1.5')],
            'line 1, field "number": must be a whole number, not 1.5',
        ),
        (
            [GOOD.replace('"facts": {}', '"facts": []')],
            'line 1, field "facts": must be an object, not a list',
        ),
        (  # a long value is clipped, never quoted whole
            [GOOD.replace('"number": 1', '"number": "' + "x" * 200 + '"')],
            'line 1, field "number": must be a whole number, not "' + "x" * 56 + "...",
        ),
        ([GOOD.replace('"number": 1', '"number": 119')], 'line 1, field "number": must be 1-118'),
        ([GOOD.replace('"x"', '"  "')], 'line 1, field "limerick": is empty'),
        ([GOOD, GOOD], 'line 2, field "number": element 1 is already on line 1'),
        (["", "  "], "holds no limericks"),
    ],
)
def test_bad_files_are_named_with_line_and_field_and_left_unchanged(tmp_path, lines, message):
    path = write_lines(tmp_path / "mine.jsonl", lines)
    before = path.read_bytes()
    with pytest.raises(LimerickDataError) as caught:
        load_limericks(path)
    assert str(caught.value).startswith("mine.jsonl") and message in str(caught.value)
    assert path.read_bytes() == before


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(GOOD.replace("Hydrogen", "Hydrog\xe8ne").encode("latin-1") + b"\n")
    with pytest.raises(LimerickDataError, match="is not valid UTF-8"):
        load_limericks(path)


def test_command_writes_the_files_or_explains_without_a_traceback(tmp_path, capsys):
    assert main([str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(FILE_NAMES.values())
    bad = write_lines(tmp_path / "bad.jsonl", [GOOD, "{oops"])
    assert main([str(tmp_path / "out2"), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.jsonl, line 2: is not valid JSON" in err and "Traceback" not in err
    assert not (tmp_path / "out2").exists()
    assert main([]) == 2


def test_a_learners_own_file_makes_its_own_split(tmp_path):
    mine = [dict(e, limerick=e["limerick"].upper()) for e in LIMERICKS if e["number"] <= 20]
    path = write_lines(tmp_path / "mine.jsonl", [json.dumps(e) for e in mine])
    written = write_chat_files(tmp_path / "out", load_limericks(path))
    train = written["train"].read_text(encoding="utf-8").splitlines()
    assert len(train) == len([n for n in SPLIT["train"] if n <= 20])
    assert all(json.loads(line)["messages"][2]["content"].isupper() for line in train)
