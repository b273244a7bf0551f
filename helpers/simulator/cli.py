"""`python -m helpers.simulator`: serve the simulator in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys

import uvicorn

from helpers.paths import use_shared_data
from helpers.simulator.config import SettingsError, resolve_settings
from helpers.simulator.context import Simulator
from helpers.simulator.faults import FaultPlanError
from helpers.simulator.server import (
    base_url,
    bind,
    check_host,
    server_config,
)
from helpers.simulator.store import StateError


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
        "--allow-remote", action="store_true", help="allow a host other than this machine"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    use_shared_data()
    try:
        check_host(args.host, args.allow_remote)
        settings = resolve_settings(
            args.state, args.seed, args.clock, args.speed, args.faults, default_clock="real"
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
