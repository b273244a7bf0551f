"""The bad-input corpus (tests/bad_inputs/expected.json): every file behaves as recorded.

A malformed file gives a message naming the file and the line, exit status 1, no traceback and
no file written; what real files legitimately hold is read, with a note. The learner's file is
never modified.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from helpers.jsonl_lines import MAX_LINE_BYTES
from helpers.paths import REPO_ROOT
from helpers.prepare_data.command import main
from helpers.training_format import check_chat_example, check_completion_example

CORPUS = Path(__file__).parent / "bad_inputs"
MANIFEST = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))["cases"]
CORPUS_FILES = sorted(p.name for p in CORPUS.iterdir() if p.name not in ("expected.json",))
CORPUS_FILES = [name for name in CORPUS_FILES if not name.startswith(".")]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(path: Path, capsys, *extra: str) -> tuple[int, str]:
    status = main(["-f", str(path), "-q", *extra])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_the_manifest_covers_the_corpus():
    assert sorted(MANIFEST) == CORPUS_FILES
    assert sum(case["exit"] != 0 for case in MANIFEST.values()) >= 20


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_each_file_behaves_as_recorded(name, tmp_path, capsys, monkeypatch):
    case = MANIFEST[name]
    source = tmp_path / name
    shutil.copyfile(CORPUS / name, source)
    before = digest(source)
    monkeypatch.chdir(tmp_path)

    status, output = run(source, capsys)

    assert status == case["exit"], output
    for expected in case["says"]:
        assert expected in output
    assert "Traceback" not in output
    assert str(tmp_path) not in output  # names are relative: the same output on every machine
    assert digest(source) == before
    written = sorted(p.name for p in tmp_path.iterdir() if p.name != name)
    assert written == case["writes"]
    for out in written:
        lines = (tmp_path / out).read_text(encoding="utf-8").splitlines()
        assert lines and all(check_completion_example(json.loads(line)) == [] for line in lines)


def test_a_nesting_too_deep_for_the_parser_is_named_by_line(tmp_path, capsys):
    good = json.dumps({"prompt": "a ->", "completion": " b"})
    completions = tmp_path / "deep.jsonl"
    completions.write_text(f"{good}\n{'[' * 100_000}\n{good}\n", encoding="utf-8")
    status, output = run(completions, capsys)
    assert status == 1
    assert "deep.jsonl, line 2: is nested too deeply to parse" in output

    chat_line = json.dumps({"messages": [{"role": "user", "content": "x"}]})
    chat = tmp_path / "deep_chat.jsonl"
    deep_object = '{"a": ' * 50_000
    chat.write_text(f"{chat_line}\n{deep_object}\n", encoding="utf-8")
    status, output = run(chat, capsys)
    assert status == 1
    assert "too_deep: 1 line (line 2)" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep.jsonl", "deep_chat.jsonl"]


def test_an_enormous_line_is_refused_without_reading_it_whole(tmp_path, capsys):
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as f:
        f.write(b'{"prompt": "a ->", "completion": " b"}\n{"prompt": "')
        f.write(b"x" * (MAX_LINE_BYTES + 1))
        f.write(b'", "completion": " c"}\n')
    status, output = run(path, capsys)
    assert status == 1
    assert f"huge.jsonl, line 2: is longer than {MAX_LINE_BYTES:,} bytes" in output
    assert [p.name for p in tmp_path.iterdir()] == ["huge.jsonl"]


def test_missing_files_and_folders(tmp_path, capsys):
    status, output = run(tmp_path / "nowhere.jsonl", capsys)
    assert (status, output.strip()) == (1, "Error: nowhere.jsonl: does not exist")
    folder = tmp_path / "data.jsonl"
    folder.mkdir()
    status, output = run(folder, capsys)
    assert (status, output.strip()) == (1, "Error: data.jsonl: is a folder, not a file")


def test_the_command_itself_exits_non_zero_without_a_traceback(tmp_path):
    for name in ("invalid_json_line7.jsonl", "binary.jsonl"):
        shutil.copyfile(CORPUS / name, tmp_path / name)
        result = subprocess.run(
            [sys.executable, "-m", "helpers.prepare_data", "-f", name, "-q"],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 1
        assert result.stderr.startswith(f"Error: {name}, line ")
        assert "Traceback" not in result.stderr + result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "binary.jsonl",
        "invalid_json_line7.jsonl",
    ]


def test_a_wrong_command_line_exits_2(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["-q"])
    assert stop.value.code == 2
    assert "-f/--file" in capsys.readouterr().err


# --- no input crashes the tool ----------------------------------------------------------------

_line = st.one_of(
    st.just('{"prompt": "a ->", "completion": " b"}'),
    st.just(
        '{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}'
    ),
    st.just('{"Prompt": 1, "completion": null, "extra": [1]}'),
    st.text(alphabet='{}[]",: \n\r\t\\abc01\x00é', max_size=40),
)
_content = st.one_of(
    st.lists(_line, max_size=8).map(lambda lines: "\n".join(lines).encode("utf-8")),
    st.binary(max_size=200),
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=_content, extension=st.sampled_from([".jsonl", ".json", ".csv", ".tsv", ".txt"]))
def test_no_file_content_crashes_the_command(content, extension, capsys):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{extension}"
        path.write_bytes(content)
        status = main(["-f", str(path), "-q"])
        captured = capsys.readouterr()
        event(f"exit status {status}")
        assert status in (0, 1)
        assert path.read_bytes() == content
        outputs = [p for p in Path(folder).iterdir() if p != path]
        if status == 1:
            assert captured.err.startswith(("Error: ", "- Errors on"))
            assert outputs == []
        for out in outputs:
            for line in out.read_text(encoding="utf-8").splitlines():
                value = json.loads(line)
                assert check_completion_example(value) == [] or check_chat_example(value) == []


# --- the command line's own edges ---------------------------------------------------------------


def classification_file(path: Path, n: int = 40) -> Path:
    rows = [
        {"prompt": f"post {i} about the game", "completion": ("yes", "no")[i % 2]} for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_price_given_for_a_classification_file_is_used(tmp_path, capsys):
    source = classification_file(tmp_path / "votes.jsonl")
    status, output = run(source, capsys, "--model", "babbage-002", "--price-per-1m", "0.5")
    assert status == 0, output
    assert "at $0.50 per 1M training tokens (the price you gave)" in output
    # The price of the other completion model still comes from the dated table.
    assert "`babbage-002` ($0.50 per 1M training tokens)" in output


def test_a_lone_surrogate_is_named_by_line_and_field_not_a_traceback(tmp_path, capsys):
    source = classification_file(tmp_path / "votes.jsonl")
    lines = source.read_text(encoding="utf-8").splitlines()
    lines[3] = '{"prompt": "half a pair \\ud800 here", "completion": "no"}'
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, output = run(source, capsys)
    assert status == 1 and "Traceback" not in output
    assert "votes.jsonl, line 4: holds \\ud800, half of a UTF-16 pair" in output
    array = tmp_path / "array.json"
    array.write_text('[\n{"prompt": "a", "completion": "\\udc00"}\n]\n', encoding="utf-8")
    status, output = run(array, capsys)
    assert status == 1 and "array.json: holds \\udc00" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["array.json", "votes.jsonl"]


@pytest.mark.parametrize("epochs", ["0", "51", str(10**12)])
def test_epochs_outside_what_the_api_accepts_are_refused_before_anything_is_written(
    epochs, tmp_path, capsys
):
    source = classification_file(tmp_path / "votes.jsonl")
    status, output = run(source, capsys, "--epochs", epochs)
    assert status == 1
    assert (
        f"The epochs must be between 1 and 50 (what the API accepts), not {int(epochs)}" in output
    )
    assert [p.name for p in tmp_path.iterdir()] == ["votes.jsonl"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_not_reported_as_missing(tmp_path, capsys):
    pipe = tmp_path / "pipe.jsonl"
    os.mkfifo(pipe)
    status, output = run(pipe, capsys)
    assert status == 1
    assert "pipe.jsonl: is not a regular file (a pipe, device or socket)" in output
    status, output = run(tmp_path / "absent.jsonl", capsys)
    assert "absent.jsonl: does not exist" in output


def test_chat_file_errors_go_to_stderr(tmp_path, capsys):
    path = tmp_path / "chat.jsonl"
    good = {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}
    path.write_text(json.dumps(good) + "\n" + '{"messages": []}\n', encoding="utf-8")
    assert main(["-f", str(path)]) == 1
    captured = capsys.readouterr()
    assert "Errors on 1 line" in captured.err and "invalid_messages" in captured.err
    assert "Errors on" not in captured.out
    assert "Checking chat.jsonl as a chat training file" in captured.out


def test_sigterm_while_writing_leaves_no_file_half_written_or_hidden(tmp_path, capsys, monkeypatch):
    from helpers import atomic

    source = classification_file(tmp_path / "votes.jsonl")
    real_replace = atomic.os.replace
    calls = []

    def terminated_on_second_file(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)  # arrives as the second file is put in place
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", terminated_on_second_file)
    previous = signal.getsignal(signal.SIGTERM)
    status, output = run(source, capsys)
    assert status == 128 + signal.SIGTERM
    assert "Stopped: nothing was written." in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["votes.jsonl"]  # no .tmp, no half
    assert signal.getsignal(signal.SIGTERM) == previous
