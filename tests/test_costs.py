"""The one training estimate (billed tokens, epochs, prices) and the cost guard built on it."""

import json

import pytest

from helpers import costs, tokens
from helpers.costs import estimate_training
from helpers.errors import CourseError, InputFileError
from helpers.model_catalog import UnknownModel


@pytest.fixture
def chat_file(tmp_path):
    path = tmp_path / "train.jsonl"
    example = {
        "messages": [
            {"role": "system", "content": "You answer in rhyme."},
            {"role": "user", "content": "Tell me about neon."},
            {"role": "assistant", "content": "Neon glows red in a sign that is bright."},
        ]
    }
    path.write_text("\n".join(json.dumps(example) for _ in range(20)) + "\n", encoding="utf-8")
    return path


# --- the estimate -----------------------------------------------------------------------------


def test_default_epochs_follow_openais_rule():
    assert estimate_training([10] * 10, "gpt-4o-mini").n_epochs == 10  # 100 // 10
    assert estimate_training([10] * 2, "gpt-4o-mini").n_epochs == 25  # min(25, 50)
    assert estimate_training([10] * 34, "gpt-4o-mini").n_epochs == 3
    assert estimate_training([1] * 10_000, "gpt-4o-mini").n_epochs == 2  # 25000 // 10000
    assert estimate_training([10] * 34, "gpt-4o-mini", n_epochs="auto").epochs_from_rule


def test_billed_tokens_cap_each_example_at_the_models_training_limit():
    estimate = estimate_training([100, 70_000], "gpt-4o-mini", n_epochs=2)
    assert estimate.tokens_in_file == 70_100
    assert estimate.tokens_per_epoch == 100 + 65_536
    assert estimate.billed_tokens == 131_272
    assert estimate.dollars == pytest.approx(131_272 * 3.00 / 1e6)
    assert not estimate.epochs_from_rule and estimate.prices_as_of
    # babbage-002 has no published limit: every token is billed.
    assert estimate_training([70_000], "babbage-002", n_epochs=1).tokens_per_epoch == 70_000


def test_a_file_with_a_long_chat_example_is_billed_as_training_cuts_it(tmp_path):
    long_text = "neon " * 70_000
    path = tmp_path / "long.jsonl"
    example = {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": ""}]}
    example["messages"][1]["content"] = long_text
    path.write_text(json.dumps(example) + "\n", encoding="utf-8")
    estimate = costs.estimate_training_cost(path, "gpt-4o-mini", n_epochs=1)
    assert estimate.tokens_in_file > 65_536 == estimate.tokens_per_epoch


def test_prices_come_from_the_dated_table_unless_given():
    assert estimate_training([1000], "babbage-002", n_epochs=1).price_per_1m == 0.40
    assert estimate_training([1000], "ft:gpt-4.1-nano-2025-04-14:org::x").price_per_1m == 1.50
    given = estimate_training([1_000_000], "davinci-002", n_epochs=1, prices={"davinci-002": 1})
    assert (given.dollars, given.prices_as_of) == (1.0, None)
    # A price given for one model leaves the others to the dated table.
    other = estimate_training([1_000_000], "babbage-002", n_epochs=1, prices={"davinci-002": 1})
    assert (other.dollars, other.prices_as_of) == (0.40, "2026-11-01")
    with pytest.raises(UnknownModel, match="No training price known"):
        estimate_training([1], "gpt-9")
    with pytest.raises(CourseError, match="at least one example"):
        estimate_training([], "gpt-4o-mini")


@pytest.mark.parametrize("epochs", [0, 51, 10**12, -1, 2.5, True, "many"])
def test_epochs_outside_what_the_api_accepts_are_refused(epochs):
    with pytest.raises(CourseError, match="epochs must be"):
        estimate_training([10], "gpt-4o-mini", n_epochs=epochs)


def test_the_description_reads_well():
    assert "$0.06 at" in estimate_training([750], "gpt-4o-mini", n_epochs=25).describe()[3]
    estimate = estimate_training([50, 25], "gpt-4o-mini-2024-07-18")
    assert estimate.describe() == [
        "- Tokens: 75 in 2 examples, counted exactly with o200k_base (the encoding of "
        "gpt-4o-mini-2024-07-18)",
        "- Epochs: 25 (OpenAI's default for this many examples)",
        "- Billed tokens: 75 per epoch x 25 epochs = 1,875",
        "- Training cost: $0.0056 at $3.00 per 1M training tokens (as of 2026-11-01)",
    ]
    assert str(estimate) == (
        "2 examples, 75 tokens x 25 epochs = 1,875 billed tokens; gpt-4o-mini-2024-07-18 at "
        "$3.00 per 1M tokens: $0.0056 (prices of 2026-11-01)"
    )


def test_estimate_counts_every_token_of_every_epoch(chat_file):
    estimate = costs.estimate_training_cost(chat_file, "gpt-4o-mini-2024-07-18")
    one = json.loads(chat_file.read_text().splitlines()[0])["messages"]
    assert estimate.tokens_per_epoch == 20 * tokens.count_messages(one, "gpt-4o-mini")
    # 20 examples x 3 epochs < 100 example-epochs, so "auto" trains min(25, 100 // 20) epochs.
    assert estimate.n_epochs == 5
    assert estimate.dollars == pytest.approx(estimate.billed_tokens * 3.00 / 1e6)


def test_a_broken_line_is_named_not_a_json_traceback(chat_file):
    with chat_file.open("a", encoding="utf-8") as f:
        f.write('{"messages": [\n')
    with pytest.raises(InputFileError, match=r"train\.jsonl, line 21: is not valid JSON"):
        costs.estimate_training_cost(chat_file, "gpt-4o-mini")


@pytest.mark.parametrize(
    ("line", "model", "message"),
    [
        (
            {"prompt": "Oxygen ->", "completion": " a gas"},
            "gpt-4o-mini",
            r"line 1: holds prompt/completion pairs, but gpt-4o-mini is fine-tuned on chat "
            r"messages \(python -m helpers.prepare_data -f FILE --to-chat converts them\)",
        ),
        (
            {"messages": [{"role": "user", "content": "hi"}]},
            "babbage-002",
            "line 1: holds chat messages, but babbage-002 is fine-tuned on prompt/completion pairs",
        ),
        ({"messages": "hi"}, "gpt-4o-mini", 'line 1, field "messages": "messages" is a string'),
        ({"question": "q", "answer": "a"}, "babbage-002", 'line 1, field "prompt"'),
        (
            {"input": {"messages": []}, "preferred_completion": [], "non_preferred_completion": []},
            "gpt-4o-mini",
            r"preference \(DPO\) examples: .* no cost is estimated",
        ),
    ],
)
def test_a_file_that_does_not_fit_the_model_is_named_not_estimated(tmp_path, line, model, message):
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=message):
        costs.estimate_training_cost(path, model)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(InputFileError, match="nope.jsonl: does not exist"):
        costs.estimate_training_cost(tmp_path / "nope.jsonl", "gpt-4o-mini")


