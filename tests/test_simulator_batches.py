"""The Batch API of the simulator through the official SDK: input files, statuses, output and
error files, the lines' checks, cancelling, and answers equal to the endpoints' own.

Every JSON response is checked against its operation's schema in OpenAI's published description.
"""

from __future__ import annotations

import json

import openai
import pytest
from simulator_fixtures import (
    jsonl,
    wait_for_batch,
)

from helpers import simulator

CHAT = "/v1/chat/completions"
LEGACY = "/v1/completions"


@pytest.fixture
def server(tmp_path):
    handle = simulator.start(state_dir=tmp_path, seed=3)
    yield handle
    handle.stop()


def line(custom_id: str, body: dict, url: str = LEGACY, method: str = "POST") -> dict:
    return {"custom_id": custom_id, "method": method, "url": url, "body": body}


def legacy(prompt: str, model: str = "babbage-002") -> dict:
    return {"model": model, "prompt": prompt, "max_tokens": 3, "temperature": 0, "logprobs": 2}


def submit(client, lines: list, endpoint: str = LEGACY, **kwargs):
    data = lines if isinstance(lines, bytes) else jsonl(lines)
    uploaded = client.files.create(file=("requests.jsonl", data), purpose="batch")
    return client.batches.create(
        input_file_id=uploaded.id, endpoint=endpoint, completion_window="24h", **kwargs
    )


def read_lines(client, file_id: str) -> list[dict]:
    return [json.loads(x) for x in client.files.content(file_id).text.splitlines()]


def test_a_batch_answers_each_line_as_the_endpoint_would(server, checked):
    client = checked.client(server.base_url)
    prompts = [f"Tell me about {name}." for name in ("helium", "gold", "neon", "iron")]
    lines = [line(f"p{i}", legacy(p)) for i, p in enumerate(prompts)]
    lines.append(line("too-long", {**legacy("x"), "max_tokens": 10**6}))
    batch = submit(client, lines, metadata={"course": "05"})
    assert batch.status == "validating" and batch.metadata == {"course": "05"}
    assert batch.expires_at == batch.created_at + 24 * 3600
    done, statuses = wait_for_batch(client, batch.id)
    assert statuses[-1] == "completed" and set(statuses) <= {
        "validating",
        "in_progress",
        "finalizing",
        "completed",
    }
    assert done.model == "babbage-002"
    assert (done.request_counts.total, done.request_counts.completed) == (5, 4)
    assert done.request_counts.failed == 1
    assert done.created_at < done.in_progress_at < done.finalizing_at < done.completed_at
    output = read_lines(client, done.output_file_id)
    assert [o["custom_id"] for o in output] == ["p0", "p1", "p2", "p3"]
    for out, prompt in zip(output, prompts, strict=True):
        assert out["error"] is None and out["response"]["status_code"] == 200
        assert out["id"].startswith("batch_req_") and out["response"]["request_id"].startswith(
            "req_"
        )
        direct = client.completions.create(**legacy(prompt))
        body = out["response"]["body"]
        assert body["choices"] == direct.model_dump(mode="json")["choices"]
        assert body["usage"] == direct.usage.model_dump(exclude_unset=True)
        assert done.in_progress_at < body["created"] < done.finalizing_at
    assert done.usage.input_tokens == sum(
        o["response"]["body"]["usage"]["prompt_tokens"] for o in output
    )
    (refused,) = read_lines(client, done.error_file_id)
    assert refused["custom_id"] == "too-long" and refused["response"]["status_code"] == 400
    assert refused["response"]["body"]["error"]["code"] == "context_length_exceeded"
    for file_id in (done.output_file_id, done.error_file_id):
        assert client.files.retrieve(file_id).purpose == "batch_output"
    assert [b.id for b in client.batches.list()] == [done.id]


def test_chat_batches_and_paging_through_the_list(server, checked):
    client = checked.client(server.base_url)
    ask = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Tell me about gold"}]}
    made = [submit(client, [line("a", ask, CHAT), line("b", ask, CHAT)], CHAT) for _ in range(3)]
    for batch in made:
        done, _ = wait_for_batch(client, batch.id)
        answers = read_lines(client, done.output_file_id)
        assert [a["response"]["body"]["object"] for a in answers] == ["chat.completion"] * 2
        assert "Gold (Au)" in answers[0]["response"]["body"]["choices"][0]["message"]["content"]
        assert done.error_file_id is None
    first = client.batches.list(limit=2)
    assert [b.id for b in first.data] == [made[2].id, made[1].id] and first.has_more
    rest = client.batches.list(limit=2, after=first.data[-1].id)
    assert [b.id for b in rest.data] == [made[0].id] and not rest.has_more
    assert [b.id for b in client.batches.list(limit=1)] == [b.id for b in made[::-1]]


