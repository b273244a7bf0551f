"""Everything one running server holds: its settings, state, clock, faults and job runner."""

from __future__ import annotations

import threading

from helpers.simulator.clock import Clock
from helpers.simulator.config import Settings
from helpers.simulator.faults import FaultInjector
from helpers.simulator.runner import Runner
from helpers.simulator.snapshots import SnapshotCache
from helpers.simulator.store import Store
from helpers.tokens import EncodingUnavailable, get_encoding


class Simulator:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.store = Store(settings.state_dir)
        self.clock = Clock(settings.clock)
        self.faults = FaultInjector(settings.faults)
        self.snapshots = SnapshotCache()
        self.runner = Runner(self)

    def start(self) -> None:
        self.runner.start()
        # tiktoken takes a moment to load an encoding; load both now rather than in a job.
        threading.Thread(target=_load_encodings, name="simulator-warmup", daemon=True).start()

    def stop(self) -> None:
        self.runner.stop()
        self.store.close()


def _load_encodings() -> None:
    for name in ("cl100k_base", "o200k_base"):
        try:
            get_encoding(name)
        except EncodingUnavailable:
            return  # reported clearly when a request or job needs it
