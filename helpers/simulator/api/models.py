"""/v1/models: the base models, and this state's fine-tuned models and checkpoints.

`served_model` is what a completion request is answered by, whichever endpoint it came to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter

from helpers.jsonl_lines import json_type
from helpers.model_catalog import base_model_of
from helpers.simulator import catalog
from helpers.simulator.api import Sim, reply
from helpers.simulator.errors import APIError, invalid, not_found

router = APIRouter(prefix="/v1/models")


@router.get("")
def list_models(sim: Sim):
    return reply({"object": "list", "data": catalog.base_model_objects() + sim.store.models()})


@router.get("/{model:path}")
def retrieve_model(sim: Sim, model: str):
    found = catalog.base_model_object(model)
    if found is not None:
        return reply(found)
    return reply(_fine_tuned(sim, model)[0])


@router.delete("/{model:path}")
def delete_model(sim: Sim, model: str):
    if catalog.base_model_object(model) is not None:
        raise APIError(
            403,
            f"Model {model} is a base model: only fine-tuned models you own can be deleted.",
            param="model",
            code="model_not_deletable",
        )
    if not sim.store.delete_model(model):
        raise _missing(model)
    return reply({"id": model, "object": "model", "deleted": True})


@dataclass(frozen=True)
class ServedModel:
    """What a completion request is answered by."""

    name: str  # as reported in responses: the snapshot, or the fine-tuned model's name
    base: str  # the base snapshot (decides the tokenizer and which endpoint serves it)
    created: int
    snapshot: Path | None  # the trained model, for fine-tuned models


def model_name(model, missing: str = "model is required.") -> str:
    """A request's `model`, which must be a name: a 400 says `missing` when it is absent, and
    what it is instead when it is not a string (an object, a number)."""
    if model is None or model == "":
        raise invalid(missing, param="model")
    if not isinstance(model, str):
        raise invalid(f"model must be a model's name (a string), not {json_type(model)}.", "model")
    return model


def served_model(sim, model) -> ServedModel:
    model = model_name(model)
    snapshot = catalog.snapshot_of(model)
    if snapshot is not None:
        return ServedModel(snapshot, snapshot, catalog.SNAPSHOTS[snapshot][0], None)
    body, job_id, step = _fine_tuned(sim, model)
    trained = sim.store.snapshot_path(job_id, step)
    return ServedModel(model, base_model_of(model), body["created"], trained)


def _fine_tuned(sim, model: str) -> tuple[dict, str, int]:
    found = sim.store.model(model)
    if found is None:
        raise _missing(model)
    return found


def _missing(model: str) -> APIError:
    return not_found(
        f"The model `{model}` does not exist or you do not have access to it.",
        param="model",
        code="model_not_found",
    )
