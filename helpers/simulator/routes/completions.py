"""/v1/chat/completions and /v1/completions"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from helpers.simulator import completions
from helpers.simulator.routes.common import call, json_body, reply, sim_of

router = APIRouter()


@router.post("/v1/chat/completions")
async def chat_completion(request: Request):
    return reply(await call(completions.chat_completion, sim_of(request), await json_body(request)))


@router.post("/v1/completions")
async def completion(request: Request):
    return reply(await call(completions.completion, sim_of(request), await json_body(request)))
