"""`--to-chat`: write a prompt/completion file as a chat file, for the move to chat models."""

from __future__ import annotations

from pathlib import Path

from helpers.chat_conversion import completions_to_chat
from helpers.errors import display_name
from helpers.jsonl_lines import write_jsonl
from helpers.prepare_data import completion_checks as checks
from helpers.prepare_data.completions import necessary_fixes
from helpers.prepare_data.conversation import Conversation
from helpers.prepare_data.output_files import prepared_paths
from helpers.prepare_data.readers import read_table

# Endings that only mark where a completion stops; a final "." is part of the text.
MARKER_ENDINGS = tuple(e for e in checks.ENDINGS if e != ".")


def convert_completions_file(
    path: Path | str,
    system: str | None = None,
    out_dir: Path | str | None = None,
    echo: bool = True,
) -> Path:
    """Write `NAME_chat.jsonl` (never over an existing file) and return its path.

    The legacy tool's separator, stop ending and leading space are taken off when every example
    has them, since chat models need none of them.
    """
    path = Path(path)
    talk = Conversation(quiet=True, echo=echo)
    table = read_table(path)
    for finding in necessary_fixes(path, table):
        if finding.action:
            talk.say(f"- {finding.action.description}")
    frame = table.frame
    separator = checks.common_suffix(frame["prompt"])
    separator = separator if separator in checks.SEPARATORS else None
    ending = checks.common_suffix(frame["completion"])
    ending = ending if ending in MARKER_ENDINGS else None
    spaced = bool(frame["completion"].str.startswith(" ").all())
    examples = completions_to_chat(frame, system, separator, ending, strip_leading_space=spaced)
    for what, removed in (("separator", separator), ("ending", ending)):
        if removed:
            talk.say(f"- Removed the {what} `{checks.shown(removed)}`")
    if spaced:
        talk.say("- Removed the leading space of each completion")
    (target,) = prepared_paths(path, [""], Path(out_dir) if out_dir else None, tag="_chat")
    write_jsonl(target, examples)
    talk.say(f"Wrote {len(examples)} chat examples to `{display_name(target)}`")
    talk.say()
    return target
