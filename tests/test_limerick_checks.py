"""The limerick checks: rhyme, form, the facts a text states, and the facts table they use."""

import periodictable
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.elements import elements as element_rows
from helpers.limerick_checks import (
    SPELLINGS,
    UnknownElement,
    categories_of,
    check_facts,
    check_form,
    element,
    elements,
    last_word,
    position,
    rhymes,
    stated_facts,
    stated_numbers,
)

STRONTIUM = (
    "Strontium, number thirty-eight, glows red\n"
    "In the fireworks bursting overhead;\n"
    "From a Scots village came\n"
    "Both its ore and its name;\n"
    "It's in group two, under calcium's head."
)

# --------------------------------------------------------------------------- rhyme


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("night", "bright"),
        ("moon", "balloon"),
        ("clear", "here"),  # the dictionary spells these vowels differently
        ("fire", "higher"),
        ("despised", "prized"),
        ("genes", "greens"),  # a plural -s
        ("team", "green"),  # nasals stand in for each other
        ("helium", "tedium"),  # same vowels, same ending: a slant rhyme
        ("oganesson", "lesson"),  # an element name the dictionary lacks
        ("tennessine", "green"),
        ("blurbington", "flurbington"),  # unknown words: by their spelled ending
        ("night", "night"),  # a repeated word, as Lear wrote them
    ],
)
def test_rhymes_accept_true_and_near_rhymes(a, b):
    assert rhymes(a, b) and rhymes(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("cat", "dog"),
        ("night", "table"),
        ("blue", "green"),
        ("moon", "lemon"),
        ("banana", "strontium"),
        ("lithium", "light"),
        ("pour", "sure"),
        ("", "night"),
        ("1955", "alive"),
    ],
)
def test_rhymes_reject_unrelated_endings(a, b):
    assert not rhymes(a, b)


def test_last_word_ignores_punctuation_and_hyphens():
    assert last_word("And it ends on a word like banana!\u201d") == "banana"
    assert last_word("For the man of the X-ray;") == "ray"
    assert last_word("Its symbol is Sn: don't ask why!") == "why"
    assert last_word("...") == ""


# --------------------------------------------------------------------------- form


def test_a_good_limerick_passes_and_each_fault_is_caught():
    assert check_form(STRONTIUM, "Strontium")["passed"]
    lines = STRONTIUM.splitlines()
    assert not check_form("\n".join(lines[:4]), "Strontium")["five_lines"]
    assert not check_form("Strontium\n\n" + STRONTIUM, "Strontium")["five_lines"]
    assert check_form("\n\n".join(lines) + "\n", "Strontium")["passed"]  # blank lines ignored
    banana = "\n".join([*lines[:4], "And it ends on a word like banana."])
    result = check_form(banana, "Strontium")
    assert not result["rhyme_aabba"] and result["endings"][-1] == "banana"
    swapped = "\n".join([lines[0], lines[2], lines[1], lines[3], lines[4]])
    assert not check_form(swapped, "Strontium")["rhyme_aabba"]
    assert not check_form(STRONTIUM, "Barium")["names_element"]


def test_either_spelling_names_the_element():
    assert check_form("Aluminum foil", "Aluminium")["names_element"]
    assert check_form("Caesium clocks", "cesium")["names_element"]
    assert check_form("Carbon's rings", "Carbon")["names_element"]
    assert not check_form("Carbonate rocks", "Carbon")["names_element"]


# --------------------------------------------------------------------------- facts


def facts_of(text, key):
    return {(c["fact"], c["stated"], c["correct"]) for c in check_facts(text, key)["claims"]}


def test_the_facts_of_another_element_are_wrong():
    result = check_facts("Oxygen, number 7, symbol N, is a liquid at room temperature.", 8)
    assert result["wrong"] == 3 and result["right"] == 0 and not result["passed"]
    assert set(result["wrong_facts"]) == {
        ("atomic_number", 7),
        ("symbol", "N"),
        ("phase", "liquid"),
    }


def test_strontiums_facts_are_found_and_right():
    result = check_facts(STRONTIUM, "Sr")
    assert result["passed"] and result["wrong"] == 0
    assert {(c["fact"], c["stated"]) for c in result["claims"]} == {
        ("atomic_number", 38),
        ("group", 2),
    }


