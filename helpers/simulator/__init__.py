"""The offline simulator of the OpenAI API: a real HTTP server that really fine-tunes.

    from helpers import simulator
    handle = simulator.start()          # serves on 127.0.0.1 from a background thread
    client = openai.OpenAI(base_url=handle.base_url, api_key="any-key")
    ...
    handle.stop()

Or from a shell: `python -m helpers.simulator --port 8000`. See README.md beside this file.
"""

from helpers.simulator.faults import FaultPlanError
from helpers.simulator.server import SimulatorHandle, start
from helpers.simulator.settings import Settings, SettingsError
from helpers.simulator.store import StateError

__all__ = ["FaultPlanError", "Settings", "SettingsError", "SimulatorHandle", "StateError", "start"]
