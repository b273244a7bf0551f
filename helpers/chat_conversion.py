"""Prompt/completion pairs to chat examples, for learners moving from babbage-002 to chat models.

The prompt becomes the user message and the completion the assistant's, after an optional
system message. What only the completions models needed can be taken off on the way: the
separator at the end of each prompt, the stop ending of each completion, and the space at the
start of each completion.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable, Mapping

import pandas as pd

from helpers.errors import CourseError


def completions_to_chat(
    rows: Iterable[Mapping] | pd.DataFrame,
    system: str | None = None,
    separator: str | None = None,
    ending: str | None = None,
    strip_leading_space: bool = True,
) -> list[dict]:
    """One `{"messages": [...]}` example per row with `prompt` and `completion` text.

    `separator` is removed from the end of each prompt and `ending` from the end of each
    completion, where present. With `strip_leading_space`, one leading space is removed from
    each completion: completions models wanted it, chat models do not.
    """
    if isinstance(rows, pd.DataFrame):
        rows = rows.to_dict("records")
    examples = []
    for i, row in enumerate(rows):
        prompt, completion = _text(row, "prompt", i), _text(row, "completion", i)
        if separator:
            prompt = prompt.removesuffix(separator)
        if ending:
            completion = completion.removesuffix(ending)
        if strip_leading_space:
            completion = completion.removeprefix(" ")
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": prompt})
        messages.append({"role": "assistant", "content": completion})
        examples.append({"messages": messages})
    return examples


def _text(row: Mapping, key: str, index: int) -> str:
    if key not in row:
        raise CourseError(f"Row {index} has no {key!r}.")
    value = row[key]
    if not isinstance(value, str):
        raise CourseError(f"Row {index}: {key!r} is {reprlib.repr(value)}, not text.")
    return value
