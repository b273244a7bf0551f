"""Preparing prompt/completion files: the 20 Newsgroups acceptance run, and each check's rules."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers.jsonl_lines import read_jsonl, write_jsonl
from helpers.paths import REPO_ROOT, SHARED_DIR
from helpers.prepare_data import InputFileError, output_files, prepare_completions_file
from helpers.prepare_data import completion_checks as checks
from helpers.prepare_data.completions import split_train_valid

LONG_ROWS = [134, 200, 281, 320, 404, 595, 704, 838, 1113, 1139, 1174]
# The first posts of the validation file OpenAI's classifier walkthrough trained with.
WALKTHROUGH_VALID_START = [
    "From: gld@cunixb.cc.columbia.edu",
    "From: smorris@venus.lerc.nasa.gov",
    "From: golchowy@alchemy.chem.utoronto.ca",
    "From: krattige@hpcc01.corp.hp.com",
    "From: warped@cs.montana.edu",
]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the acceptance run: 20 Newsgroups, built as notebook 01 builds it ------------------------


@pytest.fixture(scope="module")
def sports_file(tmp_path_factory):
    if not (SHARED_DIR / "scikit_learn_data").is_dir() and not os.environ.get("SCIKIT_LEARN_DATA"):
        pytest.skip("the 20 Newsgroups cache (../shared/scikit_learn_data) is absent")
    from helpers.datasets import sports_table

    path = tmp_path_factory.mktemp("sports") / "sport2.jsonl"
    sports_table("train").to_json(path, orient="records", lines=True)
    return path


@pytest.fixture(scope="module")
def prepared(sports_file):
    before = digest(sports_file)
    report = prepare_completions_file(sports_file, quiet=True, echo=False)
    assert digest(sports_file) == before, "the learner's file was modified"
    return report


def test_the_report_matches_the_legacy_tool(prepared):
    assert prepared.n_pairs == 1197
    assert prepared.task_type == "classification"
    assert prepared.finding("long_examples").rows == LONG_ROWS
    assert "These are rows: [134, 200, 281, 320, 404, 595, 704, 838, 1113, 1139, 1174]" in (
        prepared.text
    )
    assert prepared.actions_taken == [
        "Remove 11 long examples",
        "Add a suffix separator `\\n\\n###\\n\\n` to all prompts",
        "Add a whitespace character to the beginning of the completion",
    ]
    assert "`babbage-002` ($0.40 per 1M training tokens)" in prepared.text
    assert prepared.separator == "\n\n###\n\n"
    assert prepared.model == "babbage-002"


def test_the_split_is_the_walkthroughs(prepared, sports_file):
    train_path, valid_path = prepared.written
    assert (train_path.name, valid_path.name) == (
        "sport2_prepared_train.jsonl",
        "sport2_prepared_valid.jsonl",
    )
    assert train_path.parent == sports_file.parent
    train, valid = read_jsonl(train_path), read_jsonl(valid_path)
    assert (len(train), len(valid)) == (948, 238) == (prepared.n_train, prepared.n_valid)
    for row in train + valid:
        assert row["prompt"].endswith("\n\n###\n\n")
        assert row["completion"] in (" baseball", " hockey")
        assert len(row["prompt"]) - len("\n\n###\n\n") + len(row["completion"]) - 1 <= 10_000
    for row, start in zip(valid, WALKTHROUGH_VALID_START, strict=False):
        assert row["prompt"].startswith(start)
    assert not {r["prompt"] for r in train} & {r["prompt"] for r in valid}


def test_tokens_and_cost_are_counted_exactly(prepared):
    if prepared.estimate is None:
        pytest.skip(f"tiktoken's encodings are not available: {prepared.token_error}")
    tiktoken = pytest.importorskip("tiktoken")
    train = read_jsonl(prepared.written[0])
    encoding = tiktoken.get_encoding("cl100k_base")
    tokens = sum(len(encoding.encode(r["prompt"] + r["completion"])) for r in train)
    estimate = prepared.estimate
    # prompt and completion are counted apart; joined they may merge at most one token pair each
    assert 0 <= estimate.tokens_in_file - tokens <= len(train)
    separate = sum(
        len(encoding.encode(r["prompt"])) + len(encoding.encode(r["completion"])) for r in train
    )
    assert estimate.tokens_in_file == separate
    assert (estimate.n_epochs, estimate.encoding) == (3, "cl100k_base")
    assert estimate.billed_tokens == 3 * separate
    assert estimate.dollars == pytest.approx(3 * separate * 0.40 / 1e6)
    assert f"{separate:,} in 948 examples" in prepared.text


def test_the_next_steps_are_printed(prepared):
    text = prepared.text
    assert 'training_file = client.files.create(file=open("sport2_prepared_train.jsonl"' in text
    assert "validation_file=validation_file.id," in text
    assert 'model="babbage-002",' in text
    assert "end each prompt with the separator `\\n\\n###\\n\\n`" in text
    assert "max_tokens=1" in text and "logprobs=2" in text


def test_a_second_run_never_overwrites(prepared, sports_file, tmp_path):
    first = [digest(p) for p in prepared.written]
    again = prepare_completions_file(sports_file, quiet=True, echo=False)
    assert [p.name for p in again.written] == [
        "sport2_prepared_train (1).jsonl",
        "sport2_prepared_valid (1).jsonl",
    ]
    assert [digest(p) for p in prepared.written] == first
    assert [digest(p) for p in again.written] == first  # the same split, deterministically
    elsewhere = prepare_completions_file(sports_file, echo=False, out_dir=tmp_path / "work")
    assert [p.parent for p in elsewhere.written] == [tmp_path / "work"] * 2


def test_reuse_identical_takes_the_same_names_but_never_overwrites_other_data(
    sports_file, tmp_path
):
    out = tmp_path / "reuse"
    first = prepare_completions_file(sports_file, echo=False, out_dir=out, reuse_identical=True)
    before = [digest(p) for p in first.written]
    again = prepare_completions_file(sports_file, echo=False, out_dir=out, reuse_identical=True)
    assert again.written == first.written
    assert [digest(p) for p in again.written] == before
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in first.written)
    # A learner's edit is kept: the next run writes beside it.
    first.written[0].write_text("my own edit\n", encoding="utf-8")
    third = prepare_completions_file(sports_file, echo=False, out_dir=out, reuse_identical=True)
    assert [p.name for p in third.written] == [f"{p.stem} (1).jsonl" for p in first.written]
    assert first.written[0].read_text(encoding="utf-8") == "my own edit\n"


def test_the_command_on_the_sports_file(sports_file, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "helpers.prepare_data", "-f", str(sports_file), "-q"]
        + ["--out-dir", str(tmp_path)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "- Your file contains 1197 prompt-completion pairs" in out
    assert "fine-tune a model for classification" in out
    assert "These are rows: [134, 200, 281, 320, 404, 595, 704, 838, 1113, 1139, 1174]" in out
    assert "- [Recommended] Add a suffix separator `\\n\\n###\\n\\n` to all prompts [Y/n]: Y" in out
    assert "- [Recommended] Add a whitespace character to the beginning" in out
    assert "- sport2_prepared_train.jsonl: 948 examples" in out
    assert "- sport2_prepared_valid.jsonl: 238 examples" in out
    assert str(tmp_path) not in out and result.stderr == ""


def test_the_advice_asks_for_as_many_tokens_as_the_longest_label(tmp_path):
    # In cl100k_base a space and a digit are two tokens: " 1" needs max_tokens=2.
    pytest.importorskip("tiktoken")
    rows = [
        {"prompt": f"Ticket {i} about the printer\n\n###\n\n", "completion": f" {i % 4 + 1}"}
        for i in range(40)
    ]
    path = write_jsonl(tmp_path / "numbers.jsonl", rows)
    text = prepare_completions_file(path, quiet=True, echo=False).text
    assert "max_tokens=2" in text and "max_tokens=1" not in text
    assert "' 4' is 2 tokens for babbage-002" in text and "logprobs=4" in text


# --- asking, declining, writing ---------------------------------------------------------------


def small_classification(tmp_path: Path, n: int = 30) -> Path:
    rows = [
        {"prompt": f"Game report {i}\nscore {i % 7}", "completion": "yes" if i % 3 else "no"}
        for i in range(n)
    ]
    return write_jsonl(tmp_path / "small.jsonl", rows)


def test_declined_actions_are_not_applied(tmp_path):
    answers = iter(["n", "", "y", ""])  # separator: no; space: yes (default); split: y; write: yes
    asked = []

    def ask(question):
        asked.append(question)
        return next(answers)

    path = small_classification(tmp_path)
    report = prepare_completions_file(path, quiet=False, ask=ask, interactive=True, echo=False)
    assert asked[0].startswith("- [Recommended] Add a suffix separator `\\n\\n###\\n\\n`")
    assert [f.accepted for f in report.findings if f.action] == [False, True]
    rows = read_jsonl(report.written[0]) + read_jsonl(report.written[1])
    assert all(not r["prompt"].endswith("###\n\n") for r in rows)
    assert all(r["completion"].startswith(" ") for r in rows)
    assert (report.n_train, report.n_valid) == (24, 6)


def test_a_recommendation_named_in_decline_is_answered_no(tmp_path):
    """Chemical symbols are capitals: lowercasing them would teach "sm" for samarium."""
    symbols = ["H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg"]
    rows = [
        {"prompt": f"Symbol {i + 1} ->", "completion": f" {s}\n"} for i, s in enumerate(symbols)
    ]
    path = write_jsonl(tmp_path / "symbols.jsonl", rows)
    before = path.read_bytes()
    report = prepare_completions_file(
        path, echo=False, decline=["lowercase_completion", "lowercase_prompts"]
    )
    assert "Lowercase all your data in column/key `completion` [Y/n]: n" in report.text
    assert (
        "- Note: no recommended action `lowercase_prompts` to decline in this file" in report.text
    )
    assert report.actions_taken == []
    assert report.written == [] and "No changes are needed" in report.text
    assert path.read_bytes() == before
    accepted = prepare_completions_file(path, echo=False)
    assert read_jsonl(accepted.written[0])[0]["completion"] == " h\n"


def test_one_name_to_decline_may_be_given_alone(tmp_path):
    rows = [{"prompt": f"Symbol {i} ->", "completion": f" {s}\n"} for i, s in enumerate("HCNOF")]
    rows += [{"prompt": f"Symbol {i} ->", "completion": f" {s}\n"} for i, s in enumerate("PSKVY")]
    path = write_jsonl(tmp_path / "symbols.jsonl", rows)
    report = prepare_completions_file(path, echo=False, decline="lowercase_completion")
    assert "Lowercase all your data in column/key `completion` [Y/n]: n" in report.text
    assert "no recommended action `l`" not in report.text and report.written == []


def test_declining_to_write_writes_nothing(tmp_path):
    path = small_classification(tmp_path)
    report = prepare_completions_file(
        path,
        quiet=False,
        ask=lambda q: "n" if "Proceed" in q else "y",
        interactive=True,
        echo=False,
    )
    assert report.written == []
    assert report.lines[-1] == "Nothing was written."
    assert [p.name for p in tmp_path.iterdir()] == ["small.jsonl"]


def test_without_a_terminal_every_action_is_accepted(tmp_path):
    path = small_classification(tmp_path)
    report = prepare_completions_file(path, quiet=False, interactive=False, echo=False)
    assert len(report.actions_taken) == 2
    assert "Add a suffix separator `\\n\\n###\\n\\n` to all prompts [Y/n]: Y" in report.text


def test_a_clean_file_needs_no_changes(tmp_path):
    words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    rows = [{"prompt": f"Story {i} ->", "completion": f" {w}\n"} for i, w in enumerate(words)]
    path = write_jsonl(tmp_path / "clean.jsonl", rows)
    report = prepare_completions_file(path, echo=False)
    assert report.task_type == "conditional generation"
    assert report.written == []
    assert "No changes are needed" in report.text
    assert 'file=open("clean.jsonl", "rb")' in report.text
    assert 'stop=["\\n"]' in report.text
    assert report.model == "davinci-002"


def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    def broken(records):
        yield {"prompt": "a", "completion": "b"}
        raise OSError(28, "No space left on device")

    targets = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    with pytest.raises(OSError, match="No space"):
        output_files.write_jsonl_files({targets[0]: [{"x": 1}], targets[1]: broken(None)})
    assert list(tmp_path.iterdir()) == []


def test_files_appear_with_ordinary_permissions(tmp_path):
    target = tmp_path / "x.jsonl"
    write_jsonl(target, [{"prompt": "é", "completion": " b"}])
    assert target.read_text(encoding="utf-8") == '{"prompt": "é", "completion": " b"}\n'
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_only_completion_models_are_accepted(tmp_path):
    path = small_classification(tmp_path)
    with pytest.raises(Exception, match="not fine-tuned on prompt/completion files"):
        prepare_completions_file(path, model="gpt-4o-mini", echo=False)


# --- the checks, one by one -------------------------------------------------------------------


def frame(prompts, completions) -> pd.DataFrame:
    return pd.DataFrame({"prompt": prompts, "completion": completions}, dtype=object)


def test_task_type_rules():
    assert checks.infer_task_type(frame(["", ""], ["a", "b"])) == checks.OPEN_ENDED
    assert checks.infer_task_type(frame(list("abcdefg"), list("xxxyyyx"))) == checks.CLASSIFICATION
    # 3 distinct completions among 9 is not fewer than 9/3
    assert checks.infer_task_type(frame(list("abcdefghi"), list("xyzxyzxyz"))) == checks.CONDITIONAL


def test_the_separator_offered_is_the_first_absent_one():
    no_newlines = frame(["a b", "c d"], ["x", "y"])
    assert "` ->`" in checks.prompt_separator("f", no_newlines, checks.CONDITIONAL).message + (
        checks.prompt_separator("f", no_newlines, checks.CONDITIONAL).action.description
    )
    newline_and_hashes = frame(["a\nb", "c\n\n###\n\nd"], ["x", "y"])
    finding = checks.prompt_separator("f", newline_and_hashes, checks.CONDITIONAL)
    assert finding.action.description == "Add a suffix separator `\\n\\n===\\n\\n` to all prompts"
    everything = frame(["\n".join(checks.SEPARATORS), "b"], ["x", "y"])
    finding = checks.prompt_separator("f", everything, checks.CONDITIONAL)
    assert finding.action.description == "Add a suffix separator `\\n\\n#\\n\\n` to all prompts"


def test_an_existing_separator_is_reported_with_its_warnings():
    finding = checks.prompt_separator("f", frame(["a ->", "b -> c ->"], ["x", "y"]), "c")
    assert finding.action is None
    assert "All prompts end with the suffix ` ->`" in finding.message
    assert "WARNING" in finding.message
    long = checks.prompt_separator(
        "f", frame(["a\n\nEND OF INPUT", "b\n\nEND OF INPUT"], "xy"), "c"
    )
    assert "It is long" in long.message and "WARNING" not in long.message


def test_identical_prompts_or_completions_are_errors():
    with pytest.raises(InputFileError, match="all prompts are identical"):
        checks.prompt_separator("f.jsonl", frame(["same", "same"], ["x", "y"]), "c")
    with pytest.raises(InputFileError, match="all completions are identical"):
        checks.completion_ending("f.jsonl", frame(["a", "b"], [" z", " z"]), "c")


def test_the_ending_offered_skips_those_present():
    finding = checks.completion_ending("f", frame(["a", "b"], ["x\ny.", "z END"]), "c")
    assert finding.action.description == "Add a suffix ending `***` to all completions"
    assert checks.completion_ending("f", frame(["a", "b"], ["x", "y"]), "classification") is None
    added = finding.action.apply(frame(["a", "b"], ["x\ny.", "z END"]))
    assert list(added["completion"]) == ["x\ny.***", "z END***"]


def test_prefixes():
    prompts = ["Classify this post: one", "Classify this post: two"]
    finding = checks.prompt_prefix(frame(prompts, ["x", "y"]), "c")
    assert finding.action.apply(frame(prompts, ["x", "y"]))["prompt"].tolist() == ["one", "two"]
    short = checks.prompt_prefix(frame(["Q: one", "Q: two"], ["x", "y"]), "c")
    assert short.action is None and "`Q: `" in short.message
    completions = [" Answer: yes", " Answer: no"]
    finding = checks.completion_prefix(frame(["a", "b"], completions), "c")
    fixed = finding.action.apply(frame(["a", "b"], completions))
    assert fixed["completion"].tolist() == [" yes", " no"]
    assert checks.completion_prefix(frame(["a", "b"], [" abc", " abd"]), "c") is None


def test_uppercase_is_judged_per_column():
    shouting = frame(["WHAT IS THIS", "TELL ME"], ["it is fine", "ok"])
    assert checks.uppercase(shouting, "c", "prompt") is not None
    assert checks.uppercase(shouting, "c", "completion") is None
    lowered = checks.uppercase(shouting, "c", "prompt").action.apply(shouting)
    assert lowered["prompt"].tolist() == ["what is this", "tell me"]
    # exactly one third uppercase is not "more than a third"
    assert checks.uppercase(frame(["ABcdef", "x"], ["a", "b"]), "c", "prompt") is None


def test_duplicates_and_long_examples():
    data = frame(["a", "b", "a", "c" * 10_001], ["x", "y", "x", "z"])
    finding = checks.duplicates(data, "c")
    assert finding.rows == [2]
    assert len(finding.action.apply(data)) == 3
    long = checks.long_examples(data, "c", print)
    assert long.rows == [3]
    assert checks.long_examples(data, checks.OPEN_ENDED, print) is None


def test_leading_space_keeps_existing_spaces():
    data = frame(["a", "b"], [" x", "y"])
    fixed = checks.leading_space(data, "c").action.apply(data)
    assert fixed["completion"].tolist() == [" x", " y"]
    assert checks.leading_space(fixed, "c") is None


def test_the_split_rule():
    data = frame([str(i) for i in range(2000)], ["a"] * 2000)
    train, valid = split_train_valid(data)
    assert (len(train), len(valid)) == (1600, 400)
    data = frame([str(i) for i in range(6000)], ["a"] * 6000)
    train, valid = split_train_valid(data)
    assert (len(train), len(valid)) == (5000, 1000)


def test_text_files_and_conversions_from_other_formats(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("one line\r\ntwo lines\r\n\r\nthree\r\n", encoding="utf-8")
    report = prepare_completions_file(path, echo=False)
    assert report.task_type == "open-ended generation"
    assert report.finding("empty_completion").rows == [2]
    rows = read_jsonl(report.written[0])
    assert [r["completion"] for r in rows] == [" one line\n", " two lines\n", " three\n"]
    assert {r["prompt"] for r in rows} == {""}


def test_xlsx_is_read_from_its_first_sheet(tmp_path):
    pytest.importorskip("openpyxl")
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        frame([f"post {i}" for i in range(9)], ["a", "b", "a"] * 3).to_excel(
            writer, sheet_name="data", index=False
        )
        frame(["x"], ["y"]).to_excel(writer, sheet_name="other", index=False)
    report = prepare_completions_file(path, echo=False)
    assert report.n_pairs == 9 and report.source_format == "XLSX"
    assert "only the first, 'data', is read" in report.text
    assert len(read_jsonl(report.written[0])) + len(read_jsonl(report.written[1])) == 9


def test_numbers_and_nulls_in_json(tmp_path):
    rows = [{"prompt": f"p{i}", "completion": i} for i in range(5)]
    rows.append({"prompt": None, "completion": None})
    report = prepare_completions_file(write_jsonl(tmp_path / "n.jsonl", rows), echo=False)
    assert "- 5 values were numbers; they are written as text" in report.text
    assert report.finding("empty_completion").rows == [5]
    assert [r["completion"] for r in read_jsonl(report.written[0])][:2] == [" 0\n", " 1\n"]
