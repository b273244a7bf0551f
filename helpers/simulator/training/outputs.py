"""What a job leaves behind: trained models on disk, and its results file.

A trained model is one `.npz` per checkpoint, holding arrays and a JSON description. No pickles:
a snapshot is read with `allow_pickle=False`, so a state folder cannot carry code.

The results file has one CSV row of measured metrics per step, sent base64-encoded: the
validation cells are empty on the steps that measured no validation batch, and the figures have
five decimals, as in the real files (`1,1.52347,0.0,,` in OpenAI's fine-tuning guide).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from helpers.simulator.learners import load_model
from helpers.tokens import encoding_for

META_KEY = "__meta__"


def snapshot_bytes(model) -> bytes:
    meta, arrays = model.state()
    buffer = io.BytesIO()
    encoded = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(buffer, **{META_KEY: encoded}, **arrays)
    return buffer.getvalue()


def read_snapshot(path: Path, base_model: str):
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if k != META_KEY}
        meta = json.loads(bytes(data[META_KEY]).decode())
    return load_model(meta, arrays, encoding_for(base_model))


class SnapshotCache:
    """The models this server answered with lately, so a request does not reload one."""

    def __init__(self, size: int = 16):
        self.size = size
        self._models: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path, base_model: str):
        key = str(path)
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        model = read_snapshot(path, base_model)
        with self._lock:
            self._models[key] = model
            while len(self._models) > self.size:
                self._models.popitem(last=False)
        return model


# -- the results file ------------------------------------------------------------------------

COLUMNS = ("step", "train_loss", "train_accuracy", "valid_loss", "valid_mean_token_accuracy")
# Where each column's value comes from in a step's metrics.
SOURCES = {
    "step": "step",
    "train_loss": "train_loss",
    "train_accuracy": "train_mean_token_accuracy",
    "valid_loss": "valid_loss",
    "valid_mean_token_accuracy": "valid_mean_token_accuracy",
}


CSV_DECIMALS = 5


def results_csv(metrics: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in metrics:
        writer.writerow([_cell(row.get(SOURCES[c])) for c in COLUMNS])
    return out.getvalue()


def _cell(value) -> str | int | float:
    """A CSV cell: empty when not measured, the step as it is, a figure to five decimals (Python
    writes 6e-05 for 0.00006, as the real files do)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, CSV_DECIMALS)
    return value


def results_content(metrics: list[dict]) -> bytes:
    """What the results file's `/content` returns: the CSV, base64-encoded as the real API does."""
    return base64.b64encode(results_csv(metrics).encode())
