"""The time to validate a training file and count its tokens, for both kinds of file.

- The prompt/completion file: 20 Newsgroups (1197 posts) written as notebook 01 writes it, run
  through `prepare_completions_file` with `-q` (read, every check, the split, both files
  written, exact tokens and cost for babbage-002).
- The chat file: the limericks' training file (`helpers.limericks.write_chat_files`) run
  through `validate_chat_file` for gpt-4o-mini (every line validated, statistics, exact tokens,
  cost); and, to see how it scales, the 1197 posts converted to chat examples.

Each is timed warm (the median of 3 runs, tiktoken's encoding already loaded) and cold (the
first run in this process, loading the encoding). Target: under one second each.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from helpers.chat_conversion import completions_to_chat
from helpers.datasets import sports_table
from helpers.jsonl_lines import write_jsonl
from helpers.limericks import write_chat_files
from helpers.prepare_data import prepare_completions_file, validate_chat_file

TARGET_SECONDS = 1.0
RUNS = 3


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _measure(action) -> dict:
    cold = _timed(action)
    warm = statistics.median(_timed(action) for _ in range(RUNS))
    return {
        "seconds": round(warm, 3),
        "seconds_cold": round(cold, 3),
        "target_seconds": TARGET_SECONDS,
        "meets_target": warm < TARGET_SECONDS,
    }


def run() -> dict:
    table = sports_table("train")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        completions = folder / "sport2.jsonl"
        table.to_json(completions, orient="records", lines=True)
        sports_chat = folder / "sport2_chat.jsonl"
        write_jsonl(sports_chat, completions_to_chat(table, system="Baseball or hockey?"))
        limericks = write_chat_files(folder)["train"]

        def prepare():
            prepare_completions_file(completions, quiet=True, echo=False, out_dir=folder / "out")

        figures = {
            "prompt_completion_file": _measure(prepare),
            "chat_file": _measure(lambda: validate_chat_file(limericks, echo=False)),
            "chat_file_large": _measure(lambda: validate_chat_file(sports_chat, echo=False)),
        }
        figures["prompt_completion_file"]["file"] = f"20 Newsgroups, {len(table)} pairs"
        for key, path in (("chat_file", limericks), ("chat_file_large", sports_chat)):
            report = validate_chat_file(path, echo=False)
            figures[key]["file"] = (
                f"{path.name}, {report.n_examples} examples, "
                f"{report.estimate.tokens_in_file:,} tokens"
            )
    return figures
