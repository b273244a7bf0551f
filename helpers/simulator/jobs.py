"""The fine-tuning jobs API as requests see it: create, list, retrieve, cancel, pause, resume.

The work itself (validating, queueing, training) is done by each server's runner thread.
"""

from __future__ import annotations

import hashlib
import json
import time

from helpers.simulator import catalog, job_requests
from helpers.simulator.errors import conflict, invalid
from helpers.simulator.ids import make_id, model_code
from helpers.simulator.job_records import ACTIVE, add_event, load_job, save_job

MAX_LIST_LIMIT = 1000


def create_job(sim, request: dict) -> dict:
    if not isinstance(request, dict):
        raise invalid("The request body must be a JSON object.")
    check = job_requests
    model, snapshot, parent = check.model_to_train(sim, request.get("model"))
    training = check.fine_tune_file(sim, request.get("training_file"), "training_file", True)
    validation = check.fine_tune_file(sim, request.get("validation_file"), "validation_file")
    hyperparameters = check.requested_hyperparameters(request)
    suffix = check.suffix(request.get("suffix"))
    seed = check.seed(request.get("seed"))
    metadata = check.metadata(request.get("metadata"))
    integrations = check.integrations(request.get("integrations"))

    store = sim.store
    with store.transaction() as db:
        number = store.next_number(db, "ftjob")
        job_id = make_id("ftjob", sim.settings.seed, number)
        created = store.advance_clock(db)
        if seed is None:
            seed = _job_seed(sim.settings.seed, job_id)
        job = {
            "object": "fine_tuning.job",
            "id": job_id,
            "model": model,
            "created_at": sim.clock.stamp(created),
            "finished_at": None,
            "fine_tuned_model": None,
            "organization_id": catalog.ORGANIZATION_ID,
            "result_files": [],
            "status": "validating_files",
            "validation_file": validation["id"] if validation else None,
            "training_file": training["id"],
            "hyperparameters": dict(hyperparameters),
            "trained_tokens": None,
            "error": None,
            "user_provided_suffix": suffix,
            "seed": seed,
            "estimated_finish": None,
            "integrations": integrations,
            "metadata": metadata,
            "method": {
                "type": "supervised",
                "supervised": {"hyperparameters": dict(hyperparameters)},
            },
        }
        work = {
            "sim": created,
            "wall": time.time(),
            "model_name": catalog.fine_tuned_name(snapshot, suffix, model_code(job_id)),
            "step": 0,
            "parent": parent,
        }
        db.execute(
            "INSERT INTO jobs (id, seq, status, body, work) VALUES (?, ?, ?, ?, ?)",
            (job_id, number, job["status"], json.dumps(job), json.dumps(work)),
        )
        add_event(db, job, work, f"Created fine-tuning job: {job_id}", job["created_at"])
        checking = f"Validating training file: {training['id']}"
        if validation:
            checking += f" and validation file: {validation['id']}"
        add_event(db, job, work, checking, job["created_at"])
        save_job(db, job, work)
    return job


def get_job(sim, job_id: str) -> dict:
    return load_job(sim.store.connection(), job_id)[0]


def list_jobs(
    sim, after: str | None, limit: int, metadata: dict | None, null_metadata: bool
) -> dict:
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise invalid(f"limit must be between 1 and {MAX_LIST_LIMIT}, not {limit}", param="limit")
    db = sim.store.connection()
    where, args = [], []
    if after:
        row = db.execute("SELECT seq FROM jobs WHERE id = ?", (after,)).fetchone()
        if row is None:
            raise invalid(f"after: no fine-tuning job {after!r}", param="after")
        where.append("seq < ?")
        args.append(row[0])
    sql = "SELECT body FROM jobs" + (f" WHERE {' AND '.join(where)}" if where else "")
    matching = []
    for (body,) in db.execute(sql + " ORDER BY seq DESC", args):
        job = json.loads(body)
        if null_metadata and job.get("metadata"):
            continue
        if metadata and any((job.get("metadata") or {}).get(k) != v for k, v in metadata.items()):
            continue
        matching.append(job)
        if len(matching) > limit:
            break
    return {"object": "list", "data": matching[:limit], "has_more": len(matching) > limit}


