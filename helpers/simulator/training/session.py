"""How a job trains: its hyperparameters ("auto" resolved the way OpenAI documents it), its plan
of steps, and its training session, step by step: which examples each step sees, what it measures.

Batches depend only on the job's seed and the step number, so a server that takes over a job
after a restart replays the steps already done and reaches the very same model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from helpers.simulator.errors import invalid
from helpers.simulator.learners import learner_kind, make_trainer
from helpers.simulator.training.data import TrainingData
from helpers.tokens import MAX_EPOCHS, MIN_EPOCHS, default_epochs, encoding_for

CHECKPOINTED_EPOCHS = 3  # checkpoints are kept at the end of each of the last three epochs
# Real jobs measure a validation batch every tenth step only (steps 290 and 300 of a 303-step
# job, and none at 303, in OpenAI's chat fine-tuning walkthrough); the other steps' results rows
# leave the validation cells empty. The whole validation file is measured at each epoch's end.
VALIDATION_EVERY = 10
# Simulated seconds a step takes: a fixed cost plus the tokens it reads.
STEP_SECONDS, TOKENS_PER_SECOND = 1.0, 1000.0

# OpenAI's documented heuristic: a batch of about 0.2% of the examples, at most 256.
BATCH_SHARE = 0.002
MAX_BATCH_SIZE = 256
# What "auto" resolves to here (recent real jobs commonly report 2 as well for small batches).
AUTO_LEARNING_RATE_MULTIPLIER = 2.0
LIMITS = {"n_epochs": (MIN_EPOCHS, MAX_EPOCHS), "batch_size": (1, MAX_BATCH_SIZE)}


def check_requested(hyperparameters, param: str = "hyperparameters") -> dict:
    """The requested values, each "auto" or a number in range; a 400 error otherwise."""
    if hyperparameters is None:
        hyperparameters = {}
    if not isinstance(hyperparameters, dict):
        raise invalid(f"{param} must be an object", param=param)
    unknown = sorted(set(hyperparameters) - {"n_epochs", "batch_size", "learning_rate_multiplier"})
    if unknown:
        raise invalid(f"Unknown hyperparameter(s): {', '.join(unknown)}", param=param)
    checked = {}
    for name in ("batch_size", "learning_rate_multiplier", "n_epochs"):
        value = hyperparameters.get(name, "auto")
        where = f"{param}.{name}"
        if value == "auto" or value is None:
            checked[name] = "auto"
        elif name == "learning_rate_multiplier":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise invalid(f"{name} must be 'auto' or a number, not {value!r}", param=where)
            if not (math.isfinite(value) and value > 0):
                raise invalid(f"{name} must be more than 0, not {value!r}", param=where)
            checked[name] = float(value)
        else:
            low, high = LIMITS[name]
            if isinstance(value, bool) or not isinstance(value, int):
                raise invalid(
                    f"{name} must be 'auto' or a whole number, not {value!r}", param=where
                )
            if not low <= value <= high:
                raise invalid(f"{name} must be between {low} and {high}, not {value}", param=where)
            checked[name] = value
    return checked


def resolve(requested: dict, n_examples: int) -> dict:
    """Replace every "auto" by the value the job actually uses."""
    batch = requested["batch_size"]
    if batch == "auto":
        batch = auto_batch_size(n_examples)
    rate = requested["learning_rate_multiplier"]
    if rate == "auto":
        rate = AUTO_LEARNING_RATE_MULTIPLIER
    epochs = requested["n_epochs"]
    if epochs == "auto":
        epochs = default_epochs(n_examples)
    return {"batch_size": int(batch), "learning_rate_multiplier": rate, "n_epochs": int(epochs)}


def auto_batch_size(n_examples: int) -> int:
    return max(1, min(MAX_BATCH_SIZE, round(n_examples * BATCH_SHARE)))


# -- the session ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepResult:
    step: int
    metrics: dict
    epoch_end: bool
    checkpoint: bool
    seconds: float  # simulated duration of the step


def plan_steps(n_examples: int, hyperparameters: dict) -> tuple[int, int]:
    """(steps per epoch, total steps) for resolved hyperparameters."""
    per_epoch = math.ceil(n_examples / hyperparameters["batch_size"])
    return per_epoch, per_epoch * hyperparameters["n_epochs"]


def checkpoint_steps(per_epoch: int, epochs: int) -> list[int]:
    """The steps whose model is kept: the ends of the last three epochs (the last is the job's
    fine-tuned model itself)."""
    first = max(1, epochs - CHECKPOINTED_EPOCHS + 1)
    return [per_epoch * epoch for epoch in range(first, epochs + 1)]


class TrainingSession:
    def __init__(
        self,
        seed: int,
        base_model: str,
        train: TrainingData,
        valid: TrainingData | None,
        hyperparameters: dict,
        parent=None,
    ):
        self.seed = seed
        self.train = train.examples
        self.valid = valid.examples if valid else []
        self.batch_size = hyperparameters["batch_size"]
        self.epochs = hyperparameters["n_epochs"]
        self.per_epoch, self.total_steps = plan_steps(len(self.train), hyperparameters)
        self.kind = learner_kind([e.answer for e in self.train], [e.cue for e in self.train])
        encoding = encoding_for(base_model)
        self.trainer = make_trainer(
            self.kind, self.train, self.valid, encoding, hyperparameters, parent
        )
        self.step = 0
        self._orders: dict[int, np.ndarray] = {}

    def batch(self, step: int) -> np.ndarray:
        epoch, position = divmod(step - 1, self.per_epoch)
        if epoch not in self._orders:
            self._orders = {
                epoch: np.random.default_rng([self.seed, epoch]).permutation(len(self.train))
            }
        start = position * self.batch_size
        return self._orders[epoch][start : start + self.batch_size]

    def valid_batch(self, step: int) -> np.ndarray:
        """The validation batch measured at `step` (a multiple of VALIDATION_EVERY): each
        measurement takes the next examples of the validation file, going round it."""
        start = (step // VALIDATION_EVERY - 1) * self.batch_size
        return np.arange(start, start + self.batch_size) % len(self.valid)

    def is_checkpoint(self, step: int) -> bool:
        return step in checkpoint_steps(self.per_epoch, self.epochs)

    def seconds(self, batch: np.ndarray) -> float:
        return STEP_SECONDS + sum(self.train[i].tokens for i in batch) / TOKENS_PER_SECOND

    def run_step(self, measure: bool = True) -> StepResult:
        step = self.step + 1
        batch = self.batch(step)
        loss, accuracy = self.trainer.train_step(batch, step, self.total_steps)
        self.step = step
        epoch_end = step % self.per_epoch == 0
        metrics = {}
        if measure:
            metrics = {"step": step, "train_loss": loss, "train_mean_token_accuracy": accuracy}
            if self.valid and step % VALIDATION_EVERY == 0:
                metrics["valid_loss"], metrics["valid_mean_token_accuracy"] = self.trainer.evaluate(
                    self.valid_batch(step)
                )
            if self.valid and epoch_end:
                everything = np.arange(len(self.valid))
                full = self.trainer.evaluate(everything)
                metrics["full_valid_loss"], metrics["full_valid_mean_token_accuracy"] = full
            metrics = {k: (round(float(v), 6) if k != "step" else v) for k, v in metrics.items()}
        return StepResult(step, metrics, epoch_end, self.is_checkpoint(step), self.seconds(batch))

    def replay(self, upto: int) -> None:
        """Redo the first `upto` steps without measuring: the same batches give the same model."""
        while self.step < upto:
            self.run_step(measure=False)

    @property
    def model(self):
        return self.trainer.model
