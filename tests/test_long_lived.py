"""The tables that live as long as the process are kept out of the garbage collector's way."""

from __future__ import annotations

import subprocess
import sys

from helpers import long_lived
from helpers.paths import REPO_ROOT


def test_each_moment_freezes_once(monkeypatch):
    frozen = []
    monkeypatch.setattr(long_lived, "_frozen", set())
    monkeypatch.setattr(long_lived.gc, "freeze", lambda: frozen.append(True))
    assert long_lived.freeze_once("models") is True
    assert long_lived.freeze_once("models") is False  # what is frozen stays bounded
    assert long_lived.freeze_once("prior cl100k_base") is True
    assert len(frozen) == 2


def test_imports_before_the_first_model_are_frozen_and_the_dictionary_adds_nothing_to_walk():
    # In a fresh process: nothing frozen at first; the pronunciation dictionary's 126,000
    # entries are strings, which the collector never walks; what the process imported is
    # frozen at the first model a trainer makes.
    probe = (
        "import gc\n"
        "from helpers import cmu_dictionary\n"
        "from helpers.simulator.learners import make_trainer\n"
        "before = gc.get_freeze_count()\n"
        "gc.collect()\n"
        "tracked = len(gc.get_objects())\n"
        "assert cmu_dictionary.pronunciations('neon')\n"
        "gc.collect()\n"
        "added = len(gc.get_objects()) - tracked\n"
        "import pandas\n"
        "alive = len(gc.get_objects())\n"
        "try:\n"
        "    make_trainer('classifier', [], [], None, {})\n"
        "except Exception:\n"
        "    pass  # no data: the trainer fails, after the moment it freezes\n"
        "print(before, added, alive, gc.get_freeze_count())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    before, added, alive, frozen = map(int, done.stdout.split())
    assert before == 0
    assert added < 1_000
    assert alive > 50_000  # pandas and the simulator's modules
    assert frozen >= 0.95 * alive  # all of it (give or take what was freed meanwhile)
