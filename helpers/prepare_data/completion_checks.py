"""The analysis of a prompt/completion table: the legacy tool's checks, one function each.

Each check looks at the table and returns a `Finding`: what it saw, and the action it
recommends (a function from table to table). Necessary actions (column names, extra columns,
empty completions) are applied straight away, as the legacy tool did, so that every later check
sees clean columns; recommended ones are applied after the learner agrees.
Rows are counted from 0, in the table as read, as the legacy tool reported them.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from helpers.errors import InputFileError
from helpers.model_catalog import COMPLETION_MODELS, price_per_1m
from helpers.prepare_data.readers import Table

FIELDS = ("prompt", "completion")
MIN_EXAMPLES = 100
LONG_EXAMPLE_CHARS = 10_000
LONG_SUFFIX_CHARS = 10
MIN_PROMPT_PREFIX_TO_REMOVE = 13  # "longer than 12 characters"
MIN_COMPLETION_PREFIX_TO_REMOVE = 5
CLASSIFICATION_RATIO = 3  # classification: fewer than n/3 distinct completions
SEPARATORS = (" ->", "\n\n###\n\n", "\n\n===\n\n", "\n\n---\n\n", "\n\n===>\n\n", "\n\n--->\n\n")
ENDINGS = ("\n", ".", " END", "***", "+++", "&&&", "$$$", "@@@", "%%%")

CLASSIFICATION = "classification"
OPEN_ENDED = "open-ended generation"
CONDITIONAL = "conditional generation"


@dataclass
class Action:
    description: str
    apply: Callable[[pd.DataFrame], pd.DataFrame] = field(repr=False)
    necessary: bool = False


@dataclass
class Finding:
    name: str
    message: str
    action: Action | None = None
    rows: list[int] = field(default_factory=list)
    accepted: bool | None = None  # set once the action was offered


def shown(text: str) -> str:
    """Separators and endings are mostly newlines: show them the way they are typed."""
    return text.replace("\n", "\\n")


# --- reading the table into clean prompt/completion columns (necessary fixes) ---------------


def count_pairs(frame: pd.DataFrame) -> Finding:
    message = f"- Your file contains {len(frame)} prompt-completion pairs"
    if len(frame) < MIN_EXAMPLES:
        message += (
            ". We recommend at least a few hundred examples: quality tends to grow "
            "steadily with each doubling of the data"
        )
    return Finding("num_examples", message)


def column_names(path, table: Table) -> list[Finding]:
    """Required columns, lowercased when only their case is wrong; an error when missing."""
    findings = []
    columns = [str(c) for c in table.frame.columns]
    table.frame.columns = columns
    for name in FIELDS:
        if name in columns:
            continue
        matches = [c for c in columns if c.lower() == name]
        if not matches:
            found = ", ".join(f"`{c}`" for c in columns) or "none"
            advice = "Name the columns `prompt` and `completion`, then run this again"
            if "messages" in columns:
                advice = (
                    'These are chat examples ("messages"): write them as JSONL, one example per '
                    "line, and this command checks them as a chat file"
                )
            raise InputFileError(path, f"has no `{name}` column (or key); found: {found}. {advice}")
        table.frame = table.frame.rename(columns={matches[0]: name})
        table.missing = {(row, name if c == matches[0] else c) for row, c in table.missing}
        findings.append(
            Finding(
                f"{name}_column_case",
                f"- The `{matches[0]}` column/key should be lowercase: `{name}`",
                Action(f"Lowercase the column name `{matches[0]}` to `{name}`", _same, True),
            )
        )
    return findings


def extra_columns(table: Table) -> Finding | None:
    extra = [c for c in table.frame.columns if c not in FIELDS]
    if not extra:
        return None
    table.frame = table.frame[list(FIELDS)]
    return Finding(
        "additional_columns",
        f"- The file should have exactly two columns/keys, prompt and completion. It also has: "
        f"{', '.join(f'`{c}`' for c in extra)}",
        Action(f"Remove the additional columns/keys: {', '.join(extra)}", _same, True),
    )


def text_values(path, table: Table) -> Finding | None:
    """Every prompt and completion as text. Null is empty; a number is written as text."""
    numbers = 0
    for name in FIELDS:
        values = []
        for row, value in enumerate(table.frame[name]):
            if (row, name) in table.missing:
                raise _row_error(path, table, row, name, _missing_key_message(table, row, name))
            if value is None or isinstance(value, str):
                values.append(value or "")
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                numbers += 1
                values.append(str(value))
            else:
                kind = {dict: "an object", list: "a list", bool: "a boolean"}.get(type(value))
                raise _row_error(
                    path, table, row, name, f"is {kind or type(value).__name__}; it must be text"
                )
        table.frame[name] = pd.Series(values, index=table.frame.index, dtype=object)
    if not numbers:
        return None
    return Finding("numbers_as_text", f"- {numbers} values were numbers; they are written as text")


def empty_completions(table: Table) -> Finding | None:
    empty = _positions(table.frame["completion"] == "")
    if not empty:
        return None
    table.frame = table.frame[table.frame["completion"] != ""]
    return Finding(
        "empty_completion",
        f"- `completion` should not be empty. These rows are: {empty}",
        Action(f"Remove {len(empty)} rows with empty completions", _same, True),
        rows=empty,
    )


def format_conversion(table: Table) -> Finding | None:
    if table.source_format == "JSONL":
        return None
    return Finding(
        "format",
        f"- Your file is {table.source_format}; fine-tuning files are JSONL",
        Action(f"Your format `{table.source_format}` will be converted to `JSONL`", _same, True),
    )


# --- the analysis (recommended actions) -------------------------------------------------------


def infer_task_type(frame: pd.DataFrame) -> str:
    if frame["prompt"].str.len().sum() == 0:
        return OPEN_ENDED
    if frame["completion"].nunique() < len(frame) / CLASSIFICATION_RATIO:
        return CLASSIFICATION
    return CONDITIONAL


def cheapest_completion_model(prices: dict[str, float] | None = None) -> str:
    return min(COMPLETION_MODELS, key=lambda model: price_per_1m(model, prices))


def task_type(frame: pd.DataFrame, task: str, prices=None) -> Finding:
    message = f"- Based on your data it seems like you're trying to fine-tune a model for {task}"
    if task == CLASSIFICATION:
        model = cheapest_completion_model(prices)
        message += (
            f"\n- For classification, we recommend the cheapest model you can fine-tune on "
            f"prompt/completion pairs, `{model}` (${price_per_1m(model, prices):.2f} per 1M "
            "training tokens)"
            "\n- For classification, keep a held-out set that is not trained on: the model's "
            "accuracy on it estimates how well it will do on new data"
        )
    return Finding("task_type", message)


def duplicates(frame: pd.DataFrame, task: str) -> Finding | None:
    rows = _positions(frame.duplicated(subset=list(FIELDS)))
    if not rows:
        return None
    return Finding(
        "duplicated_rows",
        f"- There are {len(rows)} duplicated prompt-completion pairs. These are rows: {rows}",
        Action(f"Remove {len(rows)} duplicate rows", lambda f: f.drop_duplicates(list(FIELDS))),
        rows=rows,
    )


def long_examples(frame: pd.DataFrame, task: str, say: Callable[[str], None]) -> Finding | None:
    if task == OPEN_ENDED:
        return None
    rows = _long_rows(frame)
    if not rows:
        return None

    def remove(current: pd.DataFrame) -> pd.DataFrame:
        now = _long_rows(current)
        if now != rows:
            say(f"  Earlier actions moved the long examples; now removing rows: {now}")
        return current.drop(current.index[now])

    return Finding(
        "long_examples",
        f"- There are {len(rows)} examples that are very long (prompt and completion over "
        f"{LONG_EXAMPLE_CHARS:,} characters together). These are rows: {rows}\n"
        "  Long examples cost the most to train on; for classification the start of a text "
        "usually says enough",
        Action(f"Remove {len(rows)} long examples", remove),
        rows=rows,
    )


def uppercase(frame: pd.DataFrame, task: str, column: str) -> Finding | None:
    letters = Counter("".join(frame[column]))
    upper = sum(n for c, n in letters.items() if c.isalpha() and c.isupper())
    lower = sum(n for c, n in letters.items() if c.isalpha() and c.islower())
    if upper * 2 <= lower:
        return None
    return Finding(
        f"lowercase_{column}",
        f"- More than a third of the letters in `{column}` are uppercase. Text in capitals tends "
        "to train worse than ordinary mixed case; lowercase it if that makes sense for your data",
        Action(
            f"Lowercase all your data in column/key `{column}`",
            lambda f: f.assign(**{column: f[column].str.lower()}),
        ),
    )


def prompt_separator(path, frame: pd.DataFrame, task: str) -> Finding | None:
    if task == OPEN_ENDED:
        return None
    prompts = frame["prompt"]
    suffix = common_suffix(prompts)
    if (prompts == suffix).all():
        raise InputFileError(
            path,
            f"all prompts are identical (`{shown(suffix)}`). Leave them empty for open-ended "
            "generation, or make them differ",
        )
    candidates = [s for s in SEPARATORS if s != " ->" or not prompts.str.contains("\n").any()]
    suggested = first_absent(prompts, candidates, lambda k: f"\n\n{'#' * k}\n\n")
    if suffix:
        message = f"- All prompts end with the suffix `{shown(suffix)}`"
        if len(suffix) > LONG_SUFFIX_CHARS:
            message += f". It is long; consider a shorter one such as `{shown(suggested)}`"
        if prompts.str[: -len(suffix)].str.contains(suffix, regex=False).any():
            message += (
                f"\n  WARNING: some prompts also contain `{shown(suffix)}` before their end, so "
                "the model cannot tell where a prompt stops. Use a separator found nowhere else"
            )
        return Finding("prompt_separator", message)
    return Finding(
        "prompt_separator",
        "- Your data does not contain a common separator at the end of your prompts. A fixed "
        "string at the end of every prompt shows the model where the prompt stops and the "
        "completion begins. If you intend open-ended generation, leave the prompts empty instead",
        Action(
            f"Add a suffix separator `{shown(suggested)}` to all prompts",
            lambda f: f.assign(prompt=f["prompt"] + suggested),
        ),
    )


def prompt_prefix(frame: pd.DataFrame, task: str) -> Finding | None:
    prefix = os.path.commonprefix(list(frame["prompt"]))
    if not prefix or (frame["prompt"] == prefix).all():
        return None
    message = f"- All prompts start with the prefix `{shown(prefix)}`"
    if len(prefix) < MIN_PROMPT_PREFIX_TO_REMOVE:
        return Finding("prompt_prefix", message)
    return Finding(
        "prompt_prefix",
        message + ". A fine-tuned model needs no instructions or examples in the prompt: "
        "usually the prompt should hold only the input",
        Action(
            f"Remove the prefix `{shown(prefix)}` from all prompts",
            lambda f: f.assign(prompt=f["prompt"].str[len(prefix) :]),
        ),
    )


def completion_prefix(frame: pd.DataFrame, task: str) -> Finding | None:
    completions = frame["completion"]
    prefix = os.path.commonprefix(list(completions))
    if len(prefix) < MIN_COMPLETION_PREFIX_TO_REMOVE or (completions == prefix).all():
        return None
    keep = " " if prefix.startswith(" ") else ""  # the leading space helps tokenization

    def remove(current: pd.DataFrame) -> pd.DataFrame:
        return current.assign(completion=keep + current["completion"].str[len(prefix) :])

    return Finding(
        "completion_prefix",
        f"- All completions start with the prefix `{shown(prefix)}`. Usually the completion "
        "should hold only the output, with no prefix",
        Action(f"Remove the prefix `{shown(prefix)}` from all completions", remove),
    )


def completion_ending(path, frame: pd.DataFrame, task: str) -> Finding | None:
    if task == CLASSIFICATION:
        return None
    completions = frame["completion"]
    suffix = common_suffix(completions)
    if (completions == suffix).all():
        raise InputFileError(
            path,
            f"all completions are identical (`{shown(suffix)}`); the model would only learn to "
            "repeat it. Make them differ",
        )
    suggested = first_absent(completions, list(ENDINGS), lambda k: f" [{'END' * k}]")
    if suffix:
        message = f"- All completions end with the suffix `{shown(suffix)}`"
        if len(suffix) > LONG_SUFFIX_CHARS:
            message += f". It is long; consider a shorter one such as `{shown(suggested)}`"
        if completions.str[: -len(suffix)].str.contains(suffix, regex=False).any():
            message += (
                f"\n  WARNING: some completions also contain `{shown(suffix)}` before their end. "
                "Use an ending found nowhere else, so that generation stops in the right place"
            )
        return Finding("completion_ending", message)
    return Finding(
        "completion_ending",
        "- Your data does not contain a common ending at the end of your completions. A fixed "
        "string at the end of every completion teaches the model where to stop, and you pass "
        "it as the stop sequence when you generate",
        Action(
            f"Add a suffix ending `{shown(suggested)}` to all completions",
            lambda f: f.assign(completion=f["completion"] + suggested),
        ),
    )


def leading_space(frame: pd.DataFrame, task: str) -> Finding | None:
    if frame["completion"].str.startswith(" ").all():
        return None

    def add(current: pd.DataFrame) -> pd.DataFrame:
        completions = current["completion"]
        spaced = completions.where(completions.str.startswith(" "), " " + completions)
        return current.assign(completion=spaced)

    return Finding(
        "completion_leading_space",
        "- The completion should start with a whitespace character (` `). Most words are "
        "tokens that begin with a space, so completions that start with one train better",
        Action("Add a whitespace character to the beginning of the completion", add),
    )


# --- helpers ----------------------------------------------------------------------------------


def common_suffix(values: pd.Series) -> str:
    return os.path.commonprefix([v[::-1] for v in values])[::-1]


def first_absent(values: pd.Series, candidates: list[str], fallback: Callable[[int], str]) -> str:
    """The first candidate that occurs in no value; past the list, longer made-up ones."""
    for candidate in candidates:
        if not values.str.contains(candidate, regex=False).any():
            return candidate
    k = 1
    while values.str.contains(fallback(k), regex=False).any():
        k += 1
    return fallback(k)


def _long_rows(frame: pd.DataFrame) -> list[int]:
    lengths = frame["prompt"].str.len() + frame["completion"].str.len()
    return _positions(lengths > LONG_EXAMPLE_CHARS)


def _positions(mask: pd.Series) -> list[int]:
    return [i for i, flagged in enumerate(mask) if flagged]


def _same(frame: pd.DataFrame) -> pd.DataFrame:
    """Necessary fixes are applied while reading; offering them again changes nothing."""
    return frame


def _missing_key_message(table: Table, row: int, name: str) -> str:
    message = f'has no "{name}"'
    frame = table.frame
    if "messages" in frame.columns and frame["messages"].iloc[row] is not None:
        message += (
            '; it has "messages", so it is a chat example, but a file holds one format only '
            "(a file whose every line is a chat example is checked as a chat file)"
        )
    return message


def _row_error(path, table: Table, row: int, name: str, message: str) -> InputFileError:
    line = table.row_lines[row]
    if line is None:
        return InputFileError(path, f"row {row}: {message}", field=name)
    return InputFileError(path, message, line=line, field=name)
