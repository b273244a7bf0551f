"""Errors a learner can cause or meet, shown as a plain message instead of a traceback."""

from __future__ import annotations

from pathlib import Path


class CourseError(RuntimeError):
    """Stops a cell with a clear message.

    IPython shows `_render_traceback_`'s lines instead of a traceback, so a learner sees what
    happened and what to do, not the inside of the course's helpers.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class InputFileError(CourseError):
    """A file that cannot be used as it is: what is wrong, and where (file, line, field)."""

    def __init__(
        self, path: Path | str, message: str, line: int | None = None, field: str | None = None
    ):
        self.path = Path(path)
        self.line = line
        self.field = field
        self.problem = message
        where = display_name(self.path)
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f', field "{field}"'
        super().__init__(f"{where}: {message}")


def display_name(path: Path | str) -> str:
    """The path relative to the working folder when it is inside it, else the file's name.

    Never an absolute path, so printed output is the same on every machine.
    """
    path = Path(path)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return path.name


def require_file(path: Path) -> None:
    """Refuse, naming the path, what is not a regular file: nothing there, a folder, a pipe."""
    if path.is_file():
        return
    if path.is_dir():
        raise InputFileError(path, "is a folder, not a file")
    if path.exists():
        raise InputFileError(path, "is not a regular file (a pipe, device or socket); give a file")
    raise InputFileError(path, "does not exist")
