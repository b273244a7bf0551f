"""What a simulated base model knows before any fine-tuning: the chemical elements.

Every fact comes from a published source, never from the course's own files:

- names, symbols, atomic numbers and standard atomic weights: the `periodictable` package;
- group, period and block: the atomic number's place on IUPAC's 18-column table (group 3 =
  Sc, Y, Lu, Lr, so La-Yb and Ac-No form the f-block, which has no group number);
- families (noble gas, halogen, ...): the group, the lanthanide and actinide series, and the six
  elements usually called metalloids (B, Si, Ge, As, Sb, Te);
- state at 25 degrees C and 100 kPa, as the CRC Handbook of Chemistry and Physics tabulates it:
  eleven gases, two liquids, and no known state from fermium (100) on, never made in bulk.

A subject is found in a text by the element's name (either spelling of aluminium, caesium and
sulfur) or, where it cannot be an English word, its symbol.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import periodictable

N_ELEMENTS = 118
PERIOD_ENDS = (2, 10, 18, 36, 54, 86, 118)  # the last atomic number of each period
METALLOIDS = frozenset({5, 14, 32, 33, 51, 52})
GASES = frozenset({1, 2, 7, 8, 9, 10, 17, 18, 36, 54, 86})
LIQUIDS = frozenset({35, 80})
FIRST_UNMEASURED = 100
# Elements with no stable isotope: technetium, promethium and everything from polonium on.
RADIOACTIVE_BELOW_84 = frozenset({43, 61})
FIRST_ALL_RADIOACTIVE = 84
# periodictable spells these the American way; both spellings name the element.
OTHER_SPELLINGS = {"aluminum": "aluminium", "cesium": "caesium", "sulfur": "sulphur"}
# Symbols that are also everyday words are only read as symbols where the text says so.
WORDLIKE_SYMBOLS = frozenset(
    {"He", "In", "As", "At", "Be", "No", "Am", "I", "B", "C", "O", "S", "K", "U", "V", "W", "Y"}
    | {"H", "N", "F", "P", "Es", "Pa", "Ho", "Re", "Po", "Np"}
)

_UNITS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)  # fmt: skip
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def number_words(n: int) -> str:
    """38 -> "thirty-eight", 101 -> "one hundred and one" (0-999)."""
    if n < 20:
        return _UNITS[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        return _TENS[tens - 2] + (f"-{_UNITS[unit]}" if unit else "")
    hundreds, rest = divmod(n, 100)
    head = f"{_UNITS[hundreds]} hundred"
    return f"{head} and {number_words(rest)}" if rest else head


SMALL_NUMBER_WORDS = frozenset(_UNITS[:10])


@functools.cache
def number_words_pattern() -> re.Pattern:
    """Any number from zero to 999 written in words, longest first."""
    body = _trie_alternation(number_words(n) for n in range(1000))
    return re.compile(rf"(?<![A-Za-z-])(?:{body})(?![A-Za-z-])", re.IGNORECASE)


def position(number: int) -> tuple[int | None, int, str]:
    """(group, period, block) of an atomic number on IUPAC's 18-column table (the one home of
    this rule: the course's limerick checks use it too)."""
    if not 1 <= number <= PERIOD_ENDS[-1]:
        raise ValueError(f"No element has atomic number {number}.")
    period = next(p for p, end in enumerate(PERIOD_ENDS, start=1) if number <= end)
    offset = number - (PERIOD_ENDS[period - 2] + 1 if period > 1 else 1)
    if period == 1:
        group = 1 if offset == 0 else 18
    elif period <= 3:
        group = offset + 1 if offset < 2 else offset + 11
    elif period <= 5:
        group = offset + 1
    else:
        group = offset + 1 if offset < 2 else None if offset < 16 else offset - 13
    if group is None:
        block = "f"
    elif group <= 2 or number == 2:
        block = "s"
    elif group <= 12:
        block = "d"
    else:
        block = "p"
    return group, period, block


def family(number: int, group: int | None) -> str | None:
    """The family an element is usually named by, if it has one."""
    if number in METALLOIDS:
        return "metalloid"
    if 57 <= number <= 71:
        return "lanthanide"
    if 89 <= number <= 103:
        return "actinide"
    return {1: "alkali metal", 2: "alkaline earth metal", 17: "halogen", 18: "noble gas"}.get(
        group if number != 1 else 0,
        "transition metal" if group is not None and 3 <= group <= 12 else None,
    )


