"""What every request passes first: the bearer-key check and the injected faults.

A plain ASGI middleware (no per-request objects) so that it adds next to nothing to a round trip.
The key itself is only checked for presence; it is never stored or logged.
"""

from __future__ import annotations

import asyncio
import json

from helpers.simulator.errors import APIError, unauthorized

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


class Gate:
    def __init__(self, app, sim):
        self.app = app
        self.sim = sim

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not _has_key(scope):
            await drain(receive)
            await respond(send, unauthorized())
            return
        fault = self.sim.faults.next_fault()
        if fault == "429":
            extra = {"retry-after-ms": str(self.sim.settings.faults.retry_after_ms)}
            await drain(receive)
            await respond(send, RATE_LIMITED, extra)
            return
        if fault == "500":
            await drain(receive)
            await respond(send, SERVER_ERROR)
            return
        if fault == "delay":
            await asyncio.sleep(self.sim.settings.faults.delay_seconds)
        await self.app(scope, receive, send)


def _has_key(scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, key = value.decode("latin-1").partition(" ")
            return scheme.lower() == "bearer" and bool(key.strip())
    return False


async def drain(receive) -> None:
    """Read the request body to its end, so that the connection stays usable."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return


async def respond(send, error: APIError, extra: dict | None = None) -> None:
    body = json.dumps(error.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    for name, value in {**error.headers(), **(extra or {})}.items():
        headers.append((name.encode(), value.encode()))
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
