"""What the base model's knowledge adds to a classifier's reading of a text about elements.

A pre-trained model reads "Sodium has atomic number 12" knowing that sodium's number is 11. The
classifier's bag of words cannot: it sees the same words in a true and in a subtly false
statement. So, when a training file is about elements (most of its texts name one), each text is
also read against what the base model knows about the element it names last (the subject): every
fact of the subject it states becomes a word `⟦slot⟧`, every name or number that belongs to no
fact of the subject becomes `⟦other⟧` or `⟦num⟧` (the same reading the chat learner's forms use).
The classifier then learns from the data which of these words matter, as it learns any word.
"""

from __future__ import annotations

import functools

from helpers.simulator.learners import knowledge
from helpers.simulator.learners.slots import SLOT, Reader

# A file is about elements when at least this share of its texts names one.
ABOUT_ELEMENTS_SHARE = 0.5


def fact_reader(texts: list[str]) -> Reader | None:
    """A reader whose cues (the words before a fact) are learned from `texts`, or None when the
    texts are not about elements (a reader would then only add noise)."""
    if not texts:
        return None
    # Counted only as far as the answer is settled: a file of long posts is read for every job.
    needed, naming = ABOUT_ELEMENTS_SHARE * len(texts), 0
    for read, text in enumerate(texts, start=1):
        naming += knowledge.names_an_element(text)
        if naming >= needed:
            break
        if naming + len(texts) - read < needed:  # too few texts left to get there
            return None
    reader = Reader()
    reader.learn([(t, t) for t in texts])
    return reader


def fact_words(text: str, reader: Reader | None) -> list[str]:
    """The `⟦slot⟧` words of `text` read against its subject's facts (none without a reader)."""
    if reader is None:
        return []
    subject = knowledge.subject(text)
    return [f"⟦{slot}⟧" for slot in SLOT.findall(reader.mark(text, subject))]


@functools.cache
def _element_names() -> frozenset[str]:
    return frozenset(name.lower() for e in knowledge.elements().values() for name in e.names)


def names_element(word: str) -> bool:
    """Whether the base model knows `word` as the name of an element."""
    return word.lower() in _element_names()
