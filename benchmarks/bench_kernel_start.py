"""What starting the simulator costs a notebook kernel, measured in fresh processes.

Each run is a new Python process that first imports what every notebook imports anyway
(`openai, pandas, sklearn, matplotlib.pyplot, tiktoken`), then measures, in wall milliseconds:

- import_ms: `import helpers.backend`;
- use_backend_ms: `use_backend()`, which starts the in-process simulator;
- first_request_ms: from `use_backend()` to the answer of a first request (`models.retrieve`),
  right after it: the whole price of a simulator that is not yet built;
- import_simulator_us: `python -X importtime`'s cumulative microseconds for `helpers.simulator`
  (imported by `use_backend()`), measured in one more run.

Medians of RUNS runs, each on a fresh state folder.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile

RUNS = 5
FLOOR_IMPORTS = "import openai, pandas, sklearn, matplotlib.pyplot, tiktoken"
PROBE = f"""
import json, time
{FLOOR_IMPORTS}
started = time.perf_counter()
import helpers.backend
imported = time.perf_counter()
helpers.backend.use_backend(quiet=True)
used = time.perf_counter()
import openai
openai.OpenAI(max_retries=0).models.retrieve("babbage-002")
answered = time.perf_counter()
print(json.dumps({{
    "import_ms": (imported - started) * 1000,
    "use_backend_ms": (used - imported) * 1000,
    "first_request_ms": (answered - imported) * 1000,
}}))
"""


def run() -> dict:
    runs = [_probe() for _ in range(RUNS)]
    figures = {
        name: round(statistics.median(r[name] for r in runs), 1)
        for name in ("import_ms", "use_backend_ms", "first_request_ms")
    }
    figures["import_simulator_us"] = _import_time("helpers.simulator")
    figures["runs"] = RUNS
    return figures


def _env(state: str) -> dict:
    return {**os.environ, "TUTORIAL_BACKEND": "simulator", "SIMULATOR_STATE": state}


def _probe() -> dict:
    with tempfile.TemporaryDirectory() as state:
        done = subprocess.run(
            [sys.executable, "-c", PROBE],
            env=_env(state),
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _import_time(module: str) -> int:
    """Cumulative import microseconds of `module`, after the floor's imports."""
    code = f"{FLOOR_IMPORTS}\nimport helpers.backend\nhelpers.backend.use_backend(quiet=True)"
    with tempfile.TemporaryDirectory() as state:
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            env=_env(state),
            capture_output=True,
            text=True,
            check=True,
        )
    for line in done.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1])
    return 0
