"""What a training file costs: its tokens, the default epochs, the billed tokens and dollars."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from helpers.pricing import PRICES_AS_OF, price_per_1m, training_cost
from helpers.tokens import default_epochs, encoding_name_for


@dataclass(frozen=True)
class TrainingEstimate:
    model: str
    encoding: str
    n_examples: int
    tokens_in_file: int  # every token of every example, counted exactly
    tokens_per_epoch: int  # what is billed per epoch (long chat examples are truncated)
    n_epochs: int
    epochs_from_rule: bool  # True when n_epochs is OpenAI's "auto" default
    billed_tokens: int
    price_per_1m: float
    cost: float
    prices_as_of: str | None  # None when the price came from the caller

    def describe(self) -> list[str]:
        how = "OpenAI's default for this many examples" if self.epochs_from_rule else "as given"
        dated = f"as of {self.prices_as_of}" if self.prices_as_of else "the price you gave"
        lines = [
            f"- Tokens: {self.tokens_in_file:,} in {self.n_examples:,} examples, counted "
            f"exactly with {self.encoding} (the encoding of {self.model})",
            f"- Epochs: {self.n_epochs} ({how})",
            f"- Billed tokens: {self.tokens_per_epoch:,} per epoch x {self.n_epochs} epochs = "
            f"{self.billed_tokens:,}",
            f"- Training cost: {_dollars(self.cost)} at ${self.price_per_1m:.2f} per 1M training "
            f"tokens ({dated})",
        ]
        return lines


def estimate_training(
    example_tokens: Sequence[int],
    model: str,
    n_epochs: int | None = None,
    prices: dict[str, float] | None = None,
    token_limit: int | None = None,
) -> TrainingEstimate:
    """The estimate for a file whose examples have `example_tokens` tokens each.

    `token_limit` caps each example at what the model trains on; `prices` overrides the dated
    price table (`helpers.pricing`).
    """
    if not example_tokens:
        raise ValueError("A training file needs at least one example")
    billed_each = [min(n, token_limit) if token_limit else n for n in example_tokens]
    per_epoch = sum(billed_each)
    epochs = n_epochs if n_epochs is not None else default_epochs(len(example_tokens))
    return TrainingEstimate(
        model=model,
        encoding=encoding_name_for(model),
        n_examples=len(example_tokens),
        tokens_in_file=sum(example_tokens),
        tokens_per_epoch=per_epoch,
        n_epochs=epochs,
        epochs_from_rule=n_epochs is None,
        billed_tokens=per_epoch * epochs,
        price_per_1m=price_per_1m(model, prices),
        cost=training_cost(per_epoch, epochs, model, prices),
        prices_as_of=None if prices else PRICES_AS_OF,
    )


def _dollars(amount: float) -> str:
    """Cents, or four decimals for amounts under a cent (a tiny file still costs something)."""
    return f"${amount:,.2f}" if amount >= 0.01 or amount == 0 else f"${amount:.4f}"
