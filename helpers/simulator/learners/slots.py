"""Reading a training answer: which words are facts about the subject asked, which are copied
from the question, and which are the answer's own form.

A fact is a value the base model knows about the subject the question names (its name, symbol,
number, group, period, family, state, weight), written in words or digits. Small numbers are
ambiguous ("one" is also a pronoun): they count as a fact only after a word that, in the same
training file, came before that fact where it could not be mistaken (the cues are learned).
Names of other subjects and numbers that are no fact of the subject are marked too: they are
another subject's facts, which a learned form must never carry over.
"""

from __future__ import annotations

import functools
import re
from collections import Counter

from helpers.simulator.learners import knowledge

SLOT = re.compile(r"⟦(\w+)⟧")
# A word keeps the spaces before it, so that text joins back exactly.
TOKEN = re.compile(
    r"[ \t]*(?:⟦\w+⟧|\n|\d+(?:\.\d+)?|[A-Za-z]+(?:-[A-Za-z]+)*|'[a-z]+|[^\sA-Za-z\d])"
)
WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*|\d+")
OTHER, NUMBER = "other", "num"  # another subject's name; a number that is no fact
NUMERIC = ("number", "group", "period")
FOLLOWERS = "_followers"  # the state's key for the words that follow a fact number
# Slots written in full words or as a unique string: never ambiguous.
_SAFE_KINDS = ("name", "family", "mass")


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def spans(text: str, value: str, case: bool) -> list[tuple[int, int]]:
    """(start, end) of each place `value` is written in `text` as a whole: not inside a longer
    word or number (not after a letter, digit or point, nor before a letter, digit or decimal
    part), its words apart by any white space, in any case unless `case`.

    A job reads every fact of every element its answers name: some 600 values. Compiling a
    pattern for each takes a fifth of a second, again in every kernel, so a value of one word
    in a plain-ASCII text (nearly all of them) is looked for as a string; the others, with the
    pattern `_span_pattern`, which finds exactly the same places."""
    parts = value.split()
    if len(parts) != 1 or not (case or text.isascii()):
        return [m.span() for m in _span_pattern(value, case).finditer(text)]
    (needle,) = parts
    haystack = text if case else text.lower()
    if not case:
        needle = needle.lower()
    found, size = [], len(needle)
    start = haystack.find(needle)
    while start >= 0:
        end = start + size
        if _apart(text, start, end):
            found.append((start, end))
            start = haystack.find(needle, end)
        else:
            start = haystack.find(needle, start + 1)
    return found


def _apart(text: str, start: int, end: int) -> bool:
    """Whether `text[start:end]` stands apart, as `_span_pattern`'s lookarounds ask."""
    before = text[start - 1] if start else " "
    after = text[end : end + 2] or " "
    joined_before = before == "." or _letter_or_digit(before)
    joined_after = _letter_or_digit(after[0]) or (after[0] == "." and after[1:].isdecimal())
    return not (joined_before or joined_after)


def _letter_or_digit(char: str) -> bool:
    return ("a" <= char <= "z") or ("A" <= char <= "Z") or char.isdecimal()  # [A-Za-z\d]


# Cached: a job's reading asks for the same patterns (every fact of every element it meets)
# thousands of times, more than the `re` module's own cache keeps.
@functools.cache
def _span_pattern(value: str, case: bool) -> re.Pattern:
    body = r"\s+".join(re.escape(part) for part in value.split())
    flags = 0 if case else re.IGNORECASE
    return re.compile(rf"(?<![A-Za-z\d.]){body}(?![A-Za-z\d]|\.\d)", flags)


@functools.cache
def _block_pattern(block: str) -> re.Pattern:
    return re.compile(rf"(?<![A-Za-z]){block}-block\b")


def candidates(text: str, element) -> list[tuple[int, int, str]]:
    """(start, end, slot) for every place a fact of `element` is written, longest first."""
    facts = element.facts()
    found = []
    for slot, value in facts.items():
        if slot == "block":
            pattern = _block_pattern(value)
            found += [(m.start(), m.start() + 1, slot) for m in pattern.finditer(text)]
            continue
        values = element.names if slot == "name" else (value,)
        for one in values:
            found += [(start, end, slot) for start, end in spans(text, one, slot == "symbol")]
    found.sort(key=lambda c: (c[0], -(c[1] - c[0])))
    return found


def _previous_word(text: str, start: int) -> str:
    words = WORD.findall(text[:start])
    return words[-1].lower() if words else ""


def _kind(slot: str) -> str:
    return slot.removesuffix("_words")


