"""`validate_chat_file`: check a chat (or preference) training file line by line, then measure it.

OpenAI's cookbook checks chat files in a notebook (Chat_finetuning_data_prep); this is the course's
own check, usable from a terminal too. It reports every line that breaks
the training format (counts per kind of error, with the first line numbers of each), then the
statistics of the valid examples: examples without a system or user message, the distributions
of messages, tokens and assistant tokens per example, the examples over the model's training
limit, and what training would cost.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from helpers.costs import TrainingEstimate, estimate_training
from helpers.errors import CourseError, display_name, require_file
from helpers.jsonl_lines import LineError, ReadNotes, iter_jsonl
from helpers.model_catalog import base_model_of, find, training_token_limit
from helpers.prepare_data.conversation import Conversation
from helpers.prepare_data.readers import check_is_text
from helpers.tokens import EncodingUnavailable, count_assistant_tokens, count_messages
from helpers.training_format import check_chat_example, check_preference_example, guess_format

DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"
LINES_SHOWN = 5  # line numbers listed per kind of error


@dataclass
class ErrorSummary:
    code: str
    count: int = 0  # lines with this error
    lines: list[int] = field(default_factory=list)  # the first few
    first_message: str = ""
    last_line: int = field(default=0, repr=False)


@dataclass(frozen=True)
class Distribution:
    min: int
    max: int
    mean: float
    median: float
    p5: float
    p95: float

    @classmethod
    def of(cls, values: list[int]) -> Distribution:
        p5, p95 = np.percentile(values, [5, 95])
        return cls(
            min(values),
            max(values),
            statistics.fmean(values),
            float(statistics.median(values)),
            float(p5),
            float(p95),
        )

    def describe(self) -> str:
        return (
            f"min {self.min:,}, max {self.max:,}; mean {self.mean:,.1f}, median "
            f"{self.median:,.1f}; p5 {self.p5:,.1f}, p95 {self.p95:,.1f}"
        )


@dataclass
class ChatFileReport:
    """What `validate_chat_file` found; `text` is everything it printed."""

    source: Path
    model: str
    data_format: str  # "chat" or "preference"
    n_examples: int = 0  # non-blank lines
    n_valid: int = 0
    errors: dict[str, ErrorSummary] = field(default_factory=dict)
    bad_lines: int = 0  # lines with at least one error
    notes: list[str] = field(default_factory=list)
    missing_system: int = 0
    missing_user: int = 0
    messages_per_example: Distribution | None = None
    tokens_per_example: Distribution | None = None
    assistant_tokens_per_example: Distribution | None = None
    token_limit: int | None = None
    over_limit_lines: list[int] = field(default_factory=list)
    estimate: TrainingEstimate | None = None
    token_error: str | None = None
    lines: list[str] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        """No line breaks the format, and there is at least one example."""
        return not self.errors and self.n_valid > 0

    @property
    def error_counts(self) -> dict[str, int]:
        return {code: summary.count for code, summary in self.errors.items()}

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def __repr__(self) -> str:
        verdict = "no errors" if self.ok else f"{self.bad_lines} bad lines"
        return (
            f"<ChatFileReport {self.source.name}: {self.n_examples} examples, {verdict}, "
            f"{self.data_format} format>"
        )


@dataclass
class _Example:
    line: int
    messages: list[dict]
    assistant: list[dict]  # the messages trained on (the preferred completion for preference)


def validate_chat_file(
    path: Path | str,
    model: str = DEFAULT_MODEL,
    prices: dict[str, float] | None = None,
    n_epochs: int | None = None,
    echo: bool = True,
) -> ChatFileReport:
    """Validate every line of a chat JSONL file, then report statistics, tokens and cost.

    A file whose lines look like preference (DPO) examples is checked against that format.
    Token counts are exact, in `model`'s own encoding; the cost uses the dated price table
    unless `prices` replaces it.
    """
    path = Path(path)
    known = find(model)
    if known is not None and known.data_format == "completion":
        raise CourseError(
            f"{model} is fine-tuned on prompt/completion files, not chat files: check such a "
            f"file with prepare_completions_file (python -m helpers.prepare_data -f FILE --model "
            f"{model})."
        )
    talk = Conversation(quiet=True, echo=echo)
    data = _read_bytes(path)
    read_notes = ReadNotes()
    parsed = list(iter_jsonl(data, notes=read_notes))
    data_format = _file_format(parsed)
    report = ChatFileReport(path, model, data_format, lines=talk.lines)
    report.notes = _notes(path, read_notes)
    report.n_examples = len(parsed)
    check = check_preference_example if data_format == "preference" else check_chat_example
    examples = []
    for number, value in parsed:
        if isinstance(value, LineError):
            report.bad_lines += 1
            _record(report, number, value.code, value.message)
            continue
        problems = check(value)
        for problem in problems:
            _record(report, number, problem.code, problem.message)
        if problems:
            report.bad_lines += 1
        else:
            examples.append(_example(number, value, data_format))
    report.n_valid = len(examples)

    talk.say(
        f"Checking {display_name(path)} as a {data_format} training file: "
        f"{report.n_examples} examples"
    )
    for note in report.notes:
        talk.say(f"- Note: {note}")
    _print_errors(report, path, talk)
    if examples:
        _statistics(report, examples, talk)
        _tokens(report, examples, prices, n_epochs, talk)
    return report


def _read_bytes(path: Path) -> bytes:
    require_file(path)
    data = path.read_bytes()
    check_is_text(path, data)
    return data


def _file_format(parsed) -> str:
    """Preference when the first example that parses looks like one; chat otherwise."""
    first = next((v for _, v in parsed if not isinstance(v, LineError)), None)
    return "preference" if guess_format(first) == "preference" else "chat"


def _notes(path: Path, notes: ReadNotes) -> list[str]:
    found = []
    if path.suffix.lower() != ".jsonl":
        found.append(f"OpenAI expects training files named .jsonl, not {path.suffix or 'no'}.")
    if notes.bom:
        found.append("The file starts with a UTF-8 byte-order mark; it is read as usual.")
    if notes.crlf_lines:
        found.append("The file has Windows line endings (CRLF); they are read as usual.")
    if notes.blank_lines:
        found.append(f"{notes.blank_lines} blank line(s) skipped.")
    return found


def _record(report: ChatFileReport, line: int, code: str, message: str) -> None:
    summary = report.errors.setdefault(code, ErrorSummary(code))
    if summary.last_line == line:
        return  # one count per line, however many times the line breaks the rule
    summary.last_line = line
    summary.count += 1
    if len(summary.lines) < LINES_SHOWN:
        summary.lines.append(line)
    if not summary.first_message:
        summary.first_message = f"{display_name(report.source)}, line {line}: {message}"


def _example(line: int, value: dict, data_format: str) -> _Example:
    if data_format == "preference":
        preferred = value["preferred_completion"]
        return _Example(line, value["input"]["messages"] + preferred, preferred)
    messages = value["messages"]
    return _Example(line, messages, [m for m in messages if m.get("role") == "assistant"])


def _print_errors(report: ChatFileReport, path: Path, talk: Conversation) -> None:
    if not report.errors:
        talk.say("- No errors found: every line is a valid example.")
        return
    kinds = len(report.errors)
    talk.say(
        f"- Errors on {_count(report.bad_lines, 'line')} ({_count(kinds, 'kind')} of error). "
        "OpenAI would refuse this file until they are fixed:",
        error=True,
    )
    for summary in sorted(report.errors.values(), key=lambda s: s.lines[0]):
        more = ", ..." if summary.count > len(summary.lines) else ""
        listed = ", ".join(str(n) for n in summary.lines) + more
        plural = "s" if summary.count != 1 else ""
        line = f"  - {summary.code}: {_count(summary.count, 'line')} (line{plural} {listed})"
        talk.say(line, error=True)
        talk.say(f"      {summary.first_message}", error=True)


def _statistics(report: ChatFileReport, examples: list[_Example], talk: Conversation) -> None:
    report.missing_system = sum(not _has_role(e, "system") for e in examples)
    report.missing_user = sum(not _has_role(e, "user") for e in examples)
    report.messages_per_example = Distribution.of([len(e.messages) for e in examples])
    talk.say()
    talk.say(f"Statistics of the {len(examples)} valid examples:")
    talk.say(f"- Examples without a system message: {report.missing_system}")
    talk.say(f"- Examples without a user message: {report.missing_user}")
    talk.say(f"- Messages per example: {report.messages_per_example.describe()}")


def _tokens(report: ChatFileReport, examples, prices, n_epochs, talk: Conversation) -> None:
    model = report.model
    try:
        totals = [count_messages(e.messages, model) for e in examples]
        assistant = [count_assistant_tokens(e.assistant, model) for e in examples]
    except EncodingUnavailable as exc:
        report.token_error = str(exc)
        talk.say(f"- Token counts unavailable: {exc}")
        return
    report.tokens_per_example = Distribution.of(totals)
    report.assistant_tokens_per_example = Distribution.of(assistant)
    report.token_limit = training_token_limit(model)
    talk.say(f"- Tokens per example: {report.tokens_per_example.describe()}")
    talk.say(f"- Assistant tokens per example: {report.assistant_tokens_per_example.describe()}")
    if report.token_limit is not None:
        report.over_limit_lines = [
            e.line for e, n in zip(examples, totals, strict=True) if n > report.token_limit
        ]
        over = report.over_limit_lines
        limit = f"the {report.token_limit:,}-token training limit of {base_model_of(model)}"
        if over:
            listed = ", ".join(map(str, over[:LINES_SHOWN])) + (", ..." if len(over) > 5 else "")
            verb = "is" if len(over) == 1 else "are"
            talk.say(
                f"- {_count(len(over), 'example')} {verb} over {limit} (lines {listed}); "
                "training would truncate them"
            )
        else:
            talk.say(f"- No example is over {limit}")
    talk.say()
    if report.data_format == "preference":
        talk.say("No cost estimate: the price table covers supervised (chat) files only.")
        return
    report.estimate = estimate_training(totals, model, n_epochs, prices)
    talk.say(f"Training {model} on this file:")
    for line in report.estimate.describe():
        talk.say(line)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _has_role(example: _Example, role: str) -> bool:
    return any(m.get("role") == role for m in example.messages)
