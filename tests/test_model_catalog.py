"""The model catalogue: every model's facts in one table, and the look-ups everyone uses."""

import pytest
import tiktoken

from helpers import model_catalog
from helpers.model_catalog import (
    ALIASES,
    COMPLETION_MODELS,
    MODELS,
    UnknownModel,
    base_model_of,
    data_format,
    encoding_name_for,
    find,
    price_per_1m,
    snapshot_of,
    training_token_limit,
)


def test_names_resolve_to_one_entry_whatever_form_they_take():
    entry = MODELS["gpt-4o-mini-2024-07-18"]
    for name in ("gpt-4o-mini", "gpt-4o-mini-2024-07-18", "ft:gpt-4o-mini-2024-07-18:org:x:abc"):
        assert find(name) is entry
    assert base_model_of("ft:babbage-002:org::abc:ckpt-step-8") == "babbage-002"
    assert snapshot_of("gpt-4.1") == "gpt-4.1-2025-04-14"
    assert snapshot_of("gpt-5") is None and find("gpt-5") is None
    assert all(snapshot_of(alias) == snapshot for alias, snapshot in ALIASES.items())


def test_the_legacy_models_are_the_completion_models():
    assert COMPLETION_MODELS == ("babbage-002", "davinci-002")
    assert data_format("babbage-002") == "completion"
    assert data_format("gpt-3.5-turbo-0125") == "chat"


def test_encodings_are_tiktokens_own():
    for snapshot, entry in MODELS.items():
        alias_or_name = entry.alias or snapshot
        try:
            expected = tiktoken.encoding_name_for_model(alias_or_name)
        except KeyError:
            continue  # too new for this tiktoken: the catalogue's entry stands
        assert encoding_name_for(snapshot) == expected, snapshot
    assert encoding_name_for("gpt-9-turbo") == "o200k_base"  # unknown: the newest encoding


def test_limits_prices_and_dates_are_consistent():
    assert training_token_limit("ft:gpt-4.1-mini-2025-04-14:org::x") == 65_536
    assert training_token_limit("gpt-3.5-turbo") == 16_385
    assert training_token_limit("babbage-002") is None and training_token_limit("gpt-9") is None
    for entry in MODELS.values():
        limit = entry.training_token_limit
        assert limit is None or limit <= entry.context_window
        assert entry.training_per_1m > 0 and 0 < entry.input_per_1m <= entry.output_per_1m
        assert entry.alias is None or entry.alias_created is not None
    assert model_catalog.PRICES_AS_OF == "2026-11-01"


def test_prices_given_by_the_caller_come_first_under_any_name():
    assert price_per_1m("babbage-002") == 0.40
    assert price_per_1m("ft:gpt-4o-mini-2024-07-18:org::x", {"gpt-4o-mini": 1.0}) == 1.0
    assert price_per_1m("davinci-002", {"babbage-002": 9.0}) == 6.00
    assert price_per_1m("gpt-9", {"gpt-9": 2.5}) == 2.5
    with pytest.raises(UnknownModel, match="No training price known for 'gpt-9'"):
        price_per_1m("gpt-9")
