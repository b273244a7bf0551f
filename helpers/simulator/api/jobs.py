"""/v1/fine_tuning/jobs: create, list, retrieve, cancel, pause, resume; events, checkpoints.

A request to create a job is checked field by field here (400s that name the field); the job is
then written in the state, and each server's worker (training/worker.py) does the rest.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request

from helpers.model_catalog import base_model_of
from helpers.simulator import catalog
from helpers.simulator.api import JsonBody, Sim, reply
from helpers.simulator.api.files import get_file
from helpers.simulator.api.models import model_name
from helpers.simulator.errors import APIError, conflict, invalid
from helpers.simulator.stamps import make_id, model_code
from helpers.simulator.training.job import ACTIVE, JobWork, add_event, add_job, load_job, save_job
from helpers.simulator.training.session import check_requested

router = APIRouter(prefix="/v1/fine_tuning/jobs")
MAX_LIST_LIMIT = 1000
MAX_SUFFIX = 64
MAX_SEED = 2_147_483_647
MAX_METADATA_PAIRS, MAX_KEY, MAX_VALUE = 16, 64, 512
_BAD_SUFFIX = re.compile(r"[:\s]")
Limit = Annotated[int, Query()]


@router.post("")
def create_job(sim: Sim, body: JsonBody):
    job = create(sim, body)
    sim.worker.wake()  # it starts validating now, not at the worker's next idle round
    return reply(job)


@router.get("")
def list_jobs(sim: Sim, request: Request, after: str | None = None, limit: Limit = 20):
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise invalid(f"limit must be between 1 and {MAX_LIST_LIMIT}, not {limit}", param="limit")
    # `metadata[key]=value` filters on metadata; `metadata=null` asks for jobs without any.
    wanted = {
        key[len("metadata[") : -1]: value
        for key, value in request.query_params.multi_items()
        if key.startswith("metadata[") and key.endswith("]")
    }
    without_metadata = request.query_params.get("metadata") == "null"
    found = sim.store.jobs(after)
    if found is None:
        raise invalid(f"after: no fine-tuning job {after!r}", param="after")
    matching = []
    for job in found:
        metadata = job.get("metadata") or {}
        if without_metadata and metadata:
            continue
        if wanted and any(metadata.get(k) != v for k, v in wanted.items()):
            continue
        matching.append(job)
        if len(matching) > limit:
            break
    return reply({"object": "list", "data": matching[:limit], "has_more": len(matching) > limit})


@router.get("/{job_id}")
def retrieve_job(sim: Sim, job_id: str):
    return reply(load_job(sim.store.connection(), job_id)[0])


@router.post("/{job_id}/cancel")
def cancel_job(sim: Sim, job_id: str):
    def cancel(job: dict, work: JobWork) -> tuple[str, int]:
        if job["status"] not in ACTIVE:
            raise conflict(
                f"Job {job_id} has already finished (status {job['status']}); only a job that "
                "has not finished can be cancelled.",
                param="fine_tuning_job_id",
                code="job_already_finished",
            )
        finished = sim.clock.stamp(work.next_moment())
        job.update(status="cancelled", finished_at=finished, estimated_finish=None)
        return "Fine-tuning job cancelled", finished

    return reply(change_job(sim, job_id, cancel))


@router.post("/{job_id}/pause")
def pause_job(sim: Sim, job_id: str):
    def pause(job: dict, work: JobWork) -> tuple[str, int]:
        if job["status"] != "running":
            raise conflict(
                f"Job {job_id} is {job['status']}; only a running job can be paused.",
                param="fine_tuning_job_id",
                code="job_not_running",
            )
        job.update(status="paused", estimated_finish=None)
        return "Fine-tuning job paused", sim.clock.stamp(work.next_moment())

    return reply(change_job(sim, job_id, pause))


@router.post("/{job_id}/resume")
def resume_job(sim: Sim, job_id: str):
    def resume(job: dict, work: JobWork) -> tuple[str, int]:
        if job["status"] != "paused":
            raise conflict(
                f"Job {job_id} is {job['status']}; only a paused job can be resumed.",
                param="fine_tuning_job_id",
                code="job_not_paused",
            )
        job["status"] = "running"
        work.anchor_wall, work.anchor_step = time.time(), work.step
        return "Fine-tuning job resumed", sim.clock.stamp(work.next_moment())

    job = change_job(sim, job_id, resume)
    sim.worker.wake()
    return reply(job)


@router.get("/{job_id}/events")
def list_events(sim: Sim, job_id: str, after: str | None = None, limit: Limit = 20):
    """The job's events, newest first; `after` continues below the given event."""
    data, has_more = _page(sim, sim.store.events, job_id, after, limit)
    return reply({"object": "list", "data": data, "has_more": has_more})


