"""The cost guard: estimate a job's training cost before it is created, refuse it over a limit."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from helpers import pricing, tokens
from helpers.backend import chosen_backend, is_paid
from helpers.errors import CourseError

DEFAULT_MAX_COST_USD = 1.00


class CostLimitExceeded(CourseError):
    """A job's estimated training cost is over TUTORIAL_MAX_COST_USD."""


@dataclass(frozen=True)
class CostEstimate:
    model: str
    n_examples: int
    tokens_per_epoch: int
    n_epochs: int
    dollars: float

    @property
    def billed_tokens(self) -> int:
        return self.tokens_per_epoch * self.n_epochs

    def __str__(self) -> str:
        return (
            f"{self.n_examples} examples, {self.tokens_per_epoch:,} tokens x {self.n_epochs} "
            f"epochs = {self.billed_tokens:,} billed tokens; {self.model} at "
            f"${pricing.price_per_1m(self.model):.2f} per 1M tokens: ${self.dollars:.4f} "
            f"(prices of {pricing.PRICES_AS_OF})"
        )


def file_tokens(path: str | Path, model: str) -> tuple[int, int]:
    """(examples, tokens) of a JSONL training file, chat or prompt/completion."""
    n_examples = n_tokens = 0
    with open(path, encoding="utf-8-sig") as lines:
        for line in lines:
            if not line.strip():
                continue
            example = json.loads(line)
            n_examples += 1
            if "messages" in example:
                n_tokens += tokens.count_messages(example["messages"], model)
            else:
                n_tokens += tokens.count_prompt_completion(
                    example.get("prompt", ""), example.get("completion", ""), model
                )
    return n_examples, n_tokens


def estimate_training_cost(
    path: str | Path, model: str, n_epochs: int | str = "auto"
) -> CostEstimate:
    n_examples, per_epoch = file_tokens(path, model)
    epochs = tokens.default_epochs(n_examples) if n_epochs == "auto" else int(n_epochs)
    dollars = pricing.training_cost(per_epoch, epochs, model)
    return CostEstimate(model, n_examples, per_epoch, epochs, dollars)


def max_cost_usd() -> float:
    raw = os.environ.get("TUTORIAL_MAX_COST_USD")
    if not raw:
        return DEFAULT_MAX_COST_USD
    try:
        return float(raw)
    except ValueError:
        raise CourseError(f"TUTORIAL_MAX_COST_USD={raw!r} is not a number of dollars.") from None


def check_training_cost(
    path: str | Path, model: str, n_epochs: int | str = "auto", backend: str | None = None
) -> CostEstimate:
    """Print the estimate; on a paid backend, refuse a job that would cost more than the limit."""
    estimate = estimate_training_cost(path, model, n_epochs)
    backend = backend or chosen_backend()
    if not is_paid(backend):
        print(f"Estimated cost on the real API: {estimate}. The simulator charges nothing.")
        return estimate
    limit = max_cost_usd()
    if estimate.dollars > limit:
        raise CostLimitExceeded(
            f"This job would cost about ${estimate.dollars:.2f} ({estimate}), over your limit of "
            f"${limit:.2f}. Nothing was created. To allow it, set TUTORIAL_MAX_COST_USD to a "
            "higher figure before starting Jupyter."
        )
    print(f"Estimated cost: {estimate}, within your limit of ${limit:.2f}.")
    return estimate
