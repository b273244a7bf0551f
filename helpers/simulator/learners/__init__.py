"""The models a fine-tuning job fits: a classifier for label answers, else a chat learner.

Both start from a pre-trained base model (`knowledge`, `pronunciation`, `prior`) and learn only
from the uploaded examples.
"""

from __future__ import annotations

from collections import Counter

from helpers.long_lived import freeze_once
from helpers.simulator.learners.chat import ChatModel, ChatTrainer
from helpers.simulator.learners.classifier import ClassifierTrainer, LabelModel

MAX_LABELS = 50
# Answers said only once, as a share of all answers, beyond which they are not labels: a
# Q&A file whose answers are mostly one fixed reply plus symbols, years and numbers that
# seldom repeat is text to generate, even with few distinct answers.
SINGLETON_SHARE = 0.05


def learner_kind(answers: list[str]) -> str:
    """ "classifier" when the answers are a small set of labels, each used again and again."""
    counts = Counter(answers)
    singletons = sum(1 for n in counts.values() if n == 1)
    if (
        len(counts) <= MAX_LABELS
        and 2 * len(counts) <= len(answers)
        and singletons <= SINGLETON_SHARE * len(answers)
    ):
        return "classifier"
    return "language_model"


def make_trainer(kind: str, train, valid, encoding, hyperparameters: dict, parent=None):
    """A trainer for `kind`; it starts from `parent` (a trained model) when that is of its kind."""
    # The simulator's first model work in a process (training a job, or answering with a
    # fine-tuned model) comes after the notebook's imports: what is alive then stays.
    freeze_once("models")
    trainer = ClassifierTrainer if kind == "classifier" else ChatTrainer
    return trainer(train, valid, encoding, hyperparameters, parent)


def load_model(meta: dict, arrays: dict, encoding):
    freeze_once("models")
    model = LabelModel if meta["kind"] == "classifier" else ChatModel
    return model.from_state(meta, arrays, encoding)
