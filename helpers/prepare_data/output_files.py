"""Writing prepared files: new names that never overwrite, all of them or none."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from helpers.errors import InputFileError
from helpers.jsonl_lines import write_jsonl


def prepared_paths(
    source: Path, suffixes: list[str], out_dir: Path | None = None, tag: str = "_prepared"
) -> list[Path]:
    """`NAME_prepared{suffix}.jsonl` beside `source` (or in `out_dir`), none of which exists.

    When any is taken, ` (1)`, ` (2)`... is added to all of them, as the legacy tool did.
    """
    folder = Path(out_dir) if out_dir is not None else source.parent
    stem = source.stem
    attempt = 0
    while True:
        counter = f" ({attempt})" if attempt else ""
        paths = [folder / f"{stem}{tag}{suffix}{counter}.jsonl" for suffix in suffixes]
        if not any(p.exists() for p in paths):
            return paths
        attempt += 1


def write_jsonl_files(files: Mapping[Path, Iterable[Mapping]]) -> None:
    """Write each path's records as JSONL: all the files appear, complete, or none does.

    Each file is written whole (`write_jsonl`); should a later one fail, or the run be stopped,
    the ones already written are removed.
    """
    placed: list[Path] = []
    try:
        for path, records in files.items():
            if path.exists():
                raise InputFileError(path, "appeared while it was being written; nothing written")
            placed.append(write_jsonl(path, records))
    except BaseException:
        for path in placed:
            path.unlink(missing_ok=True)
        raise
