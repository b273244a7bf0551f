"""Every refusal the simulator makes: the status, the OpenAI-shaped body, the job's `error`.

Raw HTTP (httpx2) for what the SDK would not send; the SDK where its behaviour matters (it must
not retry a 409). Every error body is checked against OpenAI's `ErrorResponse` schema.
"""

from __future__ import annotations

import json

import httpx2
import openai
import pytest
from simulator_fixtures import (
    Recorder,
    jsonl,
    limerick_example,
    recording_client,
    tiny_classification,
    wait_for_job,
)

from helpers import simulator

KEY = {"Authorization": "Bearer test-key"}
FILE_LIMIT = 4000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    handle = simulator.start(
        state_dir=tmp_path_factory.mktemp("errors-state"), max_file_bytes=FILE_LIMIT
    )
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def http(server):
    with httpx2.Client(base_url=server.base_url + "/", timeout=10) as client:
        yield client


@pytest.fixture
def client(server, contract):
    recorder = Recorder()
    yield recording_client(server.base_url, recorder)
    recorder.check_all(contract)


@pytest.fixture(scope="module")
def training_file(server):
    client = openai.OpenAI(base_url=server.base_url, api_key="test-key")
    return client.files.create(
        file=("t.jsonl", jsonl(tiny_classification(10))), purpose="fine-tune"
    )


def refused(response, contract, status: int, param=None, code=None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    contract.check_error(body)
    error = body["error"]
    if param is not None:
        assert error["param"] == param
    if code is not None:
        assert error["code"] == code
    return error


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["none", "empty", "basic"],
)
def test_a_request_without_a_bearer_key_is_refused(http, contract, headers):
    error = refused(http.get("models", headers=headers), contract, 401)
    assert "Bearer" in error["message"]


def test_the_sdk_reports_a_missing_key_as_authentication_error(server):
    client = openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.models.list(extra_headers={"Authorization": "Basic dXNlcjpwYXNz"})


def test_unknown_ids_are_404(http, contract):
    for path in (
        "files/file-nope",
        "files/file-nope/content",
        "fine_tuning/jobs/ftjob-nope",
        "fine_tuning/jobs/ftjob-nope/events",
        "fine_tuning/jobs/ftjob-nope/checkpoints",
        "models/ft:babbage-002:offline-simulator::nope",
        "no/such/endpoint",
    ):
        refused(http.get(path, headers=KEY), contract, 404)
    refused(http.delete("files/file-nope", headers=KEY), contract, 404)
    refused(http.post("fine_tuning/jobs/ftjob-nope/cancel", headers=KEY), contract, 404)


def job_request(http, **body):
    return http.post("fine_tuning/jobs", headers=KEY, json=body)


