"""A job's results file: one CSV row of measured metrics per step, sent base64-encoded."""

from __future__ import annotations

import base64
import csv
import io

COLUMNS = ("step", "train_loss", "train_accuracy", "valid_loss", "valid_mean_token_accuracy")
# Where each column's value comes from in a step's metrics.
SOURCES = {
    "step": "step",
    "train_loss": "train_loss",
    "train_accuracy": "train_mean_token_accuracy",
    "valid_loss": "valid_loss",
    "valid_mean_token_accuracy": "valid_mean_token_accuracy",
}


def results_csv(metrics: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in metrics:
        writer.writerow(["" if row.get(SOURCES[c]) is None else row[SOURCES[c]] for c in COLUMNS])
    return out.getvalue()


def results_content(metrics: list[dict]) -> bytes:
    """What the results file's `/content` returns: the CSV, base64-encoded as the real API does."""
    return base64.b64encode(results_csv(metrics).encode())
