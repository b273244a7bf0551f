"""The simulator's state: one SQLite database plus folders of stored files and trained models.

Several servers may share one state folder (each notebook kernel starts its own), so every write
happens in a short `BEGIN IMMEDIATE` transaction and every counter lives in the database.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
import threading
from pathlib import Path

from helpers.errors import CourseError
from helpers.simulator.clock import SIMULATED_EPOCH

# Bumped whenever the tables change; a state folder written by another version is refused.
SCHEMA_VERSION = 1
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
"""


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
        try:
            for folder in (self.root, self.files_dir, self.models_dir, self.tmp_dir):
                folder.mkdir(parents=True, exist_ok=True)
            self._prepare_schema()
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"Cannot use the state folder {self.root}: {exc}") from None

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

    @staticmethod
    def advance_clock(db: sqlite3.Connection, not_before: int = 0) -> int:
        """Move the simulated clock on by a second (and to at least `not_before`); return it."""
        row = db.execute("SELECT value FROM counters WHERE name = 'clock'").fetchone()
        now = max((row[0] if row else SIMULATED_EPOCH) + 1, int(not_before))
        db.execute(
            "INSERT INTO counters (name, value) VALUES ('clock', ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (now,),
        )
        return now

    # -- stored bytes -------------------------------------------------------------------------

    def file_path(self, file_id: str) -> Path:
        # Ids are ours (checked by the caller), never a client's file name.
        return self.files_dir / file_id

    def write_blob(self, path: Path, data: bytes) -> None:
        """Write all of `data` or nothing: a reader never sees a half-written file."""
        fd, tmp = tempfile.mkstemp(dir=self.tmp_dir)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    # -- rows ---------------------------------------------------------------------------------

    def one(self, sql: str, args=()) -> dict | None:
        row = self.connection().execute(sql, args).fetchone()
        return json.loads(row[0]) if row else None
