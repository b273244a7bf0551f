"""The API's resources, one module each: files, fine-tuning jobs, models, completions.

Each module holds one FastAPI router (its routes, plain functions that FastAPI runs in its thread
pool, since they use SQLite) and the service code behind it. What the routes share is here:
`Sim`, the server the request came to, and `JsonBody`, the request's JSON object, read once by
one parser that turns every malformed body into an OpenAI-shaped 400.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends
from starlette.requests import Request
from starlette.responses import JSONResponse

from helpers.simulator.errors import invalid


async def sim_of(request: Request):
    """The server's `Simulator` (see server.py): its settings, state, clock and worker."""
    return request.app.state.sim


async def json_body(request: Request) -> dict:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:  # not JSON, or not UTF-8
        raise invalid("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    return body


Sim = Annotated[Any, Depends(sim_of)]
JsonBody = Annotated[dict, Depends(json_body)]


def reply(body) -> JSONResponse:
    """The answer as it is: built by our own code, it needs no conversion by FastAPI."""
    return JSONResponse(body)
