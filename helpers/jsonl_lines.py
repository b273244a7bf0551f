"""JSONL files: the course's one reader and one writer.

`read_jsonl` gives a file's objects, or stops at the first broken line with an `InputFileError`
naming the file and the line. `write_jsonl` writes a file whole or not at all.

Underneath, `iter_jsonl` yields `(line_number, value)` where value is the parsed JSON, or a
`LineError` saying what is wrong with that line. It never raises on the content it reads: a
UTF-8 byte-order mark, Windows line endings and blank lines are accepted (and counted in
`ReadNotes`); invalid UTF-8, invalid JSON, `NaN`, a lone UTF-16 surrogate (`"\\ud800"`, not
text), nesting too deep for the parser and lines over a size limit become `LineError`s. Lines are
read with a bounded buffer, so an enormous line costs no more memory than the limit.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from helpers.atomic import write_text_atomically
from helpers.errors import InputFileError, require_file

BOM = b"\xef\xbb\xbf"
# Far above any real training example (65,536 tokens is about 300 kB of text; a few images
# in base64 are a few MB), far below what would strain memory.
MAX_LINE_BYTES = 16 * 1024 * 1024
_SKIP_CHUNK = 1024 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


@dataclass(frozen=True)
class LineError:
    code: str  # invalid_utf8, invalid_json, invalid_unicode, too_deep, line_too_long
    message: str


@dataclass
class ReadNotes:
    """What was noticed while reading, for notes to the learner."""

    lines: int = 0  # physical lines, blank ones included
    blank_lines: int = 0
    crlf_lines: int = 0
    bom: bool = False


def read_jsonl(path: str | os.PathLike, numbered: bool = False) -> list:
    """Every object of a JSONL file, in order; the first broken line raises `InputFileError`.

    With `numbered`, each comes with its line number, (line, object), for messages about it."""
    path = Path(path)
    require_file(path)
    found = []
    for number, value in iter_jsonl(path):
        if isinstance(value, LineError):
            raise InputFileError(path, value.message, line=number)
        if not isinstance(value, dict):
            raise InputFileError(path, f"is {json_type(value)}, not a JSON object", line=number)
        found.append((number, value) if numbered else value)
    return found


def json_type(value) -> str:
    """The JSON name of a value's type, for messages ("a number", "null"...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def json_shown(value) -> str:
    """A scalar as it is written in JSON (`true`, `0.5`, `"x"`); a container by its type."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return json.dumps(value, ensure_ascii=False)
    return json_type(value)


def clipped(text: str, limit: int = 60) -> str:
    """Keep messages short when a learner's key or value is long."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def jsonl_text(records: Iterable[Mapping]) -> str:
    """One JSON object a line, non-ASCII characters as they are."""
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def write_jsonl(path: str | os.PathLike, records: Iterable[Mapping]) -> Path:
    """Write `records` as a JSONL file, whole or not at all; returns its path."""
    return write_text_atomically(path, jsonl_text(records))


def iter_jsonl(
    source: bytes | bytearray | str | os.PathLike | BinaryIO,
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
    notes: ReadNotes | None = None,
) -> Iterator[tuple[int, object]]:
    """Parse each non-blank line of `source`; line numbers count from 1, blank lines included.

    `source` is the file's bytes, its text (a `str` is content, not a path), a `Path`, or a
    binary file object. Pass a `ReadNotes` to learn about byte-order marks, CRLF and blank lines.
    """
    notes = notes if notes is not None else ReadNotes()
    if isinstance(source, os.PathLike):
        with Path(source).open("rb") as stream:
            yield from _iter_stream(stream, max_line_bytes, notes)
        return
    if isinstance(source, str):
        source = source.encode("utf-8", errors="surrogatepass")
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    yield from _iter_stream(source, max_line_bytes, notes)


def parse_json_line(text: str) -> object:
    """One line's JSON value, or a `LineError`. Strict JSON: NaN and Infinity are refused."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        return LineError("invalid_json", f"is not valid JSON: {exc.msg} (column {exc.colno})")
    except _NonJsonConstant as exc:
        return LineError("invalid_json", f"is not valid JSON: {exc} is not a JSON number")
    except RecursionError:
        return LineError(
            "too_deep", "is nested too deeply to parse (lists or objects inside each other)"
        )
    if _ESCAPED_SURROGATE.search(text):
        surrogate = lone_surrogate(value)
        if surrogate:
            return LineError("invalid_unicode", surrogate_problem(surrogate))
    return value


def surrogate_problem(surrogate: str) -> str:
    return (
        f"holds {surrogate}, half of a UTF-16 pair and not a character on its own; "
        "write the whole character, or remove it"
    )


def lone_surrogate(value) -> str | None:
    """The first lone surrogate in a parsed JSON value's text (`"\\ud800"`), or None."""
    if isinstance(value, str):
        found = _SURROGATE.search(value)
        return f"\\u{ord(found.group()):04x}" if found else None
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list):
        for item in value:
            surrogate = lone_surrogate(item)
            if surrogate:
                return surrogate
    return None


def _iter_stream(stream: BinaryIO, limit: int, notes: ReadNotes) -> Iterator[tuple[int, object]]:
    number = 0
    while True:
        raw = stream.readline(limit + 1)
        if not raw:
            return
        number += 1
        notes.lines = number
        if len(raw) > limit and not raw.endswith(b"\n"):
            _skip_rest_of_line(stream)
            yield (
                number,
                LineError(
                    "line_too_long",
                    f"is longer than {limit:,} bytes; no training example is that big",
                ),
            )
            continue
        if number == 1 and raw.startswith(BOM):
            notes.bom = True
            raw = raw[len(BOM) :]
        if raw.endswith(b"\r\n"):
            notes.crlf_lines += 1
        if not raw.strip():
            notes.blank_lines += 1
            continue
        text = _decode(raw)
        yield number, text if isinstance(text, LineError) else parse_json_line(text)


def _decode(raw: bytes) -> str | LineError:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = f"byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of the line"
        return LineError("invalid_utf8", f"is not valid UTF-8 ({where}); save the file as UTF-8")


def _skip_rest_of_line(stream: BinaryIO) -> None:
    while True:
        chunk = stream.readline(_SKIP_CHUNK)
        if not chunk or chunk.endswith(b"\n"):
            return


class _NonJsonConstant(ValueError):
    pass


def _refuse_constant(name: str):
    raise _NonJsonConstant(name)
