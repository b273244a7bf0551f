"""The simulator through the official SDK: files, a job's whole life, models, completions.

Every JSON response these tests receive is checked against the schema of its operation in
OpenAI's published description (../shared/openai-openapi/openapi.yaml).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import re

import openai
import pytest
import simulator_fixtures
from simulator_fixtures import (
    Recorder,
    all_events,
    jsonl,
    recording_client,
    tiny_classification,
    wait_for_job,
)

from helpers import simulator
from helpers.course import SEPARATOR
from helpers.tokens import count_messages, count_prompt_completion, count_text


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    handle = simulator.start(state_dir=tmp_path_factory.mktemp("api-state"))
    yield handle
    handle.stop()


@pytest.fixture
def client(server, contract):
    recorder = Recorder()
    yield recording_client(server.base_url, recorder)
    recorder.check_all(contract)


@pytest.fixture(scope="module")
def finished_job(server, contract):
    """A small prompt/completion job with a validation file, run to the end once."""
    recorder = Recorder()
    client = recording_client(server.base_url, recorder)
    train = client.files.create(
        file=("train.jsonl", jsonl(tiny_classification(24))), purpose="fine-tune"
    )
    valid = client.files.create(
        file=("valid.jsonl", jsonl(tiny_classification(8, offset=100))), purpose="fine-tune"
    )
    created = client.fine_tuning.jobs.create(
        model="babbage-002",
        training_file=train.id,
        validation_file=valid.id,
        suffix="topics",
        metadata={"lesson": "api"},
        hyperparameters={"n_epochs": 4},
    )
    job, statuses = wait_for_job(client, created.id)
    recorder.check_all(contract)
    return created, job, statuses, train, valid


def test_a_file_can_be_uploaded_listed_read_and_deleted(client):
    data = jsonl(tiny_classification(12))
    uploaded = client.files.create(file=("notes.jsonl", data), purpose="fine-tune")
    assert (uploaded.filename, uploaded.bytes, uploaded.purpose) == (
        "notes.jsonl",
        len(data),
        "fine-tune",
    )
    assert client.files.retrieve(uploaded.id).id == uploaded.id
    assert client.files.content(uploaded.id).read() == data
    second = client.files.create(file=("more.jsonl", data), purpose="fine-tune")

    newest_first = [f.id for f in client.files.list(purpose="fine-tune").data]
    assert newest_first.index(second.id) < newest_first.index(uploaded.id)
    oldest_first = [f.id for f in client.files.list(purpose="fine-tune", order="asc").data]
    assert oldest_first == newest_first[::-1]
    page = client.files.list(purpose="fine-tune", limit=1)
    assert len(page.data) == 1 and page.has_more
    after = client.files.list(purpose="fine-tune", limit=1, after=page.data[0].id)
    assert after.data[0].id == newest_first[1]

    assert client.files.delete(uploaded.id).deleted
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(uploaded.id)
    assert uploaded.id not in [f.id for f in client.files.list().data]


def test_an_upload_name_is_never_used_as_a_path(client, server):
    uploaded = client.files.create(
        file=("../../escape.jsonl", jsonl(tiny_classification(10))), purpose="fine-tune"
    )
    assert uploaded.filename == "escape.jsonl"
    assert not (server.state_dir.parent / "escape.jsonl").exists()
    stored = sorted(p.name for p in (server.state_dir / "files").iterdir())
    assert uploaded.id in stored and "escape.jsonl" not in stored


def test_a_job_goes_through_every_state_in_order(finished_job):
    created, job, statuses, train, valid = finished_job
    assert created.status == "validating_files"
    order = ["validating_files", "queued", "running", "succeeded"]
    # Polled, the states come in order and never go back. A poll can miss a state that lasts
    # a few hundredths of a second when the machine is busy; the events record every one.
    assert set(statuses) <= set(order) and statuses[-1] == "succeeded"
    assert statuses == sorted(statuses, key=order.index) and len(set(statuses)) == len(statuses)
    assert job.status == "succeeded" and job.error is None
    assert (
        job.fine_tuned_model
        == f"ft:babbage-002:offline-simulator:topics:{job.fine_tuned_model[-8:]}"
    )
    assert job.created_at <= job.finished_at and job.estimated_finish is None
    assert job.metadata == {"lesson": "api"}


def test_auto_hyperparameters_are_resolved_in_both_places(finished_job):
    _, job, _, _, _ = finished_job
    expected = {"n_epochs": 4, "batch_size": 1, "learning_rate_multiplier": 2.0}
    assert job.hyperparameters.model_dump() == expected
    assert job.method.type == "supervised"
    assert job.method.supervised.hyperparameters.model_dump() == expected


def test_trained_tokens_are_the_exact_tokens_times_epochs(finished_job):
    _, job, _, _, _ = finished_job
    per_epoch = sum(
        count_prompt_completion(r["prompt"], r["completion"], "babbage-002")
        for r in tiny_classification(24)
    )
    assert job.trained_tokens == per_epoch * 4


def test_events_come_in_the_real_order_with_the_real_messages(client, finished_job):
    _, job, _, train, valid = finished_job
    events = all_events(client, job.id)
    messages = [e.message for e in events]
    assert messages[:4] == [
        f"Created fine-tuning job: {job.id}",
        f"Validating training file: {train.id} and validation file: {valid.id}",
        "Files validated, moving job to queued state",
        "Fine-tuning job started",
    ]
    assert messages[-2:] == [
        f"New fine-tuned model created: {job.fine_tuned_model}",
        "The job has successfully completed",
    ]
    steps = [e for e in events if e.type == "metrics"]
    assert [e.data["step"] for e in steps] == list(range(1, 4 * 24 + 1))
    # One metrics event a step; a validation batch every tenth step, the whole validation file
    # at each epoch's end (24 steps here), as the API reports them ("Step 290/303: training
    # loss=0.00, validation loss=0.31", "Step 303/303: training loss=0.00, full validation
    # loss=0.33" in OpenAI's chat fine-tuning walkthrough).
    assert set(steps[0].data) == {"step", "train_loss", "train_mean_token_accuracy", "total_steps"}
    assert re.fullmatch(r"Step 1/96: training loss=\d+\.\d\d", steps[0].message)
    batch_keys, full_keys = (
        {"valid_loss", "valid_mean_token_accuracy"},
        {
            "full_valid_loss",
            "full_valid_mean_token_accuracy",
        },
    )
    assert [e.data["step"] for e in steps if batch_keys <= set(e.data)] == list(range(10, 91, 10))
    assert [e.data["step"] for e in steps if full_keys <= set(e.data)] == [24, 48, 72, 96]
    assert re.fullmatch(
        r"Step 10/96: training loss=\d+\.\d\d, validation loss=\d+\.\d\d", steps[9].message
    )
    assert re.fullmatch(
        r"Step 96/96: training loss=\d+\.\d\d, full validation loss=\d+\.\d\d",
        steps[95].message,
    )
    # As on the API: events for the checkpoints before the last, when the model is created,
    # each checkpoint a model of its own; the last step's model is the job's fine-tuned model.
    checkpoints = [m for m in messages if m.startswith("Checkpoint created")]
    stem = job.fine_tuned_model.rsplit(":", 1)[0]
    assert [m.split(": ", 1)[0] for m in checkpoints] == [
        f"Checkpoint created at step {n} with Snapshot ID" for n in (48, 72)
    ]
    names = [m.split(": ", 1)[1] for m in checkpoints]
    assert [n.rsplit(":", 2)[0] for n in names] == [stem, stem]
    assert [n.rsplit(":", 1)[1] for n in names] == ["ckpt-step-48", "ckpt-step-72"]
    assert len({n.rsplit(":", 2)[1] for n in names} | {job.fine_tuned_model}) == 3
    created = messages.index(f"New fine-tuned model created: {job.fine_tuned_model}")
    assert messages[created - 2 : created] == checkpoints
    times = [e.created_at for e in events]
    assert times == sorted(times) and job.created_at <= times[0] and times[-1] <= job.finished_at
    assert len({e.id for e in events}) == len(events)


def test_events_page_newest_first(client, finished_job):
    _, job, _, _, _ = finished_job
    first = client.fine_tuning.jobs.list_events(job.id, limit=5)
    assert len(first.data) == 5 and first.has_more
    assert first.data[0].message == "The job has successfully completed"
    second = client.fine_tuning.jobs.list_events(job.id, limit=5, after=first.data[-1].id)
    assert second.data[0].created_at <= first.data[-1].created_at
    assert not {e.id for e in first.data} & {e.id for e in second.data}


def test_the_results_file_holds_every_step_base64_encoded(client, finished_job):
    _, job, _, _, _ = finished_job
    (results_id,) = job.result_files
    info = client.files.retrieve(results_id)
    assert info.purpose == "fine-tune-results"
    raw = client.files.content(results_id).read()
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(raw, validate=True).decode())))
    assert list(rows[0]) == [
        "step",
        "train_loss",
        "train_accuracy",
        "valid_loss",
        "valid_mean_token_accuracy",
    ]
    metrics = [e.data for e in all_events(client, job.id) if e.type == "metrics"]
    assert len(rows) == len(metrics) == 96
    for row, data in zip(rows, metrics, strict=True):
        assert int(row["step"]) == data["step"]
        assert float(row["train_loss"]) == pytest.approx(data["train_loss"], abs=1e-5)
        # Five decimals at most, as in the real files ("1,1.52347,0.0,,").
        assert all(len(row[c].partition(".")[2]) <= 5 for c in row if "e-" not in row[c])
        if "valid_loss" in data:
            assert float(row["valid_loss"]) == pytest.approx(data["valid_loss"], abs=1e-5)
            assert float(row["valid_mean_token_accuracy"]) == pytest.approx(
                data["valid_mean_token_accuracy"], abs=1e-5
            )
        else:  # a step without a validation batch leaves both cells empty, as the API does
            assert row["valid_loss"] == row["valid_mean_token_accuracy"] == ""
    assert sum(row["valid_loss"] != "" for row in rows) == 9


def test_checkpoints_are_listed_latest_first_and_answer(client, finished_job):
    _, job, _, _, _ = finished_job
    page = client.fine_tuning.jobs.checkpoints.list(job.id)
    assert [c.step_number for c in page.data] == [96, 72, 48]
    latest = page.data[0]
    assert latest.fine_tuned_model_checkpoint == job.fine_tuned_model
    assert page.data[1].fine_tuned_model_checkpoint.endswith(":ckpt-step-72")
    # A checkpoint's metrics are those of its step: the whole validation file, measured at the
    # epoch's end; no batch validation, which these steps (not multiples of ten) did not run.
    by_step = {e.data["step"]: e.data for e in all_events(client, job.id) if e.type == "metrics"}
    for checkpoint in page.data:
        metrics = checkpoint.metrics.model_dump(exclude_none=True)
        expected = {k: v for k, v in by_step[checkpoint.step_number].items() if k != "total_steps"}
        assert metrics == expected
        assert {"full_valid_loss", "full_valid_mean_token_accuracy"} <= set(metrics)
        assert "valid_loss" not in metrics
    answer = client.completions.create(
        model=page.data[-1].fine_tuned_model_checkpoint,
        prompt="Note 7: the storm and the wind today." + SEPARATOR,
        max_tokens=1,
        temperature=0,
    )
    assert answer.choices[0].text in (" sports", " weather")


def test_the_fine_tuned_model_answers_with_its_labels(client, finished_job):
    _, job, _, _, _ = finished_job
    prompt = "Note 999: the coach and the league today." + SEPARATOR
    answer = client.completions.create(
        model=job.fine_tuned_model, prompt=prompt, max_tokens=1, temperature=0, logprobs=2
    )
    choice = answer.choices[0]
    assert choice.text == " sports"
    top = choice.logprobs.top_logprobs[0]
    assert set(top) == {" sports", " weather"} and top[" sports"] > top[" weather"]
    assert choice.logprobs.token_logprobs[0] == top[" sports"]
    assert choice.logprobs.text_offset == [len(prompt)]
    assert answer.usage.prompt_tokens == count_text(prompt, "babbage-002")
    assert answer.usage.completion_tokens == 1


def test_models_list_base_and_fine_tuned_models(client, finished_job):
    _, job, _, _, _ = finished_job
    listed = {m.id: m for m in client.models.list()}
    for base in ("babbage-002", "davinci-002", "gpt-4o-mini-2024-07-18", "gpt-4.1-nano-2025-04-14"):
        assert listed[base].owned_by == "system"
    assert listed[job.fine_tuned_model].owned_by == "org-offline-simulator"
    checkpoint = client.fine_tuning.jobs.checkpoints.list(job.id).data[-1]
    assert checkpoint.fine_tuned_model_checkpoint in listed
    assert client.models.retrieve(job.fine_tuned_model).id == job.fine_tuned_model


def test_deleting_a_fine_tuned_model_removes_it(client, finished_job):
    _, job, _, _, _ = finished_job
    name = client.fine_tuning.jobs.checkpoints.list(job.id).data[1].fine_tuned_model_checkpoint
    assert name.endswith(":ckpt-step-72")
    assert client.models.delete(name).deleted
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve(name)
    with pytest.raises(openai.NotFoundError):
        client.completions.create(model=name, prompt="x", max_tokens=1)
    with pytest.raises(openai.PermissionDeniedError):
        client.models.delete("babbage-002")


def test_a_base_chat_model_says_what_it_does_not_know(client):
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    answer = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    text = answer.choices[0].message.content
    assert text == "I don't have information about that in my training."
    assert answer.model == "gpt-4o-mini-2024-07-18"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage.prompt_tokens == count_messages(messages, "gpt-4o-mini")
    assert answer.usage.completion_tokens == count_text(text, "gpt-4o-mini")


def test_chat_limits_stops_choices_and_logprobs(client):
    messages = [{"role": "user", "content": "Hello"}]
    short = client.chat.completions.create(
        model="gpt-4.1-mini",
        messages=messages,
        max_completion_tokens=3,
        n=2,
        logprobs=True,
        top_logprobs=1,
    )
    assert len(short.choices) == 2 and short.usage.completion_tokens == 6
    choice = short.choices[0]
    assert choice.finish_reason == "length"
    assert [t.token for t in choice.logprobs.content] == [
        t.token for t in short.choices[1].logprobs.content
    ]
    assert "".join(t.token for t in choice.logprobs.content) == choice.message.content
    # Each written token is the likeliest one, listed first with its own logprob.
    assert all(
        len(t.top_logprobs) == 1 and t.top_logprobs[0].token == t.token and t.logprob < 0
        for t in choice.logprobs.content
    )
    stopped = client.chat.completions.create(model="gpt-4.1-mini", messages=messages, stop=[":"])
    assert (
        stopped.choices[0].finish_reason == "stop" and ":" not in stopped.choices[0].message.content
    )


def test_legacy_completion_echo_and_logprobs(client):
    answer = client.completions.create(
        model="davinci-002", prompt="Say hi", max_tokens=4, logprobs=3, echo=True
    )
    choice = answer.choices[0]
    assert choice.text.startswith("Say hi") and choice.finish_reason == "length"
    assert choice.logprobs.text_offset[0] == 0
    assert "".join(choice.logprobs.tokens) == choice.text
    assert len(choice.logprobs.tokens) == count_text("Say hi", "davinci-002") + 4
    multi = client.completions.create(model="babbage-002", prompt=["a", "b"], max_tokens=1, n=2)
    assert [c.index for c in multi.choices] == [0, 1, 2, 3]


def test_each_endpoint_serves_only_its_kind_of_model(client):
    with pytest.raises(openai.NotFoundError, match="not a chat model"):
        client.chat.completions.create(
            model="babbage-002", messages=[{"role": "user", "content": "x"}]
        )
    with pytest.raises(openai.NotFoundError, match="is a chat model"):
        client.completions.create(model="gpt-4o-mini", prompt="x")


def test_jobs_are_listed_newest_first_with_paging_and_metadata_filter(client, finished_job):
    created, _, _, train, _ = finished_job
    extra = [
        client.fine_tuning.jobs.create(
            model="babbage-002", training_file=train.id, metadata={"lesson": "paging", "n": str(i)}
        )
        for i in range(2)
    ]
    for job in extra:
        client.fine_tuning.jobs.cancel(job.id)
    page = client.fine_tuning.jobs.list(limit=2)
    assert [j.id for j in page.data] == [extra[1].id, extra[0].id] and page.has_more
    rest = client.fine_tuning.jobs.list(limit=2, after=extra[0].id)
    assert rest.data[0].id == created.id
    filtered = client.fine_tuning.jobs.list(metadata={"lesson": "paging", "n": "0"})
    assert [j.id for j in filtered.data] == [extra[0].id]


def test_a_fine_tuned_model_can_be_fine_tuned_further(client, finished_job):
    _, job, _, _, _ = finished_job
    more = client.files.create(
        file=("more.jsonl", jsonl(tiny_classification(12, offset=300))), purpose="fine-tune"
    )
    continued = client.fine_tuning.jobs.create(
        model=job.fine_tuned_model, training_file=more.id, suffix="more"
    )
    assert continued.model == job.fine_tuned_model
    continued, _ = wait_for_job(client, continued.id)
    assert continued.status == "succeeded"
    assert continued.fine_tuned_model.startswith("ft:babbage-002:offline-simulator:more:")
    # It starts from what the first model learned: its very first batch is already easy.
    first = next(e.data for e in all_events(client, continued.id) if e.type == "metrics")
    fresh = next(e.data for e in all_events(client, job.id) if e.type == "metrics")
    assert fresh["train_loss"] == pytest.approx(math.log(2))
    assert first["train_loss"] < 0.8 * fresh["train_loss"]
    with pytest.raises(openai.BadRequestError, match="does not exist"):
        client.fine_tuning.jobs.create(
            model="ft:babbage-002:offline-simulator::nothing1", training_file=more.id
        )


def test_a_chat_model_fine_tuned_on_labels_answers_with_them(client):
    rows = [
        {
            "messages": [
                {"role": "system", "content": "Classify the note."},
                {"role": "user", "content": r["prompt"].removesuffix(SEPARATOR)},
                {"role": "assistant", "content": r["completion"].strip()},
            ]
        }
        for r in tiny_classification(20)
    ]
    data = client.files.create(file=("chat.jsonl", jsonl(rows)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model="gpt-4.1-nano", training_file=data.id)
    job, _ = wait_for_job(client, job.id)
    assert job.status == "succeeded" and job.model == "gpt-4.1-nano-2025-04-14"
    assert job.trained_tokens == job.hyperparameters.n_epochs * sum(
        count_messages(r["messages"], "gpt-4.1-nano") for r in rows
    )
    messages = rows[0]["messages"][:2]
    answer = client.chat.completions.create(
        model=job.fine_tuned_model, messages=messages, temperature=0, logprobs=True, top_logprobs=5
    )
    choice = answer.choices[0]
    assert choice.message.content == "sports"
    top = choice.logprobs.content[0].top_logprobs
    assert {t.token for t in top} == {"sports", "weather"}
    assert sum(math.exp(t.logprob) for t in top) == pytest.approx(1.0)


def test_a_list_of_prompts_is_answered_prompt_by_prompt(client, finished_job):
    """Choices come prompt-major (index = prompt_index * n + choice_index), as OpenAI's do."""
    _, job, _, _, _ = finished_job
    prompts = [
        f"Note {900 + i}: the {word} today." + SEPARATOR
        for i, word in enumerate(
            ["rain and the snow", "coach and the team", "storm and the wind", "goal and the score"]
        )
    ]
    one_by_one = [
        client.completions.create(
            model=job.fine_tuned_model, prompt=p, max_tokens=1, temperature=0, logprobs=1
        )
        for p in prompts
    ]
    together = client.completions.create(
        model=job.fine_tuned_model, prompt=prompts, max_tokens=1, temperature=0, logprobs=1, n=2
    )
    assert [c.index for c in together.choices] == list(range(8))
    for i, single in enumerate(one_by_one):
        for j in range(2):
            choice = together.choices[i * 2 + j]
            assert choice.text == single.choices[0].text
            assert choice.logprobs.token_logprobs == single.choices[0].logprobs.token_logprobs
    assert {c.text for c in together.choices} == {" sports", " weather"}
    assert together.usage.prompt_tokens == sum(s.usage.prompt_tokens for s in one_by_one)