@dataclass(frozen=True)
class Element:
    number: int
    symbol: str
    name: str  # capitalised, periodictable's spelling
    mass: float
    group: int | None
    period: int
    block: str
    family: str | None
    phase: str | None  # "solid", "liquid", "gas"; None where it was never measured

    @property
    def names(self) -> tuple[str, ...]:
        other = OTHER_SPELLINGS.get(self.name.lower())
        return (self.name, other.capitalize()) if other else (self.name,)

    def facts(self) -> dict[str, str]:
        """Each fact as the words a text may write it in: the slots a learned form fills."""
        out = {
            "name": self.name,
            "symbol": self.symbol,
            "number": str(self.number),
            "number_words": number_words(self.number),
            "period": str(self.period),
            "period_words": number_words(self.period),
            "block": self.block,
            "mass": f"{self.mass:.2f}",
        }
        if self.group is not None:
            out["group"] = str(self.group)
            out["group_words"] = number_words(self.group)
        if self.family:
            out["family"] = self.family
        if self.phase:
            out["phase"] = self.phase
        return out

    @property
    def radioactive(self) -> bool:
        return self.number >= FIRST_ALL_RADIOACTIVE or self.number in RADIOACTIVE_BELOW_84

    def properties(self) -> set[tuple[str, str]]:
        """What this element shares with others (family, state, place on the table, whether
        it has a stable isotope): the properties a text may ascribe to it."""
        found = {
            ("period", str(self.period)),
            ("block", self.block),
            ("radioactive", "yes" if self.radioactive else "no"),
        }
        for key, value in (("family", self.family), ("phase", self.phase), ("group", self.group)):
            if value is not None:
                found.add((key, str(value)))
        return found

    def describe(self) -> str:
        """The base model's plain-prose answer about the element."""
        article = "an" if (self.family or "")[:1] in "aeiou" and self.family else "a"
        kind = f"{article} {self.family}" if self.family else "an element"
        where = (
            f"in group {self.group}, period {self.period}"
            if self.group is not None
            else f"in period {self.period} (the f-block, which has no group number)"
        )
        first = f"{self.name} ({self.symbol}) is element number {self.number}, {kind} {where}"
        first += f" of the periodic table ({self.block}-block)." if self.group else "."
        if float(self.mass).is_integer():  # no stable isotope: the longest-lived one's mass
            weight = f" The mass of its longest-lived isotope is {int(self.mass)}"
        else:
            weight = f" Its standard atomic weight is {self.mass:.2f}"
        if self.phase:
            state = f", and it is a {self.phase} at room temperature."
        else:
            state = (
                ", and too little of it has ever been made to know whether it is a solid, "
                "a liquid or a gas at room temperature."
            )
        return first + weight + state


@functools.cache
def elements() -> dict[int, Element]:
    found = {}
    for number in range(1, N_ELEMENTS + 1):
        item = periodictable.elements[number]
        group, period, block = position(number)
        phase = None
        if number < FIRST_UNMEASURED:
            phase = "gas" if number in GASES else "liquid" if number in LIQUIDS else "solid"
        found[number] = Element(
            number=number,
            symbol=item.symbol,
            name=item.name.capitalize(),
            mass=float(item.mass),
            group=group,
            period=period,
            block=block,
            family=family(number, group),
            phase=phase,
        )
    return found


@functools.cache
def _finder() -> tuple[re.Pattern, dict[str, Element]]:
    table: dict[str, Element] = {}
    for item in elements().values():
        for name in item.names:
            table[name.lower()] = item
        if item.symbol not in WORDLIKE_SYMBOLS:
            table[item.symbol] = item
    names = _trie_alternation(k for k in table if k.islower())
    symbols = _trie_alternation(k for k in table if not k.islower())
    pattern = re.compile(r"(?<![A-Za-z])(?:(?i:" + names + r")|" + symbols + r")(?![a-z])")
    return pattern, table


def _trie_alternation(words) -> str:
    """A regex matching any of `words`, the longest first, branching letter by letter; a space
    in a word matches any run of white space.

    It matches what a plain alternation of the words sorted longest first matches, but the
    engine follows one branch per letter instead of trying every word at each word start:
    several times faster on long texts such as newsgroup posts, read for every job, and
    quicker to compile (a thousand numbers in words).
    """
    trie: dict = {}
    for word in words:
        node = trie
        for letter in word:
            node = node.setdefault(letter, {})
        node[""] = {}  # a word ends here

    def branches(node: dict) -> str:
        longer = [_literal(letter) + branches(n) for letter, n in sorted(node.items()) if letter]
        ends = [""] if "" in node else []  # tried last: longer words first, as sorted by length
        if not longer:
            return ""
        if len(longer) == 1 and not ends:
            return longer[0]
        return "(?:" + "|".join(longer + ends) + ")"

    return branches(trie)


def _literal(letter: str) -> str:
    return r"\s+" if letter == " " else re.escape(letter)


def _named(text: str):
    """Each element `text` names, in the order it names them (repeats included), read lazily."""
    pattern, table = _finder()
    for match in pattern.finditer(text):
        item = table.get(match[0]) or table.get(match[0].lower())
        if item is not None:
            yield item


def mentioned(text: str) -> list[Element]:
    """The elements a text names, in order of first mention."""
    return list(dict.fromkeys(_named(text)))


@functools.lru_cache(maxsize=4096)  # each job on a file asks this of all its texts again
def names_an_element(text: str) -> bool:
    """Whether `text` names any element, read only up to the first it names."""
    return next(_named(text), None) is not None


def subject(text: str) -> Element | None:
    """The element a question is about: the last one it names (the question comes last)."""
    found = mentioned(text)
    return found[-1] if found else None


def fact_strings() -> set[str]:
    """Every name a subject may be called by: the words that tell one subject from another."""
    return {n.lower() for item in elements().values() for n in item.names}
