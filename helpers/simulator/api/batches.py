"""/v1/batches: many requests in one file, answered in the background at the API's half price.

A batch's input file (uploaded with purpose "batch") holds one request a line:
`{"custom_id", "method": "POST", "url", "body"}`. Creating a batch checks the request at once
(the file, the endpoint, the completion window, the metadata); the lines themselves are checked
by the server's worker while the batch is `validating`, as OpenAI does, and a bad file fails the
batch with `errors` naming each bad line. Then each line is answered by the very code that
answers `/v1/chat/completions` and `/v1/completions` (`api/completions.py`), and the answers go
to an output file and the refusals to an error file (purpose "batch_output").

The work is done by `BatchRunner`, which the server hands to its worker (server.py): it runs
each round with the jobs, one server at a time per batch (a lease, as for jobs). It lives here,
beside the API, rather than in training/, because it calls the completion endpoints' code, and
training/ never reaches up into the API.

Timestamps follow the batch's own simulated clock (`work.sim`), moved on by what each piece of
work would take: what belongs to a batch (its output lines' ids, their completions' ids and
times, its files) is derived from the batch's id, so it does not depend on what other clients do
meanwhile.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Annotated

from fastapi import APIRouter, Query

from helpers.jsonl_lines import LineError, iter_jsonl
from helpers.simulator.api import JsonBody, Sim, page, reply
from helpers.simulator.api.completions import chat_completion, completion
from helpers.simulator.api.files import get_file
from helpers.simulator.api.jobs import check_metadata
from helpers.simulator.api.models import served_model
from helpers.simulator.errors import APIError, conflict, invalid, not_found
from helpers.simulator.stamps import derived_id, make_id

log = logging.getLogger("helpers.simulator")
router = APIRouter(prefix="/v1/batches")

# The endpoints a batch may name, as the API lists them, and those the simulator answers.
ENDPOINTS = (
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
    "/v1/images/generations",
    "/v1/images/edits",
    "/v1/videos",
)
ANSWERS = {"/v1/chat/completions": chat_completion, "/v1/completions": completion}
COMPLETION_WINDOWS = ("24h",)
MAX_REQUESTS = 50_000  # lines of one input file, as OpenAI
MAX_INPUT_BYTES = 200 * 1024 * 1024  # an input file's size, as OpenAI
MAX_ERRORS = 100  # bad lines reported in a failed batch's `errors`
WINDOW_SECONDS = 24 * 3600
MAX_LIST_LIMIT, DEFAULT_LIST_LIMIT = 100, 20
ACTIVE = ("validating", "in_progress", "finalizing", "cancelling")
FINISHED = ("completed", "failed", "expired", "cancelled")
LEASE = 3.0
# Simulated seconds each piece of work would take on the real API.
VALIDATING_SIMULATED, PER_REQUEST_SIMULATED, FINALIZING_SIMULATED = 10, 1, 30
# Wall time each state lasts at least (at speed 1), as a job's states do (training/worker.py);
# and the longest a round of the worker spends answering one batch's lines before saving its
# progress.
STATE_WALL, ROUND_BUDGET = 0.025, 0.1


# -- the routes ------------------------------------------------------------------------------


@router.post("")
def create_batch(sim: Sim, body: JsonBody):
    batch = add_batch(sim, body)
    sim.worker.wake()
    return reply(batch)


@router.get("")
def list_batches(
    sim: Sim,
    after: str | None = None,
    limit: Annotated[int, Query()] = DEFAULT_LIST_LIMIT,
):
    """The batches, newest first; `after` continues below the given batch."""
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise invalid(f"limit must be between 1 and {MAX_LIST_LIMIT}, not {limit}", param="limit")
    return reply(page(sim.store.batches(after, limit + 1), limit, after, "batch"))


@router.get("/{batch_id}")
def retrieve_batch(sim: Sim, batch_id: str):
    return reply(_existing(sim.store.connection(), sim, batch_id)[0])


@router.post("/{batch_id}/cancel")
def cancel_batch(sim: Sim, batch_id: str):
    with sim.store.transaction() as db:
        batch, work = _existing(db, sim, batch_id)
        if batch["status"] in FINISHED:
            raise conflict(
                f"Batch {batch_id} has already finished (status {batch['status']}); only a "
                "batch that has not finished can be cancelled.",
                param="batch_id",
                code="batch_already_finished",
            )
        if batch["status"] != "cancelling":
            work["sim"] += 1
            batch.update(status="cancelling", cancelling_at=sim.clock.stamp(work["sim"]))
            sim.store.save_batch(db, batch, work)
    return reply(batch)


def _existing(db, sim, batch_id: str) -> tuple[dict, dict]:
    found = sim.store.batch(db, batch_id)
    if found is None:
        raise not_found(f"No such Batch object: {batch_id}", param="batch_id")
    return found[0], found[1]


# -- creating a batch --------------------------------------------------------------------------


def add_batch(sim, request: dict) -> dict:
    input_file = _input_file(sim, request.get("input_file_id"))
    endpoint = _endpoint(request.get("endpoint"))
    window = request.get("completion_window")
    if window not in COMPLETION_WINDOWS:
        raise invalid(
            f"completion_window must be '24h' (the only window offered), not {window!r}.",
            param="completion_window",
        )
    metadata = check_metadata(request.get("metadata"))
    store = sim.store
    with store.transaction() as db:
        number = store.next_number(db, "batch")
        batch_id = make_id("batch", sim.settings.seed, number)
        created = store.advance_clock(db)
        batch = {
            "id": batch_id,
            "object": "batch",
            "endpoint": endpoint,
            "model": None,
            "errors": None,
            "input_file_id": input_file["id"],
            "completion_window": window,
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": sim.clock.stamp(created),
            "in_progress_at": None,
            "expires_at": sim.clock.later(created + WINDOW_SECONDS, WINDOW_SECONDS),
            "finalizing_at": None,
            "completed_at": None,
            "failed_at": None,
            "expired_at": None,
            "cancelling_at": None,
            "cancelled_at": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "usage": _usage(0, 0),
            "metadata": metadata,
        }
        work = {"sim": created, "phase_wall": time.time()}
        store.add_batch(db, number, batch, work)
    return batch


def _input_file(sim, file_id) -> dict:
    if not isinstance(file_id, str) or not file_id:
        raise invalid(
            "input_file_id is required: the id of a file uploaded with purpose 'batch'.",
            param="input_file_id",
        )
    try:
        found = get_file(sim, file_id, "input_file_id")
    except APIError:
        raise invalid(
            f"invalid input_file_id: {file_id} does not exist.", param="input_file_id"
        ) from None
    if found["purpose"] != "batch":
        raise invalid(
            f"invalid input_file_id: {file_id} was uploaded with purpose "
            f"{found['purpose']!r}; a batch's input file must have purpose 'batch'.",
            param="input_file_id",
        )
    if found["bytes"] > MAX_INPUT_BYTES:
        raise invalid(
            f"invalid input_file_id: {file_id} holds {found['bytes']} bytes; a batch's input "
            f"file may hold at most {MAX_INPUT_BYTES} bytes (200 MB).",
            param="input_file_id",
        )
    return found


def _endpoint(endpoint) -> str:
    if not isinstance(endpoint, str):
        raise invalid(f"endpoint must be one of {', '.join(ENDPOINTS)}.", param="endpoint")
    if endpoint in ANSWERS:
        return endpoint
    if endpoint in ENDPOINTS:
        raise invalid(
            f"The offline simulator does not serve {endpoint}, so it cannot run a batch of it: "
            f"batches of {' and '.join(ANSWERS)} only.",
            param="endpoint",
            code="unsupported_endpoint",
        )
    raise invalid(
        f"endpoint must be one of {', '.join(ENDPOINTS)}, not {endpoint!r}.", param="endpoint"
    )


def _usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "input_tokens": prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt_tokens + completion_tokens,
    }


# -- checking the lines --------------------------------------------------------------------------


class Request:
    """One line of an input file, checked."""

    def __init__(self, line: int, custom_id: str, body: dict):
        self.line = line
        self.custom_id = custom_id
        self.body = body


def read_requests(raw: bytes, endpoint: str, sim) -> tuple[list[Request], list[dict]]:
    """The input file's requests, and the errors (code, message, param, line) of its bad lines."""
    requests, errors, seen, model = [], [], set(), None

    def bad(code: str, message: str, line: int, param: str | None = None) -> None:
        errors.append({"code": code, "message": message, "param": param, "line": line})

    for line, value in iter_jsonl(raw):
        if isinstance(value, LineError) or not isinstance(value, dict):
            bad("invalid_json_line", "This line is not parseable as valid JSON.", line)
            continue
        custom_id, method, url, body = (
            value.get(k) for k in ("custom_id", "method", "url", "body")
        )
        if not isinstance(custom_id, str) or not custom_id:
            bad(
                "invalid_request",
                "custom_id is required: a string naming this request.",
                line,
                "custom_id",
            )
        elif custom_id in seen:
            bad(
                "duplicate_custom_id",
                f"The custom_id {custom_id!r} is a duplicate of another request's. The custom_id "
                "parameter must be unique for each individual request in a batch.",
                line,
                "custom_id",
            )
        elif method != "POST":
            bad("invalid_request", f"method must be 'POST', not {method!r}.", line, "method")
        elif not isinstance(url, str) or url not in ENDPOINTS:
            bad(
                "invalid_url", f"url must be one of {', '.join(ANSWERS)}, not {url!r}.", line, "url"
            )
        elif url != endpoint:
            bad(
                "url_mismatch",
                f"The url {url!r} of this request does not match the batch's endpoint "
                f"{endpoint!r}: every request of a batch goes to its endpoint.",
                line,
                "url",
            )
        elif not isinstance(body, dict) or not isinstance(body.get("model"), str):
            bad(
                "invalid_request",
                "body must be an object that names its model.",
                line,
                "body.model",
            )
        elif model is not None and body["model"] != model:
            bad(
                "model_mismatch",
                f"The model {body['model']!r} of this request differs from the model {model!r} "
                "of the requests before it. A batch's requests must all use one model.",
                line,
                "body.model",
            )
        else:
            model = model or body["model"]
            seen.add(custom_id)
            requests.append(Request(line, custom_id, body))
            continue
        if isinstance(custom_id, str):
            seen.add(custom_id)
    if not requests and not errors:
        bad("empty_file", "The batch's input file holds no requests.", 1)
    elif len(requests) + len(errors) > MAX_REQUESTS:
        errors.insert(
            0,
            {
                "code": "too_many_tasks",
                "message": f"The batch's input file holds {len(requests) + len(errors)} "
                f"requests; a batch may hold at most {MAX_REQUESTS}.",
                "param": None,
                "line": None,
            },
        )
    elif model is not None and not errors:
        try:
            served_model(sim, model)
        except APIError as exc:
            bad("model_not_found", exc.message, requests[0].line, "body.model")
    return requests, errors[:MAX_ERRORS]