@pytest.mark.parametrize(
    ("text", "key", "claim"),
    [
        ("Element 26 is iron.", 26, ("atomic_number", 26, True)),
        ("It has twenty-six protons.", 26, ("atomic_number", 26, True)),
        ("The twenty-sixth element.", 26, ("atomic_number", 26, True)),
        ("Atomic number: one hundred and eighteen.", 118, ("atomic_number", 118, True)),
        ("Its number's a hundred eleven.", 111, ("atomic_number", 111, True)),
        ("Iron, #27 on the chart.", 26, ("atomic_number", 27, False)),
        ("Iron, No. 26.", 26, ("atomic_number", 26, True)),
        ("Z = 25", 26, ("atomic_number", 25, False)),
        ("It sits in group eight.", 26, ("group", 8, True)),
        ("Lanthanum is in group three.", 57, ("group", 3, False)),  # the f-block has no group
        ("It's in period four.", 26, ("period", 4, True)),
        ("Its symbol is Fe.", 26, ("symbol", "Fe", True)),
        ("Its symbol: Ir.", 26, ("symbol", "Ir", False)),
        ("Iron (Fe) rusts.", 26, ("symbol", "Fe", True)),
        ("Pb, its symbol, came from plumbum.", 82, ("symbol", "Pb", True)),
        ("It is a gas at room temperature.", 36, ("phase", "gas", True)),
        ("At room temperature it's a solid.", 80, ("phase", "solid", False)),
        ("It was discovered in 1898.", 84, ("discovered", 1898, True)),
        ("It was found in 1899.", 84, ("discovered", 1899, False)),
        ("It was discovered in 1500.", 29, ("discovered", 1500, False)),  # known since antiquity
        ("A noble gas.", 10, ("category", "noble gas", True)),
        ("A noble gas.", 11, ("category", "noble gas", False)),
        ("It's a metalloid.", 14, ("category", "metalloid", True)),
        ("One of the lanthanides.", 64, ("category", "lanthanide", True)),
        ("Sodium sits in the s-block.", 11, ("block", "s", True)),
    ],
)
def test_each_kind_of_fact_is_read_and_judged(text, key, claim):
    assert claim in facts_of(text, key)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Oganesson is a gas at room temperature, perhaps.", 118),  # never made in bulk
        ("Cobalt was discovered in 1735.", 27),  # the references disagree
    ],
)
def test_facts_nobody_can_check_are_unchecked_not_wrong(text, key):
    result = check_facts(text, key)
    assert result["wrong"] == 0 and len(result["unchecked"]) == 1 and not result["passed"]


@pytest.mark.parametrize(
    "text",
    [
        "Tellurium's not a halogen.",  # negated
        "It's a gas, a real gas, at parties.",  # no room-temperature claim
        "Every second counts, and one more thing.",  # numbers that claim nothing
        "The 1966 World Cup.",  # a year, not said to be a discovery
        "My symbol is in the book.",  # 'in' written in lower case is a word, not a symbol
        "",
    ],
)
def test_words_that_state_no_checkable_fact(text):
    result = check_facts(text, 52 if "Tellurium" in text else 2)
    assert result["stated"] == 0 and result["wrong"] == 0 and not result["passed"]


def test_noble_gas_is_a_family_not_a_phase():
    assert facts_of("Helium: a noble gas, so light.", 2) == {("category", "noble gas", True)}


def test_stated_numbers_say_what_each_number_is():
    kinds = [(n["value"], n["kind"]) for n in stated_numbers(STRONTIUM + " In 1790 it was found.")]
    assert kinds == [(38, "atomic_number"), (2, "group"), (1790, "discovered")]
    assert [n["kind"] for n in stated_numbers("Every second counts; 1966 was fun.")] == [
        "other",
        "year",
    ]


def test_stated_facts_lists_kinds_and_values_whatever_the_element():
    assert stated_facts("Number 8, symbol O, a gas at room temperature.") == [
        ("atomic_number", 8),
        ("symbol", "O"),
        ("phase", "gas"),
    ]