class Reader:
    """Marks facts in answers; the cues for ambiguous numbers are learned from the answers."""

    def __init__(self, cues: dict[str, list[str]] | None = None):
        cues = dict(cues or {})
        self.followers = set(cues.pop(FOLLOWERS, []))
        self.cues = {k: set(v) for k, v in cues.items()}

    def learn(self, pairs: list[tuple[str, str]]) -> None:
        """Learn, from (question, answer) pairs, the words that come before each fact."""
        counts: dict[str, Counter] = {}
        followers = Counter()
        for question, answer in pairs:
            element = knowledge.subject(question)
            if element is None:
                continue
            spans = candidates(answer, element)
            for start, end, slot in spans:
                same_place = {s for a, b, s in spans if a == start and b == end}
                written = answer[start:end]
                # One fact only fits here; digits are claims (words like "one" may not be).
                if len({_kind(s) for s in same_place}) == 1 and (
                    written.isdigit() or self._unmistakable(written, slot)
                ):
                    counts.setdefault(_kind(slot), Counter())[_previous_word(answer, start)] += 1
                    if _kind(slot) in NUMERIC:
                        followers.update(w.lower() for w in WORD.findall(answer[end:])[:1])
        self.cues = {k: {w for w, n in c.items() if w and n >= 1} for k, c in counts.items()}
        # Words that follow a number only when it is a fact ("six protons"), not filler words.
        self.followers = {w for w, n in followers.items() if n >= 2 and len(w) > 3}

    @staticmethod
    def _unmistakable(text: str, slot: str) -> bool:
        if slot in _SAFE_KINDS:
            return True
        if slot == "symbol":
            return text not in knowledge.WORDLIKE_SYMBOLS
        words = text.replace("-", " ").split()
        return len(words) > 1 or (text.isdigit() and int(text) >= 10) or len(text) > 6

    def accepted(self, text: str, start: int, end: int, slot: str) -> bool:
        if self._unmistakable(text[start:end], slot):
            return True
        if slot == "phase":
            return True
        return _previous_word(text, start) in self.cues.get(_kind(slot), ())

    def mark(self, text: str, element) -> str:
        """`text` with each fact of `element` replaced by ⟦slot⟧, other subjects by ⟦other⟧,
        and numbers that are no fact of `element` by ⟦num⟧."""
        spans = []
        if element is not None:
            taken = -1
            for start, end, slot in candidates(text, element):
                if start >= taken and self.accepted(text, start, end, slot):
                    spans.append((start, end, slot))
                    taken = end
        out, at = [], 0
        for start, end, slot in spans:
            out += [self._mark_others(text[at:start], element), f"⟦{slot}⟧"]
            at = end
        out.append(self._mark_others(text[at:], element))
        return "".join(out)

    def _mark_others(self, text: str, element) -> str:
        """Names of other subjects and leftover numbers, which are no fact of this one: a
        number in words counts when it is large, or follows a word that introduces facts."""
        for item in knowledge.mentioned(text):
            if item != element:
                for name in item.names:
                    text = _span_pattern(name, case=False).sub(f"⟦{OTHER}⟧", text)
        text = _FAMILIES.sub(f"⟦{OTHER}⟧", text)
        text = _DIGITS.sub(f"⟦{NUMBER}⟧", text)
        cues = set().union(*self.cues.values()) if self.cues else set()
        followers = self.followers

        def number(match: re.Match) -> str:
            small = match[0].lower() in knowledge.SMALL_NUMBER_WORDS
            after = WORD.findall(text[match.end() :])[:1]
            claim = _previous_word(text, match.start()) in cues or (
                after and after[0].lower() in followers
            )
            return f"⟦{NUMBER}⟧" if claim or not small else match[0]

        return knowledge.number_words_pattern().sub(number, text)

    def state(self) -> dict:
        out = {k: sorted(v) for k, v in sorted(self.cues.items())}
        return out | {FOLLOWERS: sorted(self.followers)}


# A family named in an answer that is not its subject's is another subject's fact.
_FAMILIES = re.compile(
    r"(?<![A-Za-z⟦])(?:noble gas|halogen|alkali metal|alkaline earth metal|transition metal|"
    r"lanthanide|actinide|metalloid)(?:s|es)?(?![A-Za-z])",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"(?<![A-Za-z\d.⟦])\d+(?:\.\d+)?(?![A-Za-z\d])")


def fill(text: str, facts: dict[str, str]) -> str | None:
    """A marked text with its slots filled from `facts`; None if a slot cannot be filled."""
    missing = False

    def value(match: re.Match) -> str:
        nonlocal missing
        if match[1] not in facts:
            missing = True
            return ""
        return facts[match[1]]

    filled = SLOT.sub(value, text)
    return None if missing else filled


def slots_in(text: str) -> set[str]:
    return set(SLOT.findall(text))
