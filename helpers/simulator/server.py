"""Serving the simulator: in a background thread of this process (`start()`), or in the
foreground from a shell (`main()`, which `python -m helpers.simulator` runs).

`Simulator` is everything one server holds: its settings, its state, its clock, its faults and
its job worker. The HTTP side (`app.py`) answers requests with it; the worker trains with it.

Importing this module is cheap: the web framework, the API and the models are imported when a
server is built. `start()` (what a notebook kernel uses) returns once the server is built and
serving; `start(wait=False)` checks the settings and the state folder and listens at once, then
builds the server in a background thread while the caller goes on, and a request that arrives
meanwhile waits in the socket's queue until it is served.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import logging
import signal
import socket
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from helpers.paths import use_shared_data
from helpers.simulator.faults import FaultInjector, FaultPlanError
from helpers.simulator.hosts import is_loopback
from helpers.simulator.settings import Settings, SettingsError, resolve_settings
from helpers.simulator.stamps import Clock
from helpers.simulator.store import StateError, Store

log = logging.getLogger("helpers.simulator")

STARTUP_TIMEOUT = 15.0
ENCODINGS = ("o200k_base", "cl100k_base")  # every tokenizer in the catalogue, chat models' first
# The one loaded ahead: babbage-002's and davinci-002's, which every notebook that starts the
# simulator uses. o200k_base (the chat models') takes 67 MB and 0.15 s, which notebooks 04 and 06
# never need: it loads when first used.
WARM_ENCODING = "cl100k_base"

_running: dict[Path, SimulatorHandle] = {}
_running_lock = threading.Lock()


class Simulator:
    """Everything one running server holds."""

    def __init__(self, settings: Settings, store: Store | None = None):
        # The models and the API are imported here, when a server is built, not with the module.
        from helpers.simulator.api.batches import BatchRunner
        from helpers.simulator.training.outputs import SnapshotCache
        from helpers.simulator.training.worker import Worker

        self.settings = settings
        self.store = store or Store(settings.state_dir)
        self.clock = Clock(settings.clock)
        self.faults = FaultInjector(settings.faults)
        self.snapshots = SnapshotCache()
        self.worker = Worker(self)
        self.worker.chores.append(BatchRunner(self, self.worker.owner).round)

    def start(self) -> None:
        self.worker.start()
        # In the thread that builds the server, not one of its own: beside a kernel's other work
        # it would only take turns at the interpreter lock, and make both slower.
        _warm_up()

    def stop(self) -> None:
        self.worker.stop()
        self.store.settle()  # the clock counted in memory, and the ids reserved and not used
        self.store.close()


def _warm_up() -> None:
    """What the first requests and jobs would otherwise wait for. Only a head start: what fails
    here is done again when first needed, where it fails with its own clear error, so the server
    starts whatever happens here."""
    from helpers.simulator.learners.prior import build_in_background
    from helpers.tokens import get_encoding

    try:
        # The base models' language priors, built once per working folder, in another process.
        build_in_background(ENCODINGS)
        # tiktoken takes a moment to load an encoding: now rather than in the first request.
        get_encoding(WARM_ENCODING)
    except Exception as exc:  # a head start that failed is no reason not to serve
        log.info("Warming up the simulator failed (%s); it is done when first needed.", exc)


@dataclass
class SimulatorHandle:
    """A simulator serving in a background thread of this process."""

    base_url: str
    settings: Settings
    _ready: threading.Event = field(default_factory=threading.Event, repr=False)
    _server: object = field(default=None, repr=False)  # uvicorn.Server, once built
    _thread: threading.Thread | None = field(default=None, repr=False)
    _sim: Simulator | None = field(default=None, repr=False)
    _failure: BaseException | None = field(default=None, repr=False)

    @property
    def state_dir(self) -> Path:
        return self.settings.state_dir

    @property
    def running(self) -> bool:
        """Serving, or about to: still being built in the background counts."""
        if not self._ready.is_set():
            return True
        return self._thread is not None and self._thread.is_alive()

    def wait_until_serving(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Block until the server answers requests; raise what stopped it from starting."""
        if not self._ready.wait(timeout):
            raise RuntimeError("The simulator's HTTP server did not start.")
        if self._failure is not None:
            raise self._failure

    def stop(self) -> None:
        """Stop serving and hand the jobs in progress back to the state (idempotent)."""
        with _running_lock:
            if _running.get(self.state_dir) is self:
                del _running[self.state_dir]
        self._ready.wait(STARTUP_TIMEOUT)
        if self._thread is not None and self._thread.is_alive():
            self._server.should_exit = True
            self._thread.join(timeout=10)
        if self._sim is not None:
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
    wait: bool = True,
) -> SimulatorHandle:
    """Serve the simulator from a background thread; returns a handle with `.base_url`, `.stop()`.

    Starting again in this process with the same state folder and settings returns the server
    already running (its handle), whatever port is asked for; different settings are an error.
    The clock defaults to "simulated" here (`SIMULATOR_CLOCK` or `clock` may say "real").

    With `wait=False` it returns as soon as it listens, having checked the settings and the state
    folder; the server is built in the background, and requests wait until it serves them.
    """
    use_shared_data()
    quiet_framework_warning()
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
        else:
            existing = None
        if existing is None:
            listener = bind(host, port)
            try:
                store = Store(settings.state_dir)  # a state folder that cannot be used: said now
            except BaseException:
                listener.close()
                raise
            handle = SimulatorHandle(base_url(host, listener), settings)
            _running[settings.state_dir] = handle
    if existing is not None:
        if wait:
            existing.wait_until_serving()
        return existing
    if wait:
        _serve(handle, listener, store)
        handle.wait_until_serving()
    else:
        threading.Thread(
            target=_serve, args=(handle, listener, store), name="simulator-start", daemon=True
        ).start()
    return handle


