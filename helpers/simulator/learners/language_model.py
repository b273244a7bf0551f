"""A small language model of the answers: which token tends to follow which.

It is an interpolated bigram model over the base model's own tokens (tiktoken): the chance of a
token after the previous one mixes what followed that token in training, how common the token
is overall, and a little of every token in the vocabulary so that nothing has zero chance.
Training reads the answers batch by batch; a batch is scored before the model counts it, so the
loss and token accuracy of each step are measured on text the model has not seen yet that epoch
(as a network's forward pass sees its batch before the update).
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

START = -1  # the position before an answer's first token
FOLLOW, COMMON = 0.75, 0.24  # weights of the bigram and unigram parts; the rest is uniform


class BigramModel:
    kind = "language_model"

    def __init__(self, vocabulary_size: int):
        self.vocabulary_size = vocabulary_size
        self.follows: dict[int, Counter] = {}
        self.after: Counter = Counter()  # how often each token was followed by anything
        self.counts: Counter = Counter()
        self.total = 0
        self._commonest: list[int] | None = None

    # -- probabilities ------------------------------------------------------------------------

    def probability(self, previous: int, token: int) -> float:
        uniform = 1.0 / self.vocabulary_size
        common = self.counts[token] / self.total if self.total else uniform
        seen = self.after[previous]
        follow = self.follows[previous][token] / seen if seen else common
        return FOLLOW * follow + COMMON * common + (1 - FOLLOW - COMMON) * uniform

    def candidates(self, previous: int) -> set[int]:
        """The tokens that can be likeliest after `previous`: its followers or the commonest."""
        out = set(self.follows.get(previous, ()))
        out.update(self.commonest()[:1])
        return out

    def commonest(self) -> list[int]:
        if self._commonest is None:
            self._commonest = [
                t for t, _ in sorted(self.counts.items(), key=lambda p: (-p[1], p[0]))
            ]
        return self._commonest

    def likeliest(self, previous: int, top: int) -> list[tuple[int, float]]:
        options = self.candidates(previous) | set(self.commonest()[:top])
        ranked = sorted(
            ((self.probability(previous, t), t) for t in options), key=lambda p: (-p[0], p[1])
        )
        return [(t, p) for p, t in ranked[:top]]

    # -- training and measuring ---------------------------------------------------------------

    def score(self, sequences: list[list[int]]) -> tuple[float, int, int]:
        """Summed negative log-likelihood, tokens guessed right, and tokens, over `sequences`."""
        nll, right, count = 0.0, 0, 0
        for tokens in sequences:
            previous = START
            for token in tokens:
                nll -= math.log(self.probability(previous, token))
                guess = max(
                    self.candidates(previous),
                    key=lambda t: (self.probability(previous, t), -t),
                    default=None,
                )
                right += guess == token
                count += 1
                previous = token
        return nll, right, count

    def learn(self, sequences: list[list[int]]) -> None:
        for tokens in sequences:
            previous = START
            for token in tokens:
                self.follows.setdefault(previous, Counter())[token] += 1
                self.after[previous] += 1
                self.counts[token] += 1
                self.total += 1
                previous = token
        self._commonest = None

    def copy(self) -> BigramModel:
        twin = BigramModel(self.vocabulary_size)
        twin.follows = {p: Counter(row) for p, row in self.follows.items()}
        twin.after, twin.counts, twin.total = Counter(self.after), Counter(self.counts), self.total
        return twin

    # -- saving -------------------------------------------------------------------------------

    def state(self) -> tuple[dict, dict]:
        pairs = [(p, t, c) for p, row in self.follows.items() for t, c in row.items()]
        pairs.sort()
        table = np.array(pairs, dtype=np.int64).reshape(-1, 3)
        return {"vocabulary_size": self.vocabulary_size}, {"pairs": table}

    @classmethod
    def from_state(cls, meta: dict, arrays: dict) -> BigramModel:
        model = cls(int(meta["vocabulary_size"]))
        for previous, token, count in np.asarray(arrays["pairs"]).tolist():
            model.follows.setdefault(previous, Counter())[token] = count
            model.after[previous] += count
            model.counts[token] += count
            model.total += count
        return model
