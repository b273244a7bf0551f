"""The per-line validators against OpenAI's published training-file schemas, and fuzzed."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.errors import CourseError
from helpers.paths import SHARED_DIR
from helpers.training_format import (
    CODES,
    FormatProblem,
    check_chat_example,
    check_completion_example,
    check_example,
    check_preference_example,
    guess_format,
)

SCHEMA_FILE = SHARED_DIR / "openai-openapi" / "openapi-with-training-file-schemas.yaml"
CHECKS = {
    "FineTuneChatRequestInput": check_chat_example,
    "FineTuneCompletionRequestInput": check_completion_example,
    "FineTunePreferenceRequestInput": check_preference_example,
}

USER = {"role": "user", "content": "What is the symbol of gold?"}
ASSISTANT = {"role": "assistant", "content": "Au."}
CALL = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}

VALID_CHAT = [
    {"messages": [USER, ASSISTANT]},
    {"messages": [{"role": "system", "content": "Be brief.", "name": "setup"}, USER, ASSISTANT]},
    {"messages": [USER, {**ASSISTANT, "weight": 0}, USER, {**ASSISTANT, "weight": 1}]},
    {
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
                ],
            },
            {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]},
        ]
    },
    {
        "messages": [
            USER,
            {"role": "assistant", "content": None, "tool_calls": [CALL]},
            {"role": "tool", "tool_call_id": "call_1", "content": "79"},
            ASSISTANT,
        ],
        "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {}}}],
        "parallel_tool_calls": False,
    },
    {
        "messages": [
            USER,
            {"role": "assistant", "function_call": {"name": "lookup", "arguments": "{}"}},
            {"role": "function", "name": "lookup", "content": "79"},
            ASSISTANT,
        ],
        "functions": [{"name": "lookup", "description": "Look it up"}],
    },
]

VALID_PREFERENCE = [
    {
        "input": {"messages": [USER]},
        "preferred_completion": [ASSISTANT],
        "non_preferred_completion": [{"role": "assistant", "content": "Gold."}],
    }
]

# Invalid examples the schema also rejects, with the code each must be reported under.
SCHEMA_INVALID_CHAT = [
    ("a list", [USER, ASSISTANT], "not_an_object"),
    ("empty messages", {"messages": []}, "invalid_messages"),
    ("messages not a list", {"messages": "hi"}, "invalid_messages"),
    ("message not an object", {"messages": ["hi", ASSISTANT]}, "invalid_message"),
    ("no role", {"messages": [{"content": "hi"}, ASSISTANT]}, "message_missing_key"),
    ("no content", {"messages": [{"role": "user"}, ASSISTANT]}, "message_missing_key"),
    ("unknown role", {"messages": [{"role": "human", "content": "x"}, ASSISTANT]}, None),
    ("number content", {"messages": [{"role": "user", "content": 3}, ASSISTANT]}, None),
    (
        "image in a system message",
        {
            "messages": [
                {"role": "system", "content": [{"type": "image_url", "image_url": {"url": "u"}}]},
                USER,
                ASSISTANT,
            ]
        },
        "invalid_content_type",
    ),
    ("empty parts", {"messages": [{"role": "user", "content": []}, ASSISTANT]}, None),
    ("weight 2", {"messages": [USER, {**ASSISTANT, "weight": 2}]}, "invalid_weight"),
    ("weight true", {"messages": [USER, {**ASSISTANT, "weight": True}]}, "invalid_weight"),
    ("weight string", {"messages": [USER, {**ASSISTANT, "weight": "1"}]}, "invalid_weight"),
    (
        "tool message without id",
        {"messages": [USER, {"role": "tool", "content": "x"}, ASSISTANT]},
        "message_missing_key",
    ),
    (
        "malformed tool call",
        {"messages": [USER, {"role": "assistant", "tool_calls": [{"id": "c"}]}]},
        "invalid_tool_call",
    ),
    ("name not a string", {"messages": [{**USER, "name": 7}, ASSISTANT]}, "invalid_type"),
    ("tools not a list", {"messages": [USER, ASSISTANT], "tools": {}}, "invalid_tools"),
    ("empty functions", {"messages": [USER, ASSISTANT], "functions": []}, "invalid_tools"),
    (
        "parallel_tool_calls a string",
        {"messages": [USER, ASSISTANT], "parallel_tool_calls": "yes"},
        "invalid_type",
    ),
]
for _name, _example, _code in SCHEMA_INVALID_CHAT:
    assert _code is None or _code in CODES, _code

# Invalid by OpenAI's rules though the schema alone lets them through.
STRICTER_THAN_SCHEMA_CHAT = [
    ("no messages key", {}, "missing_messages"),
    ("unknown top-level key", {"messages": [USER, ASSISTANT], "meta": 1}, "unrecognized_key"),
    ("unknown message key", {"messages": [{**USER, "mood": "x"}, ASSISTANT]}, None),
    ("weight on a user message", {"messages": [{**USER, "weight": 1}, ASSISTANT]}, None),
    ("no assistant", {"messages": [USER]}, "missing_assistant_message"),
    ("empty assistant", {"messages": [USER, {"role": "assistant"}]}, "message_missing_key"),
    (
        "unanswered tool call",
        {"messages": [USER, {"role": "assistant", "tool_calls": [CALL]}, USER, ASSISTANT]},
        "unmatched_tool_call",
    ),
    (
        "tool message with no call",
        {"messages": [USER, {"role": "tool", "tool_call_id": "x", "content": "y"}, ASSISTANT]},
        "unmatched_tool_message",
    ),
]


def codes(problems: list[FormatProblem]) -> set[str]:
    return {p.code for p in problems}


# --- against the published schemas ------------------------------------------------------------


def _allow_null(node):
    """OpenAPI 3.0's `nullable: true` is not JSON Schema; spell it as `anyOf` with null."""
    if isinstance(node, list):
        return [_allow_null(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {k: _allow_null(v) for k, v in node.items() if not k.startswith("x-")}
    if node.pop("nullable", False):
        return {"anyOf": [{"type": "null"}, node]}
    return node


@pytest.fixture(scope="module")
def schemas():
    if not SCHEMA_FILE.is_file():
        pytest.skip(f"{SCHEMA_FILE} is absent (the course's ../shared folder is not there)")
    yaml = pytest.importorskip("yaml")
    jsonschema = pytest.importorskip("jsonschema")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SCHEMA_FILE.open(encoding="utf-8") as f:
        components = yaml.load(f, Loader=loader)["components"]["schemas"]
    validators, examples = {}, {}
    for name in CHECKS:
        examples[name] = json.loads(components[name]["x-oaiMeta"]["example"])
        root = {
            "$ref": f"#/components/schemas/{name}",
            "components": {"schemas": _allow_null(components)},
        }
        validators[name] = jsonschema.Draft7Validator(root)
    return validators, examples


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_the_schema_example_is_accepted(schemas, name):
    validators, examples = schemas
    example = examples[name]
    assert validators[name].is_valid(example)
    assert CHECKS[name](example) == []


@pytest.mark.parametrize("example", VALID_CHAT, ids=range(len(VALID_CHAT)))
def test_valid_chat_examples_pass_both(schemas, example):
    validators, _ = schemas
    assert validators["FineTuneChatRequestInput"].is_valid(example)
    assert check_chat_example(example) == []


def test_valid_preference_examples_pass_both(schemas):
    validators, _ = schemas
    for example in VALID_PREFERENCE:
        assert validators["FineTunePreferenceRequestInput"].is_valid(example)
        assert check_preference_example(example) == []


@pytest.mark.parametrize(
    "name,example,code", SCHEMA_INVALID_CHAT, ids=[c[0] for c in SCHEMA_INVALID_CHAT]
)
def test_schema_invalid_chat_examples_are_rejected(schemas, name, example, code):
    validators, _ = schemas
    assert not validators["FineTuneChatRequestInput"].is_valid(example)
    problems = check_chat_example(example)
    assert problems
    if code:
        assert code in codes(problems)


@pytest.mark.parametrize(
    "name,example,code",
    STRICTER_THAN_SCHEMA_CHAT,
    ids=[c[0] for c in STRICTER_THAN_SCHEMA_CHAT],
)
def test_rules_beyond_the_schema(name, example, code):
    problems = check_chat_example(example)
    assert problems
    if code:
        assert code in codes(problems)


def test_schema_invalid_completion_and_preference_lines_are_rejected(schemas):
    validators, _ = schemas
    completion = validators["FineTuneCompletionRequestInput"]
    preference = validators["FineTunePreferenceRequestInput"]
    for example in ({"prompt": 1, "completion": "x"}, {"prompt": "x", "completion": None}, "s"):
        assert not completion.is_valid(example)
        assert check_completion_example(example)
    two = [ASSISTANT, ASSISTANT]
    for example in (
        {"input": {"messages": []}, "preferred_completion": [ASSISTANT]},
        {"input": {"messages": [USER]}, "preferred_completion": two},
        {"input": {"messages": [USER]}, "preferred_completion": [USER]},
        {"input": "hi", "preferred_completion": [ASSISTANT], "non_preferred_completion": []},
    ):
        assert not preference.is_valid(example)
        assert check_preference_example(example)


# Examples built by mutating valid ones: mostly near-valid, so both verdicts occur often.
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.lists(st.text(max_size=3), max_size=2),
    st.just([{"type": "text", "text": "x"}]),
    st.just([{"type": "refusal", "refusal": "no"}]),
    st.just([{"type": "input_audio", "input_audio": {"data": "x", "format": "ogg"}}]),
    st.just([{"type": "file", "file": {"file_id": 5}}]),
    st.just([CALL]),
)
_keys = st.sampled_from(
    ["role", "content", "name", "weight", "tool_calls", "tool_call_id", "function_call",
     "refusal", "audio", "messages", "tools", "functions", "parallel_tool_calls", "extra"]
)  # fmt: skip
_roles = st.sampled_from(["system", "user", "assistant", "tool", "function", "developer", 3])


@st.composite
def mutated_chat(draw):
    example = copy.deepcopy(draw(st.sampled_from(VALID_CHAT)))
    for _ in range(draw(st.integers(1, 3))):
        messages = example["messages"]
        if not isinstance(messages, list) or not messages:
            break  # a mutation replaced or emptied the messages: nothing left to pick from
        if not all(isinstance(m, dict) for m in messages):
            break
        i = draw(st.integers(0, len(messages) - 1))
        action = draw(st.sampled_from(["set", "delete", "role", "top", "drop"]))
        if action == "set":
            messages[i][draw(_keys)] = copy.deepcopy(draw(_values))
        elif action == "delete" and messages[i]:
            messages[i].pop(draw(st.sampled_from(sorted(messages[i]))))
        elif action == "role":
            messages[i]["role"] = draw(_roles)
        elif action == "top":
            example[draw(_keys)] = copy.deepcopy(draw(_values))
        elif len(messages) > 1:
            messages.pop(i)
    return example


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(example=mutated_chat())
def test_whatever_the_schema_rejects_is_rejected(schemas, example):
    validators, _ = schemas
    problems = check_chat_example(example)
    if not validators["FineTuneChatRequestInput"].is_valid(example):
        assert problems, "the schema rejects this example but the checker accepted it"


# --- never raises -----------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.one_of(_keys, st.text(max_size=4)), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(value=_json)
def test_no_json_value_makes_a_checker_raise(value):
    for check in (check_chat_example, check_completion_example, check_preference_example):
        problems = check(value)
        assert isinstance(problems, list)
        for p in problems:
            assert isinstance(p, FormatProblem) and p.code in CODES and p.message
    for wrapped in ({"messages": value}, {"messages": [value]}, {"input": {"messages": [value]}}):
        check_chat_example(wrapped)
        check_preference_example(wrapped)


# --- details ----------------------------------------------------------------------------------


def test_problems_name_the_field_and_read_as_sentences():
    problems = check_chat_example({"messages": [USER, {"role": "user", "content": 5}]})
    problem = next(p for p in problems if p.code == "invalid_content_type")
    assert problem.field == "messages[1].content"
    assert "messages[1].content is a number" in problem.message


def test_a_final_tool_call_teaches_the_call_and_needs_no_answer():
    example = {"messages": [USER, {"role": "assistant", "tool_calls": [CALL]}]}
    assert check_chat_example(example) == []
    half_answered = {
        "messages": [
            USER,
            {"role": "assistant", "tool_calls": [CALL, {**CALL, "id": "call_2"}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "79"},
        ]
    }
    problems = check_chat_example(half_answered)
    assert [p.field for p in problems] == ["messages[1].tool_calls[1]"]


def test_chat_and_completion_lines_in_the_wrong_file_get_a_hint():
    problems = check_chat_example({"prompt": "a", "completion": "b"})
    assert codes(problems) == {"missing_messages"} and "babbage-002" in problems[0].message
    problems = check_completion_example({"messages": [USER, ASSISTANT]})
    assert codes(problems) == {"missing_prompt"} and "chat format" in problems[0].message


def test_completion_lines():
    assert check_completion_example({"prompt": "", "completion": " yes"}) == []
    assert codes(check_completion_example({"prompt": "a"})) == {"missing_completion"}
    assert codes(check_completion_example({"prompt": "a", "completion": "b", "id": 1})) == {
        "unrecognized_key"
    }


def test_weights_are_not_allowed_in_preference_completions():
    example = copy.deepcopy(VALID_PREFERENCE[0])
    example["preferred_completion"][0]["weight"] = 1
    assert codes(check_preference_example(example)) == {"message_unrecognized_key"}


def test_guess_format_and_dispatch():
    assert guess_format({"messages": []}) == "chat"
    assert guess_format(VALID_PREFERENCE[0]) == "preference"
    assert guess_format({"prompt": "a", "completion": "b"}) == "completion"
    assert guess_format([1]) is None and guess_format({"x": 1}) is None
    assert check_example(VALID_CHAT[0], "chat") == []
    with pytest.raises(CourseError, match="Unknown training format"):
        check_example({}, "dpo")
