"""Checking a limerick: its form (five lines rhyming AABBA, naming its element) and its facts.

Used on the course's own limericks (tests) and on model answers (notebook 05), so every check
takes any string and never raises on it. The true facts come from `data/elements.csv` (read by
`helpers.elements`), whose names and symbols the tests prove against the `periodictable` package.

Rhymes are looked up in the CMU Pronouncing Dictionary (`helpers.cmu_dictionary`). Element names
it lacks are spelled out below by hand; other unknown words borrow the pronunciations of the
dictionary words that share their longest spelled ending.
"""

from __future__ import annotations

import functools
import numbers
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from helpers import cmu_dictionary
from helpers.elements import elements as element_rows
from helpers.errors import CourseError
from helpers.simulator.learners import knowledge

N_ELEMENTS = 118


class UnknownElement(CourseError):
    """A number, name or symbol that is no element's."""


# Both spellings name the element; our data uses the first (IUPAC's).
SPELLINGS = {"aluminium": "aluminum", "caesium": "cesium", "sulfur": "sulphur"}

# --------------------------------------------------------------------------- the true facts


@dataclass(frozen=True)
class Element:
    number: int
    symbol: str
    name: str
    group: int | None  # None for La-Yb and Ac-No: the f-block has no group number
    period: int
    block: str
    phase: str  # "solid", "liquid", "gas", or "unknown" (never made in bulk)
    discovered: int | str | None  # a year, "ancient", or None where references disagree

    @property
    def categories(self) -> frozenset[str]:
        return categories_of(self.number, self.group)


# Group, period and block: the rule the simulator's base model knows is the one home of it.
position = knowledge.position


METALLOIDS = frozenset({5, 14, 32, 33, 51, 52})  # B, Si, Ge, As, Sb, Te: the usual six


def categories_of(number: int, group: int | None) -> frozenset[str]:
    """The family names that are true of an element, as a text may call it."""
    found = set()
    if group == 1 and number != 1:
        found.add("alkali metal")
    if group == 2:
        found.add("alkaline earth metal")
    if group == 17:
        found.add("halogen")
    if group == 18:
        found.add("noble gas")
    if group is not None and 3 <= group <= 12:
        found.add("transition metal")
    if 57 <= number <= 71:
        found.update({"lanthanide", "rare earth"})
    if number in (21, 39):
        found.add("rare earth")
    if 89 <= number <= 103:
        found.add("actinide")
    if number in METALLOIDS:
        found.add("metalloid")
    return frozenset(found)


@functools.cache
def elements() -> dict[int, Element]:
    """All 118 elements by atomic number, typed."""
    found = {}
    for number, row in element_rows().items():
        discovered = row["discovered"]
        found[number] = Element(
            number=number,
            symbol=row["symbol"],
            name=row["name"],
            group=int(row["group"]) if row["group"] else None,
            period=int(row["period"]),
            block=row["block"],
            phase=row["phase"],
            discovered=int(discovered) if discovered.isdigit() else discovered or None,
        )
    return found


def element(key: int | str | Mapping) -> Element:
    """An element by atomic number, name (either spelling), symbol, or a limerick entry."""
    if isinstance(key, Mapping):
        key = key.get("number", key.get("name", ""))
    table = elements()
    if isinstance(key, numbers.Integral) and not isinstance(key, bool) and int(key) in table:
        return table[int(key)]  # numpy's integers too: a number read from a DataFrame row
    if isinstance(key, str):
        wanted = key.strip()
        if wanted.isdigit() and int(wanted) in table:
            return table[int(wanted)]
        for item in table.values():
            name = item.name.lower()
            if wanted == item.symbol or wanted.lower() in (name, SPELLINGS.get(name)):
                return item
    raise UnknownElement(f"{key!r} is not an element's atomic number (1-118), name or symbol.")


# --------------------------------------------------------------------------- words and numbers

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)*|\d+(?:st|nd|rd|th)?")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def plain(text: str) -> str:
    """Lower case, straight apostrophes, accents dropped: the form the word checks read."""
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


_NUMBER_SIGN = re.compile(r"#\s*(?=\d)|\b[Nn]o\.\s*(?=\d)")


def words(text: str) -> list[str]:
    """The words and numerals of a text, possessive 's dropped ("seven's" -> "seven").

    "#38" and "No. 38" read as "number 38".
    """
    tokens = _TOKEN.findall(plain(_NUMBER_SIGN.sub(" number ", text)))
    return [w[:-2] if w.endswith("'s") else w for w in tokens]


