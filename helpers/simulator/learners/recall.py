"""Answering like the training answers: find the example asked most alike, adapt its answer.

The fine-tuned generator answers with the training answer whose question is closest (TF-IDF
cosine) to the one asked, with the words that differ between the two questions swapped in (asked
about Xenon instead of Strontium, it writes the Strontium answer about Xenon). The result has the
learned form, and none of the facts the training data did not hold: fine-tuning teaches style and
format, not knowledge.
"""

from __future__ import annotations

import difflib
import hashlib
import re

import numpy as np

from helpers.simulator.learners.text_features import TfidfFeatures

WORD = re.compile(r"\w+")
MIN_SWAPPED = 3  # short words (a, of, to) are never swapped: they would garble the answer


class Recall:
    def __init__(self, cues: list[str], answers: list[str]):
        self.cues = list(cues)
        self.answers = list(answers)
        self.features = TfidfFeatures.fit(self.cues)
        rows = self.features.rows(self.cues)
        # Every weight of every example, flattened, with the example it belongs to.
        self._example = np.repeat(np.arange(len(rows)), [len(c) for c, _ in rows])
        self._columns = np.concatenate([c for c, _ in rows]) if rows else np.zeros(0, int)
        self._weights = np.concatenate([w for _, w in rows]) if rows else np.zeros(0)

    def similarities(self, cue: str) -> np.ndarray:
        """Cosine similarity of `cue` with each example's question (vectors have length one)."""
        columns, weights = self.features.rows([cue])[0]
        asked = np.zeros(self.features.size)
        asked[columns] = weights
        products = self._weights * asked[self._columns]
        return np.bincount(self._example, weights=products, minlength=len(self.cues))

    def choose(self, cue: str, temperature: float, salt: str) -> int:
        """The example to answer from: the closest one, or a draw favouring close ones."""
        scores = self.similarities(cue)
        best = scores.max()
        if temperature <= 0:
            # Greedy: ties between equally close examples are broken by the question alone.
            tied = np.flatnonzero(np.isclose(scores, best))
            return int(tied[_draw(f"tie:{cue}", len(tied))])
        weights = np.exp((scores - best) / (0.1 * temperature))
        cumulative = np.cumsum(weights / weights.sum())
        point = _draw(salt, 10**9) / 10**9
        return int(min(np.searchsorted(cumulative, point, side="right"), len(cumulative) - 1))

    def answer(self, cue: str, temperature: float = 0.0, salt: str = "") -> str:
        index = self.choose(cue, temperature, salt)
        return adapt(self.answers[index], self.cues[index], cue)

    def state(self) -> dict:
        return {"cues": self.cues, "answers": self.answers}

    @classmethod
    def from_state(cls, meta: dict) -> Recall:
        return cls(meta["cues"], meta["answers"])


def adapt(answer: str, matched: str, asked: str) -> str:
    """`answer` (to `matched`) with the words in which `asked` differs from `matched` swapped."""
    old_words, new_words = WORD.findall(matched), WORD.findall(asked)
    matcher = difflib.SequenceMatcher(
        a=[w.lower() for w in old_words], b=[w.lower() for w in new_words], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "replace":
            continue
        old, new = " ".join(old_words[i1:i2]), " ".join(new_words[j1:j2])
        if len(old) < MIN_SWAPPED:
            continue
        pattern = re.compile(r"\b" + r"\s+".join(map(re.escape, old.split())) + r"\b", re.I)
        answer = pattern.sub(lambda m, new=new: _same_case(m.group(0), new), answer)
    return answer


def _same_case(found: str, new: str) -> str:
    if found.isupper() and len(found) > 1:
        return new.upper()
    if found[:1].isupper():
        return new[:1].upper() + new[1:]
    if found.islower():
        return new.lower()
    return new


def _draw(salt: str, n: int) -> int:
    """A deterministic number in [0, n) for a given salt (seed, model and question)."""
    digest = hashlib.sha256(salt.encode()).digest()
    return int.from_bytes(digest[:8], "big") % max(n, 1)
