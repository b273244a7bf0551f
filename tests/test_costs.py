import json

import pytest

from helpers import costs, tokens


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


def test_estimate_counts_every_token_of_every_epoch(chat_file):
    estimate = costs.estimate_training_cost(chat_file, "gpt-4o-mini-2024-07-18")
    one = json.loads(chat_file.read_text().splitlines()[0])["messages"]
    assert estimate.tokens_per_epoch == 20 * tokens.count_messages(one, "gpt-4o-mini")
    # 20 examples x 3 epochs < 100 example-epochs, so "auto" trains min(25, 100 // 20) epochs.
    assert estimate.n_epochs == 5
    assert estimate.dollars == pytest.approx(estimate.billed_tokens * 3.00 / 1e6)


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


def test_a_limit_that_is_not_a_number_is_explained(monkeypatch):
    monkeypatch.setenv("TUTORIAL_MAX_COST_USD", "ten dollars")
    with pytest.raises(costs.CourseError, match="not a number"):
        costs.max_cost_usd()