_UNITS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)  # fmt: skip
_TENS = (
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
)  # fmt: skip
_ORDINAL_UNITS = (
    "zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
    "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth",
    "sixteenth", "seventeenth", "eighteenth", "nineteenth",
)  # fmt: skip
_ORDINAL_TENS = (
    "twentieth", "thirtieth", "fortieth", "fiftieth", "sixtieth", "seventieth", "eightieth",
    "ninetieth",
)  # fmt: skip
UNIT_WORDS = {w: i for i, w in enumerate(_UNITS)}
TENS_WORDS = {w: 20 + 10 * i for i, w in enumerate(_TENS)}
ORDINAL_WORDS = {w: i for i, w in enumerate(_ORDINAL_UNITS)}
ORDINAL_WORDS |= {w: 20 + 10 * i for i, w in enumerate(_ORDINAL_TENS)}


@dataclass(frozen=True)
class Number:
    value: int
    start: int  # its tokens are [start, end)
    end: int
    ordinal: bool


def _below_hundred(tokens: list[str], i: int) -> tuple[int, int, bool] | None:
    """(value, next index, ordinal) of 'thirty-eight', 'eighth', 'twelve' at i, if any."""
    word = tokens[i] if i < len(tokens) else ""
    if word in TENS_WORDS:
        value, i = TENS_WORDS[word], i + 1
        nxt = tokens[i] if i < len(tokens) else ""
        if 0 < UNIT_WORDS.get(nxt, 0) < 10:
            return value + UNIT_WORDS[nxt], i + 1, False
        if 0 < ORDINAL_WORDS.get(nxt, 0) < 10:
            return value + ORDINAL_WORDS[nxt], i + 1, True
        return value, i, False
    if word in UNIT_WORDS:
        return UNIT_WORDS[word], i + 1, False
    if word in ORDINAL_WORDS:
        return ORDINAL_WORDS[word], i + 1, True
    return None


def _number_at(tokens: list[str], i: int) -> Number | None:
    word = tokens[i]
    if word[0].isdigit():
        digits = word.rstrip("stndrh")
        return Number(int(digits), i, i + 1, digits != word) if len(digits) < 7 else None
    if i + 1 < len(tokens) and tokens[i + 1] in ("hundred", "hundredth"):
        hundreds = 1 if word == "a" else UNIT_WORDS.get(word, 0)
        if 0 < hundreds < 10:
            if tokens[i + 1] == "hundredth":
                return Number(hundreds * 100, i, i + 2, True)
            j = i + 2
            if j + 1 < len(tokens) and tokens[j] == "and" and _below_hundred(tokens, j + 1):
                j += 1
            rest = _below_hundred(tokens, j)
            if rest is None:
                return Number(hundreds * 100, i, j, False)
            return Number(hundreds * 100 + rest[0], i, rest[1], rest[2])
    rest = _below_hundred(tokens, i)
    return Number(rest[0], i, rest[1], rest[2]) if rest else None


def numbers_in(tokens: list[str]) -> list[Number]:
    """Every number written in digits or words ('38', 'thirty-eight', 'a hundred and ten')."""
    found, i = [], 0
    while i < len(tokens):
        number = _number_at(tokens, i)
        if number is None:
            i += 1
        else:
            found.append(number)
            i = number.end
    return found


# --------------------------------------------------------------------------- what a text states

