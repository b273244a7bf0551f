"""A fine-tuning job as the worker sees it: its public object, its private work record, and
what each moment of its life writes (status, timestamps, events, checkpoints, models, results).

Every function that changes a job does so inside the caller's transaction. Timestamps follow the
job's own simulated clock (`work.sim`), which moves on by what each piece of work would take on
the real API, so they do not depend on what other clients do meanwhile.
"""

from __future__ import annotations

import dataclasses
import math
import sqlite3
from dataclasses import dataclass

from helpers.simulator import catalog
from helpers.simulator.errors import not_found
from helpers.simulator.stamps import derived_id, model_code
from helpers.simulator.store import Store
from helpers.simulator.training import wandb_run
from helpers.simulator.training.outputs import results_content
from helpers.simulator.training.session import STEP_SECONDS, TOKENS_PER_SECOND, checkpoint_steps

ACTIVE = ("validating_files", "queued", "running", "paused")
# Simulated durations, in seconds.
VALIDATING_SECONDS, VALIDATED_TOKENS_PER_SECOND = 15, 20_000
QUEUED_SECONDS, FINISHING_SECONDS = 30, 12


@dataclass
class JobWork:
    """What the simulator keeps about a job beside its public object; never shown to clients."""

    base_model: str  # the base snapshot (tokenizer, data format), settled when the job is created
    model_name: str  # the fine-tuned model's name, settled when the job is created
    sim: int  # the job's own simulated clock, in seconds
    phase_wall: float  # the wall time at which the job entered its current state
    parent: dict | None = None  # {"job_id", "step"} of the fine-tuned model this job continues
    step: int = 0  # steps done and saved
    events: int = 0  # events written so far (the next one's number is one more)
    total_steps: int = 0  # known once the files are validated
    tokens: int = 0  # billable tokens of one epoch of the training file
    step_seconds: float = 0.0  # simulated seconds a step takes on average (for estimates)
    sim_fraction: float = 0.0  # the part of a simulated second that the steps so far left over
    anchor_wall: float = 0.0  # the wall time at which training (re)started...
    anchor_step: int = 0  # ...and the step it started from: together they pace the steps

    def next_moment(self) -> int:
        """The job's clock, moved on by a second for something that happens now."""
        self.sim += 1
        return self.sim


def load_job(db: sqlite3.Connection, job_id: str) -> tuple[dict, JobWork]:
    """The job's public object and its work record, or a 404."""
    found = Store.job(db, job_id)
    if found is None:
        raise not_found(
            f"No fine-tuning job with id {job_id!r}.",
            param="fine_tuning_job_id",
            code="fine_tuning_job_not_found",
        )
    job, work, _ = found
    return job, JobWork(**work)


def add_job(db: sqlite3.Connection, seq: int, job: dict, work: JobWork) -> None:
    Store.add_job(db, seq, job, dataclasses.asdict(work))


def save_job(db: sqlite3.Connection, job: dict, work: JobWork) -> None:
    Store.save_job(db, job, dataclasses.asdict(work))


def add_event(
    db: sqlite3.Connection,
    job: dict,
    work: JobWork,
    message: str,
    created_at: int,
    level: str = "info",
    type_: str = "message",
    data: dict | None = None,
) -> dict:
    """Append an event to the job; its id comes from the job's id and the event's number."""
    work.events += 1
    event = {
        "object": "fine_tuning.job.event",
        "id": derived_id("ftevent", job["id"], work.events),
        "created_at": created_at,
        "level": level,
        "message": message,
        "data": data or {},
        "type": type_,
    }
    Store.add_event(db, job["id"], work.events, event)
    return event


# -- the moments of a job's life, in order ----------------------------------------------------


def stamp(sim, work: JobWork) -> int:
    return sim.clock.stamp(work.sim)


def files_validated(sim, db, job: dict, work: JobWork, resolved: dict, total: int, tokens: int):
    job["hyperparameters"] = dict(resolved)
    job["method"]["supervised"]["hyperparameters"] = dict(resolved)
    job["status"] = "queued"
    work.sim += VALIDATING_SECONDS + tokens // VALIDATED_TOKENS_PER_SECOND
    work.total_steps, work.tokens = total, tokens
    trained = tokens * resolved["n_epochs"]
    work.step_seconds = STEP_SECONDS + trained / TOKENS_PER_SECOND / total
    message = "Files validated, moving job to queued state"
    add_event(db, job, work, message, stamp(sim, work))


