"""The ASGI application: the routes, the gate in front of them, and OpenAI-shaped errors."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from helpers.simulator.errors import APIError
from helpers.simulator.gate import Gate
from helpers.simulator.routes import completions, files, jobs, models

log = logging.getLogger("helpers.simulator")


def create_app(sim) -> Gate:
    app = FastAPI(
        title="Offline OpenAI API simulator", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.sim = sim
    for module in (files, jobs, models, completions):
        app.include_router(module.router)
    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
    return Gate(app, sim)


def error_response(error: APIError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers())


async def _api_error(request: Request, exc: APIError) -> JSONResponse:
    return error_response(exc)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    if exc.status_code == 404:
        message = f"Unknown request URL: {request.method} {request.url.path}."
        return error_response(APIError(404, message, code="unknown_url"))
    if exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}."
        return error_response(APIError(405, message, code="method_not_allowed"))
    return error_response(APIError(exc.status_code, str(exc.detail)))


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    return error_response(APIError(400, "The request is not valid."))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("Unexpected error answering %s %s", request.method, request.url.path, exc_info=exc)
    error = APIError(
        500, "The simulator failed to answer this request.", type_="server_error", retry=True
    )
    return error_response(error)
