"""Which API the notebooks talk to: the offline simulator (default), OpenAI, or Azure OpenAI.

A learner's key is spent only when they ask for a paid backend with `TUTORIAL_BACKEND`.
"""

from __future__ import annotations

import os

from helpers.errors import CourseError

BACKENDS = ("simulator", "openai", "azure")


class BackendError(CourseError):
    """The chosen backend cannot be used (unknown name, missing key or endpoint)."""


def chosen_backend() -> str:
    """`TUTORIAL_BACKEND`, or "simulator" when it is unset, whatever keys are set."""
    name = (os.environ.get("TUTORIAL_BACKEND") or "simulator").strip().lower()
    if name not in BACKENDS:
        raise BackendError(
            f"TUTORIAL_BACKEND={name!r} is not one of {', '.join(BACKENDS)}. "
            "Unset it to use the offline simulator."
        )
    return name


def missing_settings(name: str) -> list[str]:
    """The environment variables a backend needs that are not set."""
    needed = {
        "simulator": [],
        "openai": ["OPENAI_API_KEY"],
        "azure": ["AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY"],
    }[name]
    return [var for var in needed if not os.environ.get(var)]


DESCRIPTIONS = {
    "simulator": "the offline simulator of the OpenAI API (no key needed, nothing is billed)",
    "openai": "the real OpenAI API (your key; training and inference are billed)",
    "azure": "Azure OpenAI, through its OpenAI-compatible v1 endpoint (billed by Azure)",
}
SIMULATOR_KEY = "offline-simulator"  # not a secret: the simulator accepts any bearer key

_simulator = None  # the in-process simulator of this kernel, started once


def use_backend(name: str | None = None, quiet: bool = False) -> str:
    """Point this kernel's `OpenAI()` clients at the chosen backend, and say which it is.

    It sets OPENAI_BASE_URL and OPENAI_API_KEY in this process only; nothing is written anywhere.
    A paid backend is used only when asked for by name or with TUTORIAL_BACKEND.
    """
    name = (name or chosen_backend()).strip().lower()
    if name not in BACKENDS:
        raise BackendError(f"Unknown backend {name!r}: choose one of {', '.join(BACKENDS)}.")
    missing = missing_settings(name)
    if missing:
        raise BackendError(
            f"The {name} backend needs {' and '.join(missing)} in the environment. "
            "Set it before starting Jupyter, or unset TUTORIAL_BACKEND for the offline simulator."
        )
    if name == "simulator":
        os.environ["OPENAI_BASE_URL"] = _start_simulator()
        os.environ["OPENAI_API_KEY"] = SIMULATOR_KEY
    elif name == "openai":
        if os.environ.get("OPENAI_API_KEY") == SIMULATOR_KEY:
            raise BackendError("OPENAI_API_KEY still holds the simulator's placeholder key.")
        # A base URL left over from the simulator would send a real key to the wrong place.
        os.environ.pop("OPENAI_BASE_URL", None)
    else:
        endpoint = os.environ["AZURE_OPENAI_ENDPOINT"].rstrip("/")
        os.environ["OPENAI_BASE_URL"] = azure_v1_url(endpoint)
        os.environ["OPENAI_API_KEY"] = os.environ["AZURE_OPENAI_API_KEY"]
    os.environ["TUTORIAL_BACKEND"] = name
    if not quiet:
        print(f"Backend: {DESCRIPTIONS[name]}")
    return name


def is_paid(name: str | None = None) -> bool:
    return (name or chosen_backend()) != "simulator"


def azure_v1_url(endpoint: str) -> str:
    """`https://NAME.openai.azure.com` -> its OpenAI-compatible `.../openai/v1/` base URL."""
    endpoint = endpoint.rstrip("/")
    if endpoint.endswith("/openai/v1"):
        return endpoint + "/"
    return endpoint + "/openai/v1/"


def _start_simulator() -> str:
    global _simulator
    if _simulator is None:
        from helpers import simulator

        # Built before the notebook goes on. Built in a background thread instead, it ran beside
        # the notebook's own imports, and the two took turns at Python's one interpreter lock,
        # each waiting on the other: the course's notebooks took about 3% longer in all.
        _simulator = simulator.start(wait=True)
    return _simulator.base_url