# --- the cost guard ---------------------------------------------------------------------------


def test_simulator_never_refuses(chat_file, monkeypatch, capsys):
    monkeypatch.setenv("TUTORIAL_MAX_COST_USD", "0")
    costs.check_training_cost(chat_file, "gpt-4o-mini", backend="simulator")
    assert "The simulator charges nothing" in capsys.readouterr().out


def test_paid_backend_refuses_over_the_limit_with_the_figure(chat_file, monkeypatch):
    monkeypatch.setenv("TUTORIAL_MAX_COST_USD", "0.0001")
    with pytest.raises(costs.CostLimitExceeded) as refusal:
        costs.check_training_cost(chat_file, "gpt-4o-2024-08-06", n_epochs=10, backend="openai")
    message = str(refusal.value)
    assert "over your limit of $0.00" in message and "Nothing was created" in message
    assert refusal.value._render_traceback_() == [f"CostLimitExceeded: {message}"]


def test_paid_backend_allows_a_cheap_job(chat_file, monkeypatch, capsys):
    monkeypatch.delenv("TUTORIAL_MAX_COST_USD", raising=False)
    estimate = costs.check_training_cost(chat_file, "gpt-4o-mini", backend="openai")
    assert estimate.dollars < costs.DEFAULT_MAX_COST_USD
    assert "within your limit of $1.00" in capsys.readouterr().out


def test_a_quiet_guard_prints_nothing_yet_still_refuses(chat_file, monkeypatch, capsys):
    monkeypatch.delenv("TUTORIAL_MAX_COST_USD", raising=False)
    for backend in ("simulator", "openai"):
        estimate = costs.check_training_cost(chat_file, "gpt-4o-mini", backend=backend, quiet=True)
        assert estimate.dollars > 0
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("TUTORIAL_MAX_COST_USD", "0")
    with pytest.raises(costs.CostLimitExceeded):
        costs.check_training_cost(chat_file, "gpt-4o-mini", backend="openai", quiet=True)


@pytest.mark.parametrize("raw", ["ten dollars", "nan", "NaN", "inf", "-inf", "-1", "1e400"])
def test_a_limit_that_is_not_an_amount_of_dollars_is_refused(raw, monkeypatch, chat_file):
    monkeypatch.setenv("TUTORIAL_MAX_COST_USD", raw)
    with pytest.raises(CourseError, match="is not an amount of dollars"):
        costs.max_cost_usd()
    with pytest.raises(CourseError, match="is not an amount of dollars"):
        costs.check_training_cost(chat_file, "gpt-4o-2024-08-06", n_epochs=50, backend="openai")


def test_a_limit_of_zero_refuses_every_paid_job(monkeypatch, chat_file):
    monkeypatch.setenv("TUTORIAL_MAX_COST_USD", "0")
    assert costs.max_cost_usd() == 0
    with pytest.raises(costs.CostLimitExceeded):
        costs.check_training_cost(chat_file, "gpt-4o-mini", backend="openai")


def test_inference_cost_at_catalogue_prices_and_half_for_a_batch():
    from helpers.costs import inference_cost
    from helpers.model_catalog import UnknownModel

    # babbage-002 fine-tuned: $1.60 per 1M input and output tokens.
    assert inference_cost("ft:babbage-002:org::abc", 1_000_000, 0) == pytest.approx(1.60)
    assert inference_cost("ft:babbage-002:org::abc", 500_000, 500_000, batch=True) == (
        pytest.approx(0.80)
    )
    with pytest.raises(UnknownModel):
        inference_cost("no-such-model", 1, 1)
