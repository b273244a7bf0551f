"""The chat learners' "done when" figures (issue 9), measured in-process on the learners.

- held_out_*: the limerick bot fine-tuned on the 94 training limericks (with another persona's
  system prompt), answering the 24 held-out elements asked in new wordings: the share with five
  lines, with an AABBA rhyme, naming the element, stating its atomic number with every stated
  number right, and the share that is a training limerick with names and numbers swapped.
- base_fact_rate: the base model's prose answers about all 118 elements that name the element
  and give its right atomic number.
- extraction_exact: a recipe -> ingredient-list task the course never uses (80 examples), exact
  on 40 new recipes.
- fact_card_exact: a fixed-format card learned from 90 elements, exact for the 28 others.
- first_train_loss, epoch_means, full_valid_losses_90 / _10: the limerick job's curve, and the
  full validation loss at each checkpoint with 90 and with 10 training examples.

The probe tasks are the tests' own (helpers/simulator/learners/probes.py), so the figures
and the tests agree.
"""

from __future__ import annotations

import difflib

import numpy as np
import periodictable

from helpers import limerick_checks as checks
from helpers.limericks import SPLIT, load_limericks
from helpers.simulator.answers import base_answer
from helpers.simulator.learners import knowledge
from helpers.simulator.learners.forms import Chooser
from helpers.simulator.learners.probes import (
    abstract,
    card,
    chat_example,
    fine_tune,
    held_out_answers,
    limerick_examples,
    recipes,
)

TARGETS = {
    "held_out_five_lines": 0.9,
    "held_out_rhyme_aabba": 0.75,
    "held_out_names_element": 1.0,
    "held_out_numbers_right": 0.9,
    "held_out_swapped_training": 0.2,
    "base_fact_rate": 0.9,
    "extraction_exact": 0.8,
    "fact_card_exact": 0.8,
    "first_train_loss": 5.0,
}


def run() -> dict:
    entries = {e["number"]: e for e in load_limericks()}
    train = limerick_examples(entries, SPLIT["train"])
    valid = limerick_examples(entries, SPLIT["validation"])
    trainer, steps = fine_tune(train, valid)
    answers = held_out_answers(trainer.model, entries, SPLIT["test"] + SPLIT["validation"])
    forms = [checks.check_form(t, entries[n]["name"]) for n, t in answers]
    facts = [checks.check_facts(t, n) for n, t in answers]
    numbers = [
        any(c["fact"] == "atomic_number" for c in f["claims"]) and not f["wrong"] for f in facts
    ]
    trained = [abstract(entries[n]["limerick"], knowledge.elements()[n]) for n in SPLIT["train"]]
    swapped = [
        max(
            difflib.SequenceMatcher(a=abstract(t, knowledge.elements()[n]), b=x).ratio()
            for x in trained
        )
        >= 0.8
        for n, t in answers
    ]
    _, small = fine_tune(train[:10], valid)
    figures = {
        "held_out_answers": len(answers),
        "held_out_five_lines": _share(f["five_lines"] for f in forms),
        "held_out_rhyme_aabba": _share(f["rhyme_aabba"] for f in forms),
        "held_out_names_element": _share(f["names_element"] for f in forms),
        "held_out_numbers_right": _share(numbers),
        "held_out_swapped_training": _share(swapped),
        "base_fact_rate": _base_fact_rate(),
        "extraction_exact": _extraction(),
        "fact_card_exact": _factcard(),
        "first_train_loss": round(steps[0]["train_loss"], 3),
        "epoch_means": [
            round(float(np.mean([s["train_loss"] for s in steps if s["epoch"] == e])), 3)
            for e in range(3)
        ],
        "full_valid_losses_90": [
            round(s["full_valid_loss"], 3) for s in steps if "full_valid_loss" in s
        ],
        "full_valid_losses_10": [
            round(s["full_valid_loss"], 3) for s in small if "full_valid_loss" in s
        ],
    }
    figures["targets"] = TARGETS
    figures["met"] = {
        name: (figures[name] <= target)
        if name in ("held_out_swapped_training", "first_train_loss")
        else (figures[name] >= target)
        for name, target in TARGETS.items()
    }
    return figures


def _share(values) -> float:
    values = list(values)
    return round(sum(bool(v) for v in values) / len(values), 3)


def _base_fact_rate() -> float:
    right = []
    for n in range(1, 119):
        element = knowledge.elements()[n]
        text = base_answer(f"Tell me about {element.name.lower()}, please.")
        right.append(
            checks.names_element(text, element.name) and checks.check_facts(text, n)["passed"]
        )
    return _share(right)


def _extraction() -> float:
    system = "List the ingredients of the recipe, one per line."
    rng = np.random.default_rng(7)
    model = fine_tune([chat_example(system, q, a) for q, a in recipes(rng, 80)])[0].model
    new = recipes(np.random.default_rng(99), 40)
    chooser = Chooser(np.random.default_rng(0), 0.0)
    return _share(model.form.write(q, chooser)[0] == a for q, a in new)


def _factcard() -> float:
    numbers = list(range(1, 119))
    rng = np.random.default_rng(3)
    rng.shuffle(numbers)
    seen, held = numbers[:90], numbers[90:]
    name = lambda n: periodictable.elements[n].name  # noqa: E731
    train = [
        chat_example(None, f"Card for {name(n)}", card(periodictable.elements[n])) for n in seen
    ]
    model = fine_tune(train)[0].model
    chooser = Chooser(rng, 0.0)
    return _share(
        model.form.write(f"Card for {name(n)}", chooser)[0] == card(periodictable.elements[n])
        for n in held
    )
