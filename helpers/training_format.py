"""The per-line formats of OpenAI fine-tuning files, checked one example at a time.

One example is one parsed JSONL line. Each `check_*` function returns the problems it finds as
`FormatProblem`s (an empty list means the example is valid) and never raises, whatever JSON value
it is given. The rules follow OpenAI's published schemas `FineTuneChatRequestInput`,
`FineTuneCompletionRequestInput` and `FineTunePreferenceRequestInput`, and are stricter where the
API is: unknown keys, a `weight` other than 0 or 1, an assistant message with nothing in it, and
tool calls that are never answered are all reported.

Pure Python with no I/O, so the simulator and the preparation tool share it. Reading a JSONL file
line by line is `helpers.jsonl_lines`.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.errors import CourseError
from helpers.jsonl_lines import clipped, json_shown, json_type


@dataclass(frozen=True)
class FormatProblem:
    code: str
    message: str
    field: str | None


# What each code means, for reports and documentation.
CODES = {
    "not_an_object": "the line is not a JSON object",
    "missing_messages": 'no "messages" list',
    "invalid_messages": '"messages" is not a non-empty list',
    "invalid_message": "a message is not a JSON object",
    "message_missing_key": "a message lacks a key its role requires",
    "message_unrecognized_key": "a message has a key its role does not allow",
    "unrecognized_role": "a role other than system, user, assistant, tool or function",
    "invalid_content_type": "a message's content is of the wrong type",
    "invalid_type": "a field holds a value of the wrong JSON type",
    "invalid_weight": "a weight other than the integer 0 or 1",
    "weight_on_non_assistant": "a weight on a message that is not the assistant's",
    "missing_assistant_message": "no assistant message to learn from",
    "invalid_tool_call": "an assistant's tool call is malformed",
    "unmatched_tool_call": "a tool call with no tool message answering it",
    "unmatched_tool_message": "a tool message that answers no preceding tool call",
    "invalid_tools": '"tools" or "functions" is malformed',
    "unrecognized_key": "a key the format does not have",
    "missing_prompt": 'no "prompt"',
    "missing_completion": 'no "completion"',
    "missing_input": 'no "input" (preference format)',
    "missing_preferred_completion": 'no "preferred_completion" (preference format)',
    "missing_non_preferred_completion": 'no "non_preferred_completion" (preference format)',
    "invalid_preference_completion": "a preference completion is not one assistant message",
}

ROLES = ("system", "user", "assistant", "tool", "function")

# The keys each role's message may carry (weight is reported by its own codes).
MESSAGE_KEYS = {
    "system": {"role", "content", "name"},
    "user": {"role", "content", "name"},
    "assistant": {
        "role",
        "content",
        "refusal",
        "name",
        "audio",
        "tool_calls",
        "function_call",
        "weight",
    },
    "tool": {"role", "content", "tool_call_id"},
    "function": {"role", "content", "name"},
}

# The content-part types each role accepts when its content is a list of parts.
PART_TYPES = {
    "system": ("text",),
    "user": ("text", "image_url", "input_audio", "file"),
    "assistant": ("text", "refusal"),
    "tool": ("text",),
}

# The one string key each part type must carry, or the object it must hold.
PART_STRING_KEY = {"text": "text", "refusal": "refusal"}
PART_OBJECT_KEY = {"image_url": "image_url", "input_audio": "input_audio", "file": "file"}
# The string fields inside those objects: name -> (required, allowed values or None).
PART_OBJECT_FIELDS = {
    "image_url": {"url": (True, None), "detail": (False, ("auto", "low", "high"))},
    "input_audio": {"data": (True, None), "format": (True, ("wav", "mp3"))},
    "file": {"filename": (False, None), "file_data": (False, None), "file_id": (False, None)},
}

CHAT_KEYS = {"messages", "tools", "parallel_tool_calls", "functions"}
PREFERENCE_KEYS = {"input", "preferred_completion", "non_preferred_completion"}
PREFERENCE_INPUT_KEYS = {"messages", "tools", "parallel_tool_calls"}
COMPLETION_KEYS = {"prompt", "completion"}

MAX_FUNCTIONS = 128


def check_chat_example(obj) -> list[FormatProblem]:
    """Problems of one line of a chat training file (supervised method)."""
    if not isinstance(obj, dict):
        return [_not_an_object(obj)]
    if "messages" not in obj:
        hint = ""
        if "prompt" in obj or "completion" in obj:
            hint = (
                ": this line has prompt/completion keys, the format of babbage-002 and "
                'davinci-002; chat models train on lines like {"messages": [...]}'
            )
        elif "input" in obj:
            hint = ": this line looks like a preference (DPO) example"
        return [FormatProblem("missing_messages", f'the line has no "messages" list{hint}', None)]
    problems = _unrecognized_keys(obj, CHAT_KEYS, "")
    problems += _check_tools_and_functions(obj, "")
    messages = obj["messages"]
    if not isinstance(messages, list) or not messages:
        return problems + [_invalid_messages(messages, "messages")]
    problems += _check_messages(messages, "messages")
    if not any(_role_of(m) == "assistant" for m in messages):
        problems.append(
            FormatProblem(
                "missing_assistant_message",
                "the example has no assistant message, so there is nothing to learn",
                "messages",
            )
        )
    return problems


def check_completion_example(obj) -> list[FormatProblem]:
    """Problems of one line of a prompt/completion file (babbage-002, davinci-002)."""
    if not isinstance(obj, dict):
        return [_not_an_object(obj)]
    if "messages" in obj and "prompt" not in obj:
        return [
            FormatProblem(
                "missing_prompt",
                'the line has "messages", the chat format; babbage-002 and davinci-002 train '
                'on lines like {"prompt": "...", "completion": "..."}',
                "prompt",
            )
        ]
    problems = []
    for key in ("prompt", "completion"):
        if key not in obj:
            problems.append(FormatProblem(f"missing_{key}", f'the line has no "{key}"', key))
        elif not isinstance(obj[key], str):
            problems.append(_wrong_type(key, obj[key], "a string"))
    return problems + _unrecognized_keys(obj, COMPLETION_KEYS, "")


def check_preference_example(obj) -> list[FormatProblem]:
    """Problems of one line of a preference file (the DPO method)."""
    if not isinstance(obj, dict):
        return [_not_an_object(obj)]
    problems = _unrecognized_keys(obj, PREFERENCE_KEYS, "")
    problems += _check_preference_input(obj)
    for key in ("preferred_completion", "non_preferred_completion"):
        if key not in obj:
            problems.append(FormatProblem(f"missing_{key}", f'the line has no "{key}" list', key))
        else:
            problems += _check_preference_completion(obj[key], key)
    return problems


def check_example(obj, data_format: str) -> list[FormatProblem]:
    """Dispatch on `data_format`: "chat", "completion" or "preference"."""
    checks = {
        "chat": check_chat_example,
        "completion": check_completion_example,
        "preference": check_preference_example,
    }
    if data_format not in checks:
        raise CourseError(
            f"Unknown training format {data_format!r}; expected one of {list(checks)}."
        )
    return checks[data_format](obj)


def guess_format(obj) -> str | None:
    """The format a parsed line seems to be written in, judged by its keys, or None."""
    if not isinstance(obj, dict):
        return None
    if "messages" in obj:
        return "chat"
    if "input" in obj or "preferred_completion" in obj or "non_preferred_completion" in obj:
        return "preference"
    if "prompt" in obj or "completion" in obj:
        return "completion"
    return None


# --- messages ---------------------------------------------------------------------------------


def _check_messages(messages: list, where: str) -> list[FormatProblem]:
    problems = []
    for i, message in enumerate(messages):
        problems += _check_message(message, f"{where}[{i}]")
    return problems + _check_tool_call_answers(messages, where)


def _check_message(message, where: str, allow_weight: bool = True) -> list[FormatProblem]:
    if not isinstance(message, dict):
        return [
            FormatProblem(
                "invalid_message",
                f"{where} is {json_type(message)}, not a message object",
                where,
            )
        ]
    if "role" not in message:
        return [FormatProblem("message_missing_key", f'{where} has no "role"', f"{where}.role")]
    role = message["role"]
    if role not in ROLES:
        shown = repr(role) if isinstance(role, str) else json_type(role)
        return [
            FormatProblem(
                "unrecognized_role",
                f"{where} has the role {clipped(shown)}; the roles are {', '.join(ROLES)}",
                f"{where}.role",
            )
        ]
    problems = _check_message_keys(message, role, where, allow_weight)
    problems += _check_content(message, role, where)
    problems += _check_message_fields(message, role, where)
    return problems


def _check_message_keys(message: dict, role: str, where: str, allow_weight: bool):
    problems = []
    for key in message:
        if key == "weight" and role == "assistant" and allow_weight:
            weight = message[key]
            if type(weight) is not int or weight not in (0, 1):
                shown = clipped(json_shown(weight))
                problems.append(
                    FormatProblem(
                        "invalid_weight",
                        f"{where}.weight must be the integer 0 or 1, not {shown}",
                        f"{where}.weight",
                    )
                )
        elif key == "weight" and role != "assistant":
            problems.append(
                FormatProblem(
                    "weight_on_non_assistant",
                    f"{where} is {_a(role)} message; only assistant messages take a weight",
                    f"{where}.weight",
                )
            )
        elif key not in MESSAGE_KEYS[role] or key == "weight":
            problems.append(
                FormatProblem(
                    "message_unrecognized_key",
                    f"{where} has the key {clipped(repr(key))}, which {_a(role)} message "
                    f"does not take",
                    f"{where}.{clipped(str(key))}",
                )
            )
    return problems


def _check_content(message: dict, role: str, where: str) -> list[FormatProblem]:
    field = f"{where}.content"
    content = message.get("content")
    if role == "assistant":
        has_call = bool(message.get("tool_calls")) or message.get("function_call") is not None
        if content is None and not has_call:
            return [
                FormatProblem(
                    "message_missing_key",
                    f"{where} is an assistant message with no content, tool_calls or function_call",
                    field,
                )
            ]
        if content is None:
            return []
    elif "content" not in message:
        return [FormatProblem("message_missing_key", f'{where} has no "content"', field)]
    if role == "function":
        if content is None or isinstance(content, str):
            return []
        return [_bad_content(field, content, "a string or null")]
    if isinstance(content, str):
        return []
    if not isinstance(content, list) or not content:
        return [_bad_content(field, content, "a string or a non-empty list of content parts")]
    problems = []
    for j, part in enumerate(content):
        problems += _check_part(part, PART_TYPES[role], role, f"{field}[{j}]")
    return problems


def _check_part(part, allowed: tuple[str, ...], role: str, where: str) -> list[FormatProblem]:
    if not isinstance(part, dict):
        return [_bad_content(where, part, "a content-part object")]
    kind = part.get("type")
    if kind not in allowed:
        shown = repr(kind) if isinstance(kind, str) else "missing"
        return [
            FormatProblem(
                "invalid_content_type",
                f"{where} has the type {clipped(shown)}; {_a(role)} message's content parts "
                f"may be {', '.join(allowed)}",
                f"{where}.type",
            )
        ]
    if kind in PART_STRING_KEY:
        key = PART_STRING_KEY[kind]
        if not isinstance(part.get(key), str):
            return [_bad_content(f"{where}.{key}", part.get(key), "a string")]
        return []
    key = PART_OBJECT_KEY[kind]
    value = part.get(key)
    if not isinstance(value, dict):
        return [_bad_content(f"{where}.{key}", value, "an object")]
    for name, (required, choices) in PART_OBJECT_FIELDS[kind].items():
        if name not in value and not required:
            continue
        field, item = f"{where}.{key}.{name}", value.get(name)
        if not isinstance(item, str):
            return [_bad_content(field, item, "a string")]
        if choices and item not in choices:
            return [
                FormatProblem(
                    "invalid_content_type",
                    f"{field} is {clipped(repr(item))}; it must be one of {', '.join(choices)}",
                    field,
                )
            ]
    return []


def _check_message_fields(message: dict, role: str, where: str) -> list[FormatProblem]:
    """Fields other than content: names, ids and the assistant's calls."""
    problems = []
    if "name" in message and not isinstance(message["name"], str):
        problems.append(_wrong_type(f"{where}.name", message["name"], "a string"))
    if role == "function" and "name" not in message:
        problems.append(
            FormatProblem("message_missing_key", f'{where} has no "name"', f"{where}.name")
        )
    if role == "tool":
        if "tool_call_id" not in message:
            problems.append(
                FormatProblem(
                    "message_missing_key",
                    f'{where} is a tool message with no "tool_call_id"',
                    f"{where}.tool_call_id",
                )
            )
        elif not isinstance(message["tool_call_id"], str):
            problems.append(
                _wrong_type(f"{where}.tool_call_id", message["tool_call_id"], "a string")
            )
    if role != "assistant":
        return problems
    if message.get("refusal") is not None and not isinstance(message["refusal"], str):
        problems.append(_wrong_type(f"{where}.refusal", message["refusal"], "a string or null"))
    audio = message.get("audio")
    if audio is not None and not (isinstance(audio, dict) and isinstance(audio.get("id"), str)):
        problems.append(_wrong_type(f"{where}.audio", audio, 'null or an object with an "id"'))
    call = message.get("function_call")
    if call is not None and not _is_function_call(call):
        problems.append(
            FormatProblem(
                "invalid_tool_call",
                f'{where}.function_call must be an object with string "name" and "arguments"',
                f"{where}.function_call",
            )
        )
    if "tool_calls" in message:
        problems += _check_tool_calls(message["tool_calls"], f"{where}.tool_calls")
    return problems


