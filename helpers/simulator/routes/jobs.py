"""/v1/fine_tuning/jobs"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from helpers.simulator import jobs
from helpers.simulator.routes.common import call, json_body, query_int, reply, sim_of

router = APIRouter()
PREFIX = "/v1/fine_tuning/jobs"


@router.post(PREFIX)
async def create_job(request: Request):
    return reply(await call(jobs.create_job, sim_of(request), await json_body(request)))


@router.get(PREFIX)
async def list_jobs(request: Request):
    # `metadata[key]=value` filters on metadata; `metadata=null` asks for jobs without any.
    metadata = {
        key[len("metadata[") : -1]: value
        for key, value in request.query_params.multi_items()
        if key.startswith("metadata[") and key.endswith("]")
    }
    null_metadata = request.query_params.get("metadata") == "null"
    return reply(
        await call(
            jobs.list_jobs,
            sim_of(request),
            request.query_params.get("after"),
            query_int(request, "limit", 20),
            metadata,
            null_metadata,
        )
    )


@router.get(PREFIX + "/{job_id}")
async def retrieve_job(job_id: str, request: Request):
    return reply(await call(jobs.get_job, sim_of(request), job_id))


@router.post(PREFIX + "/{job_id}/cancel")
async def cancel_job(job_id: str, request: Request):
    return reply(await call(jobs.cancel_job, sim_of(request), job_id))


@router.post(PREFIX + "/{job_id}/pause")
async def pause_job(job_id: str, request: Request):
    return reply(await call(jobs.pause_job, sim_of(request), job_id))


@router.post(PREFIX + "/{job_id}/resume")
async def resume_job(job_id: str, request: Request):
    return reply(await call(jobs.resume_job, sim_of(request), job_id))


@router.get(PREFIX + "/{job_id}/events")
async def list_events(job_id: str, request: Request):
    after, limit = request.query_params.get("after"), query_int(request, "limit", 20)
    return reply(await call(jobs.list_events, sim_of(request), job_id, after, limit))


@router.get(PREFIX + "/{job_id}/checkpoints")
async def list_checkpoints(job_id: str, request: Request):
    after, limit = request.query_params.get("after"), query_int(request, "limit", 10)
    return reply(await call(jobs.list_checkpoints, sim_of(request), job_id, after, limit))
