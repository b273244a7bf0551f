"""Fine-tuning jobs without surprises: reuse rather than pay twice, and follow a job to its end."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import openai
from tqdm import tqdm

from helpers.api_errors import explained_refusals
from helpers.backend import is_paid
from helpers.errors import CourseError, require_file

TERMINAL = ("succeeded", "failed", "cancelled")
FINGERPRINT_KEY = "course_fingerprint"

# Events already printed, per job, so that following a job again prints only what is new.
_printed: dict[str, set[str]] = {}
# How many events the next poll of each job asks for first: what the last poll found, plus a
# few (a page that holds one event already printed shows that nothing before it is missing).
_first_page: dict[str, int] = {}
FIRST_PAGE = 10

# Seconds between polls of the simulator's jobs, which take a second or two: the first poll comes
# soon and each wait is half as long again, up to the longest. Each poll costs the kernel some
# milliseconds that the job, training in the same process, waits for: polling every 50 ms made
# the course's classifier job take 0.2-0.4 s longer than polling every 200 ms.
SIMULATOR_POLL = (0.05, 0.25)
PAID_POLL = 15.0


def fingerprint(*paths: str | Path | None, **settings) -> str:
    """A short hash of the training data and the job's settings (model, hyperparameters...)."""
    digest = hashlib.sha256()
    for path in paths:
        if path is not None:
            digest.update(_file_bytes(path))
            digest.update(b"\0")
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


# A job in one of these states is reused; a failed one is not (running the cell again retries).
REUSABLE_STATUSES = ("validating_files", "queued", "running", "paused", "succeeded")


def find_reusable_job(client: openai.OpenAI, fingerprint: str, include_cancelled: bool = False):
    """The newest job with this fingerprint that is running or succeeded, else None.

    `include_cancelled` also accepts a cancelled job: for a job that is meant to be cancelled
    (notebook 03's demonstration), so that running the cell again does not start another.
    """
    wanted = REUSABLE_STATUSES + (("cancelled",) if include_cancelled else ())
    for job in client.fine_tuning.jobs.list(metadata={FINGERPRINT_KEY: fingerprint}, limit=20):
        if job.status in wanted:
            return job
    return None


def content_hash(path: str | Path) -> str:
    """A short SHA-256 of a file's bytes: equal hashes, identical files."""
    return hashlib.sha256(_file_bytes(path)).hexdigest()[:12]


def _file_bytes(path: str | Path) -> bytes:
    """A file's bytes; a mistyped path or a folder is named plainly, not a traceback."""
    path = Path(path)
    require_file(path)
    return path.read_bytes()


def upload_name(path: str | Path) -> str:
    """The name a file is uploaded under: its own, with the hash of its content added.

    The files API stores no hash we could compare, and does not let us download a fine-tune file
    back to compare it, so the name carries it: `sports_prepared_train.3f2a9c0d1e7b.jsonl`.
    """
    path = Path(path)
    return f"{path.stem}.{content_hash(path)}{path.suffix}"


def find_uploaded_file(client: openai.OpenAI, path: str | Path, purpose: str = "fine-tune"):
    """An earlier upload of exactly this content (by the hash in its name), else None.

    A file edited since, even to the same size, has another hash: it is not reused.
    """
    name, size = upload_name(path), Path(path).stat().st_size
    for file in client.files.list(purpose=purpose):
        if file.filename == name and file.bytes == size and file.status != "error":
            return file
    return None


def upload_once(client: openai.OpenAI, path: str | Path, purpose: str = "fine-tune"):
    """The upload of this file's content: an earlier one when there is one, else a new one."""
    earlier = find_uploaded_file(client, path, purpose)
    if earlier is not None:
        return earlier
    with open(path, "rb") as f:
        return client.files.create(file=(upload_name(path), f), purpose=purpose)


