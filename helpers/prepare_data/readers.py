"""Read a prompt/completion file in any of the formats the legacy tool took, as a table of rows.

csv, tsv, xlsx, json, jsonl and txt. JSON and JSONL are told apart by their content, not their
extension (JSONL saved as `.json`, a JSON array saved as `.jsonl`, and pandas' default
`to_json` layout of one object of columns are all read). Values are kept as read; checking
them is the analysis' job. Anything unreadable raises `InputFileError` with the file and line.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.errors import InputFileError, require_file
from helpers.jsonl_lines import (
    MAX_LINE_BYTES,
    LineError,
    ReadNotes,
    iter_jsonl,
    json_type,
    lone_surrogate,
    surrogate_problem,
)
from helpers.training_format import guess_format

FORMATS = {
    ".csv": "CSV",
    ".tsv": "TSV",
    ".xlsx": "XLSX",
    ".json": "JSON",
    ".jsonl": "JSONL",
    ".txt": "TXT",
}
SNIFF_BYTES = 8192
UTF8_BOM = b"\xef\xbb\xbf"
OTHER_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


@dataclass
class Table:
    """The rows of a file: raw values, their columns in order, and where each row starts."""

    frame: pd.DataFrame
    source_format: str  # what the content is: JSONL, JSON, CSV, TSV, XLSX or TXT
    row_lines: list[int | None]  # the file line (sheet row for XLSX) each row starts on
    notes: list[str] = field(default_factory=list)
    missing: set[tuple[int, str]] = field(default_factory=set)  # (row, key) absent in JSON


def read_table(path: Path | str) -> Table:
    path = Path(path)
    require_file(path)
    extension = path.suffix.lower()
    if extension not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        got = f"ends with {path.suffix!r}" if path.suffix else "has no extension"
        raise InputFileError(path, f"{got}; the formats read are {known}")
    if extension == ".xlsx":
        return _read_xlsx(path)
    data = path.read_bytes()
    check_is_text(path, data)
    if extension in (".json", ".jsonl"):
        return _read_json_family(path, data, FORMATS[extension])
    if extension == ".txt":
        return _read_txt(path, data)
    return _read_delimited(path, data, "," if extension == ".csv" else "\t", FORMATS[extension])


def sniff_format(path: Path | str) -> str:
    """The format of a JSON(L) file's first readable example: chat, preference, or completion."""
    path = Path(path)
    if path.suffix.lower() not in (".json", ".jsonl") or not path.is_file():
        return "completion"
    with path.open("rb") as stream:
        for _, value in iter_jsonl(stream):
            if not isinstance(value, LineError):  # a broken line says nothing of the format
                return guess_format(value) or "completion"
    return "completion"


def check_is_text(path: Path, data: bytes) -> None:
    """Refuse, with a reason, what is not UTF-8 text: empty, binary or UTF-16/32 files."""
    if not data.removeprefix(UTF8_BOM).strip():
        raise InputFileError(path, "is empty" if not data else "holds only blank lines")
    for bom, name in OTHER_BOMS.items():
        if data.startswith(bom):
            raise InputFileError(path, f"is encoded as {name}; save it as UTF-8 and try again")
    nul = data.find(b"\x00", 0, SNIFF_BYTES)
    if nul >= 0:
        raise InputFileError(
            path,
            f"looks like a binary file, not text (it has a NUL byte at byte {nul + 1})",
            line=data.count(b"\n", 0, nul) + 1,
        )


def decode_text(path: Path, data: bytes) -> tuple[str, list[str]]:
    """Strict UTF-8, with the line of the first bad byte when it is not; and a note on a BOM."""
    notes = []
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
        notes.append("The file starts with a UTF-8 byte-order mark (Excel writes one); ignored.")
    try:
        return data.decode("utf-8"), notes
    except UnicodeDecodeError as exc:
        raise InputFileError(
            path,
            f"is not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
            line=data.count(b"\n", 0, exc.start) + 1,
        ) from None


