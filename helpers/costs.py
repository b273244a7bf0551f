"""What training costs, estimated one way for everyone, and the cost guard that refuses a job
over the learner's limit before it is created.

The estimate counts every example's tokens exactly in the model's own encoding, cuts each at the
model's training limit (longer examples are truncated in training, and billed as such), takes the
epochs asked for or OpenAI's default, and prices the billed tokens from the model catalogue.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from helpers import tokens
from helpers.backend import chosen_backend, is_paid
from helpers.errors import CourseError, InputFileError
from helpers.jsonl_lines import read_jsonl
from helpers.model_catalog import (
    PRICES_AS_OF,
    UnknownModel,
    encoding_name_for,
    find,
    given_price,
    price_per_1m,
    training_token_limit,
)
from helpers.training_format import check_example, guess_format

DEFAULT_MAX_COST_USD = 1.00
# What the Batch API charges against the same requests sent one by one: half (OpenAI's Batch
# guide, https://platform.openai.com/docs/guides/batch, checked 2026-11).
BATCH_PRICE_FACTOR = 0.5


class CostLimitExceeded(CourseError):
    """A job's estimated training cost is over TUTORIAL_MAX_COST_USD."""


@dataclass(frozen=True)
class TrainingEstimate:
    model: str
    encoding: str
    n_examples: int
    tokens_in_file: int  # every token of every example, counted exactly
    tokens_per_epoch: int  # what is billed per epoch (long chat examples are truncated)
    n_epochs: int
    epochs_from_rule: bool  # True when n_epochs is OpenAI's "auto" default
    price_per_1m: float
    prices_as_of: str | None  # None when the price came from the caller

    @property
    def billed_tokens(self) -> int:
        return self.tokens_per_epoch * self.n_epochs

    @property
    def dollars(self) -> float:
        return self.billed_tokens * self.price_per_1m / 1_000_000

    def __str__(self) -> str:
        """One line, as the cost guard prints it."""
        return (
            f"{self.n_examples} examples, {self.tokens_per_epoch:,} tokens x {self.n_epochs} "
            f"epochs = {self.billed_tokens:,} billed tokens; {self.model} at "
            f"${self.price_per_1m:.2f} per 1M tokens: ${self.dollars:.4f} "
            f"({self._dated('prices of')})"
        )

    def describe(self) -> list[str]:
        """Line by line, as the preparation tool prints it."""
        how = "OpenAI's default for this many examples" if self.epochs_from_rule else "as given"
        return [
            f"- Tokens: {self.tokens_in_file:,} in {self.n_examples:,} examples, counted "
            f"exactly with {self.encoding} (the encoding of {self.model})",
            f"- Epochs: {self.n_epochs} ({how})",
            f"- Billed tokens: {self.tokens_per_epoch:,} per epoch x {self.n_epochs} epochs = "
            f"{self.billed_tokens:,}",
            f"- Training cost: {_dollars(self.dollars)} at ${self.price_per_1m:.2f} per 1M "
            f"training tokens ({self._dated('as of')})",
        ]

    def _dated(self, words: str) -> str:
        return f"{words} {self.prices_as_of}" if self.prices_as_of else "the price you gave"


def estimate_training(
    example_tokens: Sequence[int],
    model: str,
    n_epochs: int | str | None = None,
    prices: Mapping[str, float] | None = None,
) -> TrainingEstimate:
    """The estimate for a file whose examples have `example_tokens` tokens each.

    `n_epochs` None or "auto" takes OpenAI's default; `prices` (model -> dollars per 1M training
    tokens) is used before the dated price table.
    """
    if not example_tokens:
        raise CourseError("A training file needs at least one example.")
    limit = training_token_limit(model)
    per_epoch = sum(min(n, limit) if limit else n for n in example_tokens)
    from_rule = n_epochs is None or n_epochs == "auto"
    if from_rule:
        epochs = tokens.default_epochs(len(example_tokens))
    else:
        epochs = tokens.checked_epochs(n_epochs)
    return TrainingEstimate(
        model=model,
        encoding=encoding_name_for(model),
        n_examples=len(example_tokens),
        tokens_in_file=sum(example_tokens),
        tokens_per_epoch=per_epoch,
        n_epochs=epochs,
        epochs_from_rule=from_rule,
        price_per_1m=price_per_1m(model, prices),
        prices_as_of=None if given_price(model, prices) is not None else PRICES_AS_OF,
    )