def test_elements_are_found_by_number_name_spelling_symbol_or_entry():
    assert element(38).name == element("Strontium").name == element("Sr").name == "Strontium"
    assert element("cesium").number == element("Caesium").number == 55
    assert element({"number": 8, "name": "Oxygen"}).symbol == "O"
    assert element("26").symbol == "Fe"
    for bad in (0, 119, "Unobtainium", "", True, None):
        with pytest.raises(UnknownElement):
            element(bad)


# --------------------------------------------------------------------------- the facts table


def test_the_facts_table_agrees_with_periodictable_and_the_layout_of_the_table():
    table = elements()
    assert sorted(table) == list(range(1, 119))
    for number, item in table.items():
        known = periodictable.elements[number]
        assert item.symbol == known.symbol
        assert known.name in (item.name.lower(), SPELLINGS.get(item.name.lower()))
        assert (item.group, item.period, item.block) == position(number), item


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1, (1, 1, "s")),
        (2, (18, 1, "s")),
        (5, (13, 2, "p")),
        (26, (8, 4, "d")),
        (57, (None, 6, "f")),
        (70, (None, 6, "f")),
        (71, (3, 6, "d")),
        (72, (4, 6, "d")),
        (80, (12, 6, "d")),
        (89, (None, 7, "f")),
        (103, (3, 7, "d")),
        (118, (18, 7, "p")),
    ],
)
def test_position_on_the_table(number, expected):
    assert position(number) == expected


def test_position_refuses_numbers_that_are_not_elements():
    for bad in (0, 119):
        with pytest.raises(ValueError, match="No element has atomic number"):
            position(bad)


def test_phases_and_discovery_years_in_the_table():
    table = elements()
    assert [n for n, e in table.items() if e.phase == "liquid"] == [35, 80]
    gases = {1, 2, 7, 8, 9, 10, 17, 18, 36, 54, 86}
    assert {n for n, e in table.items() if e.phase == "gas"} == gases
    assert {n for n, e in table.items() if e.phase == "unknown"} == set(range(100, 119))
    ancient = {n for n, e in table.items() if e.discovered == "ancient"}
    assert ancient == {6, 16, 26, 29, 47, 50, 51, 79, 80, 82}
    years = {n: e.discovered for n, e in table.items() if isinstance(e.discovered, int)}
    assert all(1600 < year <= 2010 for year in years.values())
    made_not_found = [n for n in years if n > 92 or n in (43, 61, 85, 87)]
    assert all(years[n] >= 1937 for n in made_not_found)
    assert set(element_rows()[1]) >= {"group", "period", "block", "phase", "discovered"}


def test_categories_follow_groups_and_series():
    assert categories_of(1, 1) == frozenset()  # hydrogen is no alkali metal
    assert categories_of(11, 1) == {"alkali metal"}
    assert categories_of(71, 3) == {"lanthanide", "rare earth", "transition metal"}
    assert categories_of(92, None) == {"actinide"}
    assert categories_of(33, 15) == {"metalloid"}


# --------------------------------------------------------------------------- any text at all

SCRAPS = "abcdefghij klmnop#.'-,;:()XYZ0123456789\u2019"
LIMERICKISH = st.lists(
    st.text(alphabet=st.sampled_from(list(SCRAPS)), max_size=60)
    | st.sampled_from(["number thirty-eight", "symbol Sr", "a gas at room temperature", "group"]),
    max_size=8,
).map("\n".join)


@settings(max_examples=150, deadline=None)
@given(st.text() | LIMERICKISH, st.sampled_from([1, 38, "Neon", "Og", 57]))
def test_checks_never_raise_on_any_text(text, key):
    form = check_form(text, element(key).name)
    facts = check_facts(text, key)
    assert form["passed"] == (form["five_lines"] and form["rhyme_aabba"] and form["names_element"])
    assert facts["stated"] == facts["right"] + facts["wrong"]
    stated_numbers(text)


@pytest.mark.parametrize("value", [None, 38, b"bytes"])
def test_checks_take_non_text_as_empty(value):
    assert check_form(value, "Strontium")["n_lines"] == 0
    assert check_facts(value, 38)["stated"] == 0


def test_an_atomic_number_read_from_a_dataframe_row_is_an_element():
    import numpy as np

    assert check_facts("Oxygen, number eight, is a gas", np.int64(8))["passed"]