def create_job_once(
    client: openai.OpenAI,
    training_path: str | Path,
    validation_path: str | Path | None = None,
    metadata: dict | None = None,
    include_cancelled: bool = False,
    **settings,
):
    """The job for this data and these settings: found by its fingerprint, else created.

    What notebook 03 writes out cell by cell, in one call: fingerprint the files and settings,
    look for a job that carries it, and only if there is none check its cost on a paid backend
    (over TUTORIAL_MAX_COST_USD it is refused; within it nothing is printed, since the notebooks
    show the estimate where they teach it), upload the files (each once) and create the job
    with the fingerprint in its metadata, a refusal explained in plain words. Nothing is
    uploaded for a reused job.
    """
    fp = fingerprint(training_path, validation_path, **settings)
    job = find_reusable_job(client, fp, include_cancelled=include_cancelled)
    if job is not None:
        return job
    if is_paid():  # a job that would cost more than TUTORIAL_MAX_COST_USD is refused here
        from helpers.costs import check_training_cost  # tiktoken's counts: paid backends only

        check_training_cost(
            training_path, settings["model"], requested_epochs(settings), quiet=True
        )
    files = {"training_file": upload_once(client, training_path).id}
    if validation_path is not None:
        files["validation_file"] = upload_once(client, validation_path).id
    with explained_refusals():  # fine-tuning refused to the organisation: said in plain words
        return client.fine_tuning.jobs.create(
            **files, metadata={**(metadata or {}), FINGERPRINT_KEY: fp}, **settings
        )


def requested_epochs(settings: dict) -> int | str:
    """The `n_epochs` a job's settings ask for, in `method` or the older `hyperparameters`."""
    method = settings.get("method") or {}
    chosen = (method.get(method.get("type", "supervised")) or {}).get("hyperparameters") or {}
    chosen = chosen or settings.get("hyperparameters") or {}
    return chosen.get("n_epochs", "auto")


# A batch in one of these states is reused: it is answering, or has answered, these requests.
REUSABLE_BATCH_STATUSES = ("validating", "in_progress", "finalizing", "completed")
BATCH_TERMINAL = ("completed", "failed", "expired", "cancelled")


def find_reusable_batch(client: openai.OpenAI, fingerprint: str):
    """The newest batch with this fingerprint in its metadata that is running or completed.

    Jobs are looked up by metadata on the server; batches cannot be, so their list (newest
    first) is read until one carries the fingerprint.
    """
    for batch in client.batches.list(limit=100):
        metadata = batch.metadata or {}
        if metadata.get(FINGERPRINT_KEY) == fingerprint and batch.status in REUSABLE_BATCH_STATUSES:
            return batch
    return None


def create_batch_once(
    client: openai.OpenAI,
    requests_path: str | Path,
    endpoint: str,
    metadata: dict | None = None,
    completion_window: str = "24h",
):
    """The batch for this file of requests: found by its fingerprint, else created.

    `create_job_once` for the Batch API: the fingerprint of the requests file and the batch's
    settings goes in the batch's metadata, and the file is uploaded (purpose "batch") only
    when no batch carries it, and then only if this very content was not uploaded before.
    """
    fp = fingerprint(requests_path, endpoint=endpoint, completion_window=completion_window)
    batch = find_reusable_batch(client, fp)
    if batch is not None:
        return batch
    requests_file = upload_once(client, requests_path, purpose="batch")
    return client.batches.create(
        input_file_id=requests_file.id,
        endpoint=endpoint,
        completion_window=completion_window,
        metadata={**(metadata or {}), FINGERPRINT_KEY: fp},
    )


