"""The simulator's state: one SQLite database plus folders of stored files and trained models.

Every SQL statement of the simulator is in this module. Several servers may share one state folder
(each notebook kernel starts its own), so every write happens in a short `BEGIN IMMEDIATE`
transaction and every counter lives in the database. Reads use the calling thread's own
connection; writes take a connection from `transaction()` and pass it to the methods that write.

Completions are too frequent for a write transaction each while several are in flight (with
eight at once, the wait for the write lock was longer than the request). Their ids and clock
seconds are handed out from memory instead (`stamp`): a server reserves ids in blocks and counts
clock seconds in memory, and writes both back (the clock, and the ids it did not use) as soon as
no completion is in flight any more (`stamping`), before the last one's answer leaves. A client
that sends one request at a time therefore costs one short transaction per request, as before;
concurrent ones share a few. A server alone hands out exactly the ids and times the database
would have, even if its process is killed right after an answer (as a notebook kernel may be);
servers side by side get ids that never collide and times that never go backwards.

Rows hold the objects the API returns, as JSON (`body`), beside the few columns queries need.
A job's row also holds its private work record (`work`), which only the training code reads.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
import uuid
from pathlib import Path

from helpers.atomic import replace
from helpers.errors import CourseError
from helpers.simulator.stamps import SIMULATED_EPOCH

# Bumped whenever the tables or the rows' contents change; another version's state is refused.
SCHEMA_VERSION = 3
SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, body TEXT NOT NULL, deleted INTEGER DEFAULT 0
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, status TEXT NOT NULL, body TEXT NOT NULL,
    work TEXT NOT NULL, lease_owner TEXT, lease_until REAL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS events (
    job_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);
CREATE INDEX IF NOT EXISTS events_by_id ON events (id);
CREATE TABLE IF NOT EXISTS checkpoints (
    job_id TEXT NOT NULL, step INTEGER NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (job_id, step)
);
CREATE TABLE IF NOT EXISTS models (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, body TEXT NOT NULL, job_id TEXT NOT NULL,
    step INTEGER NOT NULL, deleted INTEGER DEFAULT 0
);
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, status TEXT NOT NULL, body TEXT NOT NULL,
    work TEXT NOT NULL, lease_owner TEXT, lease_until REAL DEFAULT 0
);
"""
# Temporary files are named `{process id}-{random}.part`, so that a server starting up can tell
# the leftovers of a process that died (kill -9 in the middle of a write) from files another
# live server is writing right now.
TEMP_SUFFIX = ".part"
# A temporary file this old is a leftover whoever wrote it: no write takes an hour.
STALE_TEMP_SECONDS = 3600
# Above every real sequence number: "no lower bound" when paging downwards.
NO_BOUND = 2**62
# Ids a server reserves at once for the requests it stamps from memory.
ID_BLOCK = 64
# A server that stamped nothing for this long hands back the ids it reserved and did not use
# (a request that failed half-way never says it is done; the worker's rounds catch up).
IDLE_SECONDS = 0.2


class StateError(CourseError):
    """The state folder cannot be used (unwritable, or written by another version)."""


