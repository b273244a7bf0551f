"""A classifier's labels seen as the tokens a model writes one after another.

A model that picks label l with probability p_l writes the label's tokens in turn. The chance of
the next token, given the tokens written so far, is the total probability of the labels that
continue that way divided by that of the labels that start that way. This turns a distribution
over labels into the token-level losses, accuracies and logprobs the API reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLOOR = 1e-12  # keeps log() finite for answers the classifier cannot produce


@dataclass(frozen=True)
class Position:
    token: int
    continues: np.ndarray  # labels that share the prefix and this token (K,)
    shares_prefix: np.ndarray  # labels that share the prefix (K,)
    alternatives: tuple  # ((token, labels mask), ...) every token that may come next


class LabelTokens:
    def __init__(self, labels: list[str], encoding):
        self.labels = list(labels)
        self.encoding = encoding
        self.sequences = [self.encode(label) for label in self.labels]
        self._positions: dict[str, tuple[Position, ...]] = {}
        # With one distinct token per label, token scores are plain label scores (fast path).
        firsts = [seq[0] for seq in self.sequences if len(seq) == 1]
        self._single = len(firsts) == len(self.sequences) == len(set(firsts))
        self._index = {label: k for k, label in enumerate(self.labels)}

    def encode(self, text: str) -> tuple[int, ...]:
        return tuple(self.encoding.encode(text, disallowed_special=()))

    def positions(self, answer: str) -> tuple[Position, ...]:
        """Each token of `answer` with the labels that agree with it up to there."""
        if answer not in self._positions:
            self._positions[answer] = self._walk(answer)
        return self._positions[answer]

    def _walk(self, answer: str) -> tuple[Position, ...]:
        tokens = self.encode(answer)
        out = []
        for i, token in enumerate(tokens):
            prefix = tokens[:i]
            shares = np.array([seq[:i] == prefix for seq in self.sequences])
            nexts = {}
            for k, seq in enumerate(self.sequences):
                if shares[k] and len(seq) > i:
                    nexts.setdefault(seq[i], np.zeros(len(self.sequences), bool))[k] = True
            continues = nexts.get(token, np.zeros(len(self.sequences), bool))
            out.append(Position(token, continues, shares, tuple(sorted(nexts.items()))))
        return tuple(out)

    def token_scores(self, probabilities: np.ndarray, answers: list[str]) -> tuple[float, int, int]:
        """Summed negative log-likelihood, tokens predicted right, and tokens, over the answers."""
        if self._single and all(a in self._index for a in answers):
            rows = np.arange(len(answers))
            chance = probabilities[rows, [self._index[a] for a in answers]]
            # Right when the label the model would write (the first likeliest) is the answer.
            right = int((probabilities.argmax(axis=1) == [self._index[a] for a in answers]).sum())
            # 0.0 minus the log-likelihood, not its negation: a label the model is sure of
            # costs 0.0, where -x would write -0.0 into the results file.
            nll = 0.0 - float(np.log(np.maximum(chance, FLOOR)).sum())
            return nll, right, len(answers)
        nll, right, count = 0.0, 0, 0
        for row, answer in zip(probabilities, answers, strict=True):
            for pos in self.positions(answer):
                chance = _ratio(row, pos.continues, pos.shares_prefix)
                nll -= np.log(max(chance, FLOOR))
                right += self._greedy(row, pos) == pos.token
                count += 1
        return nll, right, count

    @staticmethod
    def _greedy(row: np.ndarray, pos: Position) -> int | None:
        """The token the model writes next at this point: the likeliest, ties to the lowest id."""
        options = [(-row[mask].sum(), token) for token, mask in pos.alternatives]
        return min(options)[1] if options else None

    def written(self, probabilities: np.ndarray, label: int, top: int) -> list[dict]:
        """The tokens of one label with their logprobs and the `top` likeliest alternatives."""
        out = []
        for pos in self.positions(self.labels[label]):
            options = sorted(
                (
                    (_ratio(probabilities, mask, pos.shares_prefix), token)
                    for token, mask in pos.alternatives
                ),
                key=lambda pair: (-pair[0], pair[1]),
            )
            chance = _ratio(probabilities, pos.continues, pos.shares_prefix)
            out.append(
                {
                    "token": pos.token,
                    "logprob": float(np.log(max(chance, FLOOR))),
                    "top": [(t, float(np.log(max(c, FLOOR)))) for c, t in options[:top]],
                }
            )
        return out


def _ratio(row: np.ndarray, part: np.ndarray, whole: np.ndarray) -> float:
    total = float(row[whole].sum())
    return float(row[part].sum()) / total if total > 0 else 0.0
