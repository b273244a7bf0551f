"""The headers the API puts on every response: a request id, the processing time, rate limits.

- `x-request-id`: `req_` and 32 hex digits, the n-th of this server (seeded, like every id, so a
  fresh server with the same seed hands out the same ones); the SDKs show it as `_request_id`.
- `openai-processing-ms`: the milliseconds between the request's arrival and its answer.
- `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`: a one-minute window over this server's
  requests (and the tokens they may use, estimated before any reply is written: a token per four
  bytes of request); `reset` is the time the used part takes to refill at the limit's rate, as
  the API reports it (one request at 10,000 a minute: `6ms`). The simulator never refuses for
  them; the figures are there so that code reading them behaves as it does against the API.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections import deque

WINDOW_SECONDS = 60.0
REQUESTS_PER_MINUTE = 10_000
TOKENS_PER_MINUTE = 10_000_000
BYTES_PER_TOKEN = 4


def duration(seconds: float) -> str:
    """A reset time written as the API writes it: `6ms`, `1.5s`, `1m30s`."""
    if seconds < 1:
        return f"{max(int(seconds * 1000), 0)}ms"
    minutes, rest = divmod(seconds, 60)
    text = f"{rest:.3g}s" if rest else ""
    return f"{int(minutes)}m{text}" if minutes else text


class ResponseHeaders:
    """Hands out request ids and keeps the rate-limit window; shared by all requests."""

    def __init__(self, seed: int):
        self.seed = seed
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._recent: deque[tuple[float, int]] = deque()  # (arrival, estimated tokens)
        self._tokens = 0

    def request_id(self) -> str:
        number = next(self._numbers)
        return "req_" + hashlib.sha256(f"{self.seed}:request:{number}".encode()).hexdigest()[:32]

    def arrived(self, body_bytes: int) -> list[tuple[bytes, bytes]]:
        """Count a request in; the headers for its answer (all but the processing time)."""
        now = time.monotonic()
        tokens = max(1, body_bytes // BYTES_PER_TOKEN)
        with self._lock:
            while self._recent and now - self._recent[0][0] >= WINDOW_SECONDS:
                self._tokens -= self._recent.popleft()[1]
            self._recent.append((now, tokens))
            self._tokens += tokens
            requests, used = len(self._recent), self._tokens
        values = {
            "x-request-id": self.request_id(),
            "x-ratelimit-limit-requests": str(REQUESTS_PER_MINUTE),
            "x-ratelimit-remaining-requests": str(max(REQUESTS_PER_MINUTE - requests, 0)),
            "x-ratelimit-reset-requests": duration(WINDOW_SECONDS * requests / REQUESTS_PER_MINUTE),
            "x-ratelimit-limit-tokens": str(TOKENS_PER_MINUTE),
            "x-ratelimit-remaining-tokens": str(max(TOKENS_PER_MINUTE - used, 0)),
            "x-ratelimit-reset-tokens": duration(WINDOW_SECONDS * used / TOKENS_PER_MINUTE),
        }
        return [(k.encode(), v.encode()) for k, v in values.items()]


def processing(started: float) -> tuple[bytes, bytes]:
    return b"openai-processing-ms", str(round((time.perf_counter() - started) * 1000)).encode()
