"""Exact token counts in each model's own encoding, and OpenAI's rules for epochs.

tiktoken downloads an encoding the first time it is used and caches it. Offline, point
`TIKTOKEN_CACHE_DIR` at a folder that already holds it (the course's `../shared/tiktoken_cache`).

Reading tiktoken's file means decoding each of its 100,000 (cl100k_base) or 200,000 (o200k_base)
base64 lines in Python, 0.05 and 0.12 s, which every kernel would pay again. What tiktoken's
constructor reads is therefore also kept (`helpers.kept`), one file per encoding and tiktoken
release, which reads in about a quarter of that time.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

import tiktoken

from helpers.errors import CourseError
from helpers.kept import keep, kept_path, read_kept
from helpers.model_catalog import encoding_name_for
from helpers.paths import use_shared_data

# Chat formatting adds a few tokens around each message, and primes the reply.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
TOKENS_REPLY_PRIMER = 3

# OpenAI's published rule for `n_epochs: "auto"`.
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25_000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25
# The epochs a job may ask for.
MIN_EPOCHS, MAX_EPOCHS = 1, 50


class EncodingUnavailable(CourseError):
    """tiktoken could not load an encoding (no cached copy and no network)."""


@functools.cache
def get_encoding(name: str) -> tiktoken.Encoding:
    """Load an encoding by name, or explain plainly why it cannot be loaded.

    It is the very object `tiktoken.get_encoding(name)` returns in this process, whichever of the
    two loads it first: the notebooks call tiktoken themselves too (`encoding_for_model`), and a
    second copy of o200k_base would take 0.2 s and 67 MB more."""
    loaded = _loaded_by_tiktoken()
    if name in loaded:
        return loaded[name]
    encoding = _load(name)
    return loaded.setdefault(name, encoding)


def _loaded_by_tiktoken() -> dict[str, tiktoken.Encoding]:
    """tiktoken's own table of the encodings it has loaded (name -> encoding), which its
    `get_encoding` looks in first; a table of our own if a tiktoken release has none."""
    loaded = getattr(tiktoken.registry, "ENCODINGS", None)
    return loaded if isinstance(loaded, dict) else _OWN_TABLE


_OWN_TABLE: dict[str, tiktoken.Encoding] = {}


def _load(name: str) -> tiktoken.Encoding:
    use_shared_data()  # a cache beside the course serves offline, however Jupyter was started
    path = _kept_path(name)
    arguments = _read_kept(path)
    if arguments is not None:
        return tiktoken.Encoding(**arguments)
    constructor = _constructors().get(name)
    try:
        if constructor is None:  # not one of OpenAI's: tiktoken's own way, not kept
            return tiktoken.get_encoding(name)
        arguments = constructor()  # reads tiktoken's cached file, or downloads it
    except Exception as exc:  # network errors come in many types
        raise EncodingUnavailable(
            f"Could not load the tiktoken encoding {name!r} ({type(exc).__name__}). "
            "tiktoken downloads it once and caches it; offline, set TIKTOKEN_CACHE_DIR to a "
            "folder that holds it, for example ../shared/tiktoken_cache beside the course."
        ) from None
    keep(path, arguments)  # a read-only folder: tiktoken's file is read again next time
    return tiktoken.Encoding(**arguments)


def _constructors() -> dict:
    """tiktoken's constructors of OpenAI's encodings: each returns the arguments of
    `tiktoken.Encoding` (name, pattern, token ranks, special tokens)."""
    try:
        from tiktoken_ext.openai_public import ENCODING_CONSTRUCTORS
    except ImportError:
        return {}
    return ENCODING_CONSTRUCTORS


def _kept_path(name: str) -> Path:
    return kept_path(f"tiktoken-{name}", metadata.version("tiktoken"), name)


def _read_kept(path: Path) -> dict | None:
    """The kept arguments of an encoding, or None when missing or unreadable."""
    arguments = read_kept(path)
    expected = {"name", "pat_str", "mergeable_ranks", "special_tokens"}
    if not isinstance(arguments, dict) or not expected <= arguments.keys():
        return None
    return arguments


def encoding_for(model: str) -> tiktoken.Encoding:
    return get_encoding(encoding_name_for(model))


def count_text(text: str, model: str) -> int:
    return _count(text, encoding_name_for(model))


# A file's texts are counted several times in one kernel: by the preparation tool, by the cost
# estimate, then by the simulator (it runs in the kernel too) when a job reads the same file.
# Remembering recent counts makes the later passes free; the bound keeps the memory small.
COUNTS_KEPT = 16_384


@functools.lru_cache(maxsize=COUNTS_KEPT)
def _count(text: str, encoding_name: str) -> int:
    return len(_tokens(text, encoding_name))


# The simulator encodes the same short texts again and again: each fact of an element for every
# question about it and every training example that names it, a prompt to count it and again to
# read it. A call into tiktoken also lets go of the interpreter lock, and in a busy kernel waits
# up to a few milliseconds to take it back, so a repeat costs far more than its encoding. The
# tokens of recent short texts are therefore kept; long texts (posts) rarely repeat, and keeping
# them would take memory.
SHORT_TEXT = 300  # characters
SHORT_TEXTS_KEPT = 4096


def tokens_of(text: str, encoding_name: str) -> tuple[int, ...]:
    """`text`'s tokens in an encoding, special-token text read as plain text (as the API reads
    training data and prompts)."""
    if len(text) <= SHORT_TEXT:
        return _short_tokens(text, encoding_name)
    return _tokens(text, encoding_name)


def _tokens(text: str, encoding_name: str) -> tuple[int, ...]:
    # Special-token text in training data and prompts is read as plain text, as the API does.
    return tuple(get_encoding(encoding_name).encode(text, disallowed_special=()))


_short_tokens = functools.lru_cache(maxsize=SHORT_TEXTS_KEPT)(_tokens)


def count_messages(messages: Iterable[Mapping], model: str) -> int:
    """Tokens of one chat example, with the per-message formatting overhead."""
    name = encoding_name_for(model)
    total = TOKENS_REPLY_PRIMER
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            if key == "weight" or value is None:
                continue
            if not isinstance(value, str):
                value = _as_text(value)
            total += _count(value, name)
            if key == "name":
                total += TOKENS_PER_NAME
    return total


def count_assistant_tokens(messages: Iterable[Mapping], model: str) -> int:
    """Tokens of the assistant messages alone: what the model is trained to write."""
    name = encoding_name_for(model)
    return sum(
        _count(_as_text(m.get("content") or ""), name)
        for m in messages
        if m.get("role") == "assistant"
    )


def count_prompt_completion(prompt: str, completion: str, model: str) -> int:
    return count_text(prompt, model) + count_text(completion, model)


def default_epochs(n_examples: int) -> int:
    """The epochs a job with `n_epochs: "auto"` trains for, by OpenAI's rule."""
    if n_examples <= 0:
        raise CourseError("A training file needs at least one example.")
    if n_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    if n_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return TARGET_EPOCHS


def checked_epochs(n_epochs) -> int:
    """`n_epochs` as a whole number the API accepts, or a plain error saying what it accepts."""
    if isinstance(n_epochs, str) and n_epochs.strip().isdigit():
        n_epochs = int(n_epochs)
    if isinstance(n_epochs, bool) or not isinstance(n_epochs, int):
        raise CourseError(f'The epochs must be a whole number or "auto", not {n_epochs!r}.')
    if not MIN_EPOCHS <= n_epochs <= MAX_EPOCHS:
        raise CourseError(
            f"The epochs must be between {MIN_EPOCHS} and {MAX_EPOCHS} (what the API accepts), "
            f"not {n_epochs}."
        )
    return n_epochs


def _as_text(value) -> str:
    """Content given as a list of parts counts the text of its text parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(p.get("text", "") for p in value if isinstance(p, dict))
    return json.dumps(value)
