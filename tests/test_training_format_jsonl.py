"""The shared JSONL line reader: real files' quirks read, broken lines reported by number."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.jsonl_lines import MAX_LINE_BYTES, LineError, ReadNotes, iter_jsonl


def read(source, **kwargs):
    notes = ReadNotes()
    return list(iter_jsonl(source, notes=notes, **kwargs)), notes


def test_bom_crlf_and_blank_lines_are_read_and_noted():
    data = b'\xef\xbb\xbf{"a": 1}\r\n\r\n   \r\n{"b": "\xc3\xa9"}\r\n'
    lines, notes = read(data)
    assert lines == [(1, {"a": 1}), (4, {"b": "é"})]
    assert notes == ReadNotes(lines=4, blank_lines=2, crlf_lines=4, bom=True)


def test_every_kind_of_source_reads_the_same(tmp_path):
    text = '{"a": 1}\n[2]\n'
    path = tmp_path / "f.jsonl"
    path.write_text(text, encoding="utf-8")
    expected = [(1, {"a": 1}), (2, [2])]
    for source in (text, text.encode(), bytearray(text.encode()), path, io.BytesIO(text.encode())):
        assert read(source)[0] == expected


def test_invalid_json_is_reported_on_its_own_line():
    data = "\n".join([f'{{"n": {i}}}' for i in range(6)] + ['{"n": 6,}', '{"n": 7}'])
    lines, _ = read(data)
    assert [n for n, v in lines if isinstance(v, LineError)] == [7]
    error = dict(lines)[7]
    assert error.code == "invalid_json" and "column 9" in error.message
    assert dict(lines)[8] == {"n": 7}


def test_non_json_constants_and_bad_utf8_are_errors():
    lines, _ = read(b'{"x": NaN}\n{"x": -Infinity}\n{"x": "caf\xe9"}\n')
    assert [v.code for _, v in lines] == ["invalid_json", "invalid_json", "invalid_utf8"]
    assert "0xe9" in lines[2][1].message


def test_deep_nesting_is_an_error_not_a_crash():
    lines, _ = read(b"[" * 200_000 + b"\n" + b'{"a": ' * 100_000 + b"\n[[[1]]]\n")
    assert [v.code for _, v in lines[:2]] == ["too_deep", "too_deep"]
    assert lines[2] == (3, [[[1]]])


def test_an_enormous_line_is_skipped_with_an_error(tmp_path):
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as f:
        f.write(b'{"ok": 1}\n{"x": "' + b"a" * (MAX_LINE_BYTES + 10) + b'"}\n{"ok": 3}\n')
    lines, notes = read(path)
    assert lines[0] == (1, {"ok": 1}) and lines[2] == (3, {"ok": 3})
    assert lines[1][1].code == "line_too_long"
    assert notes.lines == 3


def test_the_line_limit_is_exact():
    line = b'"' + b"a" * 8 + b'"'  # 10 bytes
    assert read(line + b"\n", max_line_bytes=10)[0] == [(1, "a" * 8)]
    assert read(line, max_line_bytes=10)[0] == [(1, "a" * 8)]
    assert read(line + b"\n", max_line_bytes=9)[0][0][1].code == "line_too_long"


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
def test_no_bytes_make_the_reader_raise(data):
    lines, notes = read(data, max_line_bytes=64)
    numbers = [n for n, _ in lines]
    assert numbers == sorted(set(numbers))
    assert all(1 <= n <= notes.lines for n in numbers)
    assert notes.lines == len(data.split(b"\n")) - (1 if data.endswith(b"\n") else 0) or not data
