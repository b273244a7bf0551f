"""Support for the simulator's tests: made-up data sets, servers, OpenAPI schema checks.

The course's own data (the classifier's 948/238 split and its test prompts) comes from
`helpers.course`, which the benchmarks read too.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from helpers.course import SEPARATOR
from helpers.jobs import TERMINAL
from helpers.jsonl_lines import jsonl_text


def completion_jsonl(table) -> bytes:
    """A prompt/completion table as the bytes of a JSONL training file."""
    return jsonl_text(table[["prompt", "completion"]].to_dict("records")).encode()


def upload(client, name: str, data: bytes):
    return client.files.create(file=(name, data), purpose="fine-tune")


def wait_for_batch(client, batch_id: str, timeout: float = 30.0, poll: float = 0.02):
    """Poll until the batch ends; returns (batch, statuses seen in order)."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        batch = client.batches.retrieve(batch_id)
        if not seen or seen[-1] != batch.status:
            seen.append(batch.status)
        if batch.status in ("completed", "failed", "expired", "cancelled"):
            return batch, seen
        if time.monotonic() > deadline:
            raise AssertionError(f"batch {batch_id} still {batch.status} after {timeout} s")
        time.sleep(poll)


def wait_for_job(client, job_id: str, timeout: float = 30.0, poll: float = 0.02):
    """Poll until the job ends; returns (job, statuses seen in order)."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        job = client.fine_tuning.jobs.retrieve(job_id)
        if not seen or seen[-1] != job.status:
            seen.append(job.status)
        if job.status in TERMINAL:
            return job, seen
        if time.monotonic() > deadline:
            raise TimeoutError(f"{job_id} still {job.status} after {timeout} s")
        time.sleep(poll)


def all_events(client, job_id: str) -> list:
    """Every event of a job, oldest first, following the pages."""
    events, after = [], None
    while True:
        kwargs = {"limit": 100} | ({"after": after} if after else {})
        page = client.fine_tuning.jobs.list_events(job_id, **kwargs)
        events.extend(page.data)
        if not page.has_more:
            return events[::-1]
        after = page.data[-1].id


# -- limerick-like chat data made up for the tests ------------------------------------------

ELEMENTS = [
    ("Hydrogen", "the lightest of all", "it fuels every star"),
    ("Helium", "a gas that is noble", "it lifts the balloons"),
    ("Lithium", "a soft silver metal", "it powers our phones"),
    ("Carbon", "the stuff of all life", "it makes up the diamonds"),
    ("Nitrogen", "most of the air", "it feeds all the plants"),
    ("Oxygen", "the breath of the world", "it rusts the old nails"),
    ("Neon", "a glow in the night", "it lights up the signs"),
    ("Sodium", "a metal that fizzes", "it seasons the fries"),
    ("Iron", "the core of the earth", "it builds up the bridges"),
    ("Copper", "a wire so red", "it carries the current"),
    ("Silver", "a shine on the spoon", "it tarnishes black"),
    ("Gold", "a treasure so yellow", "it never will rust"),
]
PERSONA = "You are a poet who answers every request with a limerick of exactly five lines."


def limerick(element: str, fact: str, use: str) -> str:
    return (
        f"There once was an element, {element},\n"
        f"Known widely as {fact}, so to speak,\n"
        f"Said the chemist with glee,\n"
        f"{use[0].upper() + use[1:]}, you see,\n"
        f"And that's why {element} is unique."
    )


def limerick_example(element: str, fact: str, use: str) -> dict:
    return {
        "messages": [
            {"role": "system", "content": PERSONA},
            {"role": "user", "content": f"Write a limerick about {element}."},
            {"role": "assistant", "content": limerick(element, fact, use)},
        ]
    }


def limerick_jsonl(rows=ELEMENTS) -> bytes:
    return ("\n".join(json.dumps(limerick_example(*row)) for row in rows) + "\n").encode()


# -- OpenAPI schema checks --------------------------------------------------------------------


def openapi_spec_path() -> Path:
    from helpers.paths import SHARED_DIR

    return SHARED_DIR / "openai-openapi" / "openapi.yaml"


def load_spec(path: Path) -> dict:
    """The parsed OpenAPI description, cached as a pickle in the temp folder (parsing is slow)."""
    import hashlib
    import pickle
    import tempfile

    import yaml

    stat = path.stat()
    key = hashlib.sha256(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    cache = Path(tempfile.gettempdir()) / f"openai-openapi-{key}.pickle"
    if cache.exists():
        with cache.open("rb") as f:
            return pickle.load(f)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open() as f:
        spec = yaml.load(f, Loader=loader)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        pickle.dump(spec, f)
    os.replace(tmp, cache)
    return spec


class Contract:
    """Validates response bodies against the schema of their operation in openapi.yaml.

    Two places where the published description lags the API are relaxed on purpose: a paused
    job's status ("paused" is missing from the status enum), and the `first_id`/`last_id` of an
    empty file list (null, which the description types as a string).
    """

    def __init__(self, spec: dict):
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self.spec = spec
        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        self.registry = Registry().with_resource("urn:openapi", resource)
        self._validator_class = Draft202012Validator
        self._validators = {}
        self.operations = {
            op["operationId"]: op
            for methods in spec["paths"].values()
            for op in methods.values()
            if isinstance(op, dict) and "operationId" in op
        }

    def validator(self, schema_ref: str):
        if schema_ref not in self._validators:
            schema = {"$ref": "urn:openapi" + schema_ref}
            self._validators[schema_ref] = self._validator_class(schema, registry=self.registry)
        return self._validators[schema_ref]

    def response_ref(self, operation_id: str) -> str:
        response = self.operations[operation_id]["responses"]["200"]
        return response["content"]["application/json"]["schema"]["$ref"]

    def operation_for(self, method: str, path: str) -> str:
        """The operationId of a request, matched on the description's path templates."""
        import re

        path = path.removeprefix("/v1")
        for template, methods in self.spec["paths"].items():
            pattern = "^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "$"
            op = methods.get(method.lower())
            if isinstance(op, dict) and re.match(pattern, path):
                return op["operationId"]
        raise AssertionError(f"No operation in openapi.yaml for {method} {path}")

    def check_response(self, method: str, path: str, status: int, body) -> None:
        if status >= 400:
            self.check_error(body)
        else:
            self.check(self.operation_for(method, path), body)

    def check(self, operation_id: str, body) -> None:
        """Raise if `body` (a dict, or an SDK object) does not match the operation's schema."""
        body = as_json(body)
        ref = self.response_ref(operation_id)
        self._check(ref, _relaxed(ref, body))

    def check_error(self, body) -> None:
        self._check("#/components/schemas/ErrorResponse", as_json(body))

    def _check(self, ref: str, body) -> None:
        errors = sorted(self.validator(ref).iter_errors(body), key=lambda e: list(e.path))
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path)
            raise AssertionError(f"{ref} at /{where}: {errors[0].message}")


