"""The offline simulator's figures, measured through the official SDK over HTTP.

- job_seconds: create-to-succeeded wall time of the course's classifier job (babbage-002, the
  course's 948-example training file and 238-example validation file as notebook 02 writes
  them, 3 epochs), followed with `follow_job` as notebook 03 does, polling every 50 ms.
- retrieve_median_ms: the median SDK round trip of `models.retrieve` (200 calls, kept-alive).
- completions_seconds: 796 legacy completion requests (`max_tokens=1, temperature=0,
  logprobs=2`), one after the other: the course's test-set evaluation.
- stream_first_chunk_ms: the median wall time from sending a streamed chat request
  (`stream=True`, the base gpt-4o-mini answering about an element) to its first chunk, 20 calls.
- valid_accuracy / test_accuracy: the fine-tuned classifier on the 238 validation posts and on
  the 796 test posts (OpenAI's `ada` reached 0.991597 on those same validation posts).

Each figure comes with its target. A fresh state in a temporary folder, seed 0, simulated clock,
on a server that has answered a first request (as in a notebook, where it starts cells earlier).
"""

from __future__ import annotations

import statistics
import tempfile
import time

import openai

from helpers import simulator
from helpers.course import classifier_split, classifier_test_prompts
from helpers.jobs import follow_job
from helpers.jsonl_lines import jsonl_text

TARGETS = {
    "job_seconds": 3.0,
    "retrieve_median_ms": 5.0,
    "valid_accuracy": 0.99,
    "test_accuracy": 0.97,
}
ADA_VALID_ACCURACY = 0.991597
RETRIEVALS = 200
POLL_SECONDS = 0.05  # how often the job is looked at while it runs


def run() -> dict:
    train, valid = classifier_split()
    test_prompts, test_labels = classifier_test_prompts()
    with tempfile.TemporaryDirectory() as state:
        handle = simulator.start(state_dir=state, seed=0)
        try:
            client = openai.OpenAI(base_url=handle.base_url, api_key="bench-key")
            _warm_up(client)
            job, job_seconds = _train(client, train, valid)
            retrieve_ms = _median_retrieve_ms(client)
            first_chunk_ms = _median_first_chunk_ms(client)
            started = time.perf_counter()
            test_accuracy = _accuracy(client, job.fine_tuned_model, test_prompts, test_labels)
            completions_seconds = time.perf_counter() - started
            valid_accuracy = _accuracy(
                client, job.fine_tuned_model, list(valid.prompt), list(valid.completion)
            )
        finally:
            handle.stop()
    figures = {
        "job_seconds": round(job_seconds, 3),
        "retrieve_median_ms": round(retrieve_ms, 3),
        "stream_first_chunk_ms": round(first_chunk_ms, 3),
        "completions_seconds": round(completions_seconds, 3),
        "completions_requests": len(test_prompts),
        "valid_accuracy": round(valid_accuracy, 6),
        "test_accuracy": round(test_accuracy, 6),
        "ada_valid_accuracy": ADA_VALID_ACCURACY,
        "job_status": job.status,
        "trained_tokens": job.trained_tokens,
    }
    figures["targets"] = TARGETS
    figures["met"] = {
        "job_seconds": figures["job_seconds"] <= TARGETS["job_seconds"],
        "retrieve_median_ms": figures["retrieve_median_ms"] <= TARGETS["retrieve_median_ms"],
        "valid_accuracy": figures["valid_accuracy"] >= TARGETS["valid_accuracy"],
        "test_accuracy": figures["test_accuracy"] >= TARGETS["test_accuracy"],
    }
    return figures


def _warm_up(client) -> None:
    """Open the kept-alive connection and wait for tiktoken's encodings to be loaded.

    A notebook starts the simulator cells before it creates a job; the job is timed the same way.
    """
    client.models.retrieve("babbage-002")
    client.completions.create(model="babbage-002", prompt="warm up", max_tokens=1)
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "warm up"}], max_tokens=1
    )


def _train(client, train, valid):
    train_file, valid_file = (
        client.files.create(
            file=(name, jsonl_text(part.to_dict("records")).encode()), purpose="fine-tune"
        )
        for name, part in (("sports_train.jsonl", train), ("sports_valid.jsonl", valid))
    )
    started = time.perf_counter()
    job = client.fine_tuning.jobs.create(
        model="babbage-002", training_file=train_file.id, validation_file=valid_file.id
    )
    job = follow_job(client, job.id, poll_seconds=POLL_SECONDS, quiet=True)
    return job, time.perf_counter() - started


def _median_first_chunk_ms(client, calls: int = 20) -> float:
    times = []
    for k in range(calls):
        started = time.perf_counter()
        stream = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": f"Tell me about element {k + 1}."}],
            stream=True,
        )
        next(iter(stream))
        times.append((time.perf_counter() - started) * 1000)
        stream.close()
    return statistics.median(times)


def _median_retrieve_ms(client) -> float:
    times = []
    for _ in range(RETRIEVALS):
        started = time.perf_counter()
        client.models.retrieve("babbage-002")
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _accuracy(client, model: str, prompts: list[str], labels: list[str]) -> float:
    right = 0
    for prompt, label in zip(prompts, labels, strict=True):
        answer = client.completions.create(
            model=model, prompt=prompt, max_tokens=1, temperature=0, logprobs=2
        )
        right += answer.choices[0].text == label
    return right / len(prompts)