class Store:
    def __init__(self, state_dir: Path):
        self.root = Path(state_dir)
        self.files_dir = self.root / "files"
        self.models_dir = self.root / "models"
        self.tmp_dir = self.root / "tmp"
        self.db_path = self.root / "state.sqlite3"
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        # What `stamp` hands out from memory. Lock order, to never deadlock: `_refill`, then
        # SQLite's write lock, then `_stamps`; nobody waits for SQLite while holding `_stamps`,
        # and the ids reserved change only under `_refill`, so a block is never left with a gap.
        self._stamps = threading.Lock()
        self._refill = threading.Lock()
        self._blocks: dict[str, list[int]] = {}  # name -> [next number, last number reserved]
        self._clock = self._clock_base = SIMULATED_EPOCH  # in memory; as last seen in the database
        self._clock_ticks = 0  # seconds counted in memory since then
        self._last_stamp = 0.0
        self._in_flight = 0  # requests inside `stamping()`
        try:
            for folder in (self.root, self.files_dir, self.models_dir, self.tmp_dir):
                folder.mkdir(parents=True, exist_ok=True)
            self._prepare_schema()
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"Cannot use the state folder {self.root}: {exc}") from None
        self._clock = self._clock_base = self._stored_clock(self.connection())
        self.remove_stale_temporaries()

    def _prepare_schema(self) -> None:
        with self.transaction() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if version == 0 and tables == 0:
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif version != SCHEMA_VERSION:
                raise StateError(
                    f"The state folder {self.root} was written by another version of the "
                    "simulator; delete it (or choose another with SIMULATOR_STATE) to start afresh."
                )

    # -- connections and transactions --------------------------------------------------------

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, for reads (and for the writes of a `transaction`)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(
                self.db_path, timeout=30, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
            with self._all_lock:
                self._all.append(db)
        return db

    @contextlib.contextmanager
    def transaction(self):
        """A write transaction that holds the database's write lock from its first statement."""
        db = self.connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        with self._all_lock:
            for db in self._all:
                with contextlib.suppress(sqlite3.Error):
                    db.close()
            self._all.clear()
        self._local = threading.local()

    # -- counters and the simulated clock -----------------------------------------------------

    @staticmethod
    def next_number(db: sqlite3.Connection, name: str) -> int:
        """1, 2, 3... per name, shared by every server on this state."""
        row = db.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) "
            "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
            (name,),
        ).fetchone()
        return row[0]

    def advance_clock(self, db: sqlite3.Connection, not_before: int = 0) -> int:
        """Move the simulated clock on by a second (and to at least `not_before`); return it.

        Called inside a transaction; the seconds counted in memory are written first."""
        with self._stamps:
            self._write_clock(db)
            now = max(self._clock + 1, int(not_before))
            self._set_clock(db, now)
        return now

    @contextlib.contextmanager
    def stamping(self):
        """Around a request that stamps: the last one in flight writes back what memory holds."""
        with self._stamps:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._stamps:
                self._in_flight -= 1
                last = self._in_flight == 0
            if last:
                self.settle()

    def stamp(self, name: str, not_before: int = 0) -> tuple[int, int]:
        """The next number of `name` and the clock moved on by a second (to at least
        `not_before`). A request alone writes them at once, in one transaction; requests side
        by side take them from memory, and from a block of ids reserved in one transaction."""
        while True:
            taken = self._take(name, not_before)
            if taken:
                return taken
            with self._refill:
                taken = self._take(name, not_before)  # another thread refilled meanwhile
                if taken:
                    return taken
                with self.transaction() as db:
                    if self._in_flight <= 1:
                        return self.next_number(db, name), self.advance_clock(db, not_before)
                    last = db.execute(
                        "INSERT INTO counters (name, value) VALUES (?, ?) "
                        "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value "
                        "RETURNING value",
                        (name, ID_BLOCK),
                    ).fetchone()[0]
                    with self._stamps:
                        self._blocks[name] = [last - ID_BLOCK + 1, last]

    def _take(self, name: str, not_before: int) -> tuple[int, int] | None:
        with self._stamps:
            block = self._blocks.get(name)
            if not block or block[0] > block[1]:
                return None
            number = block[0]
            block[0] += 1
            self._clock = max(self._clock + 1, int(not_before))
            self._clock_ticks += 1
            self._last_stamp = time.monotonic()
            return number, self._clock

    def settle(self, idle_only: bool = False) -> None:
        """Write the clock seconds counted in memory, and hand back the reserved ids not used
        (only after IDLE_SECONDS without a stamp when `idle_only`), in one transaction. Called
        when no request is in flight any more, at each round of the worker, and at the stop."""
        with self._stamps:
            dirty = self._clock_ticks > 0
            idle = time.monotonic() - self._last_stamp > IDLE_SECONDS and not self._in_flight
            unused = any(b[0] <= b[1] for b in self._blocks.values())
        give_back = unused and (idle or not idle_only)
        if dirty or give_back:
            with self._refill, self.transaction() as db, self._stamps:
                self._write_clock(db)
                if give_back:
                    self._hand_back(db)
            return
        # Another server may have moved the clock: follow it, so that times never go back.
        stored = self._stored_clock(self.connection())
        with self._stamps:
            if self._clock_ticks == 0 and stored > self._clock:
                self._clock = self._clock_base = stored

    def _hand_back(self, db: sqlite3.Connection) -> None:
        """Return the ids reserved and not used (`_refill`, the transaction and `_stamps` held)."""
        for name, (first_unused, last) in self._blocks.items():
            if first_unused <= last:
                # Only if nobody reserved after us; otherwise the gap stays (ids never repeat).
                db.execute(
                    "UPDATE counters SET value = ? WHERE name = ? AND value = ?",
                    (first_unused - 1, name, last),
                )
        self._blocks.clear()

    @staticmethod
    def _stored_clock(db: sqlite3.Connection) -> int:
        row = db.execute("SELECT value FROM counters WHERE name = 'clock'").fetchone()
        return row[0] if row else SIMULATED_EPOCH

    def _write_clock(self, db: sqlite3.Connection) -> None:
        """Merge the seconds counted in memory with the database's clock (`_stamps` held)."""
        stored = self._stored_clock(db)
        if stored == self._clock_base:
            now = self._clock  # nobody else moved it: exactly what a transaction each gave
        else:
            now = max(stored + self._clock_ticks, self._clock)
        if now != stored:
            self._set_clock(db, now)
        else:
            self._clock = self._clock_base = now
            self._clock_ticks = 0

    def _set_clock(self, db: sqlite3.Connection, now: int) -> None:
        db.execute(
            "INSERT INTO counters (name, value) VALUES ('clock', ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (now,),
        )
        self._clock = self._clock_base = now
        self._clock_ticks = 0

    # -- stored bytes -------------------------------------------------------------------------

    def file_path(self, file_id: str) -> Path:
        # Ids are ours (checked by the caller), never a client's file name.
        return self.files_dir / file_id

    def snapshot_path(self, job_id: str, step: int) -> Path:
        """Where the model a job had after `step` is kept."""
        return self.models_dir / job_id / f"step-{step}.npz"

    def write_blob(self, path: Path, data: bytes) -> None:
        """Write all of `data` or nothing: a reader never sees a half-written file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.tmp_dir / f"{os.getpid()}-{uuid.uuid4().hex}{TEMP_SUFFIX}"
        try:
            with open(tmp, "xb") as out:
                out.write(data)
            replace(tmp, path)  # the course's one rename, with its Windows fallback
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def remove_stale_temporaries(self) -> list[str]:
        """Delete what writers that died left in `tmp/` (never a live server's file in progress)."""
        removed = []
        now = time.time()
        for entry in self.tmp_dir.iterdir():
            writer = entry.name.split("-", 1)[0]
            try:
                stale = (
                    not entry.name.endswith(TEMP_SUFFIX)
                    or not writer.isdigit()
                    or not _process_alive(int(writer))
                    or now - entry.stat().st_mtime > STALE_TEMP_SECONDS
                )
                if stale and entry.is_file():
                    entry.unlink()
                    removed.append(entry.name)
            except OSError:
                continue  # gone already (another server cleaned it), or not ours to remove
        return removed

    # -- files --------------------------------------------------------------------------------

    def add_file(
        self,
        db: sqlite3.Connection,
        file_id: str,
        filename: str,
        purpose: str,
        data: bytes,
        created_at: int,
    ) -> dict:
        """Store a file's bytes, then the row that points at them; returns its File object."""
        self.write_blob(self.file_path(file_id), data)
        body = {
            "object": "file",
            "id": file_id,
            "purpose": purpose,
            "filename": filename,
            "bytes": len(data),
            "created_at": created_at,
            "status": "processed",
        }
        db.execute(
            "INSERT OR REPLACE INTO files (id, seq, body) VALUES (?, "
            "(SELECT COALESCE(MAX(seq), 0) + 1 FROM files), ?)",
            (file_id, json.dumps(body)),
        )
        return body

    def file(self, file_id: str) -> dict | None:
        """A stored file's object, unless it does not exist or was deleted."""
        row = (
            self.connection()
            .execute("SELECT body FROM files WHERE id = ? AND deleted = 0", (file_id,))
            .fetchone()
        )
        return json.loads(row[0]) if row else None

    def files(self, purpose: str | None, after: str | None, ascending: bool, limit: int):
        """Up to `limit` file objects in upload order (or reversed), after the file `after`.

        Returns None when `after` is not a file's id.
        """
        db = self.connection()
        where, args = ["deleted = 0"], []
        if purpose:
            where.append("json_extract(body, '$.purpose') = ?")
            args.append(purpose)
        if after:
            row = db.execute("SELECT seq FROM files WHERE id = ?", (after,)).fetchone()
            if row is None:
                return None
            where.append("seq > ?" if ascending else "seq < ?")
            args.append(row[0])
        rows = db.execute(
            f"SELECT body FROM files WHERE {' AND '.join(where)} "
            f"ORDER BY seq {'ASC' if ascending else 'DESC'} LIMIT ?",
            (*args, limit),
        ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def delete_file(self, file_id: str) -> bool:
        """Mark the file deleted and drop its bytes; False if there was no such file."""
        with self.transaction() as db:
            updated = db.execute(
                "UPDATE files SET deleted = 1 WHERE id = ? AND deleted = 0", (file_id,)
            ).rowcount
        if updated:
            self.file_path(file_id).unlink(missing_ok=True)
        return bool(updated)

    # -- jobs ---------------------------------------------------------------------------------

    @staticmethod
    def add_job(db: sqlite3.Connection, seq: int, job: dict, work: dict) -> None:
        db.execute(
            "INSERT INTO jobs (id, seq, status, body, work) VALUES (?, ?, ?, ?, ?)",
            (job["id"], seq, job["status"], json.dumps(job), json.dumps(work)),
        )

    @staticmethod
    def job(db: sqlite3.Connection, job_id: str) -> tuple[dict, dict, str | None] | None:
        """(the job's object, its work record, the server holding it), or None."""
        row = db.execute(
            "SELECT body, work, lease_owner FROM jobs WHERE id = ?", (job_id,)
        ).fetchone()
        return (json.loads(row[0]), json.loads(row[1]), row[2]) if row else None

    @staticmethod
    def save_job(db: sqlite3.Connection, job: dict, work: dict) -> None:
        db.execute(
            "UPDATE jobs SET status = ?, body = ?, work = ? WHERE id = ?",
            (job["status"], json.dumps(job), json.dumps(work), job["id"]),
        )

    def jobs(self, after: str | None):
        """Every job's object, newest first, below the job `after`; None if `after` is unknown."""
        db = self.connection()
        below = NO_BOUND
        if after:
            row = db.execute("SELECT seq FROM jobs WHERE id = ?", (after,)).fetchone()
            if row is None:
                return None
            below = row[0]
        rows = db.execute("SELECT body FROM jobs WHERE seq < ? ORDER BY seq DESC", (below,))
        return (json.loads(body) for (body,) in rows)

    def claim_jobs(self, owner: str, statuses: tuple[str, ...], lease: float) -> list[str]:
        """The jobs in `statuses` that `owner` holds or that nobody holds any longer, leased
        to `owner` for `lease` seconds, oldest first."""
        return self._claim("jobs", owner, statuses, lease)

    def claim_batches(self, owner: str, statuses: tuple[str, ...], lease: float) -> list[str]:
        """As `claim_jobs`, for batches."""
        return self._claim("batches", owner, statuses, lease)

    def _claim(self, table: str, owner: str, statuses: tuple[str, ...], lease: float):
        # `table` is this module's own name, never a client's.
        now = time.time()
        placeholders = ", ".join("?" for _ in statuses)
        query = (
            f"SELECT id FROM {table} WHERE status IN ({placeholders}) "
            "AND (lease_owner = ? OR lease_until < ?) ORDER BY seq"
        )
        args = (*statuses, owner, now)
        # A plain read first: an idle server takes no write lock.
        if self.connection().execute(query, args).fetchone() is None:
            return []
        with self.transaction() as db:
            ids = [row[0] for row in db.execute(query, args)]
            db.executemany(
                f"UPDATE {table} SET lease_owner = ?, lease_until = ? WHERE id = ?",
                [(owner, now + lease, item) for item in ids],
            )
        return ids

    @staticmethod
    def renew_lease(db: sqlite3.Connection, item_id: str, lease: float, table="jobs") -> None:
        db.execute(
            f"UPDATE {table} SET lease_until = ? WHERE id = ?", (time.time() + lease, item_id)
        )

    def release_jobs(self, owner: str) -> None:
        """Hand back every job and batch `owner` holds, so that another server may continue
        them at once."""
        with self.transaction() as db:
            for table in ("jobs", "batches"):
                db.execute(
                    f"UPDATE {table} SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = ?",
                    (owner,),
                )

    # -- batches ------------------------------------------------------------------------------

    @staticmethod
    def add_batch(db: sqlite3.Connection, seq: int, batch: dict, work: dict) -> None:
        db.execute(
            "INSERT INTO batches (id, seq, status, body, work) VALUES (?, ?, ?, ?, ?)",
            (batch["id"], seq, batch["status"], json.dumps(batch), json.dumps(work)),
        )

    @staticmethod
    def batch(db: sqlite3.Connection, batch_id: str) -> tuple[dict, dict, str | None] | None:
        """(the batch's object, its work record, the server holding it), or None."""
        row = db.execute(
            "SELECT body, work, lease_owner FROM batches WHERE id = ?", (batch_id,)
        ).fetchone()
        return (json.loads(row[0]), json.loads(row[1]), row[2]) if row else None

    @staticmethod
    def save_batch(db: sqlite3.Connection, batch: dict, work: dict) -> None:
        db.execute(
            "UPDATE batches SET status = ?, body = ?, work = ? WHERE id = ?",
            (batch["status"], json.dumps(batch), json.dumps(work), batch["id"]),
        )

    def batches(self, after: str | None, limit: int) -> list[dict] | None:
        """Up to `limit` batches, newest first, below the batch `after`; None if it is unknown."""
        db = self.connection()
        below = NO_BOUND
        if after:
            row = db.execute("SELECT seq FROM batches WHERE id = ?", (after,)).fetchone()
            if row is None:
                return None
            below = row[0]
        rows = db.execute(
            "SELECT body FROM batches WHERE seq < ? ORDER BY seq DESC LIMIT ?", (below, limit)
        ).fetchall()
        return [json.loads(r[0]) for r in rows]

    # -- a job's events and checkpoints --------------------------------------------------------

    @staticmethod
    def add_event(db: sqlite3.Connection, job_id: str, number: int, event: dict) -> None:
        db.execute(
            "INSERT INTO events (job_id, seq, id, body) VALUES (?, ?, ?, ?)",
            (job_id, number, event["id"], json.dumps(event)),
        )

    @staticmethod
    def add_checkpoint(db: sqlite3.Connection, checkpoint: dict) -> None:
        db.execute(
            "INSERT OR REPLACE INTO checkpoints (job_id, step, id, body) VALUES (?, ?, ?, ?)",
            (
                checkpoint["fine_tuning_job_id"],
                checkpoint["step_number"],
                checkpoint["id"],
                json.dumps(checkpoint),
            ),
        )

    def events(self, job_id: str, after: str | None, limit: int):
        """Up to `limit` of the job's events, newest first, below the event `after`."""
        return self._newest_first("events", "seq", job_id, after, limit)

    def checkpoints(self, job_id: str, after: str | None, limit: int):
        """Up to `limit` of the job's checkpoints, latest step first, below `after`."""
        return self._newest_first("checkpoints", "step", job_id, after, limit)

    def _newest_first(self, table: str, order: str, job_id: str, after, limit: int):
        # `table` and `order` are this module's own names, never a client's.
        db = self.connection()
        below = NO_BOUND
        if after:
            row = db.execute(
                f"SELECT {order} FROM {table} WHERE job_id = ? AND id = ?", (job_id, after)
            ).fetchone()
            if row is None:
                return None
            below = row[0]
        rows = db.execute(
            f"SELECT body FROM {table} WHERE job_id = ? AND {order} < ? ORDER BY {order} DESC "
            "LIMIT ?",
            (job_id, below, limit),
        ).fetchall()
        return [json.loads(r[0]) for r in rows]

    @staticmethod
    def metrics_of(db: sqlite3.Connection, job_id: str) -> list[dict]:
        """Every step's metrics, in step order, read back from the job's metrics events."""
        rows = db.execute(
            "SELECT body FROM events WHERE job_id = ? ORDER BY seq", (job_id,)
        ).fetchall()
        events = (json.loads(r[0]) for r in rows)
        return [e["data"] for e in events if e.get("type") == "metrics"]

    # -- fine-tuned models --------------------------------------------------------------------

    @staticmethod
    def add_model(db: sqlite3.Connection, model: dict, job_id: str, step: int) -> None:
        db.execute(
            "INSERT OR REPLACE INTO models (id, seq, body, job_id, step) VALUES (?, ?, ?, ?, ?)",
            (model["id"], Store.next_number(db, "model"), json.dumps(model), job_id, step),
        )

    def model(self, model_id: str) -> tuple[dict, str, int] | None:
        """(a fine-tuned model's object, the job that trained it, its step), unless deleted."""
        row = (
            self.connection()
            .execute(
                "SELECT body, job_id, step FROM models WHERE id = ? AND deleted = 0", (model_id,)
            )
            .fetchone()
        )
        return (json.loads(row[0]), row[1], row[2]) if row else None

    def models(self) -> list[dict]:
        """The fine-tuned models and checkpoints not deleted, oldest first."""
        rows = (
            self.connection()
            .execute("SELECT body FROM models WHERE deleted = 0 ORDER BY seq")
            .fetchall()
        )
        return [json.loads(r[0]) for r in rows]

    def delete_model(self, model_id: str) -> bool:
        with self.transaction() as db:
            updated = db.execute(
                "UPDATE models SET deleted = 1 WHERE id = ? AND deleted = 0", (model_id,)
            ).rowcount
        return bool(updated)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True
