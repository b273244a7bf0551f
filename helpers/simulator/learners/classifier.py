"""A text classifier for answers drawn from a small set of labels.

Logistic regression (softmax over the labels) on TF-IDF features, trained one batch per step
with Adam and a learning rate that decays linearly to zero over the job, as OpenAI's fine-tuning
schedules do. The vocabulary is capped so that a step stays cheap however large the file.
"""

from __future__ import annotations

import numpy as np

from helpers.simulator.learners.fact_reading import fact_reader, fact_words
from helpers.simulator.learners.labels import LabelTokens
from helpers.simulator.learners.slots import Reader
from helpers.simulator.learners.text_features import TfidfFeatures, words

# Adam's step size for a learning-rate multiplier of 1.
BASE_STEP = 0.01
# A short memory of squared gradients (0.99 rather than 0.999) lets the step sizes follow
# the rapidly shrinking gradients of a small classification job.
BETA1, BETA2, EPSILON = 0.9, 0.99, 1e-8
# Words seen in a single example are ignored once there are enough examples to tell.
MIN_DF_FROM = 50
MAX_WORDS = 50_000


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class LabelModel:
    """A trained (or training) classifier: features, labels and weights."""

    kind = "classifier"

    def __init__(self, features: TfidfFeatures, tokens: LabelTokens, weights, bias, reader=None):
        self.features = features
        self.reader = reader  # reads texts about elements against the base model's facts
        self.tokens = tokens
        self.weights = weights
        self.bias = bias

    def probabilities_of(self, rows: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        logits = np.array([weights @ self.weights[columns] for columns, weights in rows])
        return softmax(logits.reshape(len(rows), -1) + self.bias)

    def read(self, context: str) -> list[str]:
        return words(context) + fact_words(context, self.reader)

    def probabilities(self, context: str) -> np.ndarray:
        return self.probabilities_of(self.features.rows_of_words([self.read(context)]))[0]

    def state(self) -> tuple[dict, dict]:
        meta, arrays = self.features.state()
        meta = {"kind": self.kind, "labels": self.tokens.labels, "features": meta}
        if self.reader is not None:
            meta["fact_cues"] = self.reader.state()
        arrays = {**arrays, "weights": self.weights.copy(), "bias": self.bias.copy()}
        if self.tokens.exposure is not None:
            arrays["exposure"] = self.tokens.exposure.copy()
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict, encoding) -> LabelModel:
        features = TfidfFeatures.from_state(meta["features"], arrays)
        # A model saved before its labels' texts were learned knows them all.
        tokens = LabelTokens(meta["labels"], encoding, arrays.get("exposure"))
        reader = Reader(meta["fact_cues"]) if "fact_cues" in meta else None
        weights, bias = np.asarray(arrays["weights"]), np.asarray(arrays["bias"])
        return cls(features, tokens, weights, bias, reader)


class ClassifierTrainer:
    """Fits a `LabelModel` step by step and measures each step on the data.

    Given a `parent` (continued fine-tuning), training starts from the parent's model: its words
    keep their weights and weighting, words and labels new in this file start at zero.
    """

    def __init__(self, train, valid, encoding, hyperparameters: dict, parent=None):
        reader = fact_reader([e.context for e in train])
        if isinstance(parent, LabelModel) and parent.reader is not None:
            reader = parent.reader
        texts = [words(e.context) + fact_words(e.context, reader) for e in train]
        min_df = 2 if len(train) >= MIN_DF_FROM else 1
        features = TfidfFeatures.fit_words(texts, min_df=min_df, max_words=MAX_WORDS)
        labels = sorted({e.answer for e in train})
        if isinstance(parent, LabelModel):
            features = parent.features.extended(features)
            labels = parent.tokens.labels + [a for a in labels if a not in parent.tokens.labels]
        # Training shows each label's text; a parent's labels keep what it was shown of them.
        exposure = np.zeros(len(labels))
        if isinstance(parent, LabelModel):
            known = parent.tokens.exposure
            count = len(parent.tokens.labels)
            exposure[:count] = np.inf if known is None else known
        tokens = LabelTokens(labels, encoding, exposure)
        shape = (features.size + 1, len(labels))
        # Weights and bias live in one array (the bias is its last row), and so do their Adam
        # moments: one update of a few whole-array operations per step, whatever the batch.
        self.parameters = np.zeros(shape)
        self.model = LabelModel(features, tokens, self.parameters[:-1], self.parameters[-1], reader)
        if isinstance(parent, LabelModel):
            known, count = parent.weights.shape
            self.model.weights[:known, :count] = parent.weights
            self.model.bias[:count] = parent.bias
        self.rows = features.rows_of_words(texts)
        self.targets = np.array([labels.index(e.answer) for e in train])
        self.answers = [e.answer for e in train]
        self.valid_rows = features.rows_of_words([self.model.read(e.context) for e in valid])
        self.valid_answers = [e.answer for e in valid]
        self.multiplier = float(hyperparameters["learning_rate_multiplier"])
        self.rate = BASE_STEP * self.multiplier
        self.moment1 = np.zeros(shape)
        self.moment2 = np.zeros(shape)
        self.gradient = np.zeros(shape)  # zero outside the rows a step touches
        self.scratch = np.empty(shape)
        self.updates = 0

    def train_step(self, batch: np.ndarray, step: int, total_steps: int) -> tuple[float, float]:
        """One update on `batch`; returns the batch's loss and token accuracy before it."""
        rows = [self.rows[i] for i in batch]
        probabilities = self.model.probabilities_of(rows)
        nll, right, count = self.model.tokens.token_scores(
            probabilities, [self.answers[i] for i in batch]
        )
        target = np.zeros_like(probabilities)
        target[np.arange(len(batch)), self.targets[batch]] = 1.0
        delta = (probabilities - target) / len(batch)
        decay = 1.0 - (step - 1) / total_steps
        self._adam(rows, delta, self.rate * decay)
        # Each example shows its label's text once more (at the step's learning rate).
        np.add.at(self.model.tokens.exposure, self.targets[batch], self.multiplier * decay)
        return nll / max(count, 1), right / max(count, 1)

    def _adam(self, rows, delta: np.ndarray, rate: float) -> None:
        self.updates += 1
        grad, m, v, step = self.gradient, self.moment1, self.moment2, self.scratch
        for (columns, weights), row_delta in zip(rows, delta, strict=True):
            grad[columns] += weights[:, None] * row_delta
        grad[-1] = delta.sum(axis=0)
        c1, c2 = 1 - BETA1**self.updates, 1 - BETA2**self.updates
        m *= BETA1
        np.multiply(grad, 1 - BETA1, out=step)
        m += step
        v *= BETA2
        np.square(grad, out=step)
        step *= 1 - BETA2
        v += step
        np.divide(v, c2, out=step)
        np.sqrt(step, out=step)
        step += EPSILON
        np.divide(m, step, out=step)
        step *= rate / c1
        self.parameters -= step
        for columns, _ in rows:
            grad[columns] = 0.0  # ready for the next step

    def evaluate(self, batch: np.ndarray) -> tuple[float, float]:
        """Loss and token accuracy of the current model on validation examples."""
        probabilities = self.model.probabilities_of([self.valid_rows[i] for i in batch])
        nll, right, count = self.model.tokens.token_scores(
            probabilities, [self.valid_answers[i] for i in batch]
        )
        return nll / max(count, 1), right / max(count, 1)
