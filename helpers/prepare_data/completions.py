"""`prepare_completions_file`: the legacy `fine_tunes.prepare_data`, for babbage/davinci-002.

Read the file, report what the checks find, apply the actions the learner accepts, split
classification data into training and validation files, write them (never over anything), and
print the tokens, the cost and the call that starts the job.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.costs import TrainingEstimate, estimate_training
from helpers.errors import CourseError, InputFileError, display_name
from helpers.model_catalog import COMPLETION_MODELS, base_model_of
from helpers.prepare_data import completion_checks as checks
from helpers.prepare_data.completion_checks import CLASSIFICATION, Finding
from helpers.prepare_data.conversation import Conversation
from helpers.prepare_data.output_files import jsonl_bytes, prepared_paths, write_jsonl_files
from helpers.prepare_data.readers import Table, read_table
from helpers.tokens import EncodingUnavailable, count_prompt_completion, count_text

MAX_VALID_EXAMPLES = 1000
TRAIN_FRACTION = 0.8
SPLIT_SEED = 42
GENERATION_MODEL = "davinci-002"
MAX_LOGPROBS = 5  # the most the completions API returns


@dataclass
class PreparationReport:
    """What `prepare_completions_file` found and did; `text` is everything it printed."""

    source: Path
    source_format: str
    n_pairs: int
    task_type: str
    findings: list[Finding]
    written: list[Path] = field(default_factory=list)
    n_train: int = 0
    n_valid: int | None = None
    separator: str = ""
    completion_ending: str = ""
    model: str = ""
    estimate: TrainingEstimate | None = None
    token_error: str | None = None
    lines: list[str] = field(default_factory=list, repr=False)

    def finding(self, name: str) -> Finding | None:
        return next((f for f in self.findings if f.name == name), None)

    @property
    def actions_taken(self) -> list[str]:
        return [f.action.description for f in self.findings if f.action and f.accepted]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def __repr__(self) -> str:
        wrote = ", ".join(p.name for p in self.written) or "nothing"
        return (
            f"<PreparationReport {self.source.name}: {self.n_pairs} pairs, {self.task_type}, "
            f"wrote {wrote}>"
        )


def prepare_completions_file(
    path: Path | str,
    quiet: bool = True,
    out_dir: Path | str | None = None,
    model: str | None = None,
    prices: dict[str, float] | None = None,
    n_epochs: int | None = None,
    echo: bool = True,
    ask: Callable[[str], str] | None = None,
    interactive: bool | None = None,
    reuse_identical: bool = False,
    decline: Collection[str] | str = (),
) -> PreparationReport:
    """Analyse a prompt/completion file, fix it with the learner's consent, and write it as JSONL.

    `quiet` accepts every recommended action (the command's `-q`). Files are written beside the
    input, or in `out_dir`. `model` (babbage-002 or davinci-002) is the model the tokens and cost
    are estimated for: by default the cheapest for classification, else davinci-002. `prices`
    replaces the dated price table; `n_epochs` replaces OpenAI's default. `echo=False` prints
    nothing (the report still holds every line); `ask` and `interactive` are for tests.
    `reuse_identical` writes to the names of earlier output files that already hold exactly the
    same data, instead of adding ` (1)`: the course uses it so that running a cell again makes no
    copies. Files with other content are never overwritten either way. `decline` names
    recommended actions to answer no to, as a learner at the keyboard would (the finding's name:
    "lowercase_completion" keeps the completions' capitals when they are chemical symbols, say).
    """
    path = Path(path)
    if model is not None and base_model_of(model) not in COMPLETION_MODELS:
        raise CourseError(
            f"{model} is not fine-tuned on prompt/completion files; these models are: "
            f"{', '.join(COMPLETION_MODELS)}. Chat models need chat files (see --to-chat)."
        )
    talk = Conversation(quiet=quiet, echo=echo, ask=ask, interactive=interactive)
    table = read_table(path)
    n_pairs = len(table.frame)
    talk.say("Analyzing...")
    talk.say()
    findings = necessary_fixes(path, table)
    frame = table.frame
    task = checks.infer_task_type(frame)
    findings += recommendations(path, frame, task, talk, prices)
    for note in table.notes:
        talk.say(f"- Note: {note}")
    for finding in findings:
        talk.say(finding.message)

    # One name alone is one name, not a set of letters.
    declined = frozenset([decline] if isinstance(decline, str) else decline)
    frame = _offer_actions(findings, frame, talk, declined)
    if frame.empty:
        raise InputFileError(path, "has no examples left after the actions; nothing written")
    split = task == CLASSIFICATION and talk.confirm(
        "Would you like to split into training and validation set?"
    )
    report = PreparationReport(
        source=path,
        source_format=table.source_format,
        n_pairs=n_pairs,
        task_type=task,
        findings=findings,
        separator=checks.common_suffix(frame["prompt"]),
        completion_ending=checks.common_suffix(frame["completion"]),
        model=model or _default_model(task, prices),
        lines=talk.lines,
    )
    parts = split_train_valid(frame) if split else [frame]
    report.n_train = len(parts[0])
    report.n_valid = len(parts[1]) if split else None
    if any(f.accepted for f in findings) or split:
        names = _write(path, parts, out_dir, talk, reuse_identical)
        if names is None:
            return report
        report.written = names
    else:
        names = [path]
        talk.say()
        talk.say("No changes are needed: you can fine-tune on your file as it is.")
    _estimate(report, parts[0], n_epochs, prices, talk)
    _print_next_steps(report, names, frame, talk)
    return report


def necessary_fixes(path: Path, table: Table) -> list[Finding]:
    """Count, columns, value types, empty completions, format: applied to `table` now."""
    findings = [checks.count_pairs(table.frame)]
    findings += checks.column_names(path, table)
    findings += [
        checks.text_values(path, table),
        checks.extra_columns(table),
        checks.empty_completions(table),
        checks.format_conversion(table),
    ]
    if table.frame.empty:
        raise InputFileError(path, "has no examples with a completion")
    return [f for f in findings if f]


def recommendations(path: Path, frame: pd.DataFrame, task: str, talk, prices) -> list[Finding]:
    findings = [
        checks.task_type(frame, task, prices),
        checks.duplicates(frame, task),
        checks.long_examples(frame, task, talk.say),
        checks.uppercase(frame, task, "prompt"),
        checks.uppercase(frame, task, "completion"),
        checks.prompt_separator(path, frame, task),
        checks.prompt_prefix(frame, task),
        checks.completion_prefix(frame, task),
        checks.completion_ending(path, frame, task),
        checks.leading_space(frame, task),
    ]
    return [f for f in findings if f]


def split_train_valid(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """The legacy tool's split: `n_train = max(n - 1000, int(0.8 n))`, sampled with seed 42.

    `DataFrame.sample` and the rows it leaves, exactly as the legacy tool did it, so the files
    hold the same examples (in the same order) as those OpenAI's classifier walkthrough used.
    """
    n = len(frame)
    n_train = max(n - MAX_VALID_EXAMPLES, int(n * TRAIN_FRACTION))
    train = frame.sample(n=n_train, random_state=SPLIT_SEED)
    return [train, frame.drop(train.index)]


def _offer_actions(
    findings: list[Finding], frame: pd.DataFrame, talk, decline: frozenset[str] = frozenset()
) -> pd.DataFrame:
    offered = [f for f in findings if f.action]
    talk.say()
    for name in sorted(decline - {f.name for f in offered}):
        talk.say(f"- Note: no recommended action `{name}` to decline in this file")
    if not offered:
        talk.say("No remediations found.")
        return frame
    talk.say("Based on the analysis we will perform the following actions:")
    for finding in offered:
        if finding.action.necessary:  # already applied while reading
            talk.say(f"- [Necessary] {finding.action.description}")
            finding.accepted = True
        elif finding.name in decline:
            finding.accepted = talk.refuse(finding.action.description)
        else:
            finding.accepted = talk.confirm(finding.action.description)
            if finding.accepted:
                frame = finding.action.apply(frame)
    return frame


def _write(path: Path, parts, out_dir, talk, reuse_identical: bool = False) -> list[Path] | None:
    talk.say()
    if not talk.confirm("Your data will be written to a new JSONL file. Proceed?", label=None):
        talk.say("Nothing was written.")
        return None
    suffixes = ["_train", "_valid"] if len(parts) == 2 else [""]
    records = [_records(part) for part in parts]
    contents = [jsonl_bytes(r) for r in records] if reuse_identical else None
    folder = Path(out_dir) if out_dir is not None else None
    names = prepared_paths(path, suffixes, folder, contents=contents)
    write_jsonl_files(dict(zip(names, records, strict=True)))
    shown = " and ".join(f"`{display_name(n)}`" for n in names)
    talk.say()
    talk.say(f"Wrote modified file{'s' if len(names) > 1 else ''} to {shown}")
    for name, part in zip(names, parts, strict=True):
        talk.say(f"- {display_name(name)}: {len(part)} examples")
    return names


def _records(frame: pd.DataFrame) -> list[dict]:
    pairs = zip(frame["prompt"], frame["completion"], strict=True)
    return [{"prompt": p, "completion": c} for p, c in pairs]


def _default_model(task: str, prices) -> str:
    return checks.cheapest_completion_model(prices) if task == CLASSIFICATION else GENERATION_MODEL


def _estimate(report: PreparationReport, train: pd.DataFrame, n_epochs, prices, talk) -> None:
    talk.say()
    talk.say(f"Training on the {len(train)} training examples with {report.model}:")
    try:
        pairs = zip(train["prompt"], train["completion"], strict=True)
        tokens = [count_prompt_completion(p, c, report.model) for p, c in pairs]
    except EncodingUnavailable as exc:
        report.token_error = str(exc)
        talk.say(f"- Token counts unavailable: {exc}")
        return
    report.estimate = estimate_training(tokens, report.model, n_epochs, prices)
    for line in report.estimate.describe():
        talk.say(line)


def _print_next_steps(report: PreparationReport, names, frame, talk) -> None:
    files = [display_name(n) for n in names]
    talk.say()
    talk.say("Now start the fine-tuning job with these files:")
    talk.say()
    talk.say("    from openai import OpenAI")
    talk.say()
    talk.say("    client = OpenAI()")
    roles = ["training_file", "validation_file"][: len(files)]
    for role, name in zip(roles, files, strict=True):
        talk.say(
            f'    {role} = client.files.create(file=open("{name}", "rb"), purpose="fine-tune")'
        )
    talk.say("    job = client.fine_tuning.jobs.create(")
    talk.say(f'        model="{report.model}",')
    for role in roles:
        talk.say(f"        {role}={role}.id,")
    talk.say("    )")
    talk.say()
    if report.separator:
        talk.say(
            f"After you have fine-tuned a model, end each prompt with the separator "
            f"`{checks.shown(report.separator)}` as in training, so that the model starts the "
            "completion instead of continuing the prompt."
        )
    if report.completion_ending:
        talk.say(
            f'Pass stop=["{checks.shown(report.completion_ending)}"] so that the generated text '
            "ends where your training completions did."
        )
    if report.task_type == CLASSIFICATION:
        talk.say(_classification_advice(frame["completion"].unique(), report.model))


def _classification_advice(labels, model: str) -> str:
    """How to ask a classifier for its answer: as many tokens as the longest label takes (a
    space and a digit are two tokens in cl100k_base), and a logprob per class."""
    logprobs = f"logprobs={min(len(labels), MAX_LOGPROBS)}"
    try:
        lengths = {label: count_text(label, model) for label in labels}
    except EncodingUnavailable:  # the estimate above says why; the advice stays general
        return (
            "For classification, ask for as many tokens as the longest class label takes "
            f"(with temperature=0), and {logprobs} to see how likely the model finds each class."
        )
    longest = max(lengths, key=lambda label: (lengths[label], label))
    if lengths[longest] == 1:
        return (
            "For classification, ask for a single token, max_tokens=1 (with temperature=0), and "
            f"{logprobs} to see how likely the model finds each class."
        )
    return (
        f"For classification, ask for max_tokens={lengths[longest]} (with temperature=0): the "
        f"class label {longest!r} is {lengths[longest]} tokens for {model}. Set {logprobs} and "
        "read each class's chance at the first token where the labels differ."
    )