# --- JSON and JSONL ---------------------------------------------------------------------------


def _read_json_family(path: Path, data: bytes, named: str) -> Table:
    notes = ReadNotes()
    lines = list(iter_jsonl(data, notes=notes))
    first_error = next(((n, v) for n, v in lines if isinstance(v, LineError)), None)
    if first_error is None and not _is_one_document(lines):
        return _jsonl_table(path, lines, named, notes)
    if first_error is not None and first_error[0] != lines[0][0]:
        number, error = first_error  # the start parses as JSONL: report the broken line
        raise InputFileError(path, error.message, line=number)
    if first_error is not None and first_error[1].code != "invalid_json":
        raise InputFileError(path, first_error[1].message, line=first_error[0])
    return _json_document_table(path, data, named)


def _is_one_document(lines: list[tuple[int, object]]) -> bool:
    """One line holding an array, or an object of columns: a JSON document, not JSONL."""
    if len(lines) != 1:
        return False
    value = lines[0][1]
    if isinstance(value, list):
        return True
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(v, (dict, list)) for v in value.values())
    )


def _jsonl_table(path: Path, lines, named: str, notes: ReadNotes) -> Table:
    records = []
    for number, value in lines:
        if not isinstance(value, dict):
            raise InputFileError(
                path,
                f"is {json_type(value)}, not a JSON object; each line must look like "
                '{"prompt": "...", "completion": "..."}',
                line=number,
            )
        records.append(value)
    table = _records_table(records, [n for n, _ in lines], "JSONL")
    if named == "JSON":
        table.notes.append("The file is named .json but holds JSONL (one object per line).")
    if notes.bom:
        table.notes.append("The file starts with a UTF-8 byte-order mark; ignored.")
    if notes.crlf_lines:
        table.notes.append("The file has Windows line endings (CRLF); read as usual.")
    if notes.blank_lines:
        table.notes.append(f"{notes.blank_lines} blank line(s) skipped.")
    return table


def _json_document_table(path: Path, data: bytes, named: str) -> Table:
    text, _ = decode_text(path, data)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"is not valid {named}: {exc.msg} (column {exc.colno})"
        raise InputFileError(path, message, line=exc.lineno) from None
    except RecursionError:
        raise InputFileError(path, "is nested too deeply to parse") from None
    surrogate = lone_surrogate(document)
    if surrogate:
        raise InputFileError(path, surrogate_problem(surrogate))
    if document == [] or document == {}:
        raise InputFileError(path, "holds no examples (an empty JSON document)")
    if isinstance(document, list):
        for i, value in enumerate(document):
            if not isinstance(value, dict):
                raise InputFileError(
                    path, f"element {i} of the JSON array is {json_type(value)}, not an object"
                )
        table = _records_table(document, [None] * len(document), "JSON")
        table.notes.append("The file is one JSON array of objects; it will be written as JSONL.")
    elif isinstance(document, dict) and all(isinstance(v, (dict, list)) for v in document.values()):
        table = _columns_table(path, document)
    else:
        raise InputFileError(
            path,
            f"holds one JSON {json_type(document).split()[-1]}; expected JSONL (one "
            '{"prompt": ..., "completion": ...} object per line) or a JSON array of such objects',
        )
    if named == "JSONL":
        table.notes.append("The file is named .jsonl but holds one JSON document.")
    return table


def _columns_table(path: Path, document: dict) -> Table:
    """pandas' default `to_json()` layout: {"prompt": {"0": ..., ...}, "completion": {...}}."""
    columns = {}
    for name, values in document.items():
        if isinstance(values, list):
            values = {str(i): v for i, v in enumerate(values)}
        columns[name] = values
    index = list(dict.fromkeys(key for values in columns.values() for key in values))
    records, missing = [], set()
    for row, key in enumerate(index):
        record = {}
        for name, values in columns.items():
            if key in values:
                record[name] = values[key]
            else:
                missing.add((row, name))
        records.append(record)
    table = _records_table(records, [None] * len(records), "JSON")
    table.missing |= missing
    table.notes.append(
        "The file is one JSON object of columns (pandas' default to_json layout); "
        "it will be written as JSONL."
    )
    return table


