"""The base models the simulator knows: the ones OpenAI lets you fine-tune, and their aliases."""

from __future__ import annotations

from helpers.pricing import ALIASES

# The organization every job and fine-tuned model belongs to here.
ORGANIZATION = "offline-simulator"
ORGANIZATION_ID = "org-offline-simulator"

# Snapshot -> (creation time, owner) as the real /v1/models lists them.
SNAPSHOTS = {
    "babbage-002": (1692634615, "system"),
    "davinci-002": (1692634301, "system"),
    "gpt-3.5-turbo-0125": (1706048358, "system"),
    "gpt-4o-mini-2024-07-18": (1721172717, "system"),
    "gpt-4o-2024-08-06": (1722814719, "system"),
    "gpt-4.1-2025-04-14": (1744315746, "system"),
    "gpt-4.1-mini-2025-04-14": (1744317547, "system"),
    "gpt-4.1-nano-2025-04-14": (1744321025, "system"),
}
ALIAS_CREATED = {
    "gpt-3.5-turbo": (1677610602, "openai"),
    "gpt-4o-mini": (1721172741, "system"),
    "gpt-4o": (1715367049, "system"),
    "gpt-4.1": (1744316542, "system"),
    "gpt-4.1-mini": (1744318173, "system"),
    "gpt-4.1-nano": (1744321707, "system"),
}
# Models trained on prompt/completion pairs and served by the legacy completions endpoint.
COMPLETION_MODELS = ("babbage-002", "davinci-002")


def snapshot_of(name: str) -> str | None:
    """`gpt-4o-mini` -> `gpt-4o-mini-2024-07-18`; None for a model that cannot be fine-tuned."""
    name = ALIASES.get(name, name)
    return name if name in SNAPSHOTS else None


def data_format(snapshot: str) -> str:
    """ "completion" (prompt/completion lines) or "chat" (messages lines)."""
    return "completion" if snapshot in COMPLETION_MODELS else "chat"


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