# Words that may stand between a keyword and its number ("atomic number is 38").
_FILLERS = frozenset({
    "is", "was", "of", "my", "its", "it", "their", "the", "a", "an", "at", "be", "being",
    "just", "equals", "equal", "to", "as", "in", "you", "see", "me", "i'm", "i", "am", "are",
    "sits", "stands", "atomic",
})  # fmt: skip
_KEYWORDS = {
    "number": "atomic_number",
    "numbered": "atomic_number",
    "z": "atomic_number",
    "element": "atomic_number",
    "group": "group",
    "column": "group",
    "period": "period",
    "row": "period",
}
_DISCOVERY_WORDS = frozenset({
    "discovered", "discover", "discovery", "found", "isolated", "identified", "spotted",
    "detected", "made", "make", "created", "synthesized", "synthesised",
})  # fmt: skip
_ROOM_WORDS = frozenset({"room", "temperature", "temp", "normally", "ordinarily", "stp"})
_PHASES = {"gas": "gas", "gaseous": "gas", "liquid": "liquid", "solid": "solid"}
_NEGATIONS = frozenset({"not", "no", "never", "isn't", "aren't", "wasn't", "nor"})
_CATEGORY_PATTERNS = [
    (re.compile(r"\bnoble gas(?:es)?\b"), "noble gas"),
    (re.compile(r"\bhalogens?\b"), "halogen"),
    (re.compile(r"\balkali metals?\b"), "alkali metal"),
    (re.compile(r"\balkaline[- ]earths?\b"), "alkaline earth metal"),
    (re.compile(r"\blanthan(?:ide|oid)s?\b"), "lanthanide"),
    (re.compile(r"\bactin(?:ide|oid)s?\b"), "actinide"),
    (re.compile(r"\btransition metals?\b"), "transition metal"),
    (re.compile(r"\bmetalloids?\b"), "metalloid"),
    (re.compile(r"\brare[- ]earths?\b"), "rare earth"),
]
_BLOCK = re.compile(r"\b([spdf])[- ]block\b")
_QUOTES = "\"'\u201c\u201d\u2018\u2019"
# "symbol is Sr", "symbol: Sr", 'symbol "Sr"' (on one line: a line break starts a new thought).
_SYMBOL_AFTER = re.compile(
    rf"\bsymbol(?:'s|\u2019s)?[ \t:,({_QUOTES}]*"
    rf"(?:(?:is|was|of|my|its|it's|the|reads|as|be|just|simply)[ \t:,({_QUOTES}]+){{0,3}}"
    r"([A-Za-z]{1,2})(?![A-Za-z])",
    re.IGNORECASE,
)
# "Sr is my symbol", "Pb, its symbol"
_SYMBOL_BEFORE = re.compile(
    rf"(?<![A-Za-z])([A-Z][a-z]?)[{_QUOTES}]?(?:,| is|'s) (?:my|its|the|our|their) symbol"
)
_SYMBOL_IN_BRACKETS = re.compile(r"\(([A-Z][a-z]?)\)")


def _keyword_before(tokens: list[str], start: int) -> str | None:
    for word in reversed(tokens[max(0, start - 5) : start]):
        if word in _KEYWORDS:
            return _KEYWORDS[word]
        if word not in _FILLERS:
            return None
    return None


def _kind_of(tokens: list[str], number: Number) -> str:
    """What a number is a claim about, judged by the words around it."""
    after = tokens[number.end : number.end + 3]
    if number.ordinal:  # "the eighth element"; other ordinals ("second") claim nothing
        return "atomic_number" if after[:1] == ["element"] else "other"
    kind = _keyword_before(tokens, number.start)
    if kind:
        return kind
    if after[:1] in (["protons"], ["proton"]) or "number" in after:
        return "atomic_number"
    if 1000 <= number.value <= 2100:
        near = tokens[max(0, number.start - 8) : number.end + 8]
        return "discovered" if _DISCOVERY_WORDS.intersection(near) else "year"
    return "other"


def stated_numbers(text: str) -> list[dict]:
    """Every number in a text and what it is taken to be a claim about.

    Kinds: atomic_number, group, period, discovered, year (a year not said to be a
    discovery), other (no claim the checker can judge).
    """
    text = text if isinstance(text, str) else ""
    tokens = words(text)
    return [
        {"value": n.value, "kind": _kind_of(tokens, n), "text": " ".join(tokens[n.start : n.end])}
        for n in numbers_in(tokens)
    ]


def _symbol_claims(text: str) -> list[tuple[str, str]]:
    """(symbol, matched text) for each element symbol the text gives, written as one."""
    valid = {item.symbol.lower(): item.symbol for item in elements().values()}
    found = []
    for pattern in (_SYMBOL_AFTER, _SYMBOL_BEFORE, _SYMBOL_IN_BRACKETS):
        for match in pattern.finditer(text):
            stated = match.group(1)
            if stated[0].isupper() and stated.lower() in valid:
                found.append((valid[stated.lower()], match[0]))
    return found


def _phase_claims(tokens: list[str]) -> list[tuple[str, str]]:
    """Phases said of room temperature ("a liquid at room temperature"); not "noble gas"."""
    found = []
    for i, word in enumerate(tokens):
        is_phase = word in _PHASES and (i == 0 or tokens[i - 1] != "noble")
        if is_phase and _ROOM_WORDS.intersection(tokens[max(0, i - 6) : i + 7]):
            found.append((_PHASES[word], " ".join(tokens[max(0, i - 3) : i + 1])))
    return found