def _records_table(records: list[dict], row_lines: list[int | None], source: str) -> Table:
    columns = list(dict.fromkeys(key for record in records for key in record))
    missing = {(i, c) for i, record in enumerate(records) for c in columns if c not in record}
    frame = pd.DataFrame(
        [[record.get(c) for c in columns] for record in records], columns=columns, dtype=object
    )
    return Table(frame, source, row_lines, missing=missing)


# --- CSV, TSV, TXT, XLSX ----------------------------------------------------------------------


def _read_delimited(path: Path, data: bytes, separator: str, name: str) -> Table:
    text, notes = decode_text(path, data)
    previous_limit = csv.field_size_limit(MAX_LINE_BYTES)
    # strict: a quote left open is an error, not a field that swallows the rest of the file
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    try:
        header, rows, row_lines = _delimited_rows(path, reader, name)
    finally:
        csv.field_size_limit(previous_limit)
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    return Table(frame, name, row_lines, notes=notes)


def _delimited_rows(path: Path, reader, name: str):
    rows, row_lines = [], []
    header, header_line, start = None, 0, 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            reason = str(exc)
            if "unexpected end of data" in reason:
                reason = "a quote opened on this line is never closed"
            raise InputFileError(path, f"is not valid {name}: {reason}", line=start) from None
        if not row:  # a blank line
            start = reader.line_num + 1
            continue
        if header is None:
            header, header_line = row, start
            _check_header(path, header, header_line)
        elif len(row) != len(header):
            raise InputFileError(
                path,
                f"has {_fields(len(row))}, but the header (line {header_line}) has "
                f"{_fields(len(header))}",
                line=start,
            )
        else:
            rows.append(row)
            row_lines.append(start)
        start = reader.line_num + 1
    if header is None:
        raise InputFileError(path, "has no header row")
    return header, rows, row_lines


def _check_header(path: Path, header: list[str], line: int) -> None:
    seen = set()
    for column in header:
        if column in seen:
            raise InputFileError(path, f"the header names the column {column!r} twice", line)
        seen.add(column)


def _fields(n: int) -> str:
    return f"{n} field" if n == 1 else f"{n} fields"


def _read_txt(path: Path, data: bytes) -> Table:
    """Each line is a completion with an empty prompt, as the legacy tool read text files."""
    text, notes = decode_text(path, data)
    lines = text.split("\n")
    if lines[-1] == "":  # the file ends with a newline: no row after it
        lines.pop()
    lines = [line.removesuffix("\r") for line in lines]
    frame = pd.DataFrame({"prompt": [""] * len(lines), "completion": lines}, dtype=object)
    notes.append("Each line of a text file is read as a completion with an empty prompt.")
    return Table(frame, "TXT", list(range(1, len(lines) + 1)), notes=notes)


def _read_xlsx(path: Path) -> Table:
    try:
        with pd.ExcelFile(path, engine="openpyxl") as workbook:
            sheets = workbook.sheet_names
            frame = pd.read_excel(workbook, sheet_name=0, dtype=str)
    except Exception as exc:  # openpyxl and zipfile raise many types for a damaged file
        raise InputFileError(
            path, f"could not be read as an Excel .xlsx workbook ({type(exc).__name__}: {exc})"
        ) from None
    frame = frame.astype(object).where(frame.notna(), None)
    table = Table(frame, "XLSX", list(range(2, len(frame) + 2)))
    if len(sheets) > 1:
        table.notes.append(
            f"The workbook has {len(sheets)} sheets; only the first, {sheets[0]!r}, is read."
        )
    return table
