"""Writing prepared files: new names that never overwrite, all of them or none."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from helpers.errors import InputFileError
from helpers.jsonl_lines import jsonl_text, write_jsonl


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


def jsonl_bytes(records: Iterable[Mapping]) -> bytes:
    """The bytes `write_jsonl_files` writes for these records."""
    return jsonl_text(records).encode("utf-8")


def write_jsonl_files(files: Mapping[Path, Iterable[Mapping]]) -> None:
    """Write each path's records as JSONL: all the files appear, complete, or none does.

    Each file is written whole (`write_jsonl`); should a later one fail, or the run be stopped,
    the ones already written are removed. A file that already holds exactly these records is
    left as it is.
    """
    placed: list[Path] = []
    try:
        for path, records in files.items():
            records = list(records)
            if path.exists():
                if path.read_bytes() == jsonl_bytes(records):
                    continue
                raise InputFileError(path, "appeared while it was being written; nothing written")
            placed.append(write_jsonl(path, records))
    except BaseException:
        for path in placed:
            path.unlink(missing_ok=True)
        raise
