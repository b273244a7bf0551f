"""A fine-tuning job's results file: download it, decode it, read it as a table.

The API sends the results CSV base64-encoded (the response body is base64 text of the CSV);
older files were plain CSV. `decode_results` accepts both, so learners can see the step the
SDK does not do for them.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import math
import numbers
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from helpers.atomic import write_text_atomically
from helpers.errors import CourseError
from helpers.paths import work_dir

VALID_COLUMNS = ("valid_loss", "valid_mean_token_accuracy")
REQUIRED_COLUMNS = ("step", "train_loss")
# The legacy (2021-2023) results files named the same measurements differently.
LEGACY_NAMES = {
    "training_loss": "train_loss",
    "training_token_accuracy": "train_accuracy",
    "validation_loss": "valid_loss",
    "validation_token_accuracy": "valid_mean_token_accuracy",
}
METRIC_COLUMNS = (
    "train_loss",
    "train_mean_token_accuracy",
    "valid_loss",
    "valid_mean_token_accuracy",
    "full_valid_loss",
    "full_valid_mean_token_accuracy",
)


class ResultsFileError(CourseError):
    """A results file that is not a readable CSV of training metrics."""

    def __init__(self, message: str) -> None:
        # Messages start with the file's description ("the results file ..."): capitalise it.
        super().__init__(message[:1].upper() + message[1:])


def decode_results(raw: bytes | str, source: str = "the results file") -> str:
    """The CSV text of a results file, whether it came base64-encoded (today) or plain (older)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    text = _text(raw, source)
    if _looks_like_results_csv(text):
        return text
    try:
        decoded = base64.b64decode(b"".join(raw.split()), validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    csv_text = _text(decoded, source) if decoded else ""
    if _looks_like_results_csv(csv_text):
        return csv_text
    start = text.strip()[:40]
    raise ResultsFileError(
        f"{source} is neither a CSV whose header starts with 'step' nor base64 of one "
        f"(it starts with {start!r}). Download it with client.files.content(job.result_files[0]) "
        "from a job that succeeded."
    )


def read_results(raw_or_text: bytes | str | Path, source: str | None = None) -> pd.DataFrame:
    """A results file as a DataFrame, one row per step, sorted by step.

    Accepts the downloaded bytes (base64 or plain), the CSV text, or the path of a saved CSV
    (read, never modified). Validation columns missing from the file are added empty, so code
    that plots them works whether or not the job had a validation file.
    """
    if isinstance(raw_or_text, str) and (_is_file(raw_or_text) or _names_a_csv(raw_or_text)):
        raw_or_text = Path(raw_or_text)  # a path: read below, or said missing
    if isinstance(raw_or_text, Path):
        source = source or str(raw_or_text)
        try:
            raw_or_text = raw_or_text.read_bytes()
        except OSError as exc:
            raise ResultsFileError(f"Cannot read {source}: {exc.strerror or exc}.") from None
    source = source or "the results file"
    text = decode_results(raw_or_text, source)
    table = _cells(text, source)
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ResultsFileError(
            f"{source} has no column {', '.join(missing)} in its header (line 1)."
        )
    if table.empty:
        raise ResultsFileError(f"{source} has a header but no rows: the job recorded no steps.")
    lines = table.pop("line")
    frame = pd.DataFrame({column: _numbers(table, lines, column, source) for column in table})
    _check_steps(frame["step"], lines, source)
    for column in VALID_COLUMNS:
        if column not in frame.columns:
            frame[column] = math.nan
    frame["step"] = frame["step"].astype(int)
    return frame.sort_values("step", ignore_index=True)


def download_results(client, job, save: bool = True) -> pd.DataFrame:
    """Download a finished job's results file, decode it, and read it.

    With `save`, the decoded CSV is also written to `work_dir()/<job id>-results.csv`. `job` is
    the job, or its id.
    """
    if isinstance(job, str):
        job = client.fine_tuning.jobs.retrieve(job)
    files = list(getattr(job, "result_files", None) or [])
    if not files:
        raise ResultsFileError(
            f"Job {job.id} has no results file yet (status: {job.status}). OpenAI writes it when "
            "the job succeeds; follow the job to its end, then download again."
        )
    raw = client.files.content(files[0]).read()
    text = decode_results(raw, f"results file {files[0]} of job {job.id}")
    frame = read_results(text, f"results file {files[0]} of job {job.id}")
    if save:
        write_text_atomically(work_dir() / f"{job.id}-results.csv", text)
    return frame


def steps_per_epoch(n_train_examples: int, batch_size: int) -> int:
    """Optimizer steps in one pass over the training file: ceil(examples / batch size)."""
    n_train_examples, batch_size = _positive(
        n_train_examples=n_train_examples, batch_size=batch_size
    )
    return -(-n_train_examples // batch_size)


def epoch_boundaries(total_steps: int, n_epochs: int) -> list[int]:
    """The step at which each epoch ends, the last one being `total_steps`.

    Every epoch has the same number of steps, so epoch k ends at k * total_steps / n_epochs
    (rounded, should a results file hold a step count that is not an exact multiple).
    """
    total_steps, n_epochs = _positive(total_steps=total_steps, n_epochs=n_epochs)
    if n_epochs > total_steps:
        raise CourseError(f"{n_epochs} epochs cannot fit in {total_steps} steps.")
    return [round(k * total_steps / n_epochs) for k in range(1, n_epochs + 1)]


def checkpoints_table(checkpoints: Iterable) -> pd.DataFrame:
    """The checkpoints of a job (`client.fine_tuning.jobs.checkpoints.list(job.id)`) as a table.

    One row per checkpoint, by step: its model name and the metrics OpenAI recorded there.
    Metrics no checkpoint has (no validation file, say) are left out.
    """
    rows = []
    for checkpoint in checkpoints:
        metrics = _as_dict(checkpoint.metrics)
        row = {"step": checkpoint.step_number, "model": checkpoint.fine_tuned_model_checkpoint}
        row |= {name: metrics.get(name) for name in METRIC_COLUMNS}
        rows.append(row)
    columns = ["step", "model", *METRIC_COLUMNS]
    table = pd.DataFrame(rows, columns=columns).astype({name: float for name in METRIC_COLUMNS})
    table = table.dropna(axis="columns", how="all")
    return table.sort_values("step", ignore_index=True)


def _as_dict(metrics) -> dict:
    if metrics is None:
        return {}
    if isinstance(metrics, dict):
        return metrics
    return metrics.model_dump() if hasattr(metrics, "model_dump") else vars(metrics)


def _is_file(text: str) -> bool:
    """Whether a string is the path of a file (CSV text has line breaks; paths have none)."""
    if "\n" in text:
        return False
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # a name too long for the system, say
        return False


def _names_a_csv(text: str) -> bool:
    """Whether a string looks like the name of a CSV file rather than CSV text (`results.csv`):
    one line ending in .csv, with no comma, so a mistyped path is said missing, not misread."""
    line = text.strip()
    return "\n" not in line and "," not in line and line.lower().endswith(".csv")


def _text(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ResultsFileError(
            f"{source} is not text (byte {exc.start} is not UTF-8): it is not a results CSV."
        ) from None


def _looks_like_results_csv(text: str) -> bool:
    return text.lstrip().lower().startswith("step")


def _cells(text: str, source: str) -> pd.DataFrame:
    """The CSV's cells as strings, with the line each row came from; ragged rows are refused."""
    reader = csv.reader(io.StringIO(text))
    header = [LEGACY_NAMES.get(name.strip(), name.strip()) for name in next(reader)]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ResultsFileError(f"{source}, line 1: column {repeated[0]!r} appears twice.")
    rows, lines = [], []
    for row in reader:
        if not row:
            continue  # a blank line, such as a trailing one
        if len(row) != len(header):
            raise ResultsFileError(
                f"{source}, line {reader.line_num}: {len(row)} fields where the header "
                f"(line 1) has {len(header)}."
            )
        rows.append(row)
        lines.append(reader.line_num)
    table = pd.DataFrame(rows, columns=header, dtype=str)
    table["line"] = lines
    return table


def _numbers(table: pd.DataFrame, lines: pd.Series, column: str, source: str) -> pd.Series:
    """A column as floats (empty cells become NaN); the first non-number is reported by line."""
    cells = table[column].str.strip()
    values = pd.to_numeric(cells.where(cells != ""), errors="coerce")
    bad = values.isna() & (cells != "")
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise ResultsFileError(
            f"{source}, line {lines.iloc[row]}, column {column!r}: {table[column].iloc[row]!r} "
            "is not a number."
        )
    return values.astype(float)


def _check_steps(steps: pd.Series, lines: pd.Series, source: str) -> None:
    bad = ~((steps >= 1) & (steps == steps.round()))  # NaN fails both comparisons
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise ResultsFileError(
            f"{source}, line {lines.iloc[row]}, column 'step': {float(steps.iloc[row])!r} is not a "
            "step number (a whole number from 1)."
        )
    duplicated = steps.duplicated()
    if duplicated.any():
        row = int(duplicated.to_numpy().nonzero()[0][0])
        raise ResultsFileError(
            f"{source}, line {lines.iloc[row]}, column 'step': step {int(steps.iloc[row])} "
            "appears twice."
        )


def _positive(**values) -> list[int]:
    """The values as ints; numpy integers (a DataFrame's max step, say) are welcome."""
    checked = []
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise CourseError(f"{name} must be a whole number of at least 1, not {value!r}.")
        checked.append(int(value))
    return checked
