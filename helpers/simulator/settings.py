"""The simulator's settings: where its state lives, its seed, clock, pacing and faults.

Each setting comes from an explicit argument first, then from an environment variable, then from a
default. The environment variables are the ones a learner can set before starting Jupyter.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from helpers.errors import CourseError
from helpers.paths import REPO_ROOT
from helpers.simulator.faults import FaultPlan, parse_faults

CLOCKS = ("simulated", "real")
# OpenAI accepts fine-tuning files up to 512 MB.
DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024


class SettingsError(CourseError, ValueError):
    """A setting has a value the simulator cannot use; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    state_dir: Path
    seed: int = 0
    clock: str = "simulated"
    # Wall-time pacing of jobs: 2.0 runs them twice as fast, 0.05 twenty times slower.
    speed: float = 1.0
    faults: FaultPlan = field(default_factory=FaultPlan)
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    # Answer requests addressed to any host name, not only to this machine's loopback names.
    allow_remote: bool = False


def default_state_dir() -> Path:
    return Path(os.environ.get("SIMULATOR_STATE") or REPO_ROOT / ".simulator")


def resolve_settings(
    state_dir: str | Path | None = None,
    seed: int | None = None,
    clock: str | None = None,
    speed: float | None = None,
    faults: str | dict | FaultPlan | None = None,
    max_file_bytes: int | None = None,
    default_clock: str = "simulated",
    allow_remote: bool = False,
) -> Settings:
    """Combine explicit arguments, environment variables and defaults into checked settings."""
    env = os.environ
    state = Path(state_dir) if state_dir is not None else default_state_dir()
    clock = (clock or env.get("SIMULATOR_CLOCK") or default_clock).strip().lower()
    if clock not in CLOCKS:
        raise SettingsError(f"clock must be one of {', '.join(CLOCKS)}, not {clock!r}")
    seed = _number("SIMULATOR_SEED", seed, int, 0)
    if seed < 0:
        raise SettingsError(f"seed must be 0 or more, not {seed}")
    speed = _number("SIMULATOR_SPEED", speed, float, 1.0)
    if not speed > 0:
        raise SettingsError(f"speed must be more than 0, not {speed}")
    limit = _number("SIMULATOR_MAX_FILE_BYTES", max_file_bytes, int, DEFAULT_MAX_FILE_BYTES)
    if limit <= 0:
        raise SettingsError(f"max_file_bytes must be more than 0, not {limit}")
    if faults is None:
        faults = env.get("SIMULATOR_FAULTS") or ""
    plan = faults if isinstance(faults, FaultPlan) else parse_faults(faults)
    return Settings(
        state_dir=state.expanduser().resolve(),
        seed=seed,
        clock=clock,
        speed=speed,
        faults=plan,
        max_file_bytes=limit,
        allow_remote=allow_remote,
    )


def _number(var: str, value, kind, default):
    if value is not None:
        return kind(value)
    raw = os.environ.get(var)
    if raw is None or raw.strip() == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        named = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{var}={raw!r} is not {named}") from None
