"""Chat files: validation counts and lines, exact token statistics, cost, and conversion."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.chat_conversion import completions_to_chat
from helpers.errors import CourseError
from helpers.prepare_data import chat_report as chat_report_module
from helpers.prepare_data import convert_completions_file, validate_chat_file
from helpers.prepare_data.command import main
from helpers.tokens import EncodingUnavailable
from helpers.training_format import check_chat_example

SYSTEM = {"role": "system", "content": "You answer with a limerick."}
USER = {"role": "user", "content": "Tell me about neon."}
ASSISTANT = {
    "role": "assistant",
    "content": "A gas with a glow in the night,\nIt lit up the signs on the right.",
}


def write_lines(path: Path, examples) -> Path:
    lines = [e if isinstance(e, str) else json.dumps(e) for e in examples]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiktoken():
    module = pytest.importorskip("tiktoken")
    try:
        module.get_encoding("o200k_base")
        module.get_encoding("cl100k_base")
    except Exception:
        pytest.skip("the tiktoken encodings are not cached (set TIKTOKEN_CACHE_DIR)")
    return module


def chat_tokens(encoding, messages) -> int:
    """OpenAI's formula, spelled out: 3 per message, its texts, and 3 to prime the reply."""
    return 3 + sum(3 + sum(len(encoding.encode(v)) for v in m.values()) for m in messages)


def test_exact_token_statistics(tmp_path, tiktoken):
    examples = [
        {"messages": [SYSTEM, USER, ASSISTANT]},
        {"messages": [USER, ASSISTANT]},
        {"messages": [SYSTEM, ASSISTANT, USER, ASSISTANT]},
    ]
    path = write_lines(tmp_path / "limericks.jsonl", examples)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    report = validate_chat_file(path, echo=False)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before

    encoding = tiktoken.get_encoding("o200k_base")
    totals = [chat_tokens(encoding, e["messages"]) for e in examples]
    reply = len(encoding.encode(ASSISTANT["content"]))
    assert report.ok and report.errors == {}
    assert (report.n_examples, report.n_valid) == (3, 3)
    assert (report.missing_system, report.missing_user) == (1, 0)
    messages = report.messages_per_example
    assert (messages.min, messages.max, messages.mean, messages.median) == (2, 4, 3.0, 3.0)
    tokens = report.tokens_per_example
    assert (tokens.min, tokens.max, tokens.median) == (min(totals), max(totals), sorted(totals)[1])
    assert tokens.mean == pytest.approx(sum(totals) / 3)
    assistant = report.assistant_tokens_per_example
    assert (assistant.min, assistant.max) == (reply, 2 * reply)
    assert report.token_limit == 65_536 and report.over_limit_lines == []

    estimate = report.estimate
    assert estimate.tokens_in_file == estimate.tokens_per_epoch == sum(totals)
    assert estimate.n_epochs == 25  # 3 examples: min(25, 100 // 3)
    assert estimate.billed_tokens == 25 * sum(totals)
    assert estimate.dollars == pytest.approx(25 * sum(totals) * 3.00 / 1e6)
    assert "- No errors found: every line is a valid example." in report.text
    assert f"- Billed tokens: {sum(totals):,} per epoch x 25 epochs" in report.text


def test_long_examples_are_over_the_limit_and_billed_truncated(tmp_path, tiktoken):
    long_text = " hello" * 17_000
    examples = [{"messages": [USER, ASSISTANT]}] * 2
    examples.append({"messages": [{"role": "user", "content": long_text}, ASSISTANT]})
    path = write_lines(tmp_path / "long.jsonl", examples)
    report = validate_chat_file(path, model="gpt-3.5-turbo", echo=False)
    assert report.token_limit == 16_385
    assert report.over_limit_lines == [3]
    assert report.estimate.encoding == "cl100k_base"
    longest = report.tokens_per_example.max
    assert longest > 17_000
    assert report.estimate.tokens_in_file - report.estimate.tokens_per_epoch == longest - 16_385
    assert "1 example is over the 16,385-token training limit" in report.text
    assert "training would truncate them" in report.text


