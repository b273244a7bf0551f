"""Errors a learner can cause or meet, shown as a plain message instead of a traceback."""

from __future__ import annotations


class CourseError(RuntimeError):
    """Stops a cell with a clear message.

    IPython shows `_render_traceback_`'s lines instead of a traceback, so a learner sees what
    happened and what to do, not the inside of the course's helpers.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]