def quiet_framework_warning() -> None:
    """Silence, for the whole process, the warning pydantic gives FastAPI for every path
    parameter (its name as an alias "has no effect"). FastAPI hides it with
    `warnings.catch_warnings()`, which swaps the process's one list of filters and is not
    thread-safe: while the server is built in a background thread, a kernel importing pandas or
    matplotlib (which use `catch_warnings` too) can put back a list without FastAPI's filter,
    and the warning reached a notebook cell's output. Added here, in the calling thread and
    before the build starts, the filter is in every list either thread saves and restores."""
    try:
        from pydantic.warnings import UnsupportedFieldAttributeWarning
    except ImportError:  # a pydantic before 2.12 gives no such warning
        return
    warnings.filterwarnings(
        "ignore",
        message=r"The 'alias' attribute with value",
        category=UnsupportedFieldAttributeWarning,
    )


def _serve(handle: SimulatorHandle, listener: socket.socket, store: Store) -> None:
    """Build the server and serve on `listener` from a thread; `handle` learns how it went."""
    import uvicorn

    sim = None
    try:
        sim = Simulator(handle.settings, store)
        sim.start()
        server = uvicorn.Server(server_config(sim))
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [listener]}, name="simulator-http", daemon=True
        )
        thread.start()
        _wait_until_started(server, thread)
        handle._server, handle._thread, handle._sim = server, thread, sim
    except BaseException as exc:
        log.error("The offline simulator could not start: %s", exc)
        handle._failure = exc
        listener.close()  # requests are refused at once rather than left waiting
        if sim is not None:
            sim.stop()
        else:
            store.close()
        with _running_lock:
            if _running.get(handle.state_dir) is handle:
                del _running[handle.state_dir]
    finally:
        handle._ready.set()


def server_config(sim: Simulator):
    """The uvicorn configuration of a server."""
    import uvicorn

    from helpers.simulator.app import create_app

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
    if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):
        # Windows: SO_REUSEADDR there would let another program bind the same port and take
        # the learner's requests; exclusive use is its way to say "this port is mine".
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
    else:
        # Elsewhere: restart on a fixed port at once, past the old server's TIME_WAIT.
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


def _wait_until_started(server, thread: threading.Thread) -> None:
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
    import uvicorn

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
    running = list(_running.values())
    for handle in running:
        handle.stop()
    if running:
        # The process is ending. Its models (hundreds of thousands of objects) need no garbage
        # collection, yet the interpreter's last collections would scan them all: about a
        # second of every kernel's shutdown. Frozen, they are left for the system to reclaim.
        gc.freeze()
