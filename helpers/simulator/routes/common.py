"""Helpers the routes share: reading bodies and query strings into OpenAI-shaped errors."""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from helpers.simulator.errors import invalid


def sim_of(request: Request):
    return request.app.state.sim


async def call(function, *args):
    """Run a (blocking, SQLite-using) service function off the event loop."""
    return await run_in_threadpool(function, *args)


async def json_body(request: Request) -> dict:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise invalid("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    return body


def query_int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid(f"{name} must be a whole number, not {raw!r}", param=name) from None


def reply(body) -> JSONResponse:
    return JSONResponse(body)
