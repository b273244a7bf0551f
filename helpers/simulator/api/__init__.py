"""The API's resources, one module each: files, fine-tuning jobs, models, completions.

Each module holds one FastAPI router (its routes, plain functions that FastAPI runs in its thread
pool, since they use SQLite) and the service code behind it. What the routes share is here:
`Sim`, the server the request came to, and `JsonBody`, the request's JSON object, read once by
one parser that turns every malformed body into an OpenAI-shaped 400.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import Depends
from starlette.requests import Request
from starlette.responses import JSONResponse

from helpers.simulator.errors import invalid

# Deeper than any real request (content parts, tool schemas); deeper bodies are refused before
# anything walks them.
MAX_JSON_DEPTH = 64
# A `\uD800`-style escape in the raw body: only then can the parsed body hold a lone surrogate.
_SURROGATE_ESCAPE = re.compile(rb"\\[uU][dD][89a-fA-F]")


async def sim_of(request: Request):
    """The server's `Simulator` (see server.py): its settings, state, clock and worker."""
    return request.app.state.sim


async def json_body(request: Request) -> dict:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except RecursionError:
        raise too_deep() from None
    except ValueError:  # not JSON, or not UTF-8
        raise invalid("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    check_nesting(body, bool(_SURROGATE_ESCAPE.search(raw)))
    return body


def check_nesting(body, may_hold_surrogates: bool) -> None:
    """Refuse bodies nested deeper than MAX_JSON_DEPTH, or holding text that is not Unicode."""
    pending = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise too_deep()
        if isinstance(value, dict):
            pending.extend((v, depth + 1) for v in value.values())
            if may_hold_surrogates:
                pending.extend((k, depth) for k in value)
        elif isinstance(value, list):
            pending.extend((v, depth + 1) for v in value)
        elif may_hold_surrogates and isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise invalid(
                    "The request body is not valid JSON: it holds a lone surrogate escape "
                    "(\\ud800-\\udfff) that is not a Unicode character."
                ) from None


def too_deep():
    return invalid(
        f"The request body is nested too deeply: at most {MAX_JSON_DEPTH} levels of objects "
        "and lists are accepted."
    )


Sim = Annotated[Any, Depends(sim_of)]
JsonBody = Annotated[dict, Depends(json_body)]


def reply(body) -> JSONResponse:
    """The answer as it is: built by our own code, it needs no conversion by FastAPI."""
    return JSONResponse(body)


def page(found: list[dict] | None, limit: int, after: str | None, what: str) -> dict:
    """A list envelope from one more row than asked for (`None`: `after` named no such item)."""
    if found is None:
        raise invalid(f"after: no such {what} {after!r}", param="after")
    data = found[:limit]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": len(found) > limit,
    }
