import json
import re

import periodictable
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.elements import element, elements, phase_of
from helpers.limerick_checks import check_facts, check_form, rhymes, stated_facts
from helpers.limericks import (
    SPLIT,
    SYSTEM_PROMPT,
    held_out_questions,
    load_limericks,
    write_chat_files,
)
from helpers.training_format import check_chat_example

AMERICAN = {"Aluminium": "aluminum", "Caesium": "cesium"}
LIMERICKS = load_limericks()


def test_one_limerick_for_each_of_the_118_elements():
    assert [e["number"] for e in LIMERICKS] == list(range(1, 119))


def test_names_and_symbols_match_periodictable():
    for entry in LIMERICKS:
        known = periodictable.elements[entry["number"]]
        assert entry["symbol"] == known.symbol
        assert AMERICAN.get(entry["name"], entry["name"].lower()) == known.name


def test_the_facts_table_agrees_with_periodictable_and_known_phases():
    table = elements()
    assert len(table) == 118
    for number, row in table.items():
        assert row["symbol"] == periodictable.elements[number].symbol
    assert [n for n in table if phase_of(n) == "liquid"] == [35, 80]
    assert {n for n in table if phase_of(n) == "gas"} == {1, 2, 7, 8, 9, 10, 17, 18, 36, 54, 86}


@pytest.mark.parametrize("entry", LIMERICKS, ids=lambda e: e["name"])
def test_every_limerick_has_the_form(entry):
    form = check_form(entry["limerick"], entry["name"])
    assert form["five_lines"] and form["names_element"]
    assert form["rhyme_aabba"], form["endings"]


@pytest.mark.parametrize("entry", LIMERICKS, ids=lambda e: e["name"])
def test_every_stated_fact_is_recorded_and_right(entry):
    text = entry["limerick"]
    facts = check_facts(text, entry["number"])
    assert facts["stated"] >= 1 and facts["wrong"] == 0, facts["wrong_facts"]
    # The structured facts are exactly what the text states, and each is true.
    recorded = entry["facts"]
    assert recorded["atomic_number"] == entry["number"]
    assert {k for k, _ in stated_facts(text)} == set(recorded)
    if "symbol" in recorded:
        assert recorded["symbol"] == periodictable.elements[entry["number"]].symbol
    if "phase" in recorded and phase_of(entry["number"]) != "unknown":
        assert recorded["phase"] == phase_of(entry["number"])
    # No other number hides in the text: every integer is this element's atomic number.
    assert set(re.findall(r"\d+", text)) == {str(entry["number"])}


def test_split_is_disjoint_and_covers_every_element():
    parts = [set(SPLIT[p]) for p in ("train", "validation", "test")]
    assert sum(len(p) for p in parts) == 118
    assert set().union(*parts) == set(range(1, 119))
    assert (len(parts[0]), len(parts[1]), len(parts[2])) == (94, 12, 12)


def test_chat_files_are_valid_deterministic_and_hold_no_test_element(tmp_path):
    first = write_chat_files(tmp_path / "a")
    second = write_chat_files(tmp_path / "b")
    for key in ("train", "valid"):
        assert first[key].read_bytes() == second[key].read_bytes()
    held_out = {q["name"] for q in held_out_questions()}
    lines = first["train"].read_text(encoding="utf-8").splitlines()
    assert len(lines) == 94
    for line in lines + first["valid"].read_text(encoding="utf-8").splitlines():
        example = json.loads(line)
        assert check_chat_example(example) == []
        roles = [m["role"] for m in example["messages"]]
        assert roles == ["system", "user", "assistant"]
        assert example["messages"][0]["content"] == SYSTEM_PROMPT
        assert not any(name in example["messages"][1]["content"] for name in held_out)


def test_held_out_questions_name_their_elements():
    questions = held_out_questions()
    assert [q["number"] for q in questions] == list(SPLIT["test"])
    assert all(q["name"] in q["question"] for q in questions)


def test_rhymes_accept_true_rhymes_and_reject_strangers():
    for a, b in [("night", "bright"), ("moon", "balloon"), ("clear", "here"), ("king", "thing")]:
        assert rhymes(a, b), (a, b)
    for a, b in [("cat", "dog"), ("night", "table"), ("strong", "belongs"), ("blue", "green")]:
        assert not rhymes(a, b), (a, b)


def test_a_broken_limerick_fails_the_form():
    good = LIMERICKS[37]["limerick"]
    lines = good.splitlines()
    assert not check_form("\n".join(lines[:4]), "Strontium")["five_lines"]
    swapped = "\n".join([*lines[:4], "And it ends on a word like banana."])
    assert not check_form(swapped, "Strontium")["rhyme_aabba"]
    assert not check_form(good, "Barium")["names_element"]


def test_facts_of_another_element_are_wrong():
    facts = check_facts("Oxygen, number 7, symbol N, is a liquid.", 8)
    assert facts["wrong"] == 3 and facts["right"] == 0
    assert check_facts("Copernicium may be a gas.", 112)["unchecked"] == [("phase", "gas")]
    assert element(8)["name"] == "Oxygen"


@given(st.text())
def test_checks_never_raise_on_any_text(text):
    check_form(text, "Neon")
    check_facts(text, 10)
