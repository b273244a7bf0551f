"""The Files API: uploads for fine-tuning, and the results files jobs write."""

from __future__ import annotations

import json
import re
import sqlite3

from helpers.simulator.errors import invalid, not_found
from helpers.simulator.ids import make_id

UPLOAD_PURPOSES = ("fine-tune",)
MAX_FILENAME = 255
MAX_LIST_LIMIT = 10_000
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")


def clean_filename(name: str | None) -> str:
    """The name to report for an upload: its last path part, printable, never used as a path."""
    name = (name or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNPRINTABLE.sub("", name).strip() or "upload"
    return name[:MAX_FILENAME]


def file_object(file_id: str, filename: str, purpose: str, size: int, created_at: int) -> dict:
    return {
        "object": "file",
        "id": file_id,
        "purpose": purpose,
        "filename": filename,
        "bytes": size,
        "created_at": created_at,
        "status": "processed",
    }


def create_file(sim, filename: str | None, purpose: str, data: bytes) -> dict:
    if purpose not in UPLOAD_PURPOSES:
        raise invalid(
            f"The simulator stores files for fine-tuning only: purpose must be 'fine-tune', "
            f"not {purpose!r}.",
            param="purpose",
        )
    store = sim.store
    with store.transaction() as db:
        number = store.next_number(db, "file")
        file_id = make_id("file", sim.settings.seed, number)
        created = store.advance_clock(db)
        # The bytes are in place before the row that points at them is committed.
        store.write_blob(store.file_path(file_id), data)
        body = file_object(
            file_id, clean_filename(filename), purpose, len(data), sim.clock.stamp(created)
        )
        _insert(db, body)
    return body


def add_results_file(
    sim, db: sqlite3.Connection, file_id: str, content: bytes, created_at: int
) -> dict:
    sim.store.write_blob(sim.store.file_path(file_id), content)
    body = file_object(file_id, "step_metrics.csv", "fine-tune-results", len(content), created_at)
    _insert(db, body)
    return body


def _insert(db: sqlite3.Connection, body: dict) -> None:
    db.execute(
        "INSERT OR REPLACE INTO files (id, seq, body) VALUES (?, "
        "(SELECT COALESCE(MAX(seq), 0) + 1 FROM files), ?)",
        (body["id"], json.dumps(body)),
    )


def get_file(sim, file_id: str, param: str = "file_id") -> dict:
    body = sim.store.one("SELECT body FROM files WHERE id = ? AND deleted = 0", (file_id,))
    if body is None:
        raise not_found(f"No such File object: {file_id}", param=param, code="file_not_found")
    return body


def list_files(sim, purpose: str | None, limit: int, after: str | None, order: str) -> dict:
    if order not in ("asc", "desc"):
        raise invalid(f"order must be 'asc' or 'desc', not {order!r}", param="order")
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise invalid(f"limit must be between 1 and {MAX_LIST_LIMIT}, not {limit}", param="limit")
    db = sim.store.connection()
    direction = "ASC" if order == "asc" else "DESC"
    where, args = ["deleted = 0"], []
    if purpose:
        where.append("json_extract(body, '$.purpose') = ?")
        args.append(purpose)
    if after:
        row = db.execute("SELECT seq FROM files WHERE id = ?", (after,)).fetchone()
        if row is None:
            raise invalid(f"after: no such file {after!r}", param="after")
        where.append("seq > ?" if order == "asc" else "seq < ?")
        args.append(row[0])
    rows = db.execute(
        f"SELECT body FROM files WHERE {' AND '.join(where)} ORDER BY seq {direction} LIMIT ?",
        (*args, limit + 1),
    ).fetchall()
    data = [json.loads(r[0]) for r in rows[:limit]]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": len(rows) > limit,
    }


def delete_file(sim, file_id: str) -> dict:
    with sim.store.transaction() as db:
        updated = db.execute(
            "UPDATE files SET deleted = 1 WHERE id = ? AND deleted = 0", (file_id,)
        ).rowcount
    if not updated:
        raise not_found(f"No such File object: {file_id}", param="file_id", code="file_not_found")
    sim.store.file_path(file_id).unlink(missing_ok=True)
    return {"object": "file", "id": file_id, "deleted": True}


def file_content(sim, file_id: str) -> bytes:
    get_file(sim, file_id)
    path = sim.store.file_path(file_id)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise not_found(f"No such File object: {file_id}", param="file_id") from None