@pytest.mark.parametrize(
    ("change", "param", "words"),
    [
        ({"model": "gpt-2"}, "model", "cannot be fine-tuned"),
        ({"model": None}, "model", "required"),
        ({"model": {"id": "ftjob-x"}}, "model", "a model's name (a string), not an object"),
        ({"hyperparameters": {"n_epochs": 0}}, "hyperparameters.n_epochs", "between 1 and 50"),
        ({"hyperparameters": {"n_epochs": 51}}, "hyperparameters.n_epochs", "between 1 and 50"),
        ({"hyperparameters": {"n_epochs": "many"}}, "hyperparameters.n_epochs", "whole number"),
        ({"hyperparameters": {"batch_size": 257}}, "hyperparameters.batch_size", "1 and 256"),
        (
            {"hyperparameters": {"learning_rate_multiplier": 0}},
            "hyperparameters.learning_rate_multiplier",
            "more than 0",
        ),
        ({"suffix": "s" * 65}, "suffix", "1 to 64 characters"),
        ({"suffix": "a:b"}, "suffix", "colons"),
        ({"seed": -1}, "seed", "seed"),
        ({"metadata": {"k": 1}}, "metadata", "strings"),
        ({"integrations": [{"type": "slack"}]}, "integrations[0].type", "wandb"),
        ({"method": {"type": "dpo"}}, "method.type", "not simulated"),
        ({"method": {"type": "reinforcement"}}, "method.type", "not simulated"),
        (
            {"method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 99}}}},
            "method.supervised.hyperparameters.n_epochs",
            "between 1 and 50",
        ),
    ],
)
def test_invalid_job_parameters_are_400(http, contract, training_file, change, param, words):
    body = {"model": "babbage-002", "training_file": training_file.id} | change
    error = refused(job_request(http, **body), contract, 400, param=param)
    assert words in error["message"]


def test_a_completion_for_a_model_that_is_not_a_name_says_what_came(http, contract):
    response = http.post("completions", json={"model": 5, "prompt": "x"}, headers=KEY)
    error = refused(response, contract, 400, param="model")
    assert "a model's name (a string), not a number" in error["message"]


def test_an_unknown_training_file_is_named(http, contract):
    error = refused(
        job_request(http, model="babbage-002", training_file="file-abc123"),
        contract,
        400,
        param="training_file",
    )
    assert error["message"] == "invalid training_file: file-abc123"


def test_an_unknown_validation_file_is_named(http, contract, training_file):
    body = {"model": "babbage-002", "training_file": training_file.id, "validation_file": "file-x"}
    error = refused(job_request(http, **body), contract, 400, param="validation_file")
    assert error["message"] == "invalid validation_file: file-x"


def test_only_fine_tune_uploads_are_accepted(http, contract):
    response = http.post(
        "files", headers=KEY, files={"file": ("a.jsonl", b"{}\n")}, data={"purpose": "assistants"}
    )
    refused(response, contract, 400, param="purpose")
    response = http.post("files", headers=KEY, data={"purpose": "fine-tune"})
    refused(response, contract, 400)


def test_a_file_over_the_size_limit_is_413_and_not_stored(http, contract, client):
    before = len(client.files.list().data)
    big = b"x" * (FILE_LIMIT + 1)
    response = http.post(
        "files", headers=KEY, files={"file": ("big.jsonl", big)}, data={"purpose": "fine-tune"}
    )
    refused(response, contract, 413, param="file")
    assert len(client.files.list().data) == before


def test_bad_request_bodies_and_queries_are_400(http, contract):
    response = http.post(
        "fine_tuning/jobs", headers=KEY | {"content-type": "application/json"}, content=b"{oops"
    )
    refused(response, contract, 400)
    refused(http.get("files", headers=KEY, params={"limit": "ten"}), contract, 400, param="limit")
    refused(http.get("files", headers=KEY, params={"order": "up"}), contract, 400, param="order")
    chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "stream": "y"}
    refused(http.post("chat/completions", headers=KEY, json=chat), contract, 400, param="stream")
    bad_role = {"model": "gpt-4o-mini", "messages": [{"role": "bot", "content": "x"}]}
    refused(
        http.post("chat/completions", headers=KEY, json=bad_role),
        contract,
        400,
        param="messages[0].role",
    )
    hot = {"model": "babbage-002", "prompt": "x", "temperature": 3}
    refused(http.post("completions", headers=KEY, json=hot), contract, 400, param="temperature")
    many = {"model": "babbage-002", "prompt": "x", "logprobs": 6}
    refused(http.post("completions", headers=KEY, json=many), contract, 400, param="logprobs")


def test_cancelling_a_finished_job_is_409_and_not_retried(server, contract, training_file):
    recorder = Recorder()
    client = recording_client(server.base_url, recorder)
    job = client.fine_tuning.jobs.create(model="babbage-002", training_file=training_file.id)
    client.fine_tuning.jobs.cancel(job.id)
    with pytest.raises(openai.ConflictError, match="already finished"):
        client.fine_tuning.jobs.cancel(job.id)
    with pytest.raises(openai.ConflictError, match="only a running job"):
        client.fine_tuning.jobs.pause(job.id)
    with pytest.raises(openai.ConflictError, match="only a paused job"):
        client.fine_tuning.jobs.resume(job.id)
    # One answer each: the SDK, which retries 409s by default, was told not to.
    assert [status for _, _, status, _ in recorder.seen] == [200, 200, 409, 409, 409]
    recorder.check_all(contract)


def failed_job(client, model: str, data: bytes, validation: bytes | None = None):
    train = client.files.create(file=("train.jsonl", data), purpose="fine-tune")
    valid = None
    if validation is not None:
        valid = client.files.create(file=("valid.jsonl", validation), purpose="fine-tune").id
    job = client.fine_tuning.jobs.create(model=model, training_file=train.id, validation_file=valid)
    job, _ = wait_for_job(client, job.id)
    assert job.status == "failed" and job.fine_tuned_model is None and job.finished_at
    return job, train


