"""Serving the simulator: in a background thread of this process (`start()`), or in the
foreground from a shell (`main()`, which `python -m helpers.simulator` runs).

`Simulator` is everything one server holds: its settings, its state, its clock, its faults and
its job worker. The HTTP side (`app.py`) answers requests with it; the worker trains with it.
"""

from __future__ import annotations

import argparse
import atexit
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from helpers.paths import use_shared_data
from helpers.simulator.api.batches import BatchRunner
from helpers.simulator.app import create_app, is_loopback
from helpers.simulator.faults import FaultInjector, FaultPlanError
from helpers.simulator.settings import Settings, SettingsError, resolve_settings
from helpers.simulator.stamps import Clock
from helpers.simulator.store import StateError, Store
from helpers.simulator.training.outputs import SnapshotCache
from helpers.simulator.training.worker import Worker
from helpers.tokens import EncodingUnavailable, get_encoding

STARTUP_TIMEOUT = 15.0

_running: dict[Path, SimulatorHandle] = {}
_running_lock = threading.Lock()


class Simulator:
    """Everything one running server holds."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.store = Store(settings.state_dir)
        self.clock = Clock(settings.clock)
        self.faults = FaultInjector(settings.faults)
        self.snapshots = SnapshotCache()
        self.worker = Worker(self)
        self.worker.chores.append(BatchRunner(self, self.worker.owner).round)

    def start(self) -> None:
        self.worker.start()
        # tiktoken takes a moment to load an encoding; load both now rather than in a job.
        threading.Thread(target=_load_encodings, name="simulator-warmup", daemon=True).start()

    def stop(self) -> None:
        self.worker.stop()
        self.store.settle()  # the clock counted in memory, and the ids reserved and not used
        self.store.close()


def _load_encodings() -> None:
    for name in ("cl100k_base", "o200k_base"):
        try:
            get_encoding(name)
        except EncodingUnavailable:
            return  # reported clearly when a request or job needs it


@dataclass
class SimulatorHandle:
    """A simulator serving in a background thread of this process."""

    base_url: str
    settings: Settings
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _sim: Simulator = field(repr=False)

    @property
    def state_dir(self) -> Path:
        return self.settings.state_dir

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """Stop serving and hand the jobs in progress back to the state (idempotent)."""
        with _running_lock:
            if _running.get(self.state_dir) is self:
                del _running[self.state_dir]
        if self._thread.is_alive():
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._sim.stop()


def start(
    state_dir: str | Path | None = None,
    port: int = 0,
    seed: int | None = None,
    clock: str | None = None,
    faults: str | dict | None = None,
    speed: float | None = None,
    max_file_bytes: int | None = None,
    host: str = "127.0.0.1",
) -> SimulatorHandle:
    """Serve the simulator from a background thread; returns a handle with `.base_url`, `.stop()`.

    Starting again in this process with the same state folder and settings returns the server
    already running (its handle), whatever port is asked for; different settings are an error.
    The clock defaults to "simulated" here (`SIMULATOR_CLOCK` or `clock` may say "real").
    """
    use_shared_data()
    settings = resolve_settings(state_dir, seed, clock, speed, faults, max_file_bytes)
    check_host(host, allow_remote=False)
    with _running_lock:
        existing = _running.get(settings.state_dir)
        if existing is not None and existing.running:
            if existing.settings != settings:
                raise SettingsError(
                    f"A simulator on {settings.state_dir} is already running in this process "
                    "with other settings; stop it first (handle.stop())."
                )
            return existing
        listener = bind(host, port)
        try:
            sim = Simulator(settings)
        except BaseException:
            listener.close()
            raise
        sim.start()
        server = uvicorn.Server(server_config(sim))
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [listener]}, name="simulator-http", daemon=True
        )
        thread.start()
        try:
            _wait_until_started(server, thread)
        except RuntimeError:
            sim.stop()
            raise
        handle = SimulatorHandle(base_url(host, listener), settings, server, thread, sim)
        _running[settings.state_dir] = handle
    return handle


def server_config(sim: Simulator) -> uvicorn.Config:
    # log_config=None leaves the host process's logging alone; no access log, so no request
    # line (and never a header) is ever written anywhere.
    return uvicorn.Config(
        create_app(sim),
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
        server_header=False,
    )


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Answers go out in two writes (head, body); without this, Nagle's algorithm and delayed
    # ACKs hold the second back ~40 ms on a kept-alive connection. Accepted sockets inherit it.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise SettingsError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    listener.listen(2048)
    return listener


def base_url(host: str, listener: socket.socket) -> str:
    port = listener.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v1"


def check_host(host: str, allow_remote: bool) -> None:
    """Refuse to listen beyond this machine unless explicitly allowed."""
    if allow_remote or is_loopback(host):
        return
    raise SettingsError(
        f"Refusing to listen on {host}: the simulator accepts any key, so it only listens on "
        "this machine (127.0.0.1). Pass --allow-remote to listen on other addresses anyway."
    )


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("The simulator's HTTP server did not start.")
        time.sleep(0.005)


# -- the command line -----------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.simulator",
        description="Serve the offline OpenAI API simulator. Prints its base URL first.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    parser.add_argument("--state", help="state folder (SIMULATOR_STATE, else .simulator/)")
    parser.add_argument("--seed", type=int, help="seed of ids and training (SIMULATOR_SEED, 0)")
    parser.add_argument(
        "--clock", choices=("real", "simulated"), help="timestamps (SIMULATOR_CLOCK, real)"
    )
    parser.add_argument("--speed", type=float, help="job pacing factor (SIMULATOR_SPEED, 1)")
    parser.add_argument("--faults", help="e.g. 429=0.1,500=0.05,delay=0.1 (SIMULATOR_FAULTS)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="listen on, and answer requests addressed to, hosts other than this machine",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    use_shared_data()
    try:
        check_host(args.host, args.allow_remote)
        settings = resolve_settings(
            args.state,
            args.seed,
            args.clock,
            args.speed,
            args.faults,
            default_clock="real",
            allow_remote=args.allow_remote,
        )
        sim = Simulator(settings)
        listener = bind(args.host, args.port)
    except (SettingsError, FaultPlanError, StateError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    server = uvicorn.Server(server_config(sim))

    def stop(signum, frame):
        server.should_exit = True

    # uvicorn puts these back after its own shutdown and then re-raises the signal to them.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(base_url(args.host, listener), flush=True)
    print(f"Offline OpenAI API simulator, state in {settings.state_dir}", file=sys.stderr)
    sim.start()
    try:
        server.run(sockets=[listener])
    finally:
        sim.stop()
    print("Simulator stopped.", file=sys.stderr)
    return 0


@atexit.register
def _stop_all() -> None:
    for handle in list(_running.values()):
        handle.stop()
