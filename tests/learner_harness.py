"""Fine-tuning the simulator's learners in-process, without the HTTP server, for fast tests."""

from __future__ import annotations

import numpy as np

from helpers.simulator.learners import learner_kind, make_trainer
from helpers.simulator.training.data import Example, render_messages
from helpers.tokens import encoding_for

CHAT_MODEL = "gpt-4o-mini-2024-07-18"


def chat_example(system: str | None, user: str, answer: str) -> Example:
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user}
    ]
    return Example(render_messages(messages), user, answer, 0)


def fine_tune(
    train, valid=(), epochs=3, rate=2.0, batch_size=1, seed=0, model=CHAT_MODEL, parent=None
):
    """Train as a job does (from `parent`, a trained model, when given); returns the trainer
    and each step's (train, valid, full valid)."""
    hyper = {"n_epochs": epochs, "batch_size": batch_size, "learning_rate_multiplier": rate}
    kind = learner_kind([e.answer for e in train])
    trainer = make_trainer(kind, list(train), list(valid), encoding_for(model), hyper, parent)
    per_epoch = -(-len(train) // batch_size)
    total = per_epoch * epochs
    steps = []
    for epoch in range(epochs):
        order = np.random.default_rng([seed, epoch]).permutation(len(train))
        for k in range(per_epoch):
            step = epoch * per_epoch + k + 1
            loss, _ = trainer.train_step(order[k * batch_size : (k + 1) * batch_size], step, total)
            row = {"step": step, "epoch": epoch, "train_loss": loss}
            if valid and k == per_epoch - 1:
                row["full_valid_loss"] = trainer.evaluate(np.arange(len(valid)))[0]
            steps.append(row)
    return trainer, steps
