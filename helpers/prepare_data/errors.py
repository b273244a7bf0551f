"""The one error the preparation tool raises for a learner's file, naming the file and the line."""

from __future__ import annotations

from pathlib import Path

from helpers.errors import CourseError


class InputFileError(CourseError):
    """A file that cannot be prepared: what is wrong, and where (file, line, field)."""

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
