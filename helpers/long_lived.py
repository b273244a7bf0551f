"""What lives as long as the process, moved out of the garbage collector's way.

CPython frees most objects as soon as nothing refers to them. Its cyclic garbage collector is for
the rest, and a full collection walks every container object the process holds. A kernel that has
imported pandas, scikit-learn, matplotlib and the simulator holds about 400,000 of them, and the
simulator's language priors add tens of thousands more. A full collection then takes 0.1 to 0.2 s,
and a notebook that trains a few models and scores a few thousand posts sets off several: measured
in the course's kernels, 4.3 s of collecting in all.

`gc.freeze()` moves every object alive at that moment to a generation that collections skip.
Those objects are still freed as usual when nothing refers to them; only a reference cycle among
them that is dropped later stays in memory until the process ends. So the course freezes at a
few moments chosen once each, when what is alive is what stays: the modules imported before the
simulator's first model work, and each language prior right after it is loaded. (Tables that
hold only strings and numbers, such as the pronunciation dictionary, are never walked at all.)
"""

from __future__ import annotations

import gc
import threading

_frozen: set[str] = set()
_lock = threading.Lock()


def freeze_once(moment: str) -> bool:
    """Freeze what is alive now, the first time this process reaches `moment` (later calls do
    nothing, so that what is frozen stays bounded). True when it froze."""
    with _lock:
        if moment in _frozen:
            return False
        _frozen.add(moment)
    gc.freeze()
    return True