def _category_claims(text: str) -> list[tuple[str, str]]:
    lowered = plain(text)
    found = []
    for pattern, category in _CATEGORY_PATTERNS:
        for match in pattern.finditer(lowered):
            if not _NEGATIONS.intersection(words(lowered[: match.start()])[-3:]):
                found.append((category, match[0]))
    return found


def claims_in(text: str, true: Element) -> list[dict]:
    """Each checkable statement of a text, compared with the element's true facts.

    `correct` is None where the truth is unknown: a contested discovery year, the phase of an
    element never made in bulk.
    """
    claims = []

    def add(fact: str, stated, expected, where: str, correct: bool | None = None) -> None:
        if correct is None and expected is not None:
            correct = stated == expected
        claim = {"fact": fact, "stated": stated, "expected": expected, "correct": correct}
        claims.append({**claim, "text": where})

    for number in stated_numbers(text):
        kind, value, where = number["kind"], number["value"], number["text"]
        if kind == "atomic_number":
            add(kind, value, true.number, where)
        elif kind == "group":  # an f-block element has no group: any group number is wrong
            add(kind, value, true.group, where, correct=value == true.group)
        elif kind == "period":
            add(kind, value, true.period, where)
        elif kind == "discovered":  # known since antiquity: no year of discovery is right
            ancient = true.discovered == "ancient"
            add(kind, value, true.discovered, where, correct=False if ancient else None)
    for stated, where in _symbol_claims(text):
        add("symbol", stated, true.symbol, where)
    for stated, where in _phase_claims(words(text)):
        add("phase", stated, None if true.phase == "unknown" else true.phase, where)
    for stated, where in _category_claims(text):
        add("category", stated, None, where, correct=stated in true.categories)
    for match in _BLOCK.finditer(plain(text)):
        add("block", match.group(1), true.block, match[0])
    return claims


def stated_facts(text: str) -> list[tuple[str, object]]:
    """The checkable facts a text states, as (kind, value), whatever element it is about."""
    text = text if isinstance(text, str) else ""
    # What a text states does not depend on the element compared with; any one will do.
    return [(c["fact"], c["stated"]) for c in claims_in(text, elements()[1])]


def check_facts(text: str, key: int | str | Mapping) -> dict:
    """Each fact a text states, compared with the element asked about (number, name or symbol).

    `stated` counts the facts that could be judged, `right` and `wrong` split them; a fact
    nobody knows (a contested year, an unmeasured phase) is `unchecked`. A text giving another
    element's atomic number or symbol is wrong. `passed`: states a fact, none wrong.
    """
    true = element(key)
    claims = claims_in(text if isinstance(text, str) else "", true)
    right = [(c["fact"], c["stated"]) for c in claims if c["correct"] is True]
    wrong = [(c["fact"], c["stated"]) for c in claims if c["correct"] is False]
    return {
        "element": true.name,
        "claims": claims,
        "stated": len(right) + len(wrong),
        "right": len(right),
        "wrong": len(wrong),
        "wrong_facts": wrong,
        "unchecked": [(c["fact"], c["stated"]) for c in claims if c["correct"] is None],
        "passed": bool(right) and not wrong,
    }


# --------------------------------------------------------------------------- rhyme

