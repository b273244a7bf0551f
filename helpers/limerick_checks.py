"""Checking a limerick's form (five lines, AABBA rhyme, names its element) and its facts.

Used on the course's own limericks (tests) and on model answers (notebook 05), so every function
takes any string and never raises. Rhymes come from the CMU Pronouncing Dictionary, with a
spelling-based fallback for words it lacks (element names, symbols).
"""

from __future__ import annotations

import functools
import re

import pronouncing

from helpers.elements import element, phase_of

WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
VOWELS = re.compile(r"[aeiouy]+[^aeiouy]*$")
# "number 38", "atomic number 38", "atomic number is 38", "Z = 38"
ATOMIC_NUMBER = re.compile(
    r"\b(?:atomic\s+)?number(?:\s+is)?\s*(\d{1,3})\b|\bZ\s*=\s*(\d{1,3})\b", re.IGNORECASE
)
# "symbol Sr", "symbol is Sr", "symbol's Sr", "symbol, Sr"
SYMBOL = re.compile(r"\b[Ss]ymbol(?:'s|\s+is)?,?\s+([A-Z][a-z]{0,2})\b")
# "is a gas", "a noble gas", "it's a liquid"
PHASE = re.compile(r"\b(?:a|is|it's)\s+(?:noble\s+)?(gas|liquid)\b", re.IGNORECASE)

# British and American spellings both name the element.
SPELLINGS = {"aluminium": ("aluminum",), "caesium": ("cesium",), "sulfur": ("sulphur",)}


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in str(text).strip().splitlines() if line.strip()]


def last_word(line: str) -> str:
    words = WORD.findall(line)
    if not words:
        return ""
    word = words[-1].lower().strip("'-")
    return word[:-2] if word.endswith("'s") else word


@functools.cache
def rhyme_keys(word: str) -> frozenset[str]:
    """Sounds that two rhyming words share: the part from the last stressed vowel, and the
    last vowel with what follows it (lenient, for the near-rhymes limericks use)."""
    keys = set()
    for phones in pronouncing.phones_for_word(word):
        # The dictionary writes "here" IY R but "clear" IH R: one sound before R in speech.
        phones = re.sub(r"\bIY(\d) R\b", r"IH\1 R", phones)
        keys.add("R:" + re.sub(r"\d", "", pronouncing.rhyming_part(phones)))
        sounds = phones.split()
        last_vowel = max((i for i, s in enumerate(sounds) if s[-1].isdigit()), default=None)
        if last_vowel is not None:
            keys.add("V:" + re.sub(r"\d", "", " ".join(sounds[last_vowel:])))
    return frozenset(keys)


def spelling_key(word: str) -> str:
    match = VOWELS.search(word)
    return match.group(0) if match else word[-3:]


def rhymes(a: str, b: str) -> bool:
    if not a or not b:
        return False
    if a == b:
        return True
    keys_a, keys_b = rhyme_keys(a), rhyme_keys(b)
    if keys_a and keys_b:
        return bool(keys_a & keys_b)
    return spelling_key(a) == spelling_key(b)


def check_form(text: str, element_name: str) -> dict:
    """Five lines, rhyming AABBA, naming the element: each a True/False, with the endings."""
    lines = lines_of(text)
    endings = [last_word(line) for line in lines]
    five = len(lines) == 5
    aabba = five and (
        rhymes(endings[0], endings[1])
        and (rhymes(endings[0], endings[4]) or rhymes(endings[1], endings[4]))
        and rhymes(endings[2], endings[3])
    )
    return {
        "five_lines": five,
        "rhyme_aabba": bool(aabba),
        "names_element": names_element(text, element_name),
        "endings": endings,
    }


def names_element(text: str, element_name: str) -> bool:
    name = str(element_name).strip().lower()
    if not name:
        return False
    spellings = (name, *SPELLINGS.get(name, ()))
    spellings += tuple(k for k, v in SPELLINGS.items() if name in v)
    lowered = str(text).lower()
    return any(re.search(rf"\b{re.escape(s)}\b", lowered) for s in spellings)


def stated_facts(text: str) -> list[tuple[str, str]]:
    """The checkable facts a text states, as (kind, value): atomic numbers, symbols, phases."""
    text = str(text)
    facts = [("atomic_number", a or b) for a, b in ATOMIC_NUMBER.findall(text)]
    facts += [("symbol", s) for s in SYMBOL.findall(text)]
    facts += [("phase", p.lower()) for p in PHASE.findall(text)]
    return facts


def check_facts(text: str, number: int) -> dict:
    """Each stated fact compared with the element asked about (by atomic number).

    A phase nobody has measured (the heaviest elements) is neither right nor wrong: unchecked.
    """
    truth = element(number)
    right, wrong, unchecked = [], [], []
    for kind, value in stated_facts(text):
        if kind == "atomic_number":
            ok = int(value) == truth["number"]
        elif kind == "symbol":
            ok = value == truth["symbol"]
        else:
            actual = phase_of(number)
            if actual == "unknown":
                unchecked.append((kind, value))
                continue
            ok = value == actual
        (right if ok else wrong).append((kind, value))
    return {
        "stated": len(right) + len(wrong),
        "right": len(right),
        "wrong": len(wrong),
        "wrong_facts": wrong,
        "unchecked": unchecked,
    }
