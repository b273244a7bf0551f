"""The one JSONL reader and writer: real files' quirks read, broken lines reported by number."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.errors import InputFileError
from helpers.jsonl_lines import (
    MAX_LINE_BYTES,
    LineError,
    ReadNotes,
    iter_jsonl,
    read_jsonl,
    write_jsonl,
)


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


def test_a_lone_surrogate_is_a_broken_line_and_a_pair_is_a_character():
    lines, _ = read(b'{"a": "x\\ud800y"}\n{"b": ["\\uDC00"]}\n{"c": "\\ud83d\\ude00"}\n')
    assert [v.code for _, v in lines[:2]] == ["invalid_unicode", "invalid_unicode"]
    assert "\\ud800" in lines[0][1].message
    assert lines[2] == (3, {"c": "\U0001f600"})


def test_read_jsonl_names_the_file_and_line_of_what_it_cannot_read(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text('{"a": 1}\n\n{"b": 2}\n', encoding="utf-8")
    assert read_jsonl(path) == [{"a": 1}, {"b": 2}]
    for content, problem in [
        ('{"a": 1}\n{"b": \n', "data.jsonl, line 2: is not valid JSON"),
        ('{"a": 1}\n[1, 2]\n', "data.jsonl, line 2: is a list, not a JSON object"),
        ('{"a": "\\udfff"}\n', "data.jsonl, line 1: holds \\udfff"),
    ]:
        path.write_text(content, encoding="utf-8")
        with pytest.raises(InputFileError) as caught:
            read_jsonl(path)
        assert str(caught.value).startswith(problem)
    with pytest.raises(InputFileError, match="missing.jsonl: does not exist"):
        read_jsonl(tmp_path / "missing.jsonl")
    with pytest.raises(InputFileError, match="is a folder"):
        read_jsonl(tmp_path)


def test_write_jsonl_writes_what_read_jsonl_reads_and_leaves_no_scraps(tmp_path):
    rows = [{"prompt": "é ->", "completion": " ok"}, {"messages": [{"role": "user"}]}]
    path = write_jsonl(tmp_path / "out" / "rows.jsonl", rows)
    assert (
        path.read_text(encoding="utf-8").splitlines()[0]
        == '{"prompt": "é ->", "completion": " ok"}'
    )
    assert read_jsonl(path) == rows

    def broken():
        yield rows[0]
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_jsonl(path, broken())
    assert read_jsonl(path) == rows  # the old file, whole
    assert sorted(p.name for p in path.parent.iterdir()) == ["rows.jsonl"]
