"""What each step of a job's life writes: its status, timestamps, events, checkpoints, model.

Every function here changes a job (its public object `job` and its private record `work`)
inside the caller's transaction. Timestamps follow the job's own simulated clock (`work["sim"]`),
which moves on by what each piece of work would take on the real API.
"""

from __future__ import annotations

import math

from helpers.simulator import catalog
from helpers.simulator.files import add_results_file
from helpers.simulator.ids import derived_id
from helpers.simulator.job_records import add_checkpoint, add_event, add_model, metrics_of
from helpers.simulator.results import results_content
from helpers.simulator.training_session import STEP_SECONDS, TOKENS_PER_SECOND

# Simulated durations, in seconds.
VALIDATING_SECONDS, VALIDATED_TOKENS_PER_SECOND = 15, 20_000
QUEUED_SECONDS, FINISHING_SECONDS = 30, 12


def stamp(sim, work: dict) -> int:
    return sim.clock.stamp(work["sim"])


def files_validated(sim, db, job: dict, work: dict, resolved: dict, total: int, tokens: int):
    job["hyperparameters"] = dict(resolved)
    job["method"]["supervised"]["hyperparameters"] = dict(resolved)
    job["status"] = "queued"
    work["sim"] += VALIDATING_SECONDS + tokens // VALIDATED_TOKENS_PER_SECOND
    work.update(total_steps=total, tokens=tokens)
    trained = tokens * resolved["n_epochs"]
    work["step_seconds"] = STEP_SECONDS + trained / TOKENS_PER_SECOND / total
    add_event(db, job, work, "Files validated, moving job to queued state", stamp(sim, work))


def started(sim, db, job: dict, work: dict, wall_per_step: float) -> None:
    job["status"] = "running"
    work["sim"] += QUEUED_SECONDS
    add_event(db, job, work, "Fine-tuning job started", stamp(sim, work))
    job["estimated_finish"] = estimate(sim, work, wall_per_step)


def step_done(sim, db, job: dict, work: dict, result, total: int) -> None:
    """A step's metrics event, and at a checkpoint the checkpoint, its model and its event."""
    work["sim_fraction"] = work.get("sim_fraction", 0.0) + result.seconds
    whole = int(work["sim_fraction"])
    work["sim"] += whole
    work["sim_fraction"] -= whole
    work["step"] = result.step
    metrics = {**result.metrics, "total_steps": total}
    now = stamp(sim, work)
    add_event(db, job, work, step_message(metrics, total), now, type_="metrics", data=metrics)
    if not result.checkpoint:
        return
    name = f"{work['model_name']}:ckpt-step-{result.step}"
    checkpoint = {
        "object": "fine_tuning.job.checkpoint",
        "id": derived_id("ftckpt", job["id"], result.step),
        "created_at": now,
        "fine_tuned_model_checkpoint": name,
        "fine_tuning_job_id": job["id"],
        "metrics": dict(result.metrics),
        "step_number": result.step,
    }
    add_checkpoint(db, checkpoint)
    model = catalog.model_object(name, now, catalog.ORGANIZATION_ID)
    add_model(db, model, job["id"], result.step, sim.store.next_number(db, "model"))
    add_event(
        db, job, work, f"Checkpoint created at step {result.step} with Snapshot ID: {name}", now
    )


def succeeded(sim, db, job: dict, work: dict) -> None:
    name, total = work["model_name"], work["total_steps"]
    work["sim"] += FINISHING_SECONDS
    created = stamp(sim, work)
    model = catalog.model_object(name, created, catalog.ORGANIZATION_ID)
    add_model(db, model, job["id"], total, sim.store.next_number(db, "model"))
    add_event(db, job, work, f"New fine-tuned model created: {name}", created)
    work["sim"] += 1
    finished = stamp(sim, work)
    results_id = derived_id("file", job["id"])
    add_results_file(sim, db, results_id, results_content(metrics_of(db, job["id"])), finished)
    job.update(
        status="succeeded",
        fine_tuned_model=name,
        finished_at=finished,
        estimated_finish=None,
        trained_tokens=work["tokens"] * job["hyperparameters"]["n_epochs"],
        result_files=[results_id],
    )
    add_event(db, job, work, "The job has successfully completed", finished)


def failed(sim, db, job: dict, work: dict, code: str, message: str, param: str | None) -> None:
    work["sim"] += 1
    job.update(
        status="failed",
        error={"code": code, "message": message, "param": param},
        finished_at=stamp(sim, work),
        estimated_finish=None,
    )
    add_event(db, job, work, message, job["finished_at"], level="error")


def estimate(sim, work: dict, wall_per_step: float) -> int:
    """When the job should finish: by simulated step times, or by the wall-time pacing."""
    remaining = work["total_steps"] - work["step"]
    simulated = work["sim"] + math.ceil(remaining * work["step_seconds"]) + FINISHING_SECONDS
    return sim.clock.later(simulated, remaining * wall_per_step)


def step_message(metrics: dict, total: int) -> str:
    parts = [f"training loss={metrics['train_loss']:.2f}"]
    if "valid_loss" in metrics:
        parts.append(f"validation loss={metrics['valid_loss']:.2f}")
    if "full_valid_loss" in metrics:
        parts.append(f"full validation loss={metrics['full_valid_loss']:.2f}")
    return f"Step {metrics['step']}/{total}: " + ", ".join(parts)
