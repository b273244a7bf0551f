"""/v1/models"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from helpers.simulator import models
from helpers.simulator.routes.common import call, reply, sim_of

router = APIRouter()


@router.get("/v1/models")
async def list_models(request: Request):
    return reply(await call(models.list_models, sim_of(request)))


@router.get("/v1/models/{model:path}")
async def retrieve_model(model: str, request: Request):
    return reply(await call(models.get_model, sim_of(request), model))


@router.delete("/v1/models/{model:path}")
async def delete_model(model: str, request: Request):
    return reply(await call(models.delete_model, sim_of(request), model))
