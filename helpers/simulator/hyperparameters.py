"""Checking requested hyperparameters, and resolving "auto" the way OpenAI documents it."""

from __future__ import annotations

import math

from helpers.simulator.errors import invalid
from helpers.tokens import default_epochs

# OpenAI's documented heuristic: a batch of about 0.2% of the examples, at most 256.
BATCH_SHARE = 0.002
MAX_BATCH_SIZE = 256
# What "auto" resolves to here (recent real jobs commonly report 2 as well for small batches).
AUTO_LEARNING_RATE_MULTIPLIER = 2.0
LIMITS = {"n_epochs": (1, 50), "batch_size": (1, MAX_BATCH_SIZE)}


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
