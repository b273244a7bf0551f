"""The HTTP side: the ASGI application every request goes through.

A request meets, in order:

1. the gate, a plain ASGI layer (no per-request objects, so it adds next to nothing to a round
   trip): the `Host` header must name this machine, a bearer key must be present, the body must
   not be larger than any real request's, and injected faults strike here;
2. FastAPI, which routes it to one router per resource (`api/`);
3. the error handlers, which give every refusal OpenAI's error shape.

The key itself is only checked for presence; it is never stored or logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from helpers.simulator.api import batches, completions, files, jobs, models
from helpers.simulator.errors import APIError, unauthorized
from helpers.simulator.headers import ResponseHeaders, processing
from helpers.simulator.hosts import host_name, is_loopback

log = logging.getLogger("helpers.simulator")

# A JSON body larger than this is refused (413) before it is read into memory. The longest
# context of any simulated model (1,047,576 tokens) is about 4 MB of text, so no request a model
# could accept comes near it; a 200 MB body, unchecked, took the server to 2.5 GB.
MAX_JSON_BODY_BYTES = 32 * 1024 * 1024
# An upload's form around its file: the purpose, the part headers, the boundaries.
MULTIPART_OVERHEAD_BYTES = 1024 * 1024

RATE_LIMITED = APIError(
    429,
    "Rate limit reached (a fault injected by the offline simulator). Please retry shortly.",
    type_="requests",
    code="rate_limit_exceeded",
    retry=True,
)
SERVER_ERROR = APIError(
    500,
    "The server had an error while processing your request (a fault injected by the offline "
    "simulator). Please retry.",
    type_="server_error",
    retry=True,
)


def create_app(sim) -> Gate:
    app = FastAPI(
        title="Offline OpenAI API simulator", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.sim = sim
    for resource in (files, jobs, models, completions, batches):
        app.include_router(resource.router)
    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
    return Gate(app, sim)


# -- the gate --------------------------------------------------------------------------------


class Gate:
    def __init__(self, app, sim):
        self.app = app
        self.sim = sim
        self.headers = ResponseHeaders(sim.settings.seed)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"0")
        send = _with_headers(send, self.headers.arrived(int(length) if length.isdigit() else 0))
        refusal, extra = self.refusal(headers), None
        if refusal is None:
            fault = self.sim.faults.next_fault()
            if fault == "429":
                refusal = RATE_LIMITED
                extra = {"retry-after-ms": str(self.sim.settings.faults.retry_after_ms)}
            elif fault == "500":
                refusal = SERVER_ERROR
            elif fault == "delay":
                await asyncio.sleep(self.sim.settings.faults.delay_seconds)
        if refusal is not None:
            await drain(receive)
            await respond(send, refusal, extra)
            return
        limit = self.body_limit(headers)
        await self.app(scope, _limited(receive, limit), send)

    def refusal(self, headers: dict) -> APIError | None:
        """Why the request is refused before it is read, or None."""
        host = headers.get(b"host")
        if host is not None and not self.sim.settings.allow_remote:
            name = host_name(host.decode("latin-1"))
            if not is_loopback(name):
                return wrong_host(name)
        if not _has_key(headers.get(b"authorization")):
            return unauthorized()
        length = headers.get(b"content-length")
        limit = self.body_limit(headers)
        if length is not None and length.isdigit() and int(length) > limit:
            return too_large(limit)
        return None

    def body_limit(self, headers: dict) -> int:
        if headers.get(b"content-type", b"").startswith(b"multipart/form-data"):
            return self.sim.settings.max_file_bytes + MULTIPART_OVERHEAD_BYTES
        return MAX_JSON_BODY_BYTES


def _with_headers(send, extra: list[tuple[bytes, bytes]]):
    """`send`, adding the API's response headers (and the time taken) to the response's start."""
    started = time.perf_counter()

    async def send_with_headers(message):
        if message["type"] == "http.response.start":
            message = {
                **message,
                "headers": [*message.get("headers", []), *extra, processing(started)],
            }
        await send(message)

    return send_with_headers


def _limited(receive, limit: int):
    """`receive`, refusing a body (sent without its length) once it grows beyond `limit`."""
    size = 0

    async def receive_within_limit():
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        if size > limit:
            raise too_large(limit)
        return message

    return receive_within_limit


def _has_key(authorization: bytes | None) -> bool:
    if authorization is None:
        return False
    scheme, _, key = authorization.decode("latin-1").partition(" ")
    return scheme.lower() == "bearer" and bool(key.strip())


def wrong_host(name: str) -> APIError:
    # A web page can make a browser send requests to a name it rebinds to 127.0.0.1; such
    # requests carry that name, so answering only this machine's names keeps them out.
    return APIError(
        403,
        f"Requests addressed to host {name!r} are refused: the offline simulator answers only "
        "requests addressed to this machine (127.0.0.1, localhost or [::1]). Start it with "
        "--allow-remote to answer others.",
        code="host_not_allowed",
    )


def too_large(limit: int) -> APIError:
    return APIError(
        413,
        f"The request body is larger than the simulator's limit of {limit} bytes.",
        code="request_too_large",
    )


async def drain(receive) -> None:
    """Read the request body to its end (and drop it), so that the connection stays usable."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return


async def respond(send, error: APIError, extra: dict | None = None) -> None:
    body = json.dumps(error.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    for name, value in {**error.response_headers(), **(extra or {})}.items():
        headers.append((name.encode(), value.encode()))
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# -- errors in OpenAI's shape -----------------------------------------------------------------


def error_response(error: APIError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.response_headers())


async def _api_error(request: Request, exc: APIError) -> JSONResponse:
    return error_response(exc)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    if exc.status_code == 404:  # worded as the API words it
        return error_response(APIError(404, f"Invalid URL ({request.method} {request.url.path})"))
    if exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}."
        return error_response(APIError(405, message, code="method_not_allowed"))
    return error_response(APIError(exc.status_code, str(exc.detail)))


# What a field's value should have been, by the kind of validation that failed.
EXPECTED = {"int_parsing": "a whole number", "int_type": "a whole number", "missing": None}


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """A query parameter or form field FastAPI could not read, named as OpenAI names them."""
    first = exc.errors()[0]
    where = [str(part) for part in first.get("loc", ()) if part not in ("query", "body", "path")]
    param = ".".join(where) or None
    kind = first.get("type")
    if kind == "missing":
        message = f"{param} is required."
    elif kind in EXPECTED:
        message = f"{param} must be {EXPECTED[kind]}, not {first.get('input')!r}."
    else:
        message = f"{param}: {first.get('msg', 'not valid')}."
    return error_response(APIError(400, message, param=param))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("Unexpected error answering %s %s", request.method, request.url.path, exc_info=exc)
    error = APIError(
        500, "The simulator failed to answer this request.", type_="server_error", retry=True
    )
    return error_response(error)
