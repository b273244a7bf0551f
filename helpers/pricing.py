"""Training prices, in one dated table, and the cost of a fine-tuning job.

Prices are US dollars per 1M training tokens, from OpenAI's pricing page as of the date below.
Pass your own table to `training_cost` when prices change.
"""

from __future__ import annotations

PRICES_AS_OF = "2026-11-01"

TRAINING_PRICE_PER_1M = {
    "gpt-4o-mini-2024-07-18": 3.00,
    "gpt-4.1-mini-2025-04-14": 5.00,
    "gpt-4.1-nano-2025-04-14": 1.50,
    "gpt-4o-2024-08-06": 25.00,
    "gpt-4.1-2025-04-14": 25.00,
    "gpt-3.5-turbo-0125": 8.00,
    "davinci-002": 6.00,
    "babbage-002": 0.40,
}

# Short names the API accepts, mapped to the snapshot that is billed.
ALIASES = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
}


def price_per_1m(model: str, prices: dict[str, float] | None = None) -> float:
    """The training price of `model` (a base model, alias or `ft:` model) per 1M tokens."""
    table = TRAINING_PRICE_PER_1M if prices is None else prices
    base = base_model_of(model)
    for name in (model, base, ALIASES.get(base, base)):
        if name in table:
            return table[name]
    known = ", ".join(sorted(table))
    raise KeyError(f"No training price known for {model!r}. Known models: {known}")


def base_model_of(model: str) -> str:
    """`ft:gpt-4o-mini-2024-07-18:org:suffix:id` -> `gpt-4o-mini-2024-07-18`."""
    if model.startswith("ft:"):
        return model.split(":")[1]
    return model


def training_cost(
    tokens_per_epoch: int, n_epochs: int, model: str, prices: dict[str, float] | None = None
) -> float:
    """Dollars billed for training: every token of the file, once per epoch."""
    return tokens_per_epoch * n_epochs * price_per_1m(model, prices) / 1_000_000


# Using a fine-tuned model: US dollars per 1M input and output tokens, same date as above.
FINE_TUNED_USAGE_PER_1M = {
    "babbage-002": {"input": 1.60, "output": 1.60},
    "davinci-002": {"input": 12.00, "output": 12.00},
    "gpt-4o-mini-2024-07-18": {"input": 0.30, "output": 1.20},
}
