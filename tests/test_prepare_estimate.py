"""The training estimate: billed tokens, OpenAI's default epochs, and the dated prices."""

from __future__ import annotations

import pytest

from helpers.prepare_data import estimate_training


def test_default_epochs_follow_openais_rule():
    assert estimate_training([10] * 10, "gpt-4o-mini").n_epochs == 10  # 100 // 10
    assert estimate_training([10] * 2, "gpt-4o-mini").n_epochs == 25  # min(25, 50)
    assert estimate_training([10] * 34, "gpt-4o-mini").n_epochs == 3
    assert estimate_training([1] * 10_000, "gpt-4o-mini").n_epochs == 2  # 25000 // 10000


def test_billed_tokens_cap_each_example_at_the_limit():
    estimate = estimate_training([100, 70_000], "gpt-4o-mini", n_epochs=2, token_limit=65_536)
    assert estimate.tokens_in_file == 70_100
    assert estimate.tokens_per_epoch == 65_636
    assert estimate.billed_tokens == 131_272
    assert estimate.cost == pytest.approx(131_272 * 3.00 / 1e6)
    assert not estimate.epochs_from_rule and estimate.prices_as_of


def test_prices_come_from_the_dated_table_unless_given():
    assert estimate_training([1000], "babbage-002", n_epochs=1).price_per_1m == 0.40
    assert estimate_training([1000], "ft:gpt-4.1-nano-2025-04-14:org::x").price_per_1m == 1.50
    given = estimate_training([1_000_000], "davinci-002", n_epochs=1, prices={"davinci-002": 1})
    assert (given.cost, given.prices_as_of) == (1.0, None)
    with pytest.raises(KeyError, match="No training price known"):
        estimate_training([1], "gpt-9")
    with pytest.raises(ValueError, match="at least one example"):
        estimate_training([], "gpt-4o-mini")


def test_the_description_reads_well():
    assert "$0.06 at" in estimate_training([750], "gpt-4o-mini", n_epochs=25).describe()[3]
    lines = estimate_training([50, 25], "gpt-4o-mini-2024-07-18").describe()
    assert lines == [
        "- Tokens: 75 in 2 examples, counted exactly with o200k_base (the encoding of "
        "gpt-4o-mini-2024-07-18)",
        "- Epochs: 25 (OpenAI's default for this many examples)",
        "- Billed tokens: 75 per epoch x 25 epochs = 1,875",
        "- Training cost: $0.0056 at $3.00 per 1M training tokens (as of 2026-11-01)",
    ]
