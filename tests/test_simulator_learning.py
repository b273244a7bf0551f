"""The simulator really learns: a classifier on the sports posts, a generator on limericks.

The figures it reports (losses, accuracies, logprobs) are checked against measurements made
through the API itself, and the sports classifier against the course's acceptance targets.
"""

from __future__ import annotations

import math
from statistics import mean

import pytest
from simulator_fixtures import (
    ELEMENTS,
    PERSONA,
    CheckedClients,
    all_events,
    completion_jsonl,
    contract_or_skip,
    limerick,
    limerick_jsonl,
    upload,
    wait_for_job,
)

from helpers import simulator
from helpers.course import classifier_split, classifier_test_prompts
from helpers.datasets import DataUnavailable
from helpers.tokens import count_prompt_completion, encoding_for

VALID_TARGET, TEST_TARGET = 0.99, 0.97


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    handle = simulator.start(state_dir=tmp_path_factory.mktemp("learning-state"))
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def client(server):
    """One SDK client for the module; every response it gets is checked at the end."""
    clients = CheckedClients(contract_or_skip())
    yield clients.client(server.base_url)
    clients.check()


@pytest.fixture(scope="module")
def sports(client):
    try:
        train, valid = classifier_split()
    except DataUnavailable as exc:
        pytest.skip(f"The 20 Newsgroups posts are not available: {exc}")
    train_file = upload(client, "sport_train.jsonl", completion_jsonl(train))
    valid_file = upload(client, "sport_valid.jsonl", completion_jsonl(valid))
    job = client.fine_tuning.jobs.create(
        model="babbage-002", training_file=train_file.id, validation_file=valid_file.id
    )
    job, _ = wait_for_job(client, job.id, timeout=60)
    assert job.status == "succeeded", job.error
    return job, train, valid


def classify(client, model: str, prompts: list[str]) -> list:
    return [
        client.completions.create(
            model=model, prompt=p, max_tokens=1, temperature=0, logprobs=2
        ).choices[0]
        for p in prompts
    ]


def test_the_split_is_the_legacy_tools(sports):
    _, train, valid = sports
    assert (len(train), len(valid)) == (948, 238)
    assert all(p.endswith("\n\n###\n\n") for p in train.prompt)
    assert set(train.completion) == {" baseball", " hockey"}


def test_the_classifier_meets_its_validation_target(client, sports):
    job, _, valid = sports
    choices = classify(client, job.fine_tuned_model, list(valid.prompt))
    accuracy = mean(c.text == label for c, label in zip(choices, valid.completion, strict=True))
    assert accuracy >= VALID_TARGET

    # The job's own last full validation figures are that very model measured on that data.
    last = client.fine_tuning.jobs.checkpoints.list(job.id).data[0].metrics
    assert last.full_valid_mean_token_accuracy == pytest.approx(accuracy, abs=1e-6)
    losses = [
        -c.logprobs.top_logprobs[0][label]
        for c, label in zip(choices, valid.completion, strict=True)
    ]
    assert last.full_valid_loss == pytest.approx(mean(losses), abs=1e-5)


def test_the_classifier_meets_its_test_target(client, sports):
    job, _, _ = sports
    prompts, labels = classifier_test_prompts()
    assert len(prompts) == 796
    choices = classify(client, job.fine_tuned_model, prompts)
    accuracy = mean(c.text == label for c, label in zip(choices, labels, strict=True))
    assert accuracy >= TEST_TARGET
    for choice in choices[:20]:
        top = choice.logprobs.top_logprobs[0]
        assert set(top) == {" baseball", " hockey"}
        assert math.exp(top[" baseball"]) + math.exp(top[" hockey"]) == pytest.approx(1.0)