def _check_tool_calls(calls, where: str) -> list[FormatProblem]:
    if not isinstance(calls, list):
        return [
            FormatProblem("invalid_tool_call", f"{where} is {json_type(calls)}, not a list", where)
        ]
    problems = []
    for k, call in enumerate(calls):
        ok = (
            isinstance(call, dict)
            and isinstance(call.get("id"), str)
            and call.get("type") == "function"
            and _is_function_call(call.get("function"))
        )
        if not ok:
            problems.append(
                FormatProblem(
                    "invalid_tool_call",
                    f'{where}[{k}] must be an object with a string "id", "type": "function" and '
                    'a "function" with string "name" and "arguments"',
                    f"{where}[{k}]",
                )
            )
    return problems


def _check_tool_call_answers(messages: list, where: str) -> list[FormatProblem]:
    """Each tool call must be answered by the tool messages right after it.

    An assistant message whose calls end the example is exempt: it teaches the model to make
    those calls (this is OpenAI's own example of the format).
    """
    problems = []
    open_calls: dict[str, str] = {}  # call id -> field of the call, awaiting an answer
    answered_any = False
    for i, message in enumerate(messages):
        role = _role_of(message)
        if role == "tool":
            call_id = message.get("tool_call_id")
            if isinstance(call_id, str) and call_id in open_calls:
                del open_calls[call_id]
                answered_any = True
            elif isinstance(call_id, str):
                problems.append(
                    FormatProblem(
                        "unmatched_tool_message",
                        f"{where}[{i}] answers the tool call {clipped(repr(call_id))}, which no "
                        "assistant message just before it made",
                        f"{where}[{i}].tool_call_id",
                    )
                )
            continue
        problems += _unanswered(open_calls)
        open_calls, answered_any = _calls_made(message, f"{where}[{i}]"), False
    if answered_any:  # the example ends part-way through answering a set of calls
        problems += _unanswered(open_calls)
    return problems