def started(sim, db, job: dict, work: JobWork, wall_per_step: float) -> None:
    job["status"] = "running"
    work.sim += QUEUED_SECONDS
    add_event(db, job, work, "Fine-tuning job started", stamp(sim, work))
    job["estimated_finish"] = estimate(sim, work, wall_per_step)


def checkpoint_name(job: dict, work: JobWork, step: int) -> str:
    """A checkpoint's model: its own code, as on the API (`ft:...:9uJPavaa:ckpt-step-100`); the
    last step's checkpoint is the job's fine-tuned model itself."""
    if step == work.total_steps:
        return work.model_name
    stem, code = work.model_name.rsplit(":", 1)[0], model_code(f"{job['id']}:step-{step}")
    return f"{stem}:{code}:ckpt-step-{step}"


def step_done(sim, db, job: dict, work: JobWork, result, total: int) -> None:
    """A step's metrics event, and at a checkpoint the checkpoint and its model (their events
    come when the job succeeds, as on the API; the last step's model is the job's own)."""
    store = sim.store
    work.sim_fraction += result.seconds
    whole = int(work.sim_fraction)
    work.sim += whole
    work.sim_fraction -= whole
    work.step = result.step
    metrics = {**result.metrics, "total_steps": total}
    now = stamp(sim, work)
    message = step_message(metrics, total)
    add_event(db, job, work, message, now, type_="metrics", data=metrics)
    if not result.checkpoint:
        return
    name = checkpoint_name(job, work, result.step)
    store.add_checkpoint(
        db,
        {
            "object": "fine_tuning.job.checkpoint",
            "id": derived_id("ftckpt", job["id"], result.step),
            "created_at": now,
            "fine_tuned_model_checkpoint": name,
            "fine_tuning_job_id": job["id"],
            "metrics": dict(result.metrics),
            "step_number": result.step,
        },
    )
    if result.step < total:  # the last step's model is added when the job succeeds
        model = catalog.model_object(name, now, catalog.ORGANIZATION_ID)
        store.add_model(db, model, job["id"], result.step)


def succeeded(sim, db, job: dict, work: JobWork) -> None:
    store = sim.store
    name, total = work.model_name, work.total_steps
    work.sim += FINISHING_SECONDS
    created = stamp(sim, work)
    epochs = job["hyperparameters"]["n_epochs"]
    for step in checkpoint_steps(total // epochs, epochs)[:-1]:
        message = f"Checkpoint created at step {step} with Snapshot ID: "
        add_event(db, job, work, message + checkpoint_name(job, work, step), created)
    model = catalog.model_object(name, created, catalog.ORGANIZATION_ID)
    store.add_model(db, model, job["id"], total)
    add_event(db, job, work, f"New fine-tuned model created: {name}", created)
    work.sim += 1
    finished = stamp(sim, work)
    results_id = derived_id("file", job["id"])
    content = results_content(store.metrics_of(db, job["id"]))
    store.add_file(db, results_id, "step_metrics.csv", "fine-tune-results", content, finished)
    job.update(
        status="succeeded",
        fine_tuned_model=name,
        finished_at=finished,
        estimated_finish=None,
        trained_tokens=work.tokens * job["hyperparameters"]["n_epochs"],
        result_files=[results_id],
    )
    add_event(db, job, work, "The job has successfully completed", finished)
    wandb_run.write_offline_runs(job, store.metrics_of(db, job["id"]))


def failed(sim, db, job: dict, work: JobWork, code: str, message: str, param: str | None):
    work.sim += 1
    job.update(
        status="failed",
        error={"code": code, "message": message, "param": param},
        finished_at=stamp(sim, work),
        estimated_finish=None,
    )
    add_event(db, job, work, message, job["finished_at"], level="error")


def estimate(sim, work: JobWork, wall_per_step: float) -> int:
    """When the job should finish: by simulated step times, or by the wall-time pacing."""
    remaining = work.total_steps - work.step
    simulated = work.sim + math.ceil(remaining * work.step_seconds) + FINISHING_SECONDS
    return sim.clock.later(simulated, remaining * wall_per_step)


def step_message(metrics: dict, total: int) -> str:
    parts = [f"training loss={metrics['train_loss']:.2f}"]
    if "valid_loss" in metrics:
        parts.append(f"validation loss={metrics['valid_loss']:.2f}")
    if "full_valid_loss" in metrics:
        parts.append(f"full validation loss={metrics['full_valid_loss']:.2f}")
    return f"Step {metrics['step']}/{total}: " + ", ".join(parts)
