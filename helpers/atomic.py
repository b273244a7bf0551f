"""Writing a file whole or not at all, so an interrupted run never leaves half a file behind."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from pathlib import Path

# Windows refuses to rename over a file that another program holds open (an editor, a viewer, a
# virus scanner taking a look at a new file); such a hold is usually over within a second.
WINDOWS = os.name == "nt"
REPLACE_RETRIES_S = (0.05, 0.1, 0.2, 0.4, 0.8)


def write_text_atomically(path: str | Path, text: str) -> Path:
    """Write `text` to `path` whole or not at all, as UTF-8 with its newlines as given."""
    return write_bytes_atomically(path, text.encode("utf-8"))


def write_bytes_atomically(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` whole or not at all.

    The bytes go to a temporary file beside `path`, which then replaces it. A new file gets the
    usual mode (the umask's), a file written again keeps its own. On Windows, a target held open by
    another program is retried for a moment, then overwritten in place from the complete temporary
    file, which stays beside it until that has succeeded.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not mkstemp: its files are private (0600), and the course's files are the learner's to share.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())  # on disk before the rename makes it the file
        if path.exists():
            shutil.copymode(path, tmp)
        replace(tmp, path)
    except KeepTemporary:
        raise
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path


class KeepTemporary(OSError):
    """Writing in place failed half-way: the complete text stays in the temporary file."""


def replace(tmp: Path, path: Path) -> None:
    if not WINDOWS:
        os.replace(tmp, path)
        return
    for pause in (*REPLACE_RETRIES_S, None):
        try:
            os.replace(tmp, path)
            return
        except PermissionError:
            if pause is None:
                break
            time.sleep(pause)
    # Still held: write the content into the open file itself (Python and most programs open
    # files sharing write access). The complete copy in `tmp` is kept until this has worked.
    try:
        out = open(path, "r+b")  # noqa: SIM115 (closed below; opening it changes nothing yet)
    except PermissionError as exc:
        raise PermissionError(
            f"{path} is open in another program, which does not let it be replaced: "
            "close it there and run this again"
        ) from exc
    try:
        with out, open(tmp, "rb") as source:
            shutil.copyfileobj(source, out)
            out.truncate()
    except OSError as exc:
        raise KeepTemporary(
            f"{path} could not be written whole; its full text is in {tmp}"
        ) from exc
    tmp.unlink()
