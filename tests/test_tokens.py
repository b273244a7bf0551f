"""Encodings kept in the working folder: read back, they encode exactly as tiktoken's own."""

import uuid

import pytest
import tiktoken

from helpers import tokens
from helpers.tokens import EncodingUnavailable, get_encoding

# Text that exercises both pattern and ranks: words, digits, accents, CJK, emoji, whitespace runs.
SAMPLE = "Fine-tuning babbage-002 on 1,197 posts: naïve café 微调 🚀\n\n\t  END<|endoftext|>"


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A working folder of its own, and no encoding loaded yet in this process."""
    monkeypatch.setenv("TUTORIAL_WORK_DIR", str(tmp_path))
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})  # none loaded by tiktoken either
    get_encoding.cache_clear()
    yield tmp_path
    get_encoding.cache_clear()


def _tiktokens_own(name: str) -> tiktoken.Encoding:
    """The encoding as tiktoken itself reads it from its file, a separate object."""
    return tiktoken.Encoding(**tokens._constructors()[name]())


def _refuse_tiktokens_file(monkeypatch):
    """Make reading tiktoken's own file fail: only the kept copy can serve."""

    def refuse():
        raise OSError("tiktoken's file was read")

    refusing = dict.fromkeys(tokens._constructors(), refuse)
    monkeypatch.setattr(tokens, "_constructors", lambda: refusing)


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_a_kept_encoding_encodes_exactly_as_tiktoken(fresh, monkeypatch, name):
    reference = _tiktokens_own(name)
    get_encoding(name)
    kept = tokens._kept_path(name)
    assert kept.is_file() and kept.parent == fresh / "cache"
    get_encoding.cache_clear()
    tiktoken.registry.ENCODINGS.clear()
    _refuse_tiktokens_file(monkeypatch)
    again = get_encoding(name)  # from the kept file
    assert again is not reference
    assert again.encode(SAMPLE, allowed_special="all") == reference.encode(
        SAMPLE, allowed_special="all"
    )
    assert again.n_vocab == reference.n_vocab
    assert again.special_tokens_set == reference.special_tokens_set
    assert again.decode(reference.encode(SAMPLE, disallowed_special=())) == SAMPLE


def test_an_unreadable_kept_encoding_is_read_from_tiktoken_and_kept_anew(fresh):
    kept = tokens._kept_path("cl100k_base")
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"not marshal at all")
    encoding = get_encoding("cl100k_base")
    assert encoding.encode(SAMPLE, disallowed_special=()) == _tiktokens_own("cl100k_base").encode(
        SAMPLE, disallowed_special=()
    )
    assert tokens._read_kept(kept) is not None  # written whole this time


def test_an_unknown_encoding_is_a_clear_error_and_nothing_is_kept(fresh):
    with pytest.raises(EncodingUnavailable, match="no_such_encoding"):
        get_encoding("no_such_encoding")
    assert not list(fresh.glob("cache/tiktoken-*"))


@pytest.mark.parametrize("tiktoken_first", [False, True])
def test_tiktoken_and_the_course_share_one_loaded_encoding(fresh, tiktoken_first):
    # Notebooks call tiktoken themselves; the simulator and the helpers call get_encoding.
    if tiktoken_first:
        first = tiktoken.encoding_for_model("babbage-002")
        assert get_encoding("cl100k_base") is first
    else:
        first = get_encoding("cl100k_base")
        assert tiktoken.encoding_for_model("babbage-002") is first
    assert tiktoken.get_encoding("cl100k_base") is first
    assert list(tiktoken.registry.ENCODINGS) == ["cl100k_base"]


def test_a_texts_tokens_are_tiktokens_and_a_short_text_is_encoded_once(monkeypatch):
    encoding = get_encoding("cl100k_base")
    short = f"{SAMPLE} {uuid.uuid4()}"  # never encoded before in this process
    long = short * (tokens.SHORT_TEXT // len(short) + 1)
    for text in (short, long):
        expected = tuple(encoding.encode(text, disallowed_special=()))
        assert tokens.tokens_of(text, "cl100k_base") == expected
    encoded = []
    real = tiktoken.Encoding.encode

    def counted(self, text, **kwargs):
        encoded.append(text)
        return real(self, text, **kwargs)

    monkeypatch.setattr(tiktoken.Encoding, "encode", counted)
    for _ in range(3):
        tokens.tokens_of(short, "cl100k_base")
        tokens.tokens_of(long, "cl100k_base")
    # The short text's tokens were kept from its first reading; the long one is read each time.
    assert encoded == [long, long, long]