def test_errors_are_counted_by_kind_with_their_first_lines(tmp_path):
    examples = [{"messages": [USER, ASSISTANT]}]
    examples += [{"messages": [USER]}] * 7  # lines 2-8
    examples += ['{"messages": [}', {"messages": [{**USER, "weight": 1}, {**ASSISTANT, "w": 1}]}]
    path = write_lines(tmp_path / "bad.jsonl", examples)
    report = validate_chat_file(path, echo=False)
    assert not report.ok
    assert report.error_counts == {
        "missing_assistant_message": 7,
        "invalid_json": 1,
        "weight_on_non_assistant": 1,
        "message_unrecognized_key": 1,
    }
    assert report.errors["missing_assistant_message"].lines == [2, 3, 4, 5, 6]
    assert report.bad_lines == 9 and report.n_valid == 1
    assert "missing_assistant_message: 7 lines (lines 2, 3, 4, 5, 6, ...)" in report.text
    assert "bad.jsonl, line 9: is not valid JSON" in report.text
    assert "Errors on 9 lines (4 kinds of error)" in report.text


def test_a_line_with_the_same_error_twice_counts_once(tmp_path):
    bad = {"messages": [{**USER, "a": 1, "b": 2}, ASSISTANT]}
    report = validate_chat_file(write_lines(tmp_path / "twice.jsonl", [bad] * 7), echo=False)
    summary = report.errors["message_unrecognized_key"]
    assert summary.count == 7 and summary.lines == [1, 2, 3, 4, 5]


def test_preference_files_are_checked_as_such(tmp_path, tiktoken):
    good = {
        "input": {"messages": [USER]},
        "preferred_completion": [ASSISTANT],
        "non_preferred_completion": [{"role": "assistant", "content": "Neon is a gas."}],
    }
    bad = {**good, "preferred_completion": []}
    report = validate_chat_file(write_lines(tmp_path / "dpo.jsonl", [good, bad]), echo=False)
    assert report.data_format == "preference"
    assert report.error_counts == {"invalid_preference_completion": 1}
    encoding = tiktoken.get_encoding("o200k_base")
    assert report.tokens_per_example.max == chat_tokens(encoding, [USER, ASSISTANT])
    assert report.estimate is None and "No cost estimate" in report.text


def test_an_unloadable_encoding_is_said_plainly(tmp_path, monkeypatch):
    def unavailable(messages, model):
        raise EncodingUnavailable("Could not load the tiktoken encoding 'o200k_base'.")

    monkeypatch.setattr(chat_report_module, "count_messages", unavailable)
    path = write_lines(tmp_path / "chat.jsonl", [{"messages": [USER, ASSISTANT]}])
    report = validate_chat_file(path, echo=False)
    assert report.tokens_per_example is None and report.estimate is None
    assert report.token_error.startswith("Could not load")
    assert "- Token counts unavailable: Could not load the tiktoken encoding" in report.text
    assert report.messages_per_example is not None


