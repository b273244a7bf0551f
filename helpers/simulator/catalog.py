"""The simulator's side of the model catalogue (`helpers.model_catalog`): its organization, the
base models as `/v1/models` lists them, and the names of the models it fine-tunes."""

from __future__ import annotations

from helpers.model_catalog import MODELS, data_format, snapshot_of

__all__ = ["data_format", "snapshot_of"]  # read here by the simulator's modules

# The organization every job and fine-tuned model belongs to here.
ORGANIZATION = "offline-simulator"
ORGANIZATION_ID = "org-offline-simulator"

# Snapshot or alias -> (creation time, owner) as the real /v1/models lists them.
SNAPSHOTS = {m.snapshot: (m.created, m.owned_by) for m in MODELS.values()}
ALIAS_CREATED = {m.alias: (m.alias_created, m.alias_owned_by) for m in MODELS.values() if m.alias}


def model_object(model_id: str, created: int, owned_by: str) -> dict:
    return {"id": model_id, "object": "model", "created": created, "owned_by": owned_by}


def base_model_objects() -> list[dict]:
    listed = [model_object(m, c, o) for m, (c, o) in SNAPSHOTS.items()]
    listed += [model_object(m, c, o) for m, (c, o) in ALIAS_CREATED.items()]
    return sorted(listed, key=lambda m: m["id"])


def base_model_object(name: str) -> dict | None:
    if name in SNAPSHOTS:
        return model_object(name, *SNAPSHOTS[name])
    if name in ALIAS_CREATED:
        return model_object(name, *ALIAS_CREATED[name])
    return None


def fine_tuned_name(snapshot: str, suffix: str | None, code: str) -> str:
    """`ft:{base snapshot}:{organization}:{suffix}:{code}`, with an empty suffix when none."""
    return f"ft:{snapshot}:{ORGANIZATION}:{suffix or ''}:{code}"
