"""A generator for free-form answers: a bigram language model plus recall of its examples."""

from __future__ import annotations

from helpers.simulator.learners.language_model import BigramModel
from helpers.simulator.learners.recall import Recall


class TextGenerator:
    """A trained generator: it answers from recall and scores tokens with its language model."""

    kind = "language_model"

    def __init__(self, language: BigramModel, recall: Recall):
        self.language = language
        self.recall = recall

    def state(self) -> tuple[dict, dict]:
        meta, arrays = self.language.state()
        return {"kind": self.kind, "language": meta, "recall": self.recall.state()}, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict, encoding=None) -> TextGenerator:
        return cls(
            BigramModel.from_state(meta["language"], arrays), Recall.from_state(meta["recall"])
        )


class GeneratorTrainer:
    """Counts the answers batch by batch; a `parent` model's counts and examples carry over."""

    def __init__(self, train, valid, encoding, hyperparameters: dict, parent=None):
        self.examples = train
        self.sequences = [_encode(encoding, e.answer) for e in train]
        self.valid_sequences = [_encode(encoding, e.answer) for e in valid]
        self.language = BigramModel(encoding.n_vocab)
        self.remembered = ([], [])
        if isinstance(parent, TextGenerator):
            self.language = parent.language.copy()
            self.remembered = (list(parent.recall.cues), list(parent.recall.answers))
        self.seen: set[int] = set()

    def train_step(self, batch, step: int, total_steps: int) -> tuple[float, float]:
        sequences = [self.sequences[i] for i in batch]
        nll, right, count = self.language.score(sequences)
        self.language.learn(sequences)
        self.seen.update(int(i) for i in batch)
        return nll / max(count, 1), right / max(count, 1)

    def evaluate(self, batch) -> tuple[float, float]:
        nll, right, count = self.language.score([self.valid_sequences[i] for i in batch])
        return nll / max(count, 1), right / max(count, 1)

    @property
    def model(self) -> TextGenerator:
        seen = sorted(self.seen)
        cues, answers = self.remembered
        recall = Recall(
            cues + [self.examples[i].cue for i in seen],
            answers + [self.examples[i].answer for i in seen],
        )
        return TextGenerator(self.language, recall)


def _encode(encoding, text: str) -> list[int]:
    return encoding.encode(text, disallowed_special=())