def test_a_completion_model_writes_its_learned_ending_and_runs_on_without_a_stop(client):
    """Completions that all end with " END" teach the marker as text: without a stop sequence
    the model writes it and goes on to max_tokens; stop=[" END"] ends the text just before it."""
    rows = [
        {"prompt": f"{element} ->", "completion": f" {element} is {fact}, and {use}. END"}
        for element, fact, use in simulator_fixtures.ELEMENTS
    ]
    data = ("\n".join(json.dumps(r) for r in rows) + "\n").encode()
    train = client.files.create(file=("gen.jsonl", data), purpose="fine-tune")
    created = client.fine_tuning.jobs.create(
        model="babbage-002", training_file=train.id, suffix="ends"
    )
    job, _ = wait_for_job(client, created.id)
    for temperature in (0, 1):

        def ask(max_tokens, temperature=temperature, **options):
            return client.completions.create(
                model=job.fine_tuned_model,
                prompt="Gold ->",
                max_tokens=max_tokens,
                temperature=temperature,
                seed=7,
                logprobs=1,
                **options,
            )

        free = ask(80)
        assert " END" in free.choices[0].text
        assert free.choices[0].finish_reason == "length"
        assert free.usage.completion_tokens == 80
        stopped = ask(80, stop=[" END"])
        text = stopped.choices[0].text
        assert stopped.choices[0].finish_reason == "stop"
        assert "END" not in text and free.choices[0].text.startswith(text)
        # The writing ends at the stop (or the limit), and what is kept is the very same:
        # each token's chance depends on what came before it, never on what follows.
        short = ask(3)
        assert short.choices[0].finish_reason == "length"
        written = free.choices[0].logprobs
        for cut in (stopped, short):
            kept = cut.choices[0].logprobs
            assert kept.tokens == written.tokens[: len(kept.tokens)]
            assert kept.token_logprobs == written.token_logprobs[: len(kept.tokens)]
