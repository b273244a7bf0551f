"""`stream: true` as the API streams, read by the Python SDK (sync, async and the `stream()`
helper), curl and openai-node; and the sampling parameters seen through the SDK.

Every chunk is checked against OpenAI's schema for stream chunks.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import openai
import pytest

from helpers import simulator

CHAT = "gpt-4o-mini-2024-07-18"
QUESTION = [{"role": "user", "content": "Tell me about neon, please."}]
CHUNK = "#/components/schemas/CreateChatCompletionStreamResponse"
LEGACY_CHUNK = "#/components/schemas/CreateCompletionResponse"
NODE_DIR = Path(os.environ.get("OPENAI_NODE_DIR", Path.home() / ".cache" / "course-openai-node"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    handle = simulator.start(state_dir=tmp_path_factory.mktemp("stream-state"))
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)


def _without_nulls(value):
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def check_chunks(contract, chunks, ref=CHUNK):
    """Each chunk against its schema. The description marks the fields a chunk sends as null
    (`finish_reason` before the last chunk, `logprobs`, `usage`, `refusal`) with OpenAPI 3.0's
    `nullable`, which a JSON Schema validator does not read: nulls are left out, finish_reason
    is checked only where it is set."""
    for chunk in chunks:
        body = chunk.model_dump(mode="json", exclude_unset=True)
        for choice in body["choices"]:
            assert "finish_reason" in choice
            choice["finish_reason"] = choice["finish_reason"] or "stop"
            if ref == LEGACY_CHUNK and choice["logprobs"] is None:
                choice["logprobs"] = {}
            if isinstance(choice.get("logprobs"), dict) and "refusal" in choice["logprobs"]:
                choice["logprobs"]["refusal"] = choice["logprobs"]["refusal"] or []
        contract._check(ref, _without_nulls(body))


def test_a_chat_stream_is_framed_as_the_api_frames_it(client, contract):
    whole = client.chat.completions.create(model=CHAT, messages=QUESTION, seed=3)
    chunks = list(
        client.chat.completions.create(
            model=CHAT,
            messages=QUESTION,
            seed=3,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    check_chunks(contract, chunks)
    assert len({c.id for c in chunks}) == 1
    first, *middle, last_choice, usage = chunks
    assert first.choices[0].delta.role == "assistant" and first.choices[0].delta.content == ""
    assert all(c.choices[0].finish_reason is None for c in [first, *middle])
    assert (
        last_choice.choices[0].finish_reason == "stop" and not last_choice.choices[0].delta.content
    )
    text = "".join(c.choices[0].delta.content or "" for c in middle)
    assert text == whole.choices[0].message.content
    assert usage.choices == [] and usage.usage == whole.usage
    assert all(c.usage is None for c in chunks[:-1])


def test_stream_chunks_carry_each_tokens_logprobs(client, contract):
    chunks = list(
        client.chat.completions.create(
            model=CHAT, messages=QUESTION, stream=True, logprobs=True, top_logprobs=2
        )
    )
    check_chunks(contract, chunks)
    content = [c for c in chunks if c.choices and c.choices[0].delta.content]
    for chunk in content:
        (item,) = chunk.choices[0].logprobs.content
        assert item.token == chunk.choices[0].delta.content
        assert item.top_logprobs[0].token == item.token


def test_the_async_client_and_the_stream_helper_read_the_stream(server, client):
    whole = client.chat.completions.create(model=CHAT, messages=QUESTION, temperature=0)
    expected = whole.choices[0].message.content

    async def read():
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="k") as aclient:
            stream = await aclient.chat.completions.create(
                model=CHAT, messages=QUESTION, temperature=0, stream=True
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert asyncio.run(read()) == expected
    with client.chat.completions.stream(model=CHAT, messages=QUESTION, temperature=0) as stream:
        pieces = [e.delta for e in stream if e.type == "content.delta"]
        final = stream.get_final_completion()
    assert "".join(pieces) == expected == final.choices[0].message.content
    assert final.choices[0].finish_reason == "stop"


def test_a_legacy_stream_sends_text_completion_chunks(client, contract):
    whole = client.completions.create(model="babbage-002", prompt="Neon is", max_tokens=6, seed=1)
    chunks = list(
        client.completions.create(
            model="babbage-002", prompt="Neon is", max_tokens=6, seed=1, stream=True, logprobs=2
        )
    )
    check_chunks(contract, chunks, LEGACY_CHUNK)
    assert {c.object for c in chunks} == {"text_completion"}
    assert "".join(c.choices[0].text for c in chunks) == whole.choices[0].text
    assert [c.choices[0].finish_reason for c in chunks][-1] == whole.choices[0].finish_reason
    assert all(len(c.choices[0].logprobs.tokens) == 1 for c in chunks[:-1])


def test_a_bad_streaming_request_is_an_ordinary_json_error(client):
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-nope", messages=QUESTION, stream=True)
    with pytest.raises(openai.BadRequestError, match="stream_options"):
        client.chat.completions.create(
            model=CHAT, messages=QUESTION, stream_options={"include_usage": True}
        )


def test_curl_reads_the_stream(server):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    body = json.dumps({"model": CHAT, "messages": QUESTION, "stream": True})
    out = subprocess.run(
        ["curl", "-sN", f"{server.base_url}/chat/completions", "-H", "Authorization: Bearer k",
         "-H", "Content-Type: application/json", "-d", body, "-D", "-"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    head, _, events = out.replace("\r\n", "\n").partition("\n\n")
    assert "content-type: text/event-stream" in head.lower() and "x-request-id: req_" in head
    lines = [ln for ln in events.split("\n\n") if ln.strip()]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(ln.removeprefix("data: ")) for ln in lines[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def _openai_node() -> Path:
    """A folder holding openai-node, installed from npm the first time (skip when impossible)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed")
    if not (NODE_DIR / "node_modules" / "openai").exists():
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(
                ["npm", "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund",
                 "--silent", "openai@4"],
                capture_output=True, timeout=240, check=True,
            )  # fmt: skip
        except (subprocess.SubprocessError, OSError) as exc:
            pytest.skip(f"the openai npm package could not be installed into {NODE_DIR}: {exc}")
    return NODE_DIR