def example_tokens(example: Mapping, model: str) -> int:
    """The tokens of one training example, chat or prompt/completion."""
    if "messages" in example:
        return tokens.count_messages(example["messages"], model)
    return tokens.count_prompt_completion(
        example.get("prompt") or "", example.get("completion") or "", model
    )


def estimate_training_cost(
    path: str | Path, model: str, n_epochs: int | str = "auto"
) -> TrainingEstimate:
    """The estimate for a JSONL training file, chat or prompt/completion.

    Each line is checked against the format `model` trains on, so that a file that does not fit
    it is named here, line and field, rather than billed at a wrong estimate and failed later."""
    examples = read_jsonl(path, numbered=True)
    known = find(model)
    if known is not None:
        for line, example in examples:
            _check_fits(Path(path), line, example, model, known.data_format)
    return estimate_training([example_tokens(e, model) for _, e in examples], model, n_epochs)


FORMATS = {"completion": "prompt/completion pairs", "chat": "chat messages"}


def _check_fits(path: Path, line: int, example: Mapping, model: str, expected: str) -> None:
    written_as = guess_format(example)
    if written_as == "preference":
        raise InputFileError(
            path,
            "holds preference (DPO) examples: the price table covers supervised fine-tuning "
            "only, so no cost is estimated (create such a job with client.fine_tuning.jobs.create)",
            line=line,
        )
    if written_as is not None and written_as != expected:
        hint = " (python -m helpers.prepare_data -f FILE --to-chat converts them)"
        raise InputFileError(
            path,
            f"holds {FORMATS[written_as]}, but {model} is fine-tuned on {FORMATS[expected]}"
            + (hint if expected == "chat" else ""),
            line=line,
        )
    problems = check_example(example, expected)
    if problems:
        raise InputFileError(path, problems[0].message, line=line, field=problems[0].field)


def max_cost_usd() -> float:
    """TUTORIAL_MAX_COST_USD in dollars (1.00 when unset): a finite amount, zero or more."""
    raw = os.environ.get("TUTORIAL_MAX_COST_USD")
    if not raw or not raw.strip():
        return DEFAULT_MAX_COST_USD
    try:
        limit = float(raw)
    except ValueError:
        limit = math.nan
    if not (math.isfinite(limit) and limit >= 0):
        raise CourseError(
            f"TUTORIAL_MAX_COST_USD={raw!r} is not an amount of dollars: set it to a number "
            "such as 1.00 (0 refuses every paid job), or unset it for the default of "
            f"${DEFAULT_MAX_COST_USD:.2f}."
        )
    return limit


def check_training_cost(
    path: str | Path,
    model: str,
    n_epochs: int | str = "auto",
    backend: str | None = None,
    quiet: bool = False,
) -> TrainingEstimate:
    """Print the estimate; on a paid backend, refuse a job that would cost more than the limit.

    `quiet` prints nothing and only refuses: for a guard that runs after the notebook has shown
    the estimate itself."""
    estimate = estimate_training_cost(path, model, n_epochs)
    backend = backend or chosen_backend()
    if not is_paid(backend):
        if not quiet:
            print(f"Estimated cost on the real API: {estimate}. The simulator charges nothing.")
        return estimate
    limit = max_cost_usd()
    if estimate.dollars > limit:
        raise CostLimitExceeded(
            f"This job would cost about ${estimate.dollars:.2f} ({estimate}), over your limit of "
            f"${limit:.2f}. Nothing was created. To allow it, set TUTORIAL_MAX_COST_USD to a "
            "higher figure before starting Jupyter."
        )
    if not quiet:
        print(f"Estimated cost: {estimate}, within your limit of ${limit:.2f}.")
    return estimate


def inference_cost(
    model: str, prompt_tokens: int, completion_tokens: int, batch: bool = False
) -> float:
    """Dollars for requests to `model` (a fine-tuned model at its own catalogue prices), sent
    one by one, or with `batch` through the Batch API."""
    known = find(model)
    if known is None:
        raise UnknownModel(f"No inference price known for {model!r}.")
    dollars = (prompt_tokens * known.input_per_1m + completion_tokens * known.output_per_1m) / 1e6
    return dollars * (BATCH_PRICE_FACTOR if batch else 1.0)


def _dollars(amount: float) -> str:
    """Cents, or four decimals for amounts under a cent (a tiny file still costs something)."""
    return f"${amount:,.2f}" if amount >= 0.01 or amount == 0 else f"${amount:.4f}"
