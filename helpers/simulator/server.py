"""Serving the simulator: in a background thread of this process, or in the foreground (CLI)."""

from __future__ import annotations

import atexit
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from helpers.paths import use_shared_data
from helpers.simulator.app import create_app
from helpers.simulator.config import Settings, SettingsError, resolve_settings
from helpers.simulator.context import Simulator

STARTUP_TIMEOUT = 15.0
LOOPBACK_NAMES = ("localhost",)

_running: dict[Path, SimulatorHandle] = {}
_running_lock = threading.Lock()


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
        sim = Simulator(settings)
        listener = bind(host, port)
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


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("The simulator's HTTP server did not start.")
        time.sleep(0.005)


@atexit.register
def _stop_all() -> None:
    for handle in list(_running.values()):
        handle.stop()
