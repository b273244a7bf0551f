import os
import stat

import pytest

from helpers import atomic
from helpers.atomic import write_text_atomically


def leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_writes_the_text_as_given_with_no_platform_newlines(tmp_path):
    target = write_text_atomically(tmp_path / "sub" / "a.txt", "one\ntwo — ünï\n")
    assert target.read_bytes() == "one\ntwo — ünï\n".encode()
    assert leftovers(target.parent) == []


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_a_new_file_gets_the_umask_mode_and_a_rewritten_one_keeps_its_own(tmp_path):
    umask = os.umask(0o022)
    try:
        new = write_text_atomically(tmp_path / "new.txt", "x")
        assert stat.S_IMODE(new.stat().st_mode) == 0o644
        kept = tmp_path / "kept.txt"
        kept.write_text("old")
        kept.chmod(0o600)
        write_text_atomically(kept, "new")
        assert kept.read_text() == "new" and stat.S_IMODE(kept.stat().st_mode) == 0o600
    finally:
        os.umask(umask)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "a.txt"
    target.write_text("old")

    def refuse(src, dst):
        raise PermissionError(13, "denied")

    monkeypatch.setattr(atomic, "WINDOWS", False)
    monkeypatch.setattr(atomic.os, "replace", refuse)
    with pytest.raises(PermissionError):
        write_text_atomically(target, "new")
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []


def held_open_for(monkeypatch, failures):
    """os.replace as on Windows while another program holds the target open `failures` times."""
    real_replace = os.replace
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) <= failures:
            raise PermissionError(13, "The process cannot access the file")
        real_replace(src, dst)

    monkeypatch.setattr(atomic, "WINDOWS", True)
    monkeypatch.setattr(atomic, "REPLACE_RETRIES_S", (0, 0, 0))
    monkeypatch.setattr(atomic.os, "replace", replace)
    return calls


def test_on_windows_a_briefly_held_target_is_retried(tmp_path, monkeypatch):
    target = tmp_path / "a.txt"
    target.write_text("old")
    calls = held_open_for(monkeypatch, failures=2)
    write_text_atomically(target, "new text")
    assert target.read_text() == "new text" and len(calls) == 3
    assert leftovers(tmp_path) == []


def test_on_windows_a_target_held_open_is_overwritten_in_place(tmp_path, monkeypatch):
    target = tmp_path / "a.txt"
    target.write_text("a much longer old text than the new one")
    held_open_for(monkeypatch, failures=99)
    with open(target, encoding="utf-8") as reader:  # the other program, still reading
        write_text_atomically(target, "new")
        reader.seek(0)
        assert reader.read() == "new"
    assert target.read_text() == "new"
    assert leftovers(tmp_path) == []


def test_on_windows_a_target_that_cannot_be_opened_says_so(tmp_path, monkeypatch):
    target = tmp_path / "a.txt"
    target.write_text("old")
    held_open_for(monkeypatch, failures=99)
    real_open = open

    def locked_open(file, mode="r", *args, **kwargs):
        if str(file) == str(target) and mode == "r+b":
            raise PermissionError(13, "locked")
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", locked_open)
    with pytest.raises(PermissionError, match="open in another program"):
        write_text_atomically(target, "new")
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []
