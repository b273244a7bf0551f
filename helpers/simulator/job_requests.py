"""Checking a request to create a fine-tuning job, field by field, into 400 errors."""

from __future__ import annotations

import re

from helpers.model_catalog import base_model_of
from helpers.simulator import catalog
from helpers.simulator.errors import APIError, invalid
from helpers.simulator.files import get_file
from helpers.simulator.hyperparameters import check_requested

MAX_SUFFIX = 64
MAX_SEED = 2_147_483_647
MAX_METADATA_PAIRS, MAX_KEY, MAX_VALUE = 16, 64, 512
_BAD_SUFFIX = re.compile(r"[:\s]")


def model_to_train(sim, model) -> tuple[str, str, dict | None]:
    """(the job's `model`, its base snapshot, the fine-tuned model it continues or None)."""
    if not isinstance(model, str) or not model:
        raise invalid("model is required: the base model to fine-tune.", param="model")
    if model.startswith("ft:"):
        row = (
            sim.store.connection()
            .execute("SELECT job_id, step FROM models WHERE id = ? AND deleted = 0", (model,))
            .fetchone()
        )
        if row is None:
            raise invalid(
                f"Model {model} does not exist, so it cannot be fine-tuned further.",
                param="model",
                code="model_not_available",
            )
        return model, base_model_of(model), {"job_id": row[0], "step": row[1]}
    snapshot = catalog.snapshot_of(model)
    if snapshot is None:
        known = ", ".join(sorted(catalog.SNAPSHOTS))
        raise invalid(
            f"Model {model} does not exist or cannot be fine-tuned. Fine-tunable models: {known}.",
            param="model",
            code="model_not_available",
        )
    return snapshot, snapshot, None


def fine_tune_file(sim, file_id, param: str, required: bool = False) -> dict | None:
    if file_id is None and not required:
        return None
    if not isinstance(file_id, str) or not file_id:
        raise invalid(f"{param} is required: the id of an uploaded file.", param=param)
    try:
        found = get_file(sim, file_id, param=param)
    except APIError:
        raise invalid(f"invalid {param}: {file_id}", param=param, code=f"invalid_{param}") from None
    if found["purpose"] != "fine-tune":
        raise invalid(
            f"invalid {param}: {file_id} has purpose {found['purpose']!r}; files used for "
            "fine-tuning must be uploaded with purpose 'fine-tune'.",
            param=param,
            code=f"invalid_{param}",
        )
    return found


def requested_hyperparameters(request: dict) -> dict:
    method = request.get("method")
    if method is None:
        return check_requested(request.get("hyperparameters"))
    if not isinstance(method, dict):
        raise invalid("method must be an object.", param="method")
    kind = method.get("type")
    if kind in ("dpo", "reinforcement"):
        raise invalid(
            f"The {kind} method is not simulated: the offline simulator trains supervised "
            "jobs only.",
            param="method.type",
            code="method_not_simulated",
        )
    if kind != "supervised":
        raise invalid(f"method.type must be 'supervised', not {kind!r}.", param="method.type")
    settings = method.get("supervised") or {}
    if not isinstance(settings, dict):
        raise invalid("method.supervised must be an object.", param="method.supervised")
    given = settings.get("hyperparameters")
    if given is None:
        given = request.get("hyperparameters")
    return check_requested(given, param="method.supervised.hyperparameters")


def suffix(suffix) -> str | None:
    if suffix is None:
        return None
    if not isinstance(suffix, str):
        raise invalid("suffix must be a string.", param="suffix")
    if not 1 <= len(suffix) <= MAX_SUFFIX:
        raise invalid(
            f"suffix must be 1 to {MAX_SUFFIX} characters long; this one has {len(suffix)}.",
            param="suffix",
        )
    if _BAD_SUFFIX.search(suffix):
        raise invalid("suffix must not contain colons or spaces.", param="suffix")
    return suffix


def seed(seed) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise invalid(f"seed must be a whole number from 0 to {MAX_SEED}.", param="seed")
    return seed


def metadata(metadata) -> dict | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise invalid("metadata must be an object of string keys and values.", param="metadata")
    if len(metadata) > MAX_METADATA_PAIRS:
        raise invalid(f"metadata holds at most {MAX_METADATA_PAIRS} pairs.", param="metadata")
    for key, value in metadata.items():
        if not isinstance(value, str) or len(key) > MAX_KEY or len(value) > MAX_VALUE:
            raise invalid(
                f"metadata[{key!r}]: keys are strings of up to {MAX_KEY} characters and values "
                f"strings of up to {MAX_VALUE}.",
                param="metadata",
            )
    return dict(metadata)


def integrations(integrations) -> list:
    """Recorded as given; nothing is ever sent anywhere."""
    if integrations is None:
        return []
    if not isinstance(integrations, list) or len(integrations) > 5:
        raise invalid("integrations must be a list of at most 5 objects.", param="integrations")
    for i, item in enumerate(integrations):
        where = f"integrations[{i}]"
        if not isinstance(item, dict) or item.get("type") != "wandb":
            raise invalid(f"{where}.type must be 'wandb'.", param=f"{where}.type")
        wandb = item.get("wandb")
        if not isinstance(wandb, dict) or not isinstance(wandb.get("project"), str):
            raise invalid(f"{where}.wandb.project is required.", param=f"{where}.wandb.project")
    return integrations