def chat_lines(*examples) -> bytes:
    return ("\n".join(json.dumps(e) for e in examples) + "\n").encode()


GOOD_CHAT = limerick_example("Neon", "a glow", "it lights the signs")


def test_too_few_examples_fail_the_job_the_way_openai_does(client):
    job, _ = failed_job(client, "babbage-002", jsonl(tiny_classification(7)))
    assert job.error.code == "invalid_n_examples"
    assert job.error.message == "Training file has 7 example(s), but must have at least 10 examples"
    assert job.error.param == "training_file"
    last = client.fine_tuning.jobs.list_events(job.id, limit=1).data[0]
    assert last.level == "error" and last.message == job.error.message


@pytest.mark.parametrize(
    ("model", "data", "code", "where"),
    [
        ("babbage-002", jsonl(tiny_classification(3)) + b"{not json\n", "invalid_json", "line 4"),
        (
            "gpt-4o-mini",
            chat_lines(
                GOOD_CHAT,
                {"messages": [{"role": "user", "content": "hi"}, {"role": "bot", "content": "yo"}]},
            ),
            "unrecognized_role",
            "line 2, messages[1].role",
        ),
        (
            "gpt-4o-mini",
            chat_lines(GOOD_CHAT, GOOD_CHAT, {"messages": [{"role": "user", "content": "hi"}]}),
            "missing_assistant_message",
            "line 3",
        ),
        ("gpt-4o-mini", chat_lines(GOOD_CHAT, {"prompt": "a"}), "missing_messages", "line 2"),
        ("babbage-002", chat_lines(GOOD_CHAT), "missing_prompt", "line 1, prompt"),
        ("babbage-002", jsonl([{"prompt": "a", "completion": 3}]), "invalid_type", "line 1"),
        ("babbage-002", b"\xff\xfe{}\n", "invalid_utf8", "line 1"),
    ],
    ids=[
        "not-json",
        "unknown-role",
        "no-assistant",
        "completion-for-chat",
        "chat-for-babbage",
        "completion-not-string",
        "not-utf8",
    ],
)
def test_a_bad_line_fails_the_job_and_is_named(client, model, data, code, where):
    job, train = failed_job(client, model, data)
    assert job.error.code == code
    assert job.error.param == "training_file"
    assert where in job.error.message and train.id in job.error.message


def test_a_bad_validation_file_is_named_as_such(client):
    job, _ = failed_job(
        client, "babbage-002", jsonl(tiny_classification(10)), validation=b'{"prompt": "x"}\n'
    )
    assert job.error.param == "validation_file"
    assert job.error.code == "missing_completion" and "line 1" in job.error.message


# -- hostile or oversized requests ---------------------------------------------------------------

CHAT = "chat/completions"


def test_a_deeply_nested_body_is_400_and_the_connection_stays_usable(server, contract):
    deep = b'{"model": "gpt-4o-mini", "messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with httpx2.Client(base_url=server.base_url + "/", timeout=10) as http:
        for body in (deep, b'{"a": ' + b"[" * 65 + b"]" * 65 + b"}"):
            response = http.post(CHAT, headers=KEY, content=body)
            error = refused(response, contract, 400)
            assert "nested too deeply" in error["message"]
            assert response.headers["x-should-retry"] == "false"
        # The next request on the same kept-alive connection is answered normally.
        chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
        assert http.post(CHAT, headers=KEY, json=chat).status_code == 200


def test_a_lone_surrogate_in_a_body_is_400(http, contract):
    body = b'{"model": "babbage-002", "prompt": "a \\ud800 b", "echo": true}'
    error = refused(http.post("completions", headers=KEY, content=body), contract, 400)
    assert "surrogate" in error["message"]