def _calls_made(message, where: str) -> dict[str, str]:
    if _role_of(message) != "assistant" or not isinstance(message.get("tool_calls"), list):
        return {}
    calls = {}
    for k, call in enumerate(message["tool_calls"]):
        if isinstance(call, dict) and isinstance(call.get("id"), str):
            calls[call["id"]] = f"{where}.tool_calls[{k}]"
    return calls


def _unanswered(open_calls: dict[str, str]) -> list[FormatProblem]:
    return [
        FormatProblem(
            "unmatched_tool_call",
            f"{field} (id {clipped(repr(call_id))}) has no tool message answering it",
            field,
        )
        for call_id, field in open_calls.items()
    ]


def _is_function_call(value) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("name"), str)
        and isinstance(value.get("arguments"), str)
    )


# --- tools, functions, preference parts -------------------------------------------------------


def _check_tools_and_functions(obj: dict, prefix: str) -> list[FormatProblem]:
    problems = []
    if "tools" in obj:
        tools = obj["tools"]
        if not isinstance(tools, list):
            problems.append(_bad_tools(f"{prefix}tools", f"is {json_type(tools)}, not a list"))
        else:
            for k, tool in enumerate(tools):
                ok = (
                    isinstance(tool, dict)
                    and tool.get("type") == "function"
                    and _is_function_definition(tool.get("function"))
                )
                if not ok:
                    problems.append(
                        _bad_tools(
                            f"{prefix}tools[{k}]",
                            'must be {"type": "function", "function": {"name": ...}}',
                        )
                    )
    if "functions" in obj:
        functions = obj["functions"]
        if not isinstance(functions, list) or not 1 <= len(functions) <= MAX_FUNCTIONS:
            problems.append(
                _bad_tools(f"{prefix}functions", f"must be a list of 1 to {MAX_FUNCTIONS} items")
            )
        else:
            for k, function in enumerate(functions):
                if not _is_function_definition(function):
                    problems.append(
                        _bad_tools(
                            f"{prefix}functions[{k}]", 'must be an object with a string "name"'
                        )
                    )
    if "parallel_tool_calls" in obj and not isinstance(obj["parallel_tool_calls"], bool):
        problems.append(
            _wrong_type(f"{prefix}parallel_tool_calls", obj["parallel_tool_calls"], "true or false")
        )
    return problems


