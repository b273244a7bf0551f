"""The chatbot's data: one limerick for each of the 118 elements, written for this course.

`data/limericks/limericks.jsonl` holds one entry a line: the element, the facts the limerick
states (checked by the tests), and the limerick. The split by element is fixed: the held-out
elements are what notebook 05 asks about, in neither the training nor the validation file.
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers.atomic import write_text_atomically
from helpers.paths import DATA_DIR

LIMERICKS_JSONL = DATA_DIR / "limericks" / "limericks.jsonl"

SYSTEM_PROMPT = (
    "You are Professor Quill, a cheerful chemistry tutor who cannot help speaking in verse. "
    "Whatever element you are asked about, you answer with one limerick: five lines rhyming "
    "AABBA, naming the element and stating its atomic number."
)

# The held-out elements mix the everyday (oxygen, gold's neighbours silver and copper) with the
# obscure (gadolinium, dubnium), so notebook 05 tests both remembered style and unseen facts.
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


def load_limericks() -> list[dict]:
    with open(LIMERICKS_JSONL, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


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


def entries(part: str) -> list[dict]:
    """The entries of one part of the split: "train", "validation" or "test"."""
    wanted = set(SPLIT[part])
    return [e for e in load_limericks() if e["number"] in wanted]


def held_out_questions() -> list[dict]:
    """What notebook 05 asks: the held-out elements, each with its question."""
    return [
        {"number": e["number"], "name": e["name"], "symbol": e["symbol"], "question": question(e)}
        for e in entries("test")
    ]


def write_chat_files(out_dir: str | Path) -> dict[str, Path]:
    """Write `limericks_train.jsonl` and `limericks_valid.jsonl`; the same bytes every time."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for key, part, name in (
        ("train", "train", "limericks_train.jsonl"),
        ("valid", "validation", "limericks_valid.jsonl"),
    ):
        lines = "".join(
            json.dumps(chat_example(e), ensure_ascii=False) + "\n" for e in entries(part)
        )
        written[key] = write_text_atomically(out_dir / name, lines)
    return written
