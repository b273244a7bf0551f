"""What a completion costs through the SDK over HTTP, one prompt per request and many.

- single_ms: milliseconds per request with one prompt each (`max_tokens=1, temperature=0,
  logprobs=2`, the course's scoring call), with 1 client and with 8 clients at once.
- list_ms_per_prompt: milliseconds per prompt when each request carries 100 prompts in a list
  (`prompt=[...]`, which the legacy completions endpoint accepts), with 1 and 8 clients.
- batch_seconds: the 796 prompts as one batch (`client.batches.create`), from the upload of its
  input file to `completed` (polled every 50 ms), and its output file read back.

The model is the course's fine-tuned classifier (trained first, not timed), the prompts the 796
test posts. A fresh state in a temporary folder, seed 0, simulated clock, one server.
"""

from __future__ import annotations

import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import openai

from helpers import simulator
from helpers.course import classifier_split, classifier_test_prompts
from helpers.jobs import follow_job
from helpers.jsonl_lines import jsonl_text

LIST_SIZE = 100
CLIENTS = (1, 8)
SCORING = {"max_tokens": 1, "temperature": 0, "logprobs": 2}


def run() -> dict:
    prompts, _ = classifier_test_prompts()
    with tempfile.TemporaryDirectory() as state:
        handle = simulator.start(state_dir=state, seed=0)
        try:
            model = train_classifier(_client(handle))
            figures = {}
            for clients in CLIENTS:
                figures[f"single_ms_{clients}_clients"] = _per_item_ms(
                    handle, model, [[p] for p in prompts], clients
                )
            lists = [prompts[i : i + LIST_SIZE] for i in range(0, len(prompts), LIST_SIZE)]
            for clients in CLIENTS:
                figures[f"list_ms_per_prompt_{clients}_clients"] = _per_item_ms(
                    handle, model, lists * 2, clients
                )
            figures["batch_seconds"] = _batch_seconds(_client(handle), model, prompts)
        finally:
            handle.stop()
    figures["prompts"] = len(prompts)
    figures["list_size"] = LIST_SIZE
    return figures


def train_classifier(client) -> str:
    """The course's classifier job (948/238, babbage-002), run to the end; its model's name."""
    train, valid = classifier_split()
    train_file, valid_file = (
        client.files.create(
            file=(name, jsonl_text(part.to_dict("records")).encode()), purpose="fine-tune"
        )
        for name, part in (("sports_train.jsonl", train), ("sports_valid.jsonl", valid))
    )
    job = client.fine_tuning.jobs.create(
        model="babbage-002", training_file=train_file.id, validation_file=valid_file.id
    )
    return follow_job(client, job.id, poll_seconds=0.05, quiet=True).fine_tuned_model


def _client(handle):
    return openai.OpenAI(base_url=handle.base_url, api_key="bench-key")


def _per_item_ms(handle, model: str, requests: list[list[str]], clients: int) -> float:
    """Wall milliseconds per prompt to send `requests` over `clients` kept-alive clients."""
    pool = [_client(handle) for _ in range(clients)]
    for client in pool:  # open each connection before timing
        client.completions.create(model=model, prompt="warm up", **SCORING)
    shares = [requests[i::clients] for i in range(clients)]

    def send(client, share):
        for prompt in share:
            client.completions.create(model=model, prompt=prompt, **SCORING)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as executor:
        list(executor.map(send, pool, shares))
    elapsed = time.perf_counter() - started
    return round(elapsed * 1000 / sum(len(r) for r in requests), 3)


def _batch_seconds(client, model: str, prompts: list[str]) -> float:
    lines = [
        {
            "custom_id": f"post-{i}",
            "method": "POST",
            "url": "/v1/completions",
            "body": {"model": model, "prompt": prompt, **SCORING},
        }
        for i, prompt in enumerate(prompts)
    ]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    started = time.perf_counter()
    uploaded = client.files.create(file=("batch.jsonl", data), purpose="batch")
    batch = client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/completions", completion_window="24h"
    )
    while batch.status not in ("completed", "failed", "cancelled", "expired"):
        time.sleep(0.05)
        batch = client.batches.retrieve(batch.id)
    answers = client.files.content(batch.output_file_id).text.splitlines()
    elapsed = time.perf_counter() - started
    if batch.status != "completed" or len(answers) != len(prompts):
        raise RuntimeError(f"The benchmark's batch ended {batch.status}: {batch.errors}")
    return round(elapsed, 3)
