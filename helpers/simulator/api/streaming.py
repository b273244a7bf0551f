"""`stream: true`: a finished answer sent as Server-Sent Events, framed as the API frames them.

Every event is a `data: {json}` line and a blank line; the stream ends with `data: [DONE]`.

- Chat: `chat.completion.chunk` objects. Each choice opens with a delta holding the role (and an
  empty content), then one delta per token of content (with that token's logprobs when asked),
  then an empty delta with the `finish_reason`.
- Legacy completions: `text_completion` objects, one per token of text, then one with the
  `finish_reason`.
- `stream_options: {"include_usage": true}` puts `"usage": null` on every chunk and adds a last
  chunk with no choices and the request's usage.

The request is checked and the answer written before the first byte is sent, so a bad request is
refused with an ordinary JSON error, never a broken stream.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator

from starlette.responses import StreamingResponse

from helpers.simulator.errors import invalid


def wants_usage(request: dict) -> bool:
    """Whether the last chunk should carry the usage; the options are checked here."""
    options = request.get("stream_options")
    if options is None:
        return False
    if not isinstance(options, dict):
        raise invalid("stream_options must be an object.", param="stream_options")
    if not request.get("stream"):
        raise invalid(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
        )
    include = options.get("include_usage", False)
    if not isinstance(include, bool):
        raise invalid(
            "stream_options.include_usage must be true or false.",
            param="stream_options.include_usage",
        )
    return include


def pieces(tokens: list[bytes], whole: str) -> list[tuple[int | None, str]]:
    """`whole` cut where its tokens end: (token index, text) pairs. A token that ends inside a
    character sends nothing until the character is whole; text past the last token (the part of
    a token before a stop sequence) comes as a last piece without a token."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    out, sent = [], 0
    for i, data in enumerate(tokens):
        text = decoder.decode(data, final=i == len(tokens) - 1)
        text = whole[sent : sent + len(text)]  # never more than the answer holds
        out.append((i, text))
        sent += len(text)
    if len(whole) > sent:
        out.append((None, whole[sent:]))
    return out


def sse(chunks: Iterator[dict]) -> StreamingResponse:
    def events():
        for chunk in chunks:
            yield b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


def chat_chunks(body: dict, streamed: list[dict], usage: bool) -> Iterator[dict]:
    """The chunks of a chat completion `body`; `streamed[i]` holds choice i's tokens' bytes and
    logprob items (`tokens`, `logprobs` or None)."""
    head = {
        "id": body["id"],
        "object": "chat.completion.chunk",
        "created": body["created"],
        "model": body["model"],
        "service_tier": body["service_tier"],
        "system_fingerprint": body["system_fingerprint"],
    }
    tail = {"usage": None} if usage else {}

    def chunk(index, delta, logprobs=None, finish=None):
        choice = {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
        return {**head, "choices": [choice], **tail}

    for choice, extra in zip(body["choices"], streamed, strict=True):
        index = choice["index"]
        yield chunk(index, {"role": "assistant", "content": "", "refusal": None})
        for token, text in pieces(extra["tokens"], choice["message"]["content"]):
            logprobs = None
            if extra["logprobs"] is not None:
                items = [] if token is None else [extra["logprobs"][token]]
                logprobs = {"content": items, "refusal": None}
            if text or logprobs:
                yield chunk(index, {"content": text}, logprobs)
        yield chunk(index, {}, finish=choice["finish_reason"])
    if usage:
        yield {**head, "choices": [], "usage": body["usage"]}


def completion_chunks(body: dict, streamed: list[dict], usage: bool) -> Iterator[dict]:
    """The chunks of a legacy completion `body` (same `streamed` as for chat; `logprobs` holds
    one legacy logprobs object per token)."""
    head = {
        "id": body["id"],
        "object": "text_completion",
        "created": body["created"],
        "model": body["model"],
        "system_fingerprint": body["system_fingerprint"],
    }
    tail = {"usage": None} if usage else {}

    def chunk(index, text, logprobs=None, finish=None):
        choice = {"text": text, "index": index, "logprobs": logprobs, "finish_reason": finish}
        return {**head, "choices": [choice], **tail}

    for choice, extra in zip(body["choices"], streamed, strict=True):
        index = choice["index"]
        for token, text in pieces(extra["tokens"], choice["text"]):
            logprobs = None
            if extra["logprobs"] is not None and token is not None:
                logprobs = extra["logprobs"][token]
            if text or logprobs:
                yield chunk(index, text, logprobs)
        yield chunk(index, "", finish=choice["finish_reason"])
    if usage:
        yield {**head, "choices": [], "usage": body["usage"]}