def test_the_command_checks_chat_files_and_takes_prices_and_epochs(tmp_path, capsys, tiktoken):
    path = write_lines(tmp_path / "chat.jsonl", [{"messages": [USER, ASSISTANT]}] * 4)
    status = main(
        ["-f", str(path), "--model", "gpt-4.1-nano", "--price-per-1m", "2", "--epochs", "2"]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "- Epochs: 2 (as given)" in out
    assert "at $2.00 per 1M training tokens (the price you gave)" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chat.jsonl"]
    assert main(["-f", str(path), "--model", "gpt-9"]) == 1
    assert "No training price known for 'gpt-9'" in capsys.readouterr().err
    assert main(["-f", str(path), "--price-per-1m", "2"]) == 1
    assert "--price-per-1m needs --model" in capsys.readouterr().err


def test_completions_to_chat():
    rows = [
        {"prompt": "Post one\n\n###\n\n", "completion": " baseball"},
        {"prompt": "Post two", "completion": " hockey"},
    ]
    examples = completions_to_chat(rows, system="Classify the post.", separator="\n\n###\n\n")
    assert examples[0] == {
        "messages": [
            {"role": "system", "content": "Classify the post."},
            {"role": "user", "content": "Post one"},
            {"role": "assistant", "content": "baseball"},
        ]
    }
    assert examples[1]["messages"][1:] == [
        {"role": "user", "content": "Post two"},
        {"role": "assistant", "content": "hockey"},
    ]
    plain = completions_to_chat(rows, strip_leading_space=False)
    assert [m["role"] for m in plain[0]["messages"]] == ["user", "assistant"]
    assert plain[0]["messages"][1]["content"] == " baseball"
    assert all(check_chat_example(e) == [] for e in examples + plain)
    with pytest.raises(CourseError, match="Row 0 has no 'completion'"):
        completions_to_chat([{"prompt": "x"}])
    # A missing value in a table (pandas' NaN) is shown as it is, not as a type's name.
    with pytest.raises(CourseError, match="Row 1: 'completion' is nan, not text"):
        completions_to_chat(pd.DataFrame({"prompt": ["x", "y"], "completion": [" a", None]}))


def test_to_chat_writes_a_valid_chat_file(tmp_path, capsys, tiktoken):
    rows = [{"prompt": f"Post {i}\n\n###\n\n", "completion": f" label{i % 2}\n"} for i in range(6)]
    source = tmp_path / "pairs.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    status = main(["-f", str(source), "--to-chat", "--system", "Label it."])
    out = capsys.readouterr().out
    assert status == 0
    assert "- Removed the separator `\\n\\n###\\n\\n`" in out
    assert "- Removed the ending `\\n`" in out
    target = tmp_path / "pairs_chat.jsonl"
    first = json.loads(target.read_text(encoding="utf-8").splitlines()[0])
    assert first["messages"][1:] == [
        {"role": "user", "content": "Post 0"},
        {"role": "assistant", "content": "label0"},
    ]
    assert "Checking pairs_chat.jsonl as a chat training file: 6 examples" in out
    again = convert_completions_file(source, echo=False)
    assert again.name == "pairs_chat (1).jsonl"


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["messages", "role", "content", "weight", "x"]), inner)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(_values, min_size=1, max_size=5))
def test_no_lines_make_the_chat_check_raise(values):
    with tempfile.TemporaryDirectory() as folder:
        path = write_lines(Path(folder) / "fuzz.jsonl", [json.dumps(v) for v in values])
        report = validate_chat_file(path, echo=False)
        assert report.n_examples == len(values)
        assert report.n_valid + report.bad_lines == len(values)


def test_the_limerick_file_has_no_errors_and_exact_statistics(tmp_path, tiktoken):
    limericks = pytest.importorskip("helpers.limericks")
    path = limericks.write_chat_files(tmp_path)["train"]
    examples = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    report = validate_chat_file(path, echo=False)
    assert report.ok and report.n_examples == report.n_valid == len(examples)
    encoding = tiktoken.get_encoding("o200k_base")
    totals = [chat_tokens(encoding, e["messages"]) for e in examples]
    replies = [len(encoding.encode(e["messages"][-1]["content"])) for e in examples]
    assert (report.tokens_per_example.min, report.tokens_per_example.max) == (
        min(totals),
        max(totals),
    )
    assert report.tokens_per_example.mean == pytest.approx(sum(totals) / len(totals))
    assert report.assistant_tokens_per_example.max == max(replies)
    assert report.estimate.tokens_in_file == sum(totals)
    assert report.estimate.billed_tokens == 3 * sum(totals)
    assert "- No errors found: every line is a valid example." in report.text


def test_a_completion_model_is_refused_before_reading(tmp_path):
    path = tmp_path / "chat.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n', encoding="utf-8")
    with pytest.raises(CourseError, match="babbage-002 is fine-tuned on prompt/completion files"):
        validate_chat_file(path, model="babbage-002", echo=False)
