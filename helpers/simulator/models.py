"""The Models API: base models, and this state's fine-tuned models and checkpoints."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from helpers.simulator import catalog
from helpers.simulator.errors import APIError, not_found
from helpers.simulator.runner import snapshot_path


@dataclass(frozen=True)
class ServedModel:
    """What a completion request is answered by."""

    name: str  # as reported in responses: the snapshot, or the fine-tuned model's name
    base: str  # the base snapshot (decides the tokenizer and which endpoint serves it)
    created: int
    snapshot: Path | None  # the trained model, for fine-tuned models


def list_models(sim) -> dict:
    rows = (
        sim.store.connection()
        .execute("SELECT body FROM models WHERE deleted = 0 ORDER BY seq")
        .fetchall()
    )
    return {
        "object": "list",
        "data": catalog.base_model_objects() + [json.loads(r[0]) for r in rows],
    }


def get_model(sim, model: str) -> dict:
    found = catalog.base_model_object(model)
    if found is not None:
        return found
    row = _fine_tuned(sim, model)
    return json.loads(row[0])


def delete_model(sim, model: str) -> dict:
    if catalog.base_model_object(model) is not None:
        raise APIError(
            403,
            f"Model {model} is a base model: only fine-tuned models you own can be deleted.",
            param="model",
            code="model_not_deletable",
        )
    with sim.store.transaction() as db:
        updated = db.execute(
            "UPDATE models SET deleted = 1 WHERE id = ? AND deleted = 0", (model,)
        ).rowcount
    if not updated:
        raise _missing(model)
    return {"id": model, "object": "model", "deleted": True}


def served_model(sim, model) -> ServedModel:
    if not isinstance(model, str) or not model:
        raise APIError(400, "model is required.", param="model")
    snapshot = catalog.snapshot_of(model)
    if snapshot is not None:
        return ServedModel(snapshot, snapshot, catalog.SNAPSHOTS[snapshot][0], None)
    body, job_id, step = _fine_tuned(sim, model)
    base = model.split(":")[1]
    return ServedModel(model, base, json.loads(body)["created"], snapshot_path(sim, job_id, step))


def _fine_tuned(sim, model: str):
    row = (
        sim.store.connection()
        .execute("SELECT body, job_id, step FROM models WHERE id = ? AND deleted = 0", (model,))
        .fetchone()
    )
    if row is None:
        raise _missing(model)
    return row


def _missing(model: str) -> APIError:
    return not_found(
        f"The model `{model}` does not exist or you do not have access to it.",
        param="model",
        code="model_not_found",
    )