def _is_function_definition(value) -> bool:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return False
    if "description" in value and not isinstance(value["description"], str):
        return False
    if "parameters" in value and not isinstance(value["parameters"], dict):
        return False
    strict = value.get("strict")
    return strict is None or isinstance(strict, bool)


def _check_preference_input(obj: dict) -> list[FormatProblem]:
    if "input" not in obj:
        return [FormatProblem("missing_input", 'the line has no "input" object', "input")]
    given = obj["input"]
    if not isinstance(given, dict):
        return [_wrong_type("input", given, "an object")]
    problems = _unrecognized_keys(given, PREFERENCE_INPUT_KEYS, "input.")
    problems += _check_tools_and_functions(given, "input.")
    if "messages" not in given:
        missing = FormatProblem(
            "missing_messages", 'the "input" has no "messages" list', "input.messages"
        )
        return problems + [missing]
    messages = given["messages"]
    if not isinstance(messages, list) or not messages:
        return problems + [_invalid_messages(messages, "input.messages")]
    return problems + _check_messages(messages, "input.messages")


def _check_preference_completion(value, key: str) -> list[FormatProblem]:
    if not isinstance(value, list) or len(value) != 1:
        return [
            FormatProblem(
                "invalid_preference_completion",
                f'"{key}" must be a list holding exactly one assistant message',
                key,
            )
        ]
    message, where = value[0], f"{key}[0]"
    if isinstance(message, dict) and "role" in message and message["role"] != "assistant":
        return [
            FormatProblem(
                "invalid_preference_completion",
                f"{where} must be an assistant message",
                f"{where}.role",
            )
        ]
    return _check_message(message, where, allow_weight=False)