@router.get("/{job_id}/checkpoints")
def list_checkpoints(sim: Sim, job_id: str, after: str | None = None, limit: Limit = 10):
    """The job's checkpoints, latest step first."""
    data, has_more = _page(sim, sim.store.checkpoints, job_id, after, limit)
    return reply(
        {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": has_more,
        }
    )


def _page(sim, rows, job_id: str, after: str | None, limit: int) -> tuple[list, bool]:
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise invalid(f"limit must be between 1 and {MAX_LIST_LIMIT}, not {limit}", param="limit")
    load_job(sim.store.connection(), job_id)
    found = rows(job_id, after, limit + 1)
    if found is None:
        raise invalid(f"after: {after!r} is not an id in this list", param="after")
    return found[:limit], len(found) > limit


# -- creating a job ---------------------------------------------------------------------------


def create(sim, request: dict) -> dict:
    model, snapshot, parent = model_to_train(sim, request.get("model"))
    training = fine_tune_file(sim, request.get("training_file"), "training_file", True)
    validation = fine_tune_file(sim, request.get("validation_file"), "validation_file")
    hyperparameters = requested_hyperparameters(request)
    suffix = check_suffix(request.get("suffix"))
    seed = check_seed(request.get("seed"))
    metadata = check_metadata(request.get("metadata"))
    integrations = check_integrations(request.get("integrations"))

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
        work = JobWork(
            base_model=snapshot,
            model_name=catalog.fine_tuned_name(snapshot, suffix, model_code(job_id)),
            sim=created,
            phase_wall=time.time(),
            parent=parent,
        )
        add_event(db, job, work, f"Created fine-tuning job: {job_id}", job["created_at"])
        checking = f"Validating training file: {training['id']}"
        if validation:
            checking += f" and validation file: {validation['id']}"
        add_event(db, job, work, checking, job["created_at"])
        add_job(db, number, job, work)
    return job


def change_job(sim, job_id: str, change) -> dict:
    """Apply `change(job, work)` in one transaction, with the event (message, time) it returns."""
    with sim.store.transaction() as db:
        job, work = load_job(db, job_id)
        message, at = change(job, work)
        add_event(db, job, work, message, at)
        save_job(db, job, work)
    return job


def _job_seed(seed: int, job_id: str) -> int:
    digest = hashlib.sha256(f"{seed}:{job_id}:seed".encode()).digest()
    return int.from_bytes(digest[:4], "big") % (MAX_SEED + 1)


# -- checks of a request to create a job, field by field --------------------------------------


def model_to_train(sim, model) -> tuple[str, str, dict | None]:
    """(the job's `model`, its base snapshot, the fine-tuned model it continues or None)."""
    model = model_name(model, "model is required: the base model to fine-tune.")
    if model.startswith("ft:"):
        found = sim.store.model(model)
        if found is None:
            raise invalid(
                f"Model {model} does not exist, so it cannot be fine-tuned further.",
                param="model",
                code="model_not_available",
            )
        _, job_id, step = found
        return model, base_model_of(model), {"job_id": job_id, "step": step}
    snapshot = catalog.snapshot_of(model)
    if snapshot is None:
        known = ", ".join(sorted(catalog.SNAPSHOTS))
        raise invalid(
            f"Model {model} does not exist or cannot be fine-tuned. Fine-tunable models: {known}.",
            param="model",
            code="model_not_available",
        )
    return snapshot, snapshot, None