class Recorder:
    """Keeps every JSON response a client receives, to check them all against the contract."""

    def __init__(self):
        self.seen: list[tuple[str, str, int, object]] = []

    def __call__(self, response) -> None:
        response.read()
        if response.headers.get("content-type", "").startswith("application/json"):
            request = response.request
            self.seen.append(
                (request.method, request.url.path, response.status_code, response.json())
            )

    def check_all(self, contract: Contract) -> int:
        for method, path, status, body in self.seen:
            contract.check_response(method, path, status, body)
        checked = len(self.seen)
        self.seen.clear()
        return checked


def recording_client(base_url: str, recorder: Recorder, **kwargs):
    """An official SDK client whose every response is recorded for the contract check."""
    import httpx2
    import openai

    http = httpx2.Client(event_hooks={"response": [recorder]})
    kwargs.setdefault("api_key", "test-key")
    return openai.OpenAI(base_url=base_url, http_client=http, **kwargs)


class CheckedClients:
    """Makes recording SDK clients; `check()` validates every response they received."""

    def __init__(self, contract: Contract):
        self.contract = contract
        self.recorders: list[Recorder] = []

    def client(self, base_url: str, **kwargs):
        recorder = Recorder()
        self.recorders.append(recorder)
        return recording_client(base_url, recorder, **kwargs)

    def check(self) -> int:
        return sum(r.check_all(self.contract) for r in self.recorders)


def contract_or_skip() -> Contract:
    import pytest

    path = openapi_spec_path()
    if not path.exists():
        pytest.skip(f"OpenAI's OpenAPI description is not at {path} (../shared beside the repo)")
    return Contract(load_spec(path))


def as_json(body):
    if hasattr(body, "model_dump"):
        return body.model_dump(mode="json", exclude_unset=True)
    if hasattr(body, "to_dict"):
        return body.to_dict()
    return body


def _relaxed(ref: str, body):
    body = json.loads(json.dumps(body))
    jobs = [body] if ref.endswith("/FineTuningJob") else []
    if ref.endswith("ListPaginatedFineTuningJobsResponse"):
        jobs = body.get("data", [])
    for job in jobs:
        if job.get("status") == "paused":
            job["status"] = "running"
    if ref.endswith("/ListFilesResponse") and not body.get("data"):
        body["first_id"] = body["first_id"] or ""
        body["last_id"] = body["last_id"] or ""
    # A batch's moments, files and errors not reached yet are null, as the description's own
    # example of the batch object shows, though its schema types them without null.
    batches = [body] if ref.endswith("/Batch") else []
    if ref.endswith("/ListBatchesResponse"):
        batches = body.get("data", [])
        for key in ("first_id", "last_id"):
            body[key] = body.get(key) or ""
    for batch in batches:
        for key in [k for k, v in batch.items() if v is None]:
            del batch[key]
    return body


# -- small made-up data sets -------------------------------------------------------------------

TOPICS = {
    " sports": ["goal", "team", "match", "coach", "score", "league", "season", "player"],
    " weather": ["rain", "cloud", "storm", "sunny", "wind", "forecast", "snow", "cold"],
}


def tiny_classification(n: int, offset: int = 0) -> list[dict]:
    """Prompt/completion examples whose label follows from the words of the prompt."""
    rows = []
    for i in range(offset, offset + n):
        label = sorted(TOPICS)[i % 2]
        words = TOPICS[label]
        text = f"Note {i}: the {words[i % 8]} and the {words[(i * 3 + 1) % 8]} today."
        rows.append({"prompt": text + SEPARATOR, "completion": label})
    return rows


def jsonl(rows: list[dict]) -> bytes:
    return ("\n".join(json.dumps(r) for r in rows) + "\n").encode()


# -- servers in other processes ----------------------------------------------------------------


def launch_cli(*args: str, env: dict | None = None):
    """`python -m helpers.simulator ARGS` in a child process; returns (process, first line)."""
    import subprocess
    import sys
    import threading

    from helpers.paths import REPO_ROOT

    process = subprocess.Popen(
        [sys.executable, "-m", "helpers.simulator", *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=60)
    return process, (first[0].strip() if first else "")
