"""Values the course derives once and reads many times, kept in the working folder's cache.

Every notebook runs in a kernel of its own, a new process that would otherwise derive them all
again: a tokenizer's 200,000 token ranks from tiktoken's base64 file, the pronunciation
dictionary's 135,000 lines, the simulator's language priors. Each is kept as one `marshal` file:
plain containers of numbers and strings, read back several times faster than they are derived,
and unable to run code when read (unlike a pickle).

A file's name holds a key of everything its value is derived from, and of the Python that reads
it (marshal's format is Python's own): a new release of a library, or of the code that derives
the value, names a new file. A kept file that is missing or unreadable is derived and written
anew; a working folder that cannot be written to only costs the time.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import sys
from pathlib import Path

from helpers.atomic import write_bytes_atomically
from helpers.paths import cache_dir


def kept_path(stem: str, *derived_from: str | bytes) -> Path:
    """The cache file that keeps `stem`, derived from `derived_from` (versions, names, source)."""
    key = hashlib.sha256()
    for part in (*derived_from, sys.version):
        key.update(part if isinstance(part, bytes) else part.encode())
        key.update(b"\0")  # ("ab", "c") and ("a", "bc") are different keys
    return cache_dir() / f"{stem}-{key.hexdigest()[:16]}.marshal"


def read_kept(path: Path):
    """The value kept at `path`, or None when it is missing or unreadable."""
    try:
        return marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None


def keep(path: Path, value) -> bool:
    """Keep `value` (plain containers of numbers and strings) at `path`, whole or not at all;
    False when the folder cannot be written to."""
    with contextlib.suppress(OSError):
        write_bytes_atomically(path, marshal.dumps(value))
        return True
    return False