def cancel_job(sim, job_id: str) -> dict:
    with sim.store.transaction() as db:
        job, work = load_job(db, job_id)
        if job["status"] not in ACTIVE:
            raise conflict(
                f"Job {job_id} has already finished (status {job['status']}); only a job that "
                "has not finished can be cancelled.",
                param="fine_tuning_job_id",
                code="job_already_finished",
            )
        at = _next_moment(work)
        job.update(status="cancelled", finished_at=sim.clock.stamp(at), estimated_finish=None)
        add_event(db, job, work, "Fine-tuning job cancelled", job["finished_at"])
        save_job(db, job, work)
    return job


def pause_job(sim, job_id: str) -> dict:
    with sim.store.transaction() as db:
        job, work = load_job(db, job_id)
        if job["status"] != "running":
            raise conflict(
                f"Job {job_id} is {job['status']}; only a running job can be paused.",
                param="fine_tuning_job_id",
                code="job_not_running",
            )
        job.update(status="paused", estimated_finish=None)
        add_event(db, job, work, "Fine-tuning job paused", sim.clock.stamp(_next_moment(work)))
        save_job(db, job, work)
    return job


def resume_job(sim, job_id: str) -> dict:
    with sim.store.transaction() as db:
        job, work = load_job(db, job_id)
        if job["status"] != "paused":
            raise conflict(
                f"Job {job_id} is {job['status']}; only a paused job can be resumed.",
                param="fine_tuning_job_id",
                code="job_not_paused",
            )
        job["status"] = "running"
        work.update(anchor_wall=time.time(), anchor_step=work.get("step", 0))
        add_event(db, job, work, "Fine-tuning job resumed", sim.clock.stamp(_next_moment(work)))
        save_job(db, job, work)
    return job


def _next_moment(work: dict) -> int:
    """The job's simulated clock, moved on by a second for something that happens now."""
    work["sim"] = int(work["sim"]) + 1
    return work["sim"]


def _job_seed(seed: int, job_id: str) -> int:
    digest = hashlib.sha256(f"{seed}:{job_id}:seed".encode()).digest()
    return int.from_bytes(digest[:4], "big") % (job_requests.MAX_SEED + 1)


def list_events(sim, job_id: str, after: str | None, limit: int) -> dict:
    """The job's events, newest first; `after` continues below the given event."""
    return _page(sim, "events", "seq", job_id, after, limit, with_ids=False)


def list_checkpoints(sim, job_id: str, after: str | None, limit: int) -> dict:
    """The job's checkpoints, latest step first."""
    return _page(sim, "checkpoints", "step", job_id, after, limit, with_ids=True)


def _page(sim, table: str, order: str, job_id: str, after, limit: int, with_ids: bool) -> dict:
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise invalid(f"limit must be between 1 and {MAX_LIST_LIMIT}, not {limit}", param="limit")
    db = sim.store.connection()
    load_job(db, job_id)
    below = None
    if after:
        row = db.execute(
            f"SELECT {order} FROM {table} WHERE job_id = ? AND id = ?", (job_id, after)
        ).fetchone()
        if row is None:
            raise invalid(f"after: {after!r} is not an id in this list", param="after")
        below = row[0]
    rows = db.execute(
        f"SELECT body FROM {table} WHERE job_id = ? AND {order} < ? ORDER BY {order} DESC LIMIT ?",
        (job_id, below if below is not None else 2**62, limit + 1),
    ).fetchall()
    data = [json.loads(r[0]) for r in rows[:limit]]
    page = {"object": "list", "data": data, "has_more": len(rows) > limit}
    if with_ids:
        page["first_id"] = data[0]["id"] if data else None
        page["last_id"] = data[-1]["id"] if data else None
    return page