def fine_tune_file(sim, file_id, param: str, required: bool = False) -> dict | None:
    if file_id is None and not required:
        return None
    if not isinstance(file_id, str) or not file_id:
        raise invalid(f"{param} is required: the id of an uploaded file.", param=param)
    try:
        found = get_file(sim, file_id, param=param)
    except APIError:
        raise invalid(f"invalid {param}: {file_id}", param=param, code=f"invalid_{param}") from None
    if found["purpose"] != "fine-tune":
        raise invalid(
            f"invalid {param}: {file_id} has purpose {found['purpose']!r}; files used for "
            "fine-tuning must be uploaded with purpose 'fine-tune'.",
            param=param,
            code=f"invalid_{param}",
        )
    return found


def requested_hyperparameters(request: dict) -> dict:
    method = request.get("method")
    if method is None:
        return check_requested(request.get("hyperparameters"))
    if not isinstance(method, dict):
        raise invalid("method must be an object.", param="method")
    kind = method.get("type")
    if kind in ("dpo", "reinforcement"):
        raise invalid(
            f"The {kind} method is not simulated: the offline simulator trains supervised "
            "jobs only.",
            param="method.type",
            code="method_not_simulated",
        )
    if kind != "supervised":
        raise invalid(f"method.type must be 'supervised', not {kind!r}.", param="method.type")
    settings = method.get("supervised") or {}
    if not isinstance(settings, dict):
        raise invalid("method.supervised must be an object.", param="method.supervised")
    given = settings.get("hyperparameters")
    if given is None:
        given = request.get("hyperparameters")
    return check_requested(given, param="method.supervised.hyperparameters")


def check_suffix(suffix) -> str | None:
    if suffix is None:
        return None
    if not isinstance(suffix, str):
        raise invalid("suffix must be a string.", param="suffix")
    if not 1 <= len(suffix) <= MAX_SUFFIX:
        raise invalid(
            f"suffix must be 1 to {MAX_SUFFIX} characters long; this one has {len(suffix)}.",
            param="suffix",
        )
    if _BAD_SUFFIX.search(suffix):
        raise invalid("suffix must not contain colons or spaces.", param="suffix")
    return suffix


def check_seed(seed) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise invalid(f"seed must be a whole number from 0 to {MAX_SEED}.", param="seed")
    return seed


def check_metadata(metadata) -> dict | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise invalid("metadata must be an object of string keys and values.", param="metadata")
    if len(metadata) > MAX_METADATA_PAIRS:
        raise invalid(f"metadata holds at most {MAX_METADATA_PAIRS} pairs.", param="metadata")
    for key, value in metadata.items():
        if not isinstance(value, str) or len(key) > MAX_KEY or len(value) > MAX_VALUE:
            raise invalid(
                f"metadata[{key!r}]: keys are strings of up to {MAX_KEY} characters and values "
                f"strings of up to {MAX_VALUE}.",
                param="metadata",
            )
    return dict(metadata)


def check_integrations(integrations) -> list:
    """Recorded as given; nothing is ever sent anywhere."""
    if integrations is None:
        return []
    if not isinstance(integrations, list) or len(integrations) > 5:
        raise invalid("integrations must be a list of at most 5 objects.", param="integrations")
    for i, item in enumerate(integrations):
        where = f"integrations[{i}]"
        if not isinstance(item, dict) or item.get("type") != "wandb":
            raise invalid(f"{where}.type must be 'wandb'.", param=f"{where}.type")
        wandb = item.get("wandb")
        if not isinstance(wandb, dict) or not isinstance(wandb.get("project"), str):
            raise invalid(f"{where}.wandb.project is required.", param=f"{where}.wandb.project")
    return integrations
