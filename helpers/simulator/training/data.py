"""Reading an uploaded JSONL file into training examples, or the job error that rejects it."""

from __future__ import annotations

from dataclasses import dataclass

from helpers.jsonl_lines import LineError, iter_jsonl
from helpers.tokens import count_messages, count_prompt_completion
from helpers.training_format import check_example

MIN_TRAINING_EXAMPLES = 10


@dataclass(frozen=True)
class Example:
    context: str  # everything the model reads before its answer
    cue: str  # the last thing asked (the last user message, or the prompt)
    answer: str  # what the model is trained to write
    tokens: int  # billable tokens of the whole example (0 in a validation file: not billed)


@dataclass(frozen=True)
class TrainingData:
    data_format: str
    examples: list[Example]

    @property
    def tokens(self) -> int:
        return sum(e.tokens for e in self.examples)


class DataRejected(Exception):
    """The file cannot be trained on; carries the job's `error` object."""

    def __init__(self, code: str, message: str, param: str):
        super().__init__(message)
        self.error = {"code": code, "message": message, "param": param}


def read_training_data(
    raw: bytes, data_format: str, model: str, param: str, file_id: str
) -> TrainingData:
    """Parse and check every line; the first bad line rejects the file, naming the line."""
    which = "Training" if param == "training_file" else "Validation"
    examples = []
    for number, obj in iter_jsonl(raw):
        if isinstance(obj, LineError):
            raise DataRejected(
                obj.code,
                f"Invalid file format. {which} file {file_id}, line {number} {obj.message}.",
                param,
            )
        # The course's data-preparation tool judges lines with the same checks.
        problems = check_example(obj, data_format)
        if problems:
            first = problems[0]
            where = f", {first.field}" if first.field else ""
            raise DataRejected(
                first.code,
                f"Invalid file format. {which} file {file_id}, line {number}{where}: "
                f"{first.message}.",
                param,
            )
        examples.append(_example(obj, data_format, model if param == "training_file" else None))
    if param == "training_file" and len(examples) < MIN_TRAINING_EXAMPLES:
        raise DataRejected(
            "invalid_n_examples",
            f"Training file has {len(examples)} example(s), but must have at least "
            f"{MIN_TRAINING_EXAMPLES} examples",
            param,
        )
    if not examples:
        raise DataRejected("invalid_n_examples", f"{which} file {file_id} has no examples.", param)
    return TrainingData(data_format, examples)


def _example(obj: dict, data_format: str, model: str | None) -> Example:
    """One example; its tokens are counted (for billing) only when `model` is given."""
    if data_format == "completion":
        prompt, completion = obj["prompt"], obj["completion"]
        tokens = count_prompt_completion(prompt, completion, model) if model else 0
        return Example(prompt, prompt, completion, tokens)
    messages = obj["messages"]
    last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
    before = messages[:last]
    users = [m for m in before if m["role"] == "user"]
    return Example(
        context=render_messages(before),
        cue=content_text(users[-1].get("content")) if users else render_messages(before),
        answer=content_text(messages[last].get("content")),
        tokens=count_messages(messages, model) if model else 0,
    )


def content_text(content) -> str:
    """A message's text: the string itself, or the text parts of a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if isinstance(p, dict))


def render_messages(messages: list[dict]) -> str:
    return "\n".join(f"{m.get('role')}: {content_text(m.get('content'))}" for m in messages)