@pytest.mark.parametrize(
    ("content", "code", "where"),
    [
        (b"", "empty_file", 1),
        (
            b'{"custom_id": "a", "method": "POST", "url": "/v1/completions"\n',
            "invalid_json_line",
            1,
        ),
        (jsonl([line("a", legacy("x")), line("a", legacy("y"))]), "duplicate_custom_id", 2),
        (jsonl([line("a", legacy("x"), url=CHAT)]), "url_mismatch", 1),
        (jsonl([line("a", legacy("x"), url="/v1/embeddings")]), "url_mismatch", 1),
        (jsonl([line("a", legacy("x"), url="/v2/nothing")]), "invalid_url", 1),
        (jsonl([line("a", legacy("x"), method="GET")]), "invalid_request", 1),
        (jsonl([line("a", {"prompt": "x"})]), "invalid_request", 1),
        (
            jsonl([line("a", legacy("x")), line("b", legacy("y", "davinci-002"))]),
            "model_mismatch",
            2,
        ),
        (jsonl([line("a", legacy("x", "ft:babbage-002:nobody:x:abc"))]), "model_not_found", 1),
    ],
)
def test_a_bad_input_file_fails_the_batch_naming_the_line(server, checked, content, code, where):
    client = checked.client(server.base_url)
    created = submit(client, content)
    done, statuses = wait_for_batch(client, created.id)
    # Validating, then failed; a poll on a busy machine may come after the failure.
    assert created.status == "validating" and statuses in (["validating", "failed"], ["failed"])
    first = done.errors.data[0]
    assert (first.code, first.line) == (code, where), first.message
    assert done.failed_at > done.created_at and done.output_file_id is None


def test_requests_a_batch_cannot_take_are_refused_at_once(server, checked):
    client = checked.client(server.base_url)
    tuned = client.files.create(
        file=("t.jsonl", jsonl([line("a", legacy("x"))])), purpose="fine-tune"
    )
    batchable = client.files.create(
        file=("b.jsonl", jsonl([line("a", legacy("x"))])), purpose="batch"
    )
    cases = [
        ({"input_file_id": "file-nothing", "endpoint": LEGACY}, "input_file_id", "does not exist"),
        ({"input_file_id": tuned.id, "endpoint": LEGACY}, "input_file_id", "purpose 'batch'"),
        (
            {"input_file_id": batchable.id, "endpoint": "/v1/embeddings"},
            "endpoint",
            "does not serve",
        ),
        ({"input_file_id": batchable.id, "endpoint": "/v1/nothing"}, "endpoint", "must be one of"),
    ]
    for arguments, param, words in cases:
        with pytest.raises(openai.BadRequestError) as refused:
            client.batches.create(completion_window="24h", **arguments)
        assert refused.value.body["param"] == param and words in refused.value.body["message"]
    with pytest.raises(openai.BadRequestError) as refused:
        client.batches.create(input_file_id=batchable.id, endpoint=LEGACY, completion_window="1h")
    assert refused.value.body["param"] == "completion_window"
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_nothing")


def test_a_batch_can_be_cancelled_before_it_ends_and_not_after(tmp_path, checked):
    handle = simulator.start(state_dir=tmp_path, speed=0.025)  # states last a second
    try:
        client = checked.client(handle.base_url)
        batch = submit(client, [line("a", legacy("x"))])
        cancelling = client.batches.cancel(batch.id)
        assert cancelling.status == "cancelling" and cancelling.cancelling_at >= batch.created_at
        done, statuses = wait_for_batch(client, batch.id)
        assert statuses[-1] == "cancelled" and done.cancelled_at >= done.cancelling_at
        assert done.output_file_id is None
        with pytest.raises(openai.ConflictError):
            client.batches.cancel(batch.id)
    finally:
        handle.stop()


def test_a_fresh_state_with_the_same_seed_gives_the_same_batch(tmp_path, checked):
    runs = []
    for name in ("a", "b"):
        handle = simulator.start(state_dir=tmp_path / name, seed=9)
        try:
            client = checked.client(handle.base_url)
            done, _ = wait_for_batch(
                client, submit(client, [line("a", legacy("Tell me about gold."))]).id
            )
            runs.append((done.model_dump(), client.files.content(done.output_file_id).text))
        finally:
            handle.stop()
    assert runs[0] == runs[1]
