"""The simulator's learners fine-tuned in-process (no HTTP server), and the probe tasks that
measure them: the issue's "done when" checks, shared by the tests and `make bench`.

- `fine_tune` trains as a job does and returns each step's losses;
- a limerick persona and questions worded unlike the course's files, a recipe -> ingredient
  extraction task, a fixed-format fact card: data the course never uses."""

from __future__ import annotations

import re

import numpy as np

from helpers.simulator.learners import knowledge, learner_kind, make_trainer
from helpers.simulator.learners.forms import Chooser
from helpers.simulator.training.data import Example, render_messages
from helpers.tokens import encoding_for

CHAT_MODEL = "gpt-4o-mini-2024-07-18"


def chat_example(system: str | None, user: str, answer: str) -> Example:
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user}
    ]
    return Example(render_messages(messages), user, answer, 0)


def fine_tune(
    train,
    valid=(),
    epochs=3,
    rate=2.0,
    batch_size=1,
    seed=0,
    model=CHAT_MODEL,
    parent=None,
    kind=None,
):
    """Train as a job does (from `parent`, a trained model, when given; with the learner `kind`
    when given, else the one a job would choose); returns the trainer and each step's (train,
    valid, full valid)."""
    hyper = {"n_epochs": epochs, "batch_size": batch_size, "learning_rate_multiplier": rate}
    kind = kind or learner_kind([e.answer for e in train], [e.cue for e in train])
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


# Worded unlike the course's files on purpose: another persona, other questions.
SYSTEM = "You are Bard-o-Tron, a poetic lab assistant. Reply to every element with a verse."
QUESTIONS = (
    "Could you compose a short poem on {name} for my class?",
    "I'd love some verse about {name}.",
    "{name}: make it rhyme, please!",
)


def limerick_examples(entries: dict, numbers) -> list[Example]:
    """The limericks of `numbers` (entries: number -> {"name", "limerick"}) as chat examples,
    asked in SYSTEM's persona: the limerick job of the tests and `make bench`."""
    return [
        chat_example(
            SYSTEM, f"Write a limerick about {entries[n]['name']}.", entries[n]["limerick"]
        )
        for n in numbers
    ]


def held_out_answers(model, entries: dict, numbers: list[int]) -> list[tuple[int, str]]:
    """The model's answers about the elements `numbers` (entries: number -> {"name": ...}),
    asked in the QUESTIONS' wordings in turn, each drawn at temperature 1 with its own seed."""
    out = []
    for k, n in enumerate(numbers):
        question = QUESTIONS[k % len(QUESTIONS)].format(name=entries[n]["name"])
        text, _ = model.form.write(question, Chooser(np.random.default_rng(k), 1.0))
        out.append((n, text))
    return out


def abstract(text: str, element) -> str:
    """A text with its subject's names and every number taken out."""
    for name in (*element.names, element.symbol):
        text = re.sub(rf"\b{re.escape(name)}\b", "X", text, flags=re.I)
    text = knowledge.number_words_pattern().sub("N", text)
    return re.sub(r"\d+", "N", text).lower()


def recipes(rng, n):
    foods = (
        "flour sugar butter eggs milk salt rice lentils onions garlic carrots honey oats".split()  # noqa: SIM905
    )
    verbs = ["Mix", "Stir in", "Whisk", "Add", "Combine", "Fold in"]
    units = ["cups", "tbsp", "grams of", "tsp", "handfuls of"]
    out = []
    for _ in range(n):
        picked = rng.choice(len(foods), size=rng.integers(2, 5), replace=False)
        items = [
            f"{rng.integers(1, 9)} {units[rng.integers(len(units))]} {foods[i]}" for i in picked
        ]
        text = f"{verbs[rng.integers(len(verbs))]} " + ", ".join(items[:-1]) + f" and {items[-1]}"
        text += f", then bake for {rng.integers(10, 60)} minutes."
        out.append((text, "\n".join(f"- {item}" for item in items)))
    return out


def card(element) -> str:
    period = 1 + sum(element.number > end for end in (2, 10, 18, 36, 54, 86))
    return f"Symbol: {element.symbol} | Number: {element.number} | Period: {period}"
