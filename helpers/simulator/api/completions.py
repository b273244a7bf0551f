"""/v1/chat/completions and /v1/completions, for base models and fine-tuned ones.

The request is checked, the model that answers found (`api/models.py`), and what it writes comes
from `answers.py`, which asks the trained model (`learners/`).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter

from helpers import model_catalog
from helpers.simulator import catalog
from helpers.simulator.answers import cut, prompt_logprobs, token_bytes, token_text, write
from helpers.simulator.api import JsonBody, Sim, reply
from helpers.simulator.api.models import served_model
from helpers.simulator.api.streaming import chat_chunks, completion_chunks, sse, wants_usage
from helpers.simulator.errors import invalid, not_found
from helpers.simulator.stamps import fingerprint, make_id
from helpers.simulator.training.data import content_text, render_messages
from helpers.tokens import count_messages, encoding_for, tokens_of

router = APIRouter(prefix="/v1")
MAX_CHOICES = 128
MAX_TOP_LOGPROBS, MAX_LEGACY_LOGPROBS = 20, 5
LEGACY_DEFAULT_MAX_TOKENS = 16
REQUEST_ROLES = ("system", "developer", "user", "assistant", "tool", "function")


@router.post("/chat/completions")
def create_chat_completion(sim: Sim, body: JsonBody):
    return _answer(sim, body, chat_completion, chat_chunks)


@router.post("/completions")
def create_completion(sim: Sim, body: JsonBody):
    return _answer(sim, body, completion, completion_chunks)


def _answer(sim, body: dict, write, chunks):
    """One JSON answer, or the same answer as a stream of chunks when the request asks."""
    usage = wants_usage(body)
    with sim.store.stamping():
        if _streams(body):
            answer, streamed = write(sim, body, keep_tokens=True)
            return sse(chunks(answer, streamed, usage))
        return reply(write(sim, body))


def chat_completion(sim, request: dict, keep_tokens: bool = False, stamp=None):
    """The chat completion for `request`; with `keep_tokens`, also each choice's tokens (their
    bytes and logprob items) for a stream. `stamp(sim, kind, served) -> (id, created)` gives its
    id and time (a batch passes its own; by default the server's next ones)."""
    served = served_model(sim, request.get("model"))
    if catalog.data_format(served.base) != "chat":
        raise not_found(
            f"{served.name} is not a chat model, so /v1/chat/completions does not serve it. "
            "Use /v1/completions.",
            param="model",
            code="model_not_supported",
        )
    messages = _messages(request.get("messages"))
    temperature = _temperature(request)
    top_p = _top_p(request)
    n = _integer(request, "n", 1, 1, MAX_CHOICES)
    limit = request.get("max_completion_tokens", request.get("max_tokens"))
    name = "max_completion_tokens" if "max_completion_tokens" in request else "max_tokens"
    limit = _integer({name: limit}, name, None, 1, None)
    stops = _stops(request.get("stop"))
    seed = _integer(request, "seed", None, None, None)
    wants_logprobs = request.get("logprobs") or False
    if not isinstance(wants_logprobs, bool):
        raise invalid("logprobs must be true or false.", param="logprobs")
    top = _integer(request, "top_logprobs", 0, 0, MAX_TOP_LOGPROBS)
    if top and not wants_logprobs:
        raise invalid("top_logprobs needs logprobs set to true.", param="top_logprobs")

    prompt_tokens = count_messages(messages, served.base)
    _check_context(served, prompt_tokens, limit, chat=True)
    trained = _trained(sim, served)
    completion_id, created = (stamp or _stamp)(sim, "chatcmpl", served)
    encoding = encoding_for(served.base)
    context = render_messages(messages)
    users = [m for m in messages if m.get("role") == "user"]
    cue = content_text(users[-1].get("content")) if users else context
    choices, written_total, streamed = [], 0, []
    for index in range(n):
        salt = f"{seed if seed is not None else completion_id}:{index}:{served.name}"
        written = write(served, trained, context, cue, temperature, top, salt, top_p, stops, limit)
        text, kept, finish = cut(encoding, written, stops, limit)
        written_total += len(kept)
        logprobs = None
        if wants_logprobs:
            logprobs = {"content": [_chat_logprob(encoding, w, top) for w in kept], "refusal": None}
        streamed.append(
            {
                "tokens": [encoding.decode_single_token_bytes(w.token) for w in kept],
                "logprobs": logprobs["content"] if logprobs else None,
            }
        )
        choices.append(
            {
                "index": index,
                "message": {
                    "role": "assistant",
                    "content": text,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": logprobs,
                "finish_reason": finish,
            }
        )
    answer = {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": served.name,
        "choices": choices,
        "usage": _usage(prompt_tokens, written_total),
        "service_tier": "default",
        "system_fingerprint": fingerprint(sim.settings.seed),
    }
    return (answer, streamed) if keep_tokens else answer


def completion(sim, request: dict, keep_tokens: bool = False, stamp=None):
    """The legacy completion for `request` (and, with `keep_tokens`, its tokens for a stream);
    `stamp` as for `chat_completion`."""
    served = served_model(sim, request.get("model"))
    if catalog.data_format(served.base) != "completion":
        raise not_found(
            f"{served.name} is a chat model, so /v1/completions does not serve it. "
            "Use /v1/chat/completions.",
            param="model",
            code="model_not_supported",
        )
    prompts = _prompts(request.get("prompt", "<|endoftext|>"))
    temperature = _temperature(request)
    top_p = _top_p(request)
    n = _integer(request, "n", 1, 1, MAX_CHOICES)
    limit = _integer(request, "max_tokens", LEGACY_DEFAULT_MAX_TOKENS, 0, None)
    stops = _stops(request.get("stop"))
    seed = _integer(request, "seed", None, None, None)
    top = _integer(request, "logprobs", None, 0, MAX_LEGACY_LOGPROBS)
    echo = request.get("echo") or False
    if not isinstance(echo, bool):
        raise invalid("echo must be true or false.", param="echo")

    encoding = encoding_for(served.base)
    encoded = [tokens_of(prompt, encoding.name) for prompt in prompts]
    for prompt_ids in encoded:
        _check_context(served, len(prompt_ids), limit, chat=False)
    trained = _trained(sim, served)
    completion_id, created = (stamp or _stamp)(sim, "cmpl", served)
    choices, written_total, streamed = [], 0, []
    prompt_tokens = sum(len(prompt_ids) for prompt_ids in encoded)
    for p, (prompt, prompt_ids) in enumerate(zip(prompts, encoded, strict=True)):
        for j in range(n):
            index = p * n + j
            salt = f"{seed if seed is not None else completion_id}:{index}:{served.name}"
            written = write(
                served, trained, prompt, prompt, temperature, top or 0, salt, top_p, stops, limit
            )
            text, kept, finish = cut(encoding, written, stops, limit)
            written_total += len(kept)
            shown = prompt_logprobs(served, trained, prompt_ids) + kept if echo else kept
            logprobs = None
            if top is not None:
                start = 0 if echo else len(prompt)
                logprobs = _legacy_logprobs(encoding, shown, top, start)
            streamed.append(
                {
                    "tokens": [encoding.decode_single_token_bytes(w.token) for w in shown],
                    "logprobs": _per_token(logprobs) if logprobs else None,
                }
            )
            choices.append(
                {
                    "text": prompt + text if echo else text,
                    "index": index,
                    "logprobs": logprobs,
                    "finish_reason": finish,
                }
            )
    answer = {
        "id": completion_id,
        "object": "text_completion",
        "created": created,
        "model": served.name,
        "choices": choices,
        "usage": _usage(prompt_tokens, written_total),
        "system_fingerprint": fingerprint(sim.settings.seed),
    }
    return (answer, streamed) if keep_tokens else answer


# -- shaping the answer --------------------------------------------------------------------


def _chat_logprob(encoding, written, top: int) -> dict:
    return {
        "token": token_text(encoding, written.token),
        "logprob": written.logprob,
        "bytes": token_bytes(encoding, written.token),
        "top_logprobs": [
            {"token": token_text(encoding, t), "logprob": lp, "bytes": token_bytes(encoding, t)}
            for t, lp in written.top[:top]
        ],
    }


def _legacy_logprobs(encoding, shown: list, top: int, start: int) -> dict:
    tokens, offsets, offset = [], [], start
    for item in shown:
        text = token_text(encoding, item.token)
        tokens.append(text)
        offsets.append(offset)
        offset += len(text)
    return {
        "tokens": tokens,
        "token_logprobs": [item.logprob for item in shown],
        "top_logprobs": [
            {token_text(encoding, t): lp for t, lp in item.top[:top]} for item in shown
        ],
        "text_offset": offsets,
    }


def _per_token(logprobs: dict) -> list[dict]:
    """A legacy logprobs object cut into one object per token, as stream chunks carry them."""
    return [
        {key: [values[i]] for key, values in logprobs.items()}
        for i in range(len(logprobs["tokens"]))
    ]


def _usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _stamp(sim, kind: str, served) -> tuple[str, int]:
    """A new id, and the time: never before the model it answers with was created."""
    number, now = sim.store.stamp(kind, not_before=served.created + 1 if sim.clock.simulated else 0)
    return make_id(kind, sim.settings.seed, number), sim.clock.stamp(now)


def _trained(sim, served):
    if served.snapshot is None:
        return None
    try:
        return sim.snapshots.get(served.snapshot, served.base)
    except FileNotFoundError:
        raise not_found(
            f"The model `{served.name}` has no trained weights in this state folder.",
            param="model",
            code="model_not_found",
        ) from None


# -- checks of the request -----------------------------------------------------------------


def _streams(request: dict) -> bool:
    stream = request.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise invalid(f"stream must be true or false, not {stream!r}.", param="stream")
    return bool(stream)


def _check_context(served, prompt_tokens: int, answer_tokens: int | None, chat: bool) -> None:
    """Refuse a prompt (plus the answer asked for) longer than the model reads, as OpenAI does."""
    known = model_catalog.find(served.base)
    window = known.context_window if known else None
    asked = prompt_tokens + (answer_tokens or 0)
    if window is None or asked <= window:
        return
    if chat and answer_tokens is None:
        message = (
            f"This model's maximum context length is {window} tokens. However, your messages "
            f"resulted in {prompt_tokens} tokens. Please reduce the length of the messages."
        )
    elif chat:
        message = (
            f"This model's maximum context length is {window} tokens. However, you requested "
            f"{asked} tokens ({prompt_tokens} in the messages, {answer_tokens} in the "
            "completion). Please reduce the length of the messages or completion."
        )
    else:
        message = (
            f"This model's maximum context length is {window} tokens, however you requested "
            f"{asked} tokens ({prompt_tokens} in your prompt; {answer_tokens} for the "
            "completion). Please reduce your prompt; or completion length."
        )
    raise invalid(message, param="messages" if chat else "prompt", code="context_length_exceeded")


def _messages(messages) -> list[dict]:
    if not isinstance(messages, list) or not messages:
        raise invalid("messages must be a non-empty list of messages.", param="messages")
    for i, message in enumerate(messages):
        problems = message_problems(message, f"messages[{i}]")
        if problems:
            raise invalid(f"{problems[0].field}: {problems[0].message}", param=problems[0].field)
    return messages


def _prompts(prompt) -> list[str]:
    if isinstance(prompt, str):
        return [prompt]
    if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        return prompt
    raise invalid("prompt must be a string or a non-empty list of strings.", param="prompt")


def _top_p(request: dict) -> float:
    value = request.get("top_p")
    if value is None:
        return 1.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise invalid(f"top_p must be a number from 0 to 1, not {value!r}.", param="top_p")
    return float(value)


def _temperature(request: dict) -> float:
    value = request.get("temperature")
    if value is None:
        return 1.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 2:
        raise invalid(
            f"temperature must be a number from 0 to 2, not {value!r}.", param="temperature"
        )
    return float(value)


def _integer(request: dict, name: str, default, low, high):
    value = request.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{name} must be a whole number, not {value!r}.", param=name)
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"at least {low}" if high is None else f"from {low} to {high}"
        raise invalid(f"{name} must be {bounds}, not {value}.", param=name)
    return value


def _stops(stop) -> list[str]:
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop] if stop else []
    if isinstance(stop, list) and len(stop) <= 4 and all(isinstance(s, str) for s in stop):
        return [s for s in stop if s]
    raise invalid("stop must be a string or a list of up to 4 strings.", param="stop")


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    field: str


def message_problems(message, where: str) -> list[Problem]:
    """What is wrong with one message of a chat completion request."""
    if not isinstance(message, dict):
        return [Problem("invalid_message", "each message must be a JSON object", where)]
    if "role" not in message:
        return [Problem("missing_role", "the message has no role", f"{where}.role")]
    role = message["role"]
    if role not in REQUEST_ROLES:
        return [
            Problem(
                "unknown_role",
                f"unknown role {role!r}; use one of {', '.join(REQUEST_ROLES)}",
                f"{where}.role",
            )
        ]
    content = message.get("content")
    calls = message.get("tool_calls") or message.get("function_call")
    if content is None and not (role == "assistant" and calls):
        return [Problem("missing_content", "the message has no content", f"{where}.content")]
    if content is not None and not isinstance(content, (str, list)):
        return [
            Problem(
                "invalid_content",
                "content must be a string or a list of content parts",
                f"{where}.content",
            )
        ]
    return []