# -- the work -----------------------------------------------------------------------------------


class BatchRunner:
    """Moves this server's batches on, one round at a time (called by the server's worker).

    The answers so far are kept in memory and written out whole when the batch finalizes; a
    server that takes over a batch another one left answers its lines again, which gives the
    very same lines (their ids and times derive from the batch and the line).
    """

    def __init__(self, sim, owner: str):
        self.sim = sim
        self.owner = owner
        self.requests: dict[str, list[Request]] = {}  # a batch's checked lines
        self.answers: dict[str, list[dict]] = {}  # its output lines so far, in order

    def round(self) -> bool:
        """One round of work on every batch this server holds; True if one is behind."""
        busy = False
        ids = self.sim.store.claim_batches(self.owner, ACTIVE, LEASE)
        for gone in set(self.requests) - set(ids):
            self.forget(gone)
        for batch_id in ids:
            try:
                busy = self.advance(batch_id) or busy
            except Exception as exc:
                log.exception("Batch %s failed inside the simulator", batch_id)
                self.fail(batch_id, [_error("internal_error", f"The simulator failed: {exc}")])
        return busy

    def advance(self, batch_id: str) -> bool:
        batch, work, _ = self.sim.store.batch(self.sim.store.connection(), batch_id)
        waited = (time.time() - work["phase_wall"]) * self.sim.settings.speed
        status = batch["status"]
        if status == "cancelling":
            self.finish(batch, "cancelling")
        elif status == "validating" and waited >= STATE_WALL:
            self.validate(batch)
        elif status == "in_progress":
            return self.answer(batch, work, waited)
        elif status == "finalizing" and waited >= STATE_WALL:
            self.finish(batch, "finalizing")
        return False

    def validate(self, batch: dict) -> None:
        requests, errors = self.read(batch)
        if errors:
            self.fail(batch["id"], errors)
            return

        def change(db, batch, work):
            work["sim"] += VALIDATING_SIMULATED
            work["answering_from"] = work["sim"]
            batch.update(
                status="in_progress",
                model=requests[0].body["model"],
                in_progress_at=self.sim.clock.stamp(work["sim"]),
                request_counts={"total": len(requests), "completed": 0, "failed": 0},
            )

        self.commit(batch["id"], "validating", change)

    def read(self, batch: dict) -> tuple[list[Request], list[dict]]:
        raw = self.sim.store.file_path(batch["input_file_id"]).read_bytes()
        requests, errors = read_requests(raw, batch["endpoint"], self.sim)
        self.requests[batch["id"]], self.answers[batch["id"]] = requests, []
        return requests, errors

    def answer(self, batch: dict, work: dict, waited: float) -> bool:
        """Answer the lines due this round (within its budget); True when lines are left."""
        if batch["id"] not in self.requests:
            self.read(batch)
        requests, answers = self.requests[batch["id"]], self.answers[batch["id"]]
        started = time.perf_counter()
        while len(answers) < len(requests) and time.perf_counter() - started < ROUND_BUDGET:
            answers.append(self.output_line(batch, work, requests[len(answers)], len(answers)))
        left = len(answers) < len(requests)

        def change(db, batch, work):
            work["sim"] = work["answering_from"] + len(answers) * PER_REQUEST_SIMULATED
            failed = sum(a["response"]["status_code"] != 200 for a in answers)
            batch["request_counts"].update(completed=len(answers) - failed, failed=failed)
            batch["usage"] = _total_usage(answers)
            if not left and waited >= STATE_WALL:
                work["sim"] += 1
                batch.update(status="finalizing", finalizing_at=self.sim.clock.stamp(work["sim"]))

        self.commit(batch["id"], "in_progress", change)
        return left

    def output_line(self, batch: dict, work: dict, request: Request, index: int) -> dict:
        """The `index`-th request answered, as a line of the output (or error) file."""
        batch_id, number = batch["id"], request.line
        moment = work["answering_from"] + (index + 1) * PER_REQUEST_SIMULATED

        def stamp(sim, kind, served):
            return derived_id(kind, batch_id, number), sim.clock.stamp(moment)

        try:
            status, body = 200, ANSWERS[batch["endpoint"]](self.sim, request.body, stamp=stamp)
        except APIError as exc:
            status, body = exc.status, exc.body()
        except Exception as exc:  # the simulator's own failure: this request gets a 500
            log.exception("Request %s of batch %s failed", request.custom_id, batch_id)
            status = 500
            body = APIError(500, f"The simulator failed: {exc}", type_="server_error").body()
        return {
            "id": derived_id("batch_req", batch_id, number),
            "custom_id": request.custom_id,
            "response": {
                "status_code": status,
                "request_id": derived_id("request", batch_id, number),
                "body": body,
            },
            "error": None,
        }

    def finish(self, batch: dict, expected: str) -> None:
        """Write the output and error files; the batch is completed (or cancelled)."""
        batch_id = batch["id"]
        answers = self.answers.get(batch_id)
        if answers is None and expected == "finalizing":  # taken over from another server
            _, work, _ = self.sim.store.batch(self.sim.store.connection(), batch_id)
            requests, _ = self.read(batch)
            answers = [self.output_line(batch, work, r, i) for i, r in enumerate(requests)]

        def change(db, batch, work):
            work["sim"] += FINALIZING_SIMULATED if expected == "finalizing" else 1
            at = self.sim.clock.stamp(work["sim"])
            done = [a for a in answers or [] if a["response"]["status_code"] == 200]
            refused = [a for a in answers or [] if a["response"]["status_code"] != 200]
            for key, lines, number, name in (
                ("output_file_id", done, 1, "output"),
                ("error_file_id", refused, 2, "error"),
            ):
                if lines:
                    file_id = derived_id("file", batch_id, number)
                    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
                    self.sim.store.add_file(
                        db, file_id, f"{batch_id}_{name}.jsonl", "batch_output", data, at
                    )
                    batch[key] = file_id
            if expected == "finalizing":
                batch.update(status="completed", completed_at=at)
            else:
                batch.update(status="cancelled", cancelled_at=at)

        self.commit(batch_id, expected, change)
        self.forget(batch_id)

    def fail(self, batch_id: str, errors: list[dict]) -> None:
        def change(db, batch, work):
            work["sim"] += VALIDATING_SIMULATED
            batch.update(
                status="failed",
                errors={"object": "list", "data": errors},
                failed_at=self.sim.clock.stamp(work["sim"]),
            )

        self.commit(batch_id, None, change)
        self.forget(batch_id)

    def forget(self, batch_id: str) -> None:
        self.requests.pop(batch_id, None)
        self.answers.pop(batch_id, None)

    def commit(self, batch_id: str, expected: str | None, change) -> bool:
        """Apply `change` if the batch is still ours and (when given) still in state `expected`."""
        store = self.sim.store
        with store.transaction() as db:
            batch, work, holder = store.batch(db, batch_id)
            if holder != self.owner or batch["status"] in FINISHED:
                return False
            if expected and batch["status"] != expected:
                return False
            previous = batch["status"]
            change(db, batch, work)
            if batch["status"] != previous:
                work["phase_wall"] = time.time()
            store.save_batch(db, batch, work)
            store.renew_lease(db, batch_id, LEASE, table="batches")
        return True


def _error(code: str, message: str) -> dict:
    return {"code": code, "message": message, "param": None, "line": None}


def _total_usage(answers: list[dict]) -> dict:
    prompt = completion_tokens = 0
    for answer in answers:
        usage = answer["response"]["body"].get("usage") or {}
        prompt += usage.get("prompt_tokens", 0)
        completion_tokens += usage.get("completion_tokens", 0)
    return _usage(prompt, completion_tokens)