def test_an_oversized_json_body_is_refused_early_with_413(http, contract):
    from helpers.simulator.app import MAX_JSON_BODY_BYTES

    oversized = b'{"model": "gpt-4o-mini", "pad": "' + b"x" * MAX_JSON_BODY_BYTES + b'"}'
    response = http.post(CHAT, headers=KEY, content=oversized)
    error = refused(response, contract, 413, code="request_too_large")
    assert str(MAX_JSON_BODY_BYTES) in error["message"]

    def chunks():  # sent without a length, so the limit applies while it arrives
        for _ in range(MAX_JSON_BODY_BYTES // 2**20 + 2):
            yield b" " * 2**20

    refused(http.post(CHAT, headers=KEY, content=chunks()), contract, 413)
    assert http.get("models", headers=KEY).status_code == 200


@pytest.mark.parametrize(
    ("endpoint", "request_body", "words"),
    [
        (
            CHAT,
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "word " * 128_000}]},
            "maximum context length is 128000 tokens. However, your messages resulted in 128",
        ),
        (
            CHAT,
            {
                "model": "gpt-3.5-turbo",
                "messages": [{"role": "user", "content": "word " * 16_000}],
                "max_tokens": 1000,
            },
            "maximum context length is 16385 tokens. However, you requested 170",
        ),
        (
            "completions",
            {"model": "babbage-002", "prompt": ["short", "word " * 16_380]},
            "maximum context length is 16384 tokens, however you requested 163",
        ),
    ],
    ids=["chat", "chat-with-max-tokens", "legacy"],
)
def test_a_prompt_beyond_the_context_window_is_400(http, contract, endpoint, request_body, words):
    param = "messages" if endpoint == CHAT else "prompt"
    response = http.post(endpoint, headers=KEY, json=request_body)
    error = refused(response, contract, 400, param=param, code="context_length_exceeded")
    assert error["message"].startswith("This model's") and words in error["message"]


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8000", "localhost.evil.example", "10.0.0.8:80"]
)
def test_a_request_for_another_host_is_refused(http, contract, host):
    """A web page rebinding its own name to 127.0.0.1 cannot reach the simulator."""
    response = http.get("models", headers=KEY | {"Host": host})
    refused(response, contract, 403, code="host_not_allowed")


def test_requests_for_this_machines_names_are_answered(server, http):
    port = server.base_url.split(":")[2].split("/")[0]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"[::1]:{port}"):
        assert http.get("models", headers=KEY | {"Host": host}).status_code == 200


def test_an_unreadable_training_file_fails_the_job_with_the_real_cause(server, client):
    train = client.files.create(
        file=("t.jsonl", jsonl(tiny_classification(10))), purpose="fine-tune"
    )
    blob = server.state_dir / "files" / train.id
    blob.unlink()
    blob.mkdir()  # reading it now fails, but not because the file was deleted
    job = client.fine_tuning.jobs.create(model="babbage-002", training_file=train.id)
    job, _ = wait_for_job(client, job.id)
    assert job.status == "failed" and job.error.param == "training_file"
    assert "could not be read" in job.error.message and "was deleted" not in job.error.message


def test_a_missing_key_and_an_unknown_url_are_worded_as_the_api_words_them(http, contract):
    error = refused(http.get("models"), contract, 401)
    assert error["message"].startswith("You didn't provide an API key.")
    assert (error["type"], error["code"]) == ("invalid_request_error", None)
    error = refused(http.post("xyz", headers=KEY, json={}), contract, 404)
    assert error["message"] == "Invalid URL (POST /v1/xyz)"
    assert (error["type"], error["code"]) == ("invalid_request_error", None)


def test_every_answer_carries_a_request_id_and_the_rate_limit_headers(http, server):
    answers = [http.get("models", headers=KEY), http.get("models"), http.get("nope", headers=KEY)]
    ids = [a.headers["x-request-id"] for a in answers]
    assert all(i.startswith("req_") and len(i) == 36 for i in ids) and len(set(ids)) == 3
    first = answers[0].headers
    assert int(first["openai-processing-ms"]) >= 0
    for kind in ("requests", "tokens"):
        assert int(first[f"x-ratelimit-remaining-{kind}"]) < int(first[f"x-ratelimit-limit-{kind}"])
        assert first[f"x-ratelimit-reset-{kind}"].endswith("s")
    remaining = [int(a.headers["x-ratelimit-remaining-requests"]) for a in answers]
    assert remaining == sorted(remaining, reverse=True)
    client = openai.OpenAI(base_url=server.base_url, api_key="test-key")
    assert client.models.with_raw_response.list().request_id.startswith("req_")
    assert client.models.retrieve("babbage-002")._request_id.startswith("req_")
