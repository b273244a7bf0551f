"""A classifier's labels seen as the tokens a model writes one after another.

A model that picks label l with probability p_l writes the label's tokens in turn. The chance of
the next token, given the tokens written so far, is the total probability of the labels that
continue that way divided by that of the labels that start that way. This turns a distribution
over labels into the token-level losses, accuracies and logprobs the API reports.

Where the next token is not a choice, the model must learn it as text: the rest of a reply the
file repeats word for word once only one label is left (an FAQ's answers), or a token that every
label left writes here (the leading space of " 1" ... " 4", the `{"sentiment": "` of JSON
labels). The base model reads such a token with its language prior until training has shown
the labels that write it, and memorises it with each example that gives one of them
(`familiarity`). Where labels part, the next token is the classifier's choice alone, as is
every token of labels that are one distinct token each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.tokens import tokens_of

FLOOR = 1e-12  # keeps log() finite for answers the classifier cannot produce
# Learning-rate-weighted examples of a label after which its text is half memorised: four
# examples of an answer, three epochs at the usual multiplier, and its words are mostly known.
TEXT_HALF = 2.0


@dataclass(frozen=True)
class Position:
    token: int
    continues: np.ndarray  # labels that share the prefix and this token (K,)
    shares_prefix: np.ndarray  # labels that share the prefix (K,)
    alternatives: tuple  # ((token, labels mask), ...) every token that may come next


class LabelTokens:
    def __init__(self, labels: list[str], encoding, exposure=None):
        self.labels = list(labels)
        self.encoding = encoding
        self.sequences = [self.encode(label) for label in self.labels]
        # How much training has shown each label (learning-rate-weighted examples); None: every
        # label's text is known (a model saved before the texts were learned).
        self.exposure = None if exposure is None else np.asarray(exposure, dtype=float)
        self._positions: dict[str, tuple[Position, ...]] = {}
        self._texts: dict[int, list] = {}  # label -> the prior's view of each of its tokens
        # With one distinct token per label, token scores are plain label scores (fast path).
        firsts = [seq[0] for seq in self.sequences if len(seq) == 1]
        self._single = len(firsts) == len(self.sequences) == len(set(firsts))
        self._index = {label: k for k, label in enumerate(self.labels)}

    def encode(self, text: str) -> tuple[int, ...]:
        return tokens_of(text, self.encoding.name)

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

    def familiarity(self, labels) -> float:
        """How well the model knows the text that `labels` (an index or a mask) write: 0 before
        training shows any of them, towards 1 as examples give them again and again."""
        if self.exposure is None:
            return 1.0
        seen = float(np.sum(self.exposure[labels]))
        return seen / (seen + TEXT_HALF) if seen < np.inf else 1.0  # inf: a parent knew it

    def _text(self, label: int, i: int, top: int = 1) -> tuple[float, list[tuple[int, float]]]:
        """The prior's chance of token `i` of `label` after the label's earlier tokens, and its
        `top` likeliest tokens there."""
        found = self._texts.get(label)
        if found is None:
            from helpers.simulator.learners.prior import prior  # only for labels of many tokens

            language = prior(self.encoding)
            chances, states = language.walk(list(self.sequences[label]))
            found = self._texts[label] = [language, chances, states]
        language, chances, states = found
        return float(chances[i]), language.likeliest(states[i], top)

    def _learning(self, pos: Position) -> tuple[float, int] | None:
        """When `pos` is text rather than a choice (every label left writes its token) and not
        yet known by heart: how familiar it is, and a label that writes it; else None."""
        # (A label that ends here is a choice too: to stop, or to write on.)
        if not pos.continues.any() or not np.array_equal(pos.continues, pos.shares_prefix):
            return None
        known = self.familiarity(pos.shares_prefix)
        return (known, int(pos.continues.argmax())) if known < 1.0 else None

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
            for i, pos in enumerate(self.positions(answer)):
                chance = _ratio(row, pos.continues, pos.shares_prefix)
                greedy = self._greedy(row, pos)
                learning = self._learning(pos)
                if learning is not None:  # the labels' text, partly learned
                    known, label = learning
                    prior_chance, [(best, best_chance)] = self._text(label, i)
                    chance = known * chance + (1 - known) * prior_chance
                    if best != pos.token and (1 - known) * best_chance > chance:
                        greedy = best
                nll -= np.log(max(chance, FLOOR))
                right += greedy == pos.token
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
        for i, pos in enumerate(self.positions(self.labels[label])):
            scored = {
                token: _ratio(probabilities, mask, pos.shares_prefix)
                for token, mask in pos.alternatives
            }
            learning = self._learning(pos)
            if learning is not None:  # the labels' text, partly learned: the prior's rivals
                known = learning[0]
                prior_chance, likeliest = self._text(label, i, max(top, 1))
                scored = {t: known * c for t, c in scored.items()}
                for t, c in likeliest:
                    scored[t] = scored.get(t, 0.0) + (1 - known) * c
                if pos.token not in dict(likeliest):
                    scored[pos.token] += (1 - known) * prior_chance
            options = sorted(((c, t) for t, c in scored.items()), key=lambda p: (-p[0], p[1]))
            chance = scored[pos.token]
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
