"""Each server's worker thread: it moves jobs through their states and trains them.

The API creates a job (api/jobs.py) and may cancel, pause or resume it; everything else that
happens to a job happens here, one round of work at a time.

Jobs advance whether or not anyone polls. A server claims a job by taking a short lease on it in
the database, and renews the lease while it works, so two servers on one state never run the same
job; when a server stops (or dies), another one takes the job over after the lease runs out and
continues from the last step saved.

Wall-time pacing keeps every state visible for a moment (validating, queued, running step by
step) while the pacing of a whole job adds up to a tenth of a second; `speed` scales it.
Simulated time, which the timestamps use when the clock is simulated, advances by what the work
would take on the real API.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid

from helpers.simulator import catalog
from helpers.simulator.training.data import DataRejected, read_training_data
from helpers.simulator.training.job import (
    JobWork,
    estimate,
    failed,
    files_validated,
    load_job,
    save_job,
    started,
    step_done,
    succeeded,
)
from helpers.simulator.training.outputs import snapshot_bytes
from helpers.simulator.training.session import TrainingSession, plan_steps, resolve

log = logging.getLogger("helpers.simulator")

# Seconds between rounds of work: while a job is in flight, often enough that the end of each
# state's pacing is noticed at once (a round with nothing due is a few cheap reads); while none
# is, less often. A new job or batch wakes the worker at once (`wake`).
ACTIVE_TICK, TICK = 0.005, 0.02
LEASE = 3.0  # seconds a claim on a job lasts unless renewed
TICK_BUDGET = 0.1  # seconds of training per job per round, so that progress is saved often
# Wall-time pacing at speed 1: every state lasts a moment (a client polling more often than
# every 25 ms sees each one, and the events record them all anyway), and a whole job's pacing
# adds up to a tenth of a second, so that a notebook of nine jobs does not spend its time
# waiting. SIMULATOR_SPEED=0.05 makes jobs twenty times slower, to watch one by hand.
VALIDATING_WALL, QUEUED_WALL = 0.025, 0.025
RUNNING_WALL, MAX_STEP_WALL = 0.05, 0.02
WORKING = ("validating_files", "queued", "running")


class Worker:
    def __init__(self, sim):
        self.sim = sim
        self.owner = uuid.uuid4().hex  # tells servers apart; never shown to clients
        self.sessions: dict[str, TrainingSession] = {}
        self.data: dict[str, tuple] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by the API when it creates or resumes work
        self._in_flight = False  # whether the last round held a job
        self._thread: threading.Thread | None = None
        # Other background work the server hands over (its batches): each call is one round,
        # returning True when it is behind. training/ never imports the API that provides it.
        self.chores: list = []

    # -- the thread ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="simulator-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Start the next round now: the API has just created (or resumed) work."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        # Hand the jobs back at once, so that a restarted server continues them right away.
        self.sim.store.release_jobs(self.owner)

    def _loop(self) -> None:
        while not self._stop.is_set():
            busy = False
            try:
                # The completions' clock seconds, counted in memory, reach the database here.
                self.sim.store.settle(idle_only=True)
                busy = self.tick()
                for chore in self.chores:
                    busy = chore() or busy
            except Exception:  # keep serving; the next round retries
                log.exception("The simulator's job worker failed a round of work")
            if not busy:
                self._wake.wait(ACTIVE_TICK if self._in_flight else TICK)
            self._wake.clear()

    def tick(self) -> bool:
        """One round of work on every job this server holds; True if some job is behind.

        The jobs take turns, each a round's budget of steps, in this one thread. In threads of
        their own, two jobs took longer together than one after the other (a tenth longer, the
        course's classifier and limerick jobs on two cores): most of a step is Python, which
        runs one thread at a time, and the threads' turns at it cost more than they overlap."""
        ids = self.claim()
        self._in_flight = bool(ids)
        return any([self.advance_safely(job_id) for job_id in ids])

    def advance_safely(self, job_id: str) -> bool:
        if self._stop.is_set():
            return False
        try:
            return self.advance(job_id)
        except Exception as exc:
            log.exception("Job %s failed inside the simulator", job_id)
            self.fail(
                job_id,
                "internal_error",
                f"The simulator failed: {type(exc).__name__}: {exc}",
                None,
            )
            return False

    def claim(self) -> list[str]:
        """The jobs this server works on this round: its own, and any whose lease ran out."""
        ids = self.sim.store.claim_jobs(self.owner, WORKING, LEASE)
        for gone in set(self.sessions) - set(ids):
            del self.sessions[gone]
        for gone in set(self.data) - set(ids):
            del self.data[gone]
        return ids

    # -- one job ------------------------------------------------------------------------------

    def advance(self, job_id: str) -> bool:
        """Move one job on as far as is due; True if its training is behind schedule.

        The work of a state is done as soon as the job reaches it (reading the files while
        validating, preparing the model while queued); the state then lasts at least its
        minimum wall time, so that every state can be seen.
        """
        job, work = load_job(self.sim.store.connection(), job_id)
        waited = (time.time() - work.phase_wall) * self.sim.settings.speed
        if job["status"] == "validating_files":
            if job_id not in self.data:
                try:
                    self.data[job_id] = self.read_data(job, work)
                except DataRejected as rejected:
                    self.fail(job_id, **rejected.error)
                    return False
            if waited >= VALIDATING_WALL:
                self.validate(job)
        elif job["status"] == "queued":
            self.session(job, work)
            if waited >= QUEUED_WALL:
                self.begin(job)
        elif job["status"] == "running":
            return self.train(job, work)
        return False

    def validate(self, job: dict) -> None:
        train, _ = self.data[job["id"]]
        resolved = resolve(job["hyperparameters"], len(train.examples))
        _, total = plan_steps(len(train.examples), resolved)

        def change(db, job, work: JobWork):
            files_validated(self.sim, db, job, work, resolved, total, train.tokens)
            work.phase_wall = time.time()

        self.commit(job["id"], "validating_files", change)

    def begin(self, job: dict) -> None:
        def change(db, job, work: JobWork):
            work.anchor_wall, work.anchor_step = time.time(), work.step
            started(self.sim, db, job, work, self.wall_per_step(work.total_steps))

        self.commit(job["id"], "queued", change)

    def train(self, job: dict, work: JobWork) -> bool:
        """Run the steps that are due (within this round's budget) and save them at once."""
        session = self.session(job, work)
        total = session.total_steps
        due = math.floor((time.time() - work.anchor_wall) / self.wall_per_step(total))
        target = min(total, work.anchor_step + due)
        done, snapshots = [], {}
        started = time.perf_counter()
        while session.step < target and time.perf_counter() - started < TICK_BUDGET:
            result = session.run_step()
            done.append(result)
            if result.checkpoint:
                snapshots[result.step] = snapshot_bytes(session.model)
        if not done:
            return False
        for step, data in snapshots.items():
            self.sim.store.write_blob(self.sim.store.snapshot_path(job["id"], step), data)

        def change(db, job, work: JobWork):
            for result in done:
                step_done(self.sim, db, job, work, result, total)
            job["estimated_finish"] = estimate(self.sim, work, self.wall_per_step(total))
            if session.step == total:
                succeeded(self.sim, db, job, work)

        if not self.commit(job["id"], "running", change):
            self.sessions.pop(job["id"], None)  # the job changed meanwhile; rebuild if resumed
            return False
        if session.step == total:
            self.sessions.pop(job["id"], None)
            self.data.pop(job["id"], None)
        return session.step < target

    def fail(self, job_id: str, code: str, message: str, param: str | None) -> None:
        def change(db, job, work: JobWork):
            failed(self.sim, db, job, work, code, message, param)

        self.commit(job_id, None, change)
        self.sessions.pop(job_id, None)
        self.data.pop(job_id, None)

    def wall_per_step(self, total_steps: int) -> float:
        return min(MAX_STEP_WALL, RUNNING_WALL / total_steps) / self.sim.settings.speed

    # -- helpers ------------------------------------------------------------------------------

    def commit(self, job_id: str, expected: str | None, change) -> bool:
        """Apply `change` if the job is still ours and (when given) still in state `expected`."""
        with self.sim.store.transaction() as db:
            job, work, holder = self.sim.store.job(db, job_id)
            if holder != self.owner or (expected and job["status"] != expected):
                return False
            if expected is None and job["status"] not in WORKING:
                return False
            work = JobWork(**work)
            change(db, job, work)
            save_job(db, job, work)
            self.sim.store.renew_lease(db, job_id, LEASE)
        return True

    def read_data(self, job: dict, work: JobWork):
        train = self._read(job["training_file"], "training_file", work.base_model)
        valid = None
        if job["validation_file"]:
            valid = self._read(job["validation_file"], "validation_file", work.base_model)
        return train, valid

    def _read(self, file_id: str, param: str, base_model: str):
        store = self.sim.store
        try:
            raw = store.file_path(file_id).read_bytes() if store.file(file_id) else None
        except FileNotFoundError:
            raw = None  # deleted between the two reads
        except OSError as exc:
            raise DataRejected(
                f"invalid_{param}",
                f"invalid {param}: {file_id} could not be read: {exc.strerror or exc}",
                param,
            ) from None
        if raw is None:
            raise DataRejected(f"invalid_{param}", f"invalid {param}: {file_id} was deleted", param)
        data_format = catalog.data_format(base_model)
        return read_training_data(raw, data_format, base_model, param, file_id)

    def session(self, job: dict, work: JobWork) -> TrainingSession:
        """This job's training in memory, rebuilt (by replaying saved steps) when missing."""
        session = self.sessions.get(job["id"])
        if session is None or session.step != work.step:
            train, valid = self.data.get(job["id"]) or self.read_data(job, work)
            self.data[job["id"]] = (train, valid)
            session = TrainingSession(
                job["seed"],
                work.base_model,
                train,
                valid,
                job["hyperparameters"],
                parent=self.parent_model(work),
            )
            session.replay(work.step)
            self.sessions[job["id"]] = session
        return session

    def parent_model(self, work: JobWork):
        """The model a continued fine-tuning starts from (None for a base model)."""
        if work.parent is None:
            return None
        path = self.sim.store.snapshot_path(work.parent["job_id"], work.parent["step"])
        return self.sim.snapshots.get(path, work.base_model)
