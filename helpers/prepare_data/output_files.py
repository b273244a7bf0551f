"""Writing prepared files: new names that never overwrite, and files written whole or not at all."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from helpers.prepare_data.errors import InputFileError


def prepared_paths(
    source: Path,
    suffixes: list[str],
    out_dir: Path | None = None,
    tag: str = "_prepared",
    contents: list[bytes] | None = None,
) -> list[Path]:
    """`NAME_prepared{suffix}.jsonl` beside `source` (or in `out_dir`), none of which exists.

    When any is taken, ` (1)`, ` (2)`... is added to all of them, as the legacy tool did. Given
    the `contents` about to be written (one per suffix), a set of names whose files already hold
    exactly those bytes is taken too: writing them again loses nothing, and makes no copies.
    """
    folder = Path(out_dir) if out_dir is not None else source.parent
    stem = source.stem
    attempt = 0
    while True:
        counter = f" ({attempt})" if attempt else ""
        paths = [folder / f"{stem}{tag}{suffix}{counter}.jsonl" for suffix in suffixes]
        if contents is not None and all(
            not p.exists() or p.read_bytes() == c for p, c in zip(paths, contents, strict=True)
        ):
            return paths
        if not any(p.exists() for p in paths):
            return paths
        attempt += 1


def write_jsonl_files(files: Mapping[Path, Iterable[Mapping]]) -> None:
    """Write each path's records as JSONL: all the files appear, complete, or none does.

    Each file is written to a hidden temporary file in its own folder and renamed into place
    once every file is complete, so a reader never sees half a file.
    """
    written: dict[Path, str] = {}
    placed: list[Path] = []
    try:
        for path, records in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            written[path] = _write_temporary(path, records)
        for path, temporary in written.items():
            if path.exists() and not _same_bytes(path, Path(temporary)):
                raise InputFileError(path, "appeared while it was being written; nothing written")
            os.replace(temporary, path)
            placed.append(path)
    except BaseException:
        for temporary in written.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        for path in placed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        raise


def write_jsonl(path: Path, records: Iterable[Mapping]) -> None:
    write_jsonl_files({Path(path): records})


def jsonl_bytes(records: Iterable[Mapping]) -> bytes:
    """The bytes `write_jsonl_files` writes for these records."""
    return "".join(_line(record) for record in records).encode("utf-8")


def _line(record: Mapping) -> str:
    return json.dumps(record, ensure_ascii=False) + "\n"


def _same_bytes(a: Path, b: Path) -> bool:
    return a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes()


def _write_temporary(path: Path, records: Iterable[Mapping]) -> str:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; give the usual mode
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as f:
            for record in records:
                f.write(_line(record))
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return temporary


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