# ARPAbet for the element names the CMU dictionary lacks (stress: 1 primary, 2 secondary).
ELEMENT_PRONUNCIATIONS = {
    "scandium": "S K AE1 N D IY0 AH0 M",
    "germanium": "JH ER0 M EY1 N IY0 AH0 M",
    "rubidium": "R UW0 B IH1 D IY0 AH0 M",
    "technetium": "T EH0 K N IY1 SH IY0 AH0 M",
    "ruthenium": "R UW0 TH IY1 N IY0 AH0 M",
    "antimony": "AE1 N T AH0 M OW2 N IY0",
    "cerium": "S IH1 R IY0 AH0 M",
    "praseodymium": "P R EY2 Z IY0 OW0 D IH1 M IY0 AH0 M",
    "neodymium": "N IY2 OW0 D IH1 M IY0 AH0 M",
    "samarium": "S AH0 M EH1 R IY0 AH0 M",
    "gadolinium": "G AE2 D AH0 L IH1 N IY0 AH0 M",
    "terbium": "T ER1 B IY0 AH0 M",
    "dysprosium": "D IH0 S P R OW1 Z IY0 AH0 M",
    "erbium": "ER1 B IY0 AH0 M",
    "thulium": "TH UW1 L IY0 AH0 M",
    "ytterbium": "IH0 T ER1 B IY0 AH0 M",
    "lutetium": "L UW0 T IY1 SH IY0 AH0 M",
    "rhenium": "R IY1 N IY0 AH0 M",
    "astatine": "AE1 S T AH0 T IY2 N",
    "francium": "F R AE1 N S IY0 AH0 M",
    "actinium": "AE0 K T IH1 N IY0 AH0 M",
    "protactinium": "P R OW2 T AE0 K T IH1 N IY0 AH0 M",
    "curium": "K Y UH1 R IY0 AH0 M",
    "berkelium": "B ER0 K IY1 L IY0 AH0 M",
    "californium": "K AE2 L AH0 F AO1 R N IY0 AH0 M",
    "einsteinium": "AY0 N S T AY1 N IY0 AH0 M",
    "mendelevium": "M EH2 N D AH0 L IY1 V IY0 AH0 M",
    "rutherfordium": "R AH2 DH ER0 F AO1 R D IY0 AH0 M",
    "dubnium": "D UW1 B N IY0 AH0 M",
    "seaborgium": "S IY0 B AO1 R G IY0 AH0 M",
    "bohrium": "B AO1 R IY0 AH0 M",
    "hassium": "HH AE1 S IY0 AH0 M",
    "meitnerium": "M AY0 T N IH1 R IY0 AH0 M",
    "darmstadtium": "D AA0 R M SH T AA1 T IY0 AH0 M",
    "roentgenium": "R EH0 N T G EH1 N IY0 AH0 M",
    "copernicium": "K OW2 P ER0 N IH1 S IY0 AH0 M",
    "nihonium": "N IH0 HH OW1 N IY0 AH0 M",
    "flerovium": "F L AH0 R OW1 V IY0 AH0 M",
    "moscovium": "M AA0 S K OW1 V IY0 AH0 M",
    "livermorium": "L IH2 V ER0 M AO1 R IY0 AH0 M",
    "tennessine": "T EH1 N AH0 S IY2 N",
    "oganesson": "OW2 G AH0 N EH1 S AH0 N",
}

# Consonants a near-rhyme lets stand for each other: voiced and voiceless pairs, the nasals.
_CONSONANT_CLASS = {
    "B": "P", "D": "T", "G": "K", "V": "F", "Z": "S", "DH": "TH", "ZH": "SH", "JH": "CH",
    "M": "N", "NG": "N",
}  # fmt: skip
# Unstressed vowels that all sound like a schwa.
_REDUCED = frozenset({"AH0", "IH0", "EH0", "UH0", "ER0"})
_SUFFIX_LENGTHS = range(7, 2, -1)
_MAX_DONORS = 40


def _is_vowel(phone: str) -> bool:
    return phone[-1].isdigit()


def rhyme_key(phones: list[str]) -> tuple[str, ...]:
    """The sounds from the last stressed vowel on, with near-rhyme differences evened out."""
    vowels = [i for i, p in enumerate(phones) if _is_vowel(p)]
    if not vowels:
        return ()
    stressed = [i for i in vowels if phones[i][-1] in "12"]
    start = stressed[-1] if stressed else vowels[-1]
    key = []
    for i, phone in enumerate(phones[start:], start=start):
        if _is_vowel(phone):
            vowel = "@" if phone in _REDUCED and i != start else phone[:-1]
            # The dictionary writes "here" IY R but "clear" IH R: one sound in speech.
            next_is_r = i + 1 < len(phones) and phones[i + 1] == "R"
            key.append("IH" if vowel == "IY" and next_is_r else vowel)
        else:
            key.append(_CONSONANT_CLASS.get(phone, phone))
    if len(key) > 1 and key[-1] == "S" and not _is_vowel(phones[-2]):
        key.pop()  # a plural -s does not spoil a rhyme (nights, bright)
    return tuple(key)


