"""The models a fine-tuning job fits: a classifier for label answers, else a chat learner.

Both start from a pre-trained base model (`knowledge`, `pronunciation`, `prior`) and learn only
from the uploaded examples.
"""

from __future__ import annotations

from collections import Counter

from helpers.long_lived import freeze_once
from helpers.simulator.learners.chat import ChatModel, ChatTrainer
from helpers.simulator.learners.classifier import ClassifierTrainer, LabelModel
from helpers.simulator.learners.forms import WORDS, form_words

MAX_LABELS = 50
# Answers said only once, as a share of all answers, beyond which they are not labels: a
# Q&A file whose answers are mostly one fixed reply plus symbols, years and numbers that
# seldom repeat is text to generate, even with few distinct answers.
SINGLETON_SHARE = 0.05
# Answers found in their own question at least this often, while the other answers seldom are
# (less than this share of them, on average), are copied from it, not chosen among labels:
# "Paris" answering "I flew to Paris last week" teaches to copy the city a new question names,
# however few cities the file holds. A prompt that lists every label ("positive or negative?")
# holds the others too, and is still a classifier's.
COPIED_SHARE = 0.9
OTHERS_SHARE = 0.5


def learner_kind(answers: list[str], questions: list[str] | None = None) -> str:
    """ "classifier" when the answers are a small set of labels, each used again and again, and
    not copied from their `questions` (each answer's question, when given)."""
    counts = Counter(answers)
    singletons = sum(1 for n in counts.values() if n == 1)
    if (
        len(counts) <= MAX_LABELS
        and 2 * len(counts) <= len(answers)
        and singletons <= SINGLETON_SHARE * len(answers)
        and not (questions and copied_from_questions(answers, questions))
    ):
        return "classifier"
    return "language_model"


def copied_from_questions(answers: list[str], questions: list[str]) -> bool:
    """Whether the answers are words of their own questions (each one wholly there, but for the
    words nearly every answer writes: a JSON object's keys, a blurb's sentence), which the other
    answers mostly are not."""
    fixed = form_words(answers)
    words = {a: {w.lower() for w in WORDS.findall(a) if w.isalnum()} - fixed for a in set(answers)}
    copied = others = 0.0
    needed = COPIED_SHARE * len(answers)
    for k, (answer, question) in enumerate(zip(answers, questions, strict=True)):
        said = {w.lower() for w in WORDS.findall(question)}
        copied += bool(words[answer]) and words[answer] <= said
        if copied + len(answers) - k - 1 < needed:
            # Too few answers are in their question, even if every one left is: a classifier's
            # file of long posts stops here after a few dozen posts, not after reading them all.
            return False
        rest = [a for a in words if a != answer and words[a]]
        if rest:
            others += sum(words[a] <= said for a in rest) / len(rest)
    return copied >= needed and others < OTHERS_SHARE * len(answers)


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
