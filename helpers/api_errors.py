"""Plain explanations for the API's refusals, instead of a traceback."""

from __future__ import annotations

import contextlib

import openai

from helpers.errors import CourseError


class TrainingNotAvailable(CourseError):
    """The organisation may not create fine-tuning jobs (HTTP 403 training_not_available)."""


class APIRefused(CourseError):
    """The API refused a request for a reason a learner can act on."""


NO_TRAINING = (
    "OpenAI refused to create the job: this organisation cannot start fine-tuning jobs "
    "(HTTP 403, training_not_available). OpenAI is winding down self-serve fine-tuning: "
    "organisations new to it have been refused since 2026-05-07, and no new jobs start after "
    "2027-01-06. Nothing was created and nothing was billed.\n"
    "To continue: unset TUTORIAL_BACKEND (or set it to 'simulator') and restart the kernel to "
    "follow the course offline, or use Azure OpenAI for the chatbot (TUTORIAL_BACKEND=azure with "
    "AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY; Azure retired babbage-002 and davinci-002 "
    "in January 2025)."
)


def error_code(exc: openai.APIStatusError) -> str | None:
    body = exc.body if isinstance(exc.body, dict) else {}
    inner = body.get("error", body)
    return inner.get("code") if isinstance(inner, dict) else None


def explain(exc: openai.APIStatusError) -> CourseError | None:
    """A plain-words error for the refusals a learner can meet, or None for the rest."""
    code = error_code(exc)
    message = getattr(exc, "message", str(exc))
    if isinstance(exc, openai.PermissionDeniedError):
        if code == "training_not_available":
            return TrainingNotAvailable(NO_TRAINING)
        return APIRefused(
            f"The API refused this request (HTTP 403, {code or 'permission denied'}): {message}\n"
            "Your key or project lacks the permission for it. Check the key's project and role, "
            "or continue with the offline simulator (unset TUTORIAL_BACKEND)."
        )
    if isinstance(exc, openai.AuthenticationError):
        return APIRefused(
            "The API did not accept the key (HTTP 401). Check OPENAI_API_KEY (or "
            "AZURE_OPENAI_API_KEY); the key itself is never printed."
        )
    if isinstance(exc, openai.RateLimitError) and code == "insufficient_quota":
        return APIRefused(
            "The account has no credit left (HTTP 429, insufficient_quota). Add credit, or "
            "continue with the offline simulator (unset TUTORIAL_BACKEND)."
        )
    return None


@contextlib.contextmanager
def explained_refusals():
    """Turn a refusal a learner can act on into a plain message; let other errors through."""
    try:
        yield
    except openai.APIStatusError as exc:
        plain = explain(exc)
        if plain is None:
            raise
        raise plain from None
