"""The models OpenAI lets you fine-tune, and everything the course knows about each: one table.

For every base model: its dated snapshot and short alias, the format of its training data, its
tokenizer, its context window and training limit, its prices, and when OpenAI published it (as
`/v1/models` lists it). The cost guard, the preparation tool, the token counts and the offline
simulator all read from here.

Prices are US dollars per 1M tokens, from OpenAI's pricing page as of `PRICES_AS_OF`: training
tokens, and the input and output tokens of using a model fine-tuned from the base model. Pass
your own prices to `price_per_1m` when they change.
"""

from __future__ import annotations

from dataclasses import dataclass

import tiktoken

from helpers.errors import CourseError

PRICES_AS_OF = "2026-11-01"


@dataclass(frozen=True)
class Model:
    snapshot: str
    alias: str | None
    data_format: str  # "completion" (prompt/completion lines) or "chat" (messages lines)
    encoding: str  # tiktoken's name for the model's tokenizer
    context_window: int  # tokens one request may hold, prompt and completion together
    training_token_limit: int | None  # the longest example trained on; longer ones are cut
    training_per_1m: float
    input_per_1m: float  # using the fine-tuned model
    output_per_1m: float
    created: int  # the snapshot's creation time in /v1/models (Unix seconds)
    alias_created: int | None = None
    owned_by: str = "system"
    alias_owned_by: str = "system"


# fmt: off
# snapshot, alias, format, encoding, context window, training limit,
# training / input / output price per 1M tokens, created, alias created
MODELS = {
    m.snapshot: m
    for m in (
        Model("babbage-002", None, "completion", "cl100k_base", 16_384, None, 0.40, 1.60, 1.60,
              1692634615),
        Model("davinci-002", None, "completion", "cl100k_base", 16_384, None, 6.00, 12.00, 12.00,
              1692634301),
        Model("gpt-3.5-turbo-0125", "gpt-3.5-turbo", "chat", "cl100k_base", 16_385, 16_385,
              8.00, 3.00, 6.00, 1706048358, 1677610602, alias_owned_by="openai"),
        Model("gpt-4o-mini-2024-07-18", "gpt-4o-mini", "chat", "o200k_base", 128_000, 65_536,
              3.00, 0.30, 1.20, 1721172717, 1721172741),
        Model("gpt-4o-2024-08-06", "gpt-4o", "chat", "o200k_base", 128_000, 65_536,
              25.00, 3.75, 15.00, 1722814719, 1715367049),
        Model("gpt-4.1-2025-04-14", "gpt-4.1", "chat", "o200k_base", 1_047_576, 65_536,
              25.00, 3.00, 12.00, 1744315746, 1744316542),
        Model("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini", "chat", "o200k_base", 1_047_576, 65_536,
              5.00, 0.80, 3.20, 1744317547, 1744318173),
        Model("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano", "chat", "o200k_base", 1_047_576, 65_536,
              1.50, 0.20, 0.80, 1744321025, 1744321707),
    )
}
# fmt: on
ALIASES = {m.alias: m.snapshot for m in MODELS.values() if m.alias}
# Models trained on prompt/completion pairs and served by the legacy completions endpoint.
COMPLETION_MODELS = tuple(m.snapshot for m in MODELS.values() if m.data_format == "completion")


class UnknownModel(CourseError):
    """A model the catalogue does not know (and whose price nobody gave)."""


def base_model_of(model: str) -> str:
    """`ft:gpt-4o-mini-2024-07-18:org:suffix:id` -> `gpt-4o-mini-2024-07-18`."""
    if model.startswith("ft:"):
        return model.split(":")[1]
    return model


def snapshot_of(name: str) -> str | None:
    """`gpt-4o-mini` -> `gpt-4o-mini-2024-07-18`; None for a name that is not a base model."""
    name = ALIASES.get(name, name)
    return name if name in MODELS else None


def find(model: str) -> Model | None:
    """The catalogue's entry for a snapshot, an alias or a model fine-tuned from either."""
    snapshot = snapshot_of(base_model_of(model))
    return MODELS[snapshot] if snapshot else None


def data_format(snapshot: str) -> str:
    """ "completion" for the legacy completions models, else "chat"."""
    return "completion" if snapshot in COMPLETION_MODELS else "chat"


def encoding_name_for(model: str) -> str:
    """The tokenizer of a model; for one outside the catalogue, tiktoken's guess or o200k_base."""
    known = find(model)
    if known:
        return known.encoding
    try:
        return tiktoken.encoding_name_for_model(base_model_of(model))
    except KeyError:
        return "o200k_base"


def training_token_limit(model: str) -> int | None:
    """The longest example a chat model trains on, or None where none is published."""
    known = find(model)
    return known.training_token_limit if known else None


def price_per_1m(model: str, prices: dict[str, float] | None = None) -> float:
    """The training price of `model` (a base model, alias or `ft:` model) per 1M tokens.

    `prices` (model -> dollars) is looked at first; the dated table answers for the rest.
    """
    given = given_price(model, prices)
    if given is not None:
        return given
    known = find(model)
    if known is None:
        listed = ", ".join(sorted(MODELS))
        raise UnknownModel(f"No training price known for {model!r}. Known models: {listed}")
    return known.training_per_1m


def given_price(model: str, prices: dict[str, float] | None) -> float | None:
    """The price `prices` gives for `model` under any of its names, or None."""
    if not prices:
        return None
    known = find(model)
    names = (model, base_model_of(model)) + ((known.snapshot, known.alias) if known else ())
    for name in names:
        if name in prices:
            return prices[name]
    return None