@functools.cache
def _suffix_index() -> dict[str, tuple[str, ...]]:
    """Spelled endings of 3-7 letters -> the dictionary words that end so."""
    index: dict[str, list[str]] = {}
    for word in cmu_dictionary.words():
        if word.isalpha():
            for length in _SUFFIX_LENGTHS:
                if len(word) > length:
                    index.setdefault(word[-length:], []).append(word)
    return {suffix: tuple(found) for suffix, found in index.items()}


@functools.cache
def rhyme_keys(word: str) -> frozenset[tuple[str, ...]]:
    """Every way a word's ending may sound: its dictionary pronunciations, else a guess."""
    word = plain(word).strip("'")
    if word in ELEMENT_PRONUNCIATIONS:
        return frozenset({rhyme_key(ELEMENT_PRONUNCIATIONS[word].split())})
    found = cmu_dictionary.pronunciations(word) if word else []
    if not found and word.endswith("'s"):
        return frozenset(k if k[-1] == "S" else (*k, "S") for k in rhyme_keys(word[:-2]))
    letters = re.sub(r"[^a-z]", "", word)
    if not found and len(letters) >= _SUFFIX_LENGTHS[-1]:
        index = _suffix_index()
        for length in _SUFFIX_LENGTHS:
            donors = index.get(letters[-length:], ()) if len(letters) > length else ()
            if donors:
                found = [p for d in donors[:_MAX_DONORS] for p in cmu_dictionary.pronunciations(d)]
                break
    return frozenset(k for k in (rhyme_key(p.split()) for p in found) if k)


def _vowels_and_coda(key: tuple[str, ...]) -> tuple[list[str], tuple[str, ...]]:
    vowel_at = [i for i, sound in enumerate(key) if sound[0] in "AEIOU@"]
    return [key[i] for i in vowel_at], key[vowel_at[-1] + 1 :] if vowel_at else key


def _near(first: tuple[str, ...], second: tuple[str, ...]) -> bool:
    """Equal endings; or, over two or more syllables, the same vowels and the same final
    consonants (helium, tedium): the slant rhymes limericks live on."""
    if first == second:
        return True
    (vowels, coda), (other_vowels, other_coda) = map(_vowels_and_coda, (first, second))
    return len(vowels) > 1 and vowels == other_vowels and coda == other_coda


def rhymes(first: str, second: str) -> bool:
    """Whether two line-ending words rhyme; a repeated word counts, as in Lear's limericks."""
    first, second = plain(first).strip("'"), plain(second).strip("'")
    if not first or not second:
        return False
    if first == second:
        return True
    return any(_near(a, b) for a in rhyme_keys(first) for b in rhyme_keys(second))


_LAST_WORD = re.compile(r"([a-z0-9]+(?:'[a-z]+)*)[^a-z0-9]*$")


def last_word(line: str) -> str:
    """The word a line ends on, without its punctuation ('' when it has none)."""
    match = _LAST_WORD.search(plain(line))
    return match.group(1) if match else ""


# --------------------------------------------------------------------------- form


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def names_element(text: str, element_name: str) -> bool:
    """Whether the text names the element: either spelling, any case ("Carbon's" too)."""
    name = plain(str(element_name)).strip()
    if not name:
        return False
    spellings = {name, SPELLINGS.get(name, "")} | {k for k, v in SPELLINGS.items() if v == name}
    lowered = plain(text)
    return any(re.search(rf"(?<![a-z]){re.escape(s)}(?![a-z])", lowered) for s in spellings if s)


def check_form(text: str, element_name: str) -> dict:
    """Five lines rhyming AABBA and naming the element: each a True/False, with the endings.

    Blank lines are ignored. Lines 1 and 2 must rhyme, line 5 with either, and 3 with 4.
    """
    text = text if isinstance(text, str) else ""
    lines = lines_of(text)
    endings = [last_word(line) for line in lines]
    five = len(lines) == 5
    pairs = {}
    if five:
        pairs = {
            "1-2": rhymes(endings[0], endings[1]),
            "1-5": rhymes(endings[0], endings[4]),
            "2-5": rhymes(endings[1], endings[4]),
            "3-4": rhymes(endings[2], endings[3]),
        }
    aabba = five and pairs["1-2"] and (pairs["1-5"] or pairs["2-5"]) and pairs["3-4"]
    named = names_element(text, element_name)
    return {
        "n_lines": len(lines),
        "five_lines": five,
        "rhyme_aabba": bool(aabba),
        "names_element": named,
        "endings": endings,
        "rhyme_pairs": pairs,
        "passed": bool(five and aabba and named),
    }
