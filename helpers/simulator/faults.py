"""Fault injection: answer a share of requests with 429 or 500, or answer them late.

Faults are spread evenly over the requests a server receives rather than drawn at random, so a
run is reproducible and, while the shares add up to at most one half, no two requests in a row
fail: the SDK's default two retries then always get through.

A plan is written `429=0.1,500=0.05,delay=0.1,delay_seconds=0.5` (in `SIMULATOR_FAULTS` or the
`faults` argument), or given as a dict with the same keys.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from helpers.errors import CourseError

KINDS = ("429", "500", "delay")


class FaultPlanError(CourseError, ValueError):
    """A fault plan that cannot be used; the message names the part that is wrong."""


@dataclass(frozen=True)
class FaultPlan:
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_delay: float = 0.0
    delay_seconds: float = 0.5
    # How long the 429 answer asks the client to wait (the SDK honours `retry-after-ms`).
    retry_after_ms: int = 50

    @property
    def active(self) -> bool:
        return self.total > 0

    @property
    def total(self) -> float:
        return self.rate_429 + self.rate_500 + self.rate_delay

    def rates(self) -> dict[str, float]:
        return {"429": self.rate_429, "500": self.rate_500, "delay": self.rate_delay}


def parse_faults(spec: str | dict | None) -> FaultPlan:
    if not spec:
        return FaultPlan()
    if isinstance(spec, str):
        items = {}
        for part in spec.split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep:
                raise FaultPlanError(f"fault plan part {part.strip()!r} is not KEY=VALUE")
            items[key.strip()] = value.strip()
    else:
        items = dict(spec)
    known = {"429", "500", "delay", "delay_seconds", "retry_after_ms"}
    unknown = sorted(str(k) for k in items if str(k) not in known)
    if unknown:
        raise FaultPlanError(
            f"unknown fault setting(s) {', '.join(unknown)}; use {', '.join(sorted(known))}"
        )
    values = {str(k): _float(str(k), v) for k, v in items.items()}
    for kind in KINDS:
        if not 0 <= values.get(kind, 0.0) <= 1:
            raise FaultPlanError(f"fault share {kind}={values[kind]} must be between 0 and 1")
    plan = FaultPlan(
        rate_429=values.get("429", 0.0),
        rate_500=values.get("500", 0.0),
        rate_delay=values.get("delay", 0.0),
        delay_seconds=values.get("delay_seconds", 0.5),
        retry_after_ms=int(values.get("retry_after_ms", 50)),
    )
    if plan.total > 1:
        raise FaultPlanError(f"fault shares add up to {plan.total:g}, more than 1")
    if plan.delay_seconds < 0 or plan.retry_after_ms < 0:
        raise FaultPlanError("delay_seconds and retry_after_ms must not be negative")
    return plan


def _float(key: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FaultPlanError(f"fault setting {key}={value!r} is not a number") from None
    if not math.isfinite(number):
        raise FaultPlanError(f"fault setting {key}={value!r} is not finite")
    return number


class FaultInjector:
    """Decides, request by request, which fault (if any) a server answers with."""

    def __init__(self, plan: FaultPlan):
        self.plan = plan
        self._lock = threading.Lock()
        self._requests = 0
        self._credit = dict.fromkeys(KINDS, 0.0)

    def next_fault(self) -> str | None:
        plan = self.plan
        if not plan.active:
            return None
        with self._lock:
            n = self._requests
            self._requests += 1
            # A fault falls on request n when the running total of shares crosses an integer.
            if math.floor((n + 1) * plan.total + 1e-9) == math.floor(n * plan.total + 1e-9):
                return None
            return self._pick_kind()

    def _pick_kind(self) -> str:
        # Smooth weighted round robin: kinds interleave in proportion to their shares.
        rates = self.plan.rates()
        for kind in KINDS:
            self._credit[kind] += rates[kind]
        chosen = max(KINDS, key=lambda k: (self._credit[k], -KINDS.index(k)))
        self._credit[chosen] -= self.plan.total
        return chosen