def test_openai_node_reads_the_stream_and_the_request_id(server):
    folder = _openai_node()
    script = Path(__file__).parent / "node" / "stream_check.cjs"
    out = subprocess.run(
        ["node", str(script), str(folder), server.base_url],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["text"].startswith("Neon (Ne) is element number 10") and seen["finish"] == "stop"
    assert seen["roles"] == ["assistant"] and seen["usage"]["completion_tokens"] == seen["tokens"]
    assert seen["finishes"] == ["length", "length"] and seen["requestId"].startswith("req_")
    assert seen["legacyText"]


# -- sampling, through the SDK --------------------------------------------------------------


def test_temperature_zero_writes_the_likeliest_tokens_again_and_again(client):
    ask = dict(model=CHAT, messages=QUESTION, temperature=0, logprobs=True, top_logprobs=3)
    one, two = client.chat.completions.create(**ask), client.chat.completions.create(**ask)
    assert one.choices[0].message.content == two.choices[0].message.content
    for item in one.choices[0].logprobs.content:
        assert item.top_logprobs[0].token == item.token
        assert (
            item.top_logprobs[0].logprob
            == item.logprob
            == max(t.logprob for t in item.top_logprobs)
        )


def test_max_tokens_cuts_with_length_and_stop_ends_early(client):
    cut = client.chat.completions.create(model=CHAT, messages=QUESTION, max_tokens=4)
    assert cut.choices[0].finish_reason == "length" and cut.usage.completion_tokens == 4
    newer = client.chat.completions.create(model=CHAT, messages=QUESTION, max_completion_tokens=4)
    assert newer.choices[0].message.content == cut.choices[0].message.content
    stopped = client.chat.completions.create(model=CHAT, messages=QUESTION, stop=[","])
    text = stopped.choices[0].message.content
    assert stopped.choices[0].finish_reason == "stop" and "," not in text
    whole = client.chat.completions.create(model=CHAT, messages=QUESTION).choices[0].message
    assert whole.content.startswith(text) and len(text) < len(whole.content)
