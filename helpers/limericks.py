"""The chatbot's data: one limerick for each of the 118 elements, written for this course.

`data/limericks/limericks.jsonl` holds one entry a line: the element, the facts the limerick
states (proved by the tests), and the limerick. The split by element is fixed: the held-out
elements are what notebook 05 asks about, in neither the training nor the validation file.

    python -m helpers.limericks OUT_DIR [LIMERICKS_JSONL]

writes the chat files into OUT_DIR (from the course's limericks, or from a file of your own).
"""

from __future__ import annotations

import sys
from pathlib import Path

from helpers.errors import CourseError, InputFileError, require_file
from helpers.jsonl_lines import LineError, clipped, iter_jsonl, json_shown, json_type, write_jsonl
from helpers.paths import DATA_DIR

LIMERICKS_JSONL = DATA_DIR / "limericks" / "limericks.jsonl"

SYSTEM_PROMPT = (
    "You are Professor Quill, a cheerful chemistry tutor who cannot help speaking in verse. "
    "Whatever element you are asked about, you answer with one limerick: five lines rhyming "
    "AABBA, naming the element and stating its atomic number."
)

# By atomic number. The held-out test elements mix the everyday (oxygen, sodium, copper, silver)
# with the obscure (gadolinium, dubnium), gases (helium, oxygen) with the liquid mercury, and one
# from each block and period, so notebook 05 sees whether the chatbot carries its form, and any
# facts, to elements it never trained on. Validation follows the same recipe.
SPLIT = {
    "test": (2, 8, 11, 20, 29, 47, 53, 64, 74, 80, 92, 105),
    "validation": (5, 14, 17, 26, 35, 44, 56, 68, 79, 86, 98, 113),
}
SPLIT["train"] = tuple(
    n for n in range(1, 119) if n not in SPLIT["test"] and n not in SPLIT["validation"]
)

# Several phrasings, chosen by atomic number, so the model does not learn one template only.
QUESTIONS = (
    "Write a limerick about {name}.",
    "Tell me about {name}.",
    "What can you tell me about the element {name}?",
    "Give me a limerick on {name}, please.",
)

FILE_NAMES = {
    "train": "limericks_train.jsonl",
    "valid": "limericks_valid.jsonl",
    "test": "limericks_test_questions.jsonl",
}
# Each entry's fields, the type each must have, and its name in JSON (for messages).
FIELDS = {
    "number": (int, "a whole number"),
    "symbol": (str, "a string"),
    "name": (str, "a string"),
    "facts": (dict, "an object"),
    "limerick": (str, "a string"),
}


class LimerickDataError(InputFileError):
    """A limericks file that cannot be used, with the file, line and field to fix."""


def _check_entry(entry, path: Path, line: int) -> None:
    if not isinstance(entry, dict):
        raise LimerickDataError(path, f"is {json_type(entry)}, not a JSON object", line)
    for field, (kind, named) in FIELDS.items():
        if field not in entry:
            raise LimerickDataError(path, "is missing", line, field)
        value = entry[field]
        if not isinstance(value, kind) or isinstance(value, bool):
            shown = clipped(json_shown(value))  # `"1"`, `true`, `1.5`, or a container's type
            raise LimerickDataError(path, f"must be {named}, not {shown}", line, field)
    if not 1 <= entry["number"] <= 118:
        raise LimerickDataError(path, f"must be 1-118, not {entry['number']}", line, "number")
    if not entry["limerick"].strip():
        raise LimerickDataError(path, "is empty", line, "limerick")


def load_limericks(path: str | Path = LIMERICKS_JSONL) -> list[dict]:
    """Every entry of a limericks file, checked, in file order. The file is only read."""
    path = Path(path)
    require_file(path)
    found, seen = [], {}
    for line, entry in iter_jsonl(path):
        if isinstance(entry, LineError):
            raise LimerickDataError(path, entry.message, line)
        _check_entry(entry, path, line)
        number = entry["number"]
        if number in seen:
            message = f"element {number} is already on line {seen[number]}"
            raise LimerickDataError(path, message, line, "number")
        seen[number] = line
        found.append(entry)
    if not found:
        raise LimerickDataError(path, "holds no limericks")
    return found


def question(entry: dict) -> str:
    return QUESTIONS[entry["number"] % len(QUESTIONS)].format(name=entry["name"])


def chat_example(entry: dict) -> dict:
    """One training conversation: the persona, a question, and the limerick as the answer."""
    return {
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": question(entry)},
            {"role": "assistant", "content": entry["limerick"]},
        ]
    }


def entries(part: str, limericks: list[dict] | None = None) -> list[dict]:
    """The entries of one part of the split ("train", "validation", "test"), by atomic number."""
    if part not in SPLIT:
        raise CourseError(f"Unknown part {part!r}: one of {', '.join(SPLIT)}.")
    wanted = set(SPLIT[part])
    chosen = [e for e in (limericks or load_limericks()) if e["number"] in wanted]
    return sorted(chosen, key=lambda e: e["number"])


def held_out_questions(limericks: list[dict] | None = None) -> list[dict]:
    """What notebook 05 asks: each held-out element, its question, and the chat to send."""
    found = []
    for entry in entries("test", limericks):
        ask = question(entry)
        found.append(
            {
                "number": entry["number"],
                "name": entry["name"],
                "symbol": entry["symbol"],
                "question": ask,
                "messages": [
                    {"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": ask},
                ],
            }
        )
    return found


def write_chat_files(out_dir: str | Path, limericks: list[dict] | None = None) -> dict[str, Path]:
    """Write the training and validation chats and the held-out questions; the same bytes
    every time. Returns their paths under the keys "train", "valid" and "test"."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    limericks = limericks or load_limericks()
    rows = {
        "train": [chat_example(e) for e in entries("train", limericks)],
        "valid": [chat_example(e) for e in entries("validation", limericks)],
        "test": held_out_questions(limericks),
    }
    return {key: write_jsonl(out_dir / FILE_NAMES[key], rows[key]) for key in FILE_NAMES}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        print("usage: python -m helpers.limericks OUT_DIR [LIMERICKS_JSONL]", file=sys.stderr)
        return 2
    try:
        limericks = load_limericks(args[1]) if len(args) == 2 else None
        written = write_chat_files(args[0], limericks)
    except (InputFileError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for key, path in written.items():
        print(f"{key}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
