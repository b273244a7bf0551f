"""The chatbot's data: one limerick for each of the 118 elements, written for this course.

`data/limericks/limericks.jsonl` holds one entry a line: the element, the facts the limerick
states (proved by the tests), and the limerick. The split by element is fixed: the held-out
elements are what notebook 05 asks about, in neither the training nor the validation file.

    python -m helpers.limericks OUT_DIR [LIMERICKS_JSONL]

writes the chat files into OUT_DIR (from the course's limericks, or from a file of your own).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from helpers.atomic import write_text_atomically
from helpers.errors import CourseError
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
# Each entry's fields and the type each must have.
FIELDS = {"number": int, "symbol": str, "name": str, "facts": dict, "limerick": str}


class LimerickDataError(CourseError):
    """A limericks file that cannot be used, with the file, line and field to fix."""


def _check_entry(entry, where: str) -> None:
    if not isinstance(entry, dict):
        raise LimerickDataError(f"{where}: expected a JSON object, found {type(entry).__name__}.")
    for field, kind in FIELDS.items():
        if field not in entry:
            raise LimerickDataError(f"{where}: field {field!r} is missing.")
        value = entry[field]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise LimerickDataError(
                f"{where}: field {field!r} must be {kind.__name__}, not {type(value).__name__}."
            )
    if not 1 <= entry["number"] <= 118:
        raise LimerickDataError(f"{where}: field 'number' must be 1-118, not {entry['number']}.")
    if not entry["limerick"].strip():
        raise LimerickDataError(f"{where}: field 'limerick' is empty.")


def load_limericks(path: str | Path = LIMERICKS_JSONL) -> list[dict]:
    """Every entry of a limericks file, checked, in file order. The file is only read."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LimerickDataError(f"{path}: cannot be read as UTF-8 text ({exc}).") from None
    found, seen = [], {}
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}, line {line_number}"
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LimerickDataError(f"{where}: not valid JSON ({exc.msg}).") from None
        _check_entry(entry, where)
        if entry["number"] in seen:
            raise LimerickDataError(
                f"{where}: field 'number': element {entry['number']} is already on line "
                f"{seen[entry['number']]}."
            )
        seen[entry["number"]] = line_number
        found.append(entry)
    if not found:
        raise LimerickDataError(f"{path}: holds no limericks.")
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
        raise ValueError(f"unknown part {part!r}: one of {', '.join(SPLIT)}")
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
    return {
        key: write_text_atomically(
            out_dir / FILE_NAMES[key],
            "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows[key]),
        )
        for key in FILE_NAMES
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        print("usage: python -m helpers.limericks OUT_DIR [LIMERICKS_JSONL]", file=sys.stderr)
        return 2
    try:
        limericks = load_limericks(args[1]) if len(args) == 2 else None
        written = write_chat_files(args[0], limericks)
    except (LimerickDataError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for key, path in written.items():
        print(f"{key}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
