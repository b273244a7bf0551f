"""Reading and writing jobs, their events and checkpoints in the state database."""

from __future__ import annotations

import json
import sqlite3

from helpers.simulator.errors import not_found
from helpers.simulator.ids import derived_id

ACTIVE = ("validating_files", "queued", "running", "paused")
FINISHED = ("succeeded", "failed", "cancelled")


def load_job(db: sqlite3.Connection, job_id: str) -> tuple[dict, dict]:
    """The job's public object and its private work record, or a 404."""
    row = db.execute("SELECT body, work FROM jobs WHERE id = ?", (job_id,)).fetchone()
    if row is None:
        raise not_found(
            f"No fine-tuning job with id {job_id!r}.",
            param="fine_tuning_job_id",
            code="fine_tuning_job_not_found",
        )
    return json.loads(row[0]), json.loads(row[1])


def save_job(db: sqlite3.Connection, job: dict, work: dict) -> None:
    db.execute(
        "UPDATE jobs SET status = ?, body = ?, work = ? WHERE id = ?",
        (job["status"], json.dumps(job), json.dumps(work), job["id"]),
    )


def add_event(
    db: sqlite3.Connection,
    job: dict,
    work: dict,
    message: str,
    created_at: int,
    level: str = "info",
    type_: str = "message",
    data: dict | None = None,
) -> dict:
    """Append an event to the job; its id comes from the job's id and the event's number."""
    number = work["events"] = work.get("events", 0) + 1
    event = {
        "object": "fine_tuning.job.event",
        "id": derived_id("ftevent", job["id"], number),
        "created_at": created_at,
        "level": level,
        "message": message,
        "data": data or {},
        "type": type_,
    }
    db.execute(
        "INSERT INTO events (job_id, seq, id, body) VALUES (?, ?, ?, ?)",
        (job["id"], number, event["id"], json.dumps(event)),
    )
    return event


def add_checkpoint(db: sqlite3.Connection, checkpoint: dict) -> None:
    db.execute(
        "INSERT OR REPLACE INTO checkpoints (job_id, step, id, body) VALUES (?, ?, ?, ?)",
        (
            checkpoint["fine_tuning_job_id"],
            checkpoint["step_number"],
            checkpoint["id"],
            json.dumps(checkpoint),
        ),
    )


def add_model(db: sqlite3.Connection, model: dict, job_id: str, step: int, seq: int) -> None:
    db.execute(
        "INSERT OR REPLACE INTO models (id, seq, body, job_id, step) VALUES (?, ?, ?, ?, ?)",
        (model["id"], seq, json.dumps(model), job_id, step),
    )


def metrics_of(db: sqlite3.Connection, job_id: str) -> list[dict]:
    """Every step's metrics, in step order, read back from the job's metrics events."""
    rows = db.execute("SELECT body FROM events WHERE job_id = ? ORDER BY seq", (job_id,)).fetchall()
    events = (json.loads(r[0]) for r in rows)
    return [e["data"] for e in events if e.get("type") == "metrics"]