# --- small helpers ----------------------------------------------------------------------------


def _role_of(message) -> str | None:
    role = message.get("role") if isinstance(message, dict) else None
    return role if isinstance(role, str) else None


def _unrecognized_keys(obj: dict, allowed: set[str], prefix: str) -> list[FormatProblem]:
    return [
        FormatProblem(
            "unrecognized_key",
            f"the key {clipped(repr(key))} is not part of this format "
            f"(expected {', '.join(sorted(allowed))})",
            f"{prefix}{clipped(str(key))}",
        )
        for key in obj
        if key not in allowed
    ]


def _not_an_object(obj) -> FormatProblem:
    return FormatProblem("not_an_object", f"the line is {json_type(obj)}, not a JSON object", None)


def _invalid_messages(messages, field: str) -> FormatProblem:
    what = "an empty list" if messages == [] else json_type(messages)
    return FormatProblem(
        "invalid_messages", f'"{field}" is {what}; it must be a non-empty list', field
    )


def _bad_content(field: str, value, expected: str) -> FormatProblem:
    return FormatProblem(
        "invalid_content_type", f"{field} is {json_type(value)}; it must be {expected}", field
    )


def _wrong_type(field: str, value, expected: str) -> FormatProblem:
    return FormatProblem(
        "invalid_type", f"{field} is {json_type(value)}; it must be {expected}", field
    )


def _bad_tools(field: str, complaint: str) -> FormatProblem:
    return FormatProblem("invalid_tools", f"{field} {complaint}", field)


def _a(word: str) -> str:
    """The article for a role's name ("an assistant", "a user")."""
    return f"an {word}" if word[:1] in "aeio" else f"a {word}"
