"""Checks of what clients send: training examples (the course's validators) and chat messages.

`example_problems` is the one place the simulator asks whether a training line is valid; it uses
`helpers.training_format`, which the course's data-preparation tool uses too, so both judge a
file alike. Messages in a chat completion request are checked more leniently, as the API does.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.training_format import FormatProblem, check_example

REQUEST_ROLES = ("system", "developer", "user", "assistant", "tool", "function")


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    field: str


def example_problems(obj, data_format: str) -> list[FormatProblem]:
    """What is wrong with one parsed line for a model trained on `data_format` lines."""
    return check_example(obj, data_format)


def message_problems(message, where: str) -> list[Problem]:
    """What is wrong with one message of a chat completion request."""
    if not isinstance(message, dict):
        return [Problem("invalid_message", "each message must be a JSON object", where)]
    if "role" not in message:
        return [Problem("missing_role", "the message has no role", f"{where}.role")]
    role = message["role"]
    if role not in REQUEST_ROLES:
        return [
            Problem(
                "unknown_role",
                f"unknown role {role!r}; use one of {', '.join(REQUEST_ROLES)}",
                f"{where}.role",
            )
        ]
    content = message.get("content")
    calls = message.get("tool_calls") or message.get("function_call")
    if content is None and not (role == "assistant" and calls):
        return [Problem("missing_content", "the message has no content", f"{where}.content")]
    if content is not None and not isinstance(content, (str, list)):
        return [
            Problem(
                "invalid_content",
                "content must be a string or a list of content parts",
                f"{where}.content",
            )
        ]
    return []