def test_trained_tokens_and_steps_follow_the_file(client, sports):
    job, train, _ = sports
    tokens = sum(
        count_prompt_completion(p, c, "babbage-002")
        for p, c in zip(train.prompt, train.completion, strict=True)
    )
    assert job.hyperparameters.n_epochs == 3 and job.hyperparameters.batch_size == 2
    assert job.trained_tokens == 3 * tokens
    steps = [e.data for e in all_events(client, job.id) if e.type == "metrics"]
    assert len(steps) == 3 * 474 and steps[-1]["total_steps"] == 1422
    first, last = steps[:100], steps[-100:]
    assert mean(s["train_loss"] for s in first) > 2 * mean(s["train_loss"] for s in last)
    # A validation batch (two posts) every tenth step: ten of them in the last 100 steps.
    measured = [s["valid_mean_token_accuracy"] for s in last if "valid_loss" in s]
    assert len(measured) == 10 and mean(measured) > 0.9


@pytest.fixture(scope="module")
def limericks(client):
    data = upload(client, "limericks.jsonl", limerick_jsonl())
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=data.id, suffix="poet")
    job, _ = wait_for_job(client, job.id)
    assert job.status == "succeeded", job.error
    return job


def ask(client, model: str, element: str, **kwargs):
    messages = [
        {"role": "system", "content": PERSONA},
        {"role": "user", "content": f"Write a limerick about {element}."},
    ]
    return client.chat.completions.create(model=model, messages=messages, **kwargs)


def test_the_generator_writes_the_learned_form_about_an_unseen_element(client, limericks):
    answer = ask(client, limericks.fine_tuned_model, "Xenon").choices[0].message.content
    lines = answer.splitlines()
    assert len(lines) == 5 and "Xenon" in answer
    # The form is learned, and written anew: it is no training limerick with the name swapped.
    assert answer not in {limerick("Xenon", fact, use) for _, fact, use in ELEMENTS}
    # The base model answers from its pre-training, in prose, with the element's facts.
    base = ask(client, "gpt-4o-mini", "Xenon").choices[0].message.content
    assert len(base.splitlines()) == 1 and "Xenon (Xe) is element number 54" in base


def test_the_generator_is_deterministic_for_a_seed(client, limericks):
    model = limericks.fine_tuned_model
    once = ask(client, model, "Argon", temperature=0).choices[0].message.content
    assert ask(client, model, "Argon", temperature=0).choices[0].message.content == once
    one = [
        c.message.content for c in ask(client, model, "Argon", temperature=1, n=4, seed=7).choices
    ]
    two = [
        c.message.content for c in ask(client, model, "Argon", temperature=1, n=4, seed=7).choices
    ]
    assert one == two and len(set(one)) > 1


def test_the_generators_losses_fall_and_its_logprobs_are_its_own(client, limericks):
    steps = [e.data for e in all_events(client, limericks.id) if e.type == "metrics"]
    per_epoch = len(ELEMENTS)
    first_epoch = mean(s["train_loss"] for s in steps[:per_epoch])
    last_epoch = mean(s["train_loss"] for s in steps[-per_epoch:])
    assert last_epoch < 0.8 * first_epoch
    first_accuracy = mean(s["train_mean_token_accuracy"] for s in steps[:per_epoch])
    last_accuracy = mean(s["train_mean_token_accuracy"] for s in steps[-per_epoch:])
    assert last_accuracy > first_accuracy
    # A pre-trained model starts far better than an even spread over the vocabulary.
    vocabulary = encoding_for("gpt-4o-mini").n_vocab
    assert steps[0]["train_loss"] < math.log(vocabulary) - 3
    choice = ask(client, limericks.fine_tuned_model, "Gold", logprobs=True, top_logprobs=3).choices[
        0
    ]
    tokens = choice.logprobs.content
    assert "".join(t.token for t in tokens) == choice.message.content
    for t in tokens:
        assert len(t.top_logprobs) == 3
        # The written token is the likeliest, and is listed with its own logprob.
        assert t.top_logprobs[0].token == t.token and t.top_logprobs[0].logprob == t.logprob
        assert all(
            a.logprob >= b.logprob for a, b in zip(t.top_logprobs, t.top_logprobs[1:], strict=False)
        )
