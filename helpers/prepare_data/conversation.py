"""Printing, and asking `[Y/n]` before each recommended action, as the legacy tool did."""

from __future__ import annotations

import sys
from collections.abc import Callable


class Conversation:
    """Says things and asks questions; records every line it printed.

    Quiet (`-q`), or with no terminal to answer from, every question is answered yes and the
    answer is printed, so the output reads the same either way.
    """

    def __init__(
        self,
        quiet: bool = True,
        echo: bool = True,
        ask: Callable[[str], str] | None = None,
        interactive: bool | None = None,
    ):
        if interactive is None:
            interactive = sys.stdin is not None and sys.stdin.isatty()
        self.quiet = quiet or not interactive
        self.echo = echo
        self._ask = ask or input
        self.lines: list[str] = []

    def say(self, text: str = "", error: bool = False) -> None:
        """Print `text` (to stderr when it reports an error) and record it."""
        for line in text.split("\n"):
            self.lines.append(line)
        if self.echo:
            print(text, file=sys.stderr if error else sys.stdout, flush=True)

    def refuse(self, question: str, label: str = "Recommended") -> bool:
        """Answers no to `question`, as the learner chose beforehand, and says so."""
        self.say(f"- [{label}] {question} [Y/n]: n")
        return False

    def confirm(self, question: str, label: str | None = "Recommended") -> bool:
        prompt = f"- [{label}] {question} [Y/n]: " if label else f"{question} [Y/n]: "
        if self.quiet:
            self.say(prompt + "Y")
            return True
        try:
            answer = self._ask(prompt).strip().lower()
        except EOFError:  # input closed: take the default, as for an empty answer
            answer = ""
        self.lines.append(prompt + answer)
        return answer not in ("n", "no")