def follow_job(
    client: openai.OpenAI,
    job_id: str,
    poll_seconds: float | None = None,
    max_reconnects: int = 8,
    quiet: bool = False,
):
    """Print a job's new events once each and show its progress until it ends.

    A dropped connection is retried, resuming from the last event seen. Ctrl-C stops following
    and leaves the job running; call `follow_job` again to pick up where it stopped. `quiet`
    waits for the end without printing anything (nor reading the events: a later `follow_job`
    prints them all).
    """
    job_id = getattr(job_id, "id", job_id)  # the job itself will do as well as its id
    if poll_seconds is not None:
        shortest = longest = poll_seconds
    else:
        shortest, longest = (PAID_POLL, PAID_POLL) if is_paid() else SIMULATOR_POLL
    wait, pace = shortest / 1.5, _Pace()  # the first wait is the shortest
    bar = tqdm(
        total=None,
        desc=job_id,
        unit="step",
        file=sys.stderr,
        disable=quiet,
        bar_format="{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt} steps{postfix}",
    )
    failures = 0
    try:
        while True:
            try:
                job = client.fine_tuning.jobs.retrieve(job_id)
                if not quiet:
                    for event in new_events(client, job_id):
                        show(event, bar)
                    bar.refresh()  # once per poll: the bar shows where the job is now
                    pace.saw(bar.n)
                failures = 0
            except openai.NotFoundError:
                raise CourseError(
                    f"No fine-tuning job has the id {job_id!r}. A job's id starts with "
                    "ftjob-: copy it from the cell that created the job, or list your jobs "
                    "with client.fine_tuning.jobs.list()."
                ) from None
            except (openai.APIConnectionError, openai.InternalServerError) as exc:
                failures += 1
                if failures > max_reconnects:
                    raise CourseError(
                        f"Lost the connection to the API ({type(exc).__name__}) and could not "
                        f"reconnect. The job goes on on the server; run "
                        f'follow_job(client, "{job_id}") again later.'
                    ) from None
                time.sleep(min(30.0, shortest * 2**failures))
                continue
            if job.status in TERMINAL:
                return job
            # Half as long again as the last wait, and no later than the steps left should
            # take once the events have shown the pace.
            wait = max(shortest, min(longest, wait * 1.5, pace.left(bar.total)))
            time.sleep(wait)
    except KeyboardInterrupt:
        print(
            f"\nStopped following {job_id}; the job goes on running on the server. "
            f'Resume with follow_job(client, "{job_id}").'
        )
        return client.fine_tuning.jobs.retrieve(job_id)
    finally:
        bar.close()


class _Pace:
    """How fast a job's steps go, from the steps seen at successive polls."""

    def __init__(self):
        self.first: tuple[float, int] | None = None  # (when, step) of the first step seen
        self.last: tuple[float, int] | None = None

    def saw(self, step: int) -> None:
        if step:
            seen = (time.monotonic(), step)
            self.first, self.last = self.first or seen, seen

    def left(self, total: int | None) -> float:
        """Seconds until the last step, at the pace so far; infinite while unknown."""
        if not (total and self.first and self.last and self.last[1] > self.first[1]):
            return float("inf")
        rate = (self.last[1] - self.first[1]) / (self.last[0] - self.first[0])
        return max(0.0, (total - self.last[1]) / rate)


def new_events(client: openai.OpenAI, job_id: str, page_size: int = 100) -> list:
    """The events not printed yet, oldest first (the API lists newest first).

    A job can log an event per training step, and each poll needs only those since the last
    one: the first page asks for about as many as the last poll found (at least a few), and
    further pages of `page_size` are read only when every event on a page is new. Reading the
    newest hundred at every poll would fetch and parse ten times as many on a short poll."""
    seen = _printed.setdefault(job_id, set())
    fresh, after = [], None
    limit = min(page_size, _first_page.get(job_id, FIRST_PAGE))
    while True:
        kwargs = {"limit": limit} | ({"after": after} if after else {})
        page = client.fine_tuning.jobs.list_events(job_id, **kwargs)
        events = list(page.data)
        unseen = [e for e in events if e.id not in seen]
        fresh.extend(unseen)
        if len(unseen) < len(events) or not page.has_more or not events:
            break
        after, limit = events[-1].id, page_size
    fresh.reverse()
    seen.update(e.id for e in fresh)
    _first_page[job_id] = len(fresh) + FIRST_PAGE
    return fresh


def show(event, bar: tqdm) -> None:
    """Metrics events move the bar; every other event is printed as a line."""
    data = event.data if isinstance(event.data, dict) else {}
    if event.type == "metrics" and "step" in data:
        if data.get("total_steps"):
            bar.total = data["total_steps"]
        bar.n = data["step"]
        if data.get("train_loss") is not None:
            bar.set_postfix_str(f"train loss {data['train_loss']:.4f}", refresh=False)
        return
    tqdm.write(f"[{timestamp(event.created_at)}] {event.message}", file=sys.stdout)


def timestamp(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
