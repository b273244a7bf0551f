"""Batched requests against a tiny local HTTP server that answers some requests 429 or 500.

Each prompt names its fate: "name|plan", where the plan lists what the server answers to the
prompt's successive attempts before it succeeds (429 without a delay, 429 with Retry-After in
seconds or milliseconds, 500, an exhausted quota, a 400, or 429 for ever). A request with a list
of prompts fails as its first failing prompt asks, and otherwise answers every prompt's choices.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import signal
import threading
import time
from collections import defaultdict
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import openai
import pytest

from helpers import batch
from helpers.api_errors import APIRefused
from helpers.batch import BatchRequestFailed, RetryPolicy, retry_after_seconds
from helpers.errors import CourseError

FAST = RetryPolicy(first_backoff=0.01, max_backoff=0.05)
FAILURES = {
    "429": (429, {}, "rate_limit_exceeded"),
    "429ra": (429, {"Retry-After": "1"}, "rate_limit_exceeded"),
    "429ms": (429, {"retry-after-ms": "300"}, "rate_limit_exceeded"),
    "500": (500, {}, "server_error"),
    "quota": (429, {}, "insufficient_quota"),
    "400": (400, {}, "invalid_request"),
}


class ScriptedAPI:
    """What the server saw: each prompt's attempt times, and the most requests at once."""

    def __init__(self, delay: float = 0.02):
        self.delay = delay
        self.attempts: dict[str, list[float]] = defaultdict(list)
        self.in_flight = 0
        self.max_in_flight = 0
        self.prompts_per_request: list[int] = []
        self.lock = threading.Lock()

    def answer(self, path: str, body: dict) -> tuple[int, dict, dict]:
        if path.endswith("/chat/completions"):
            keys = [body["messages"][-1]["content"]]
        else:
            prompt = body["prompt"]
            keys = prompt if isinstance(prompt, list) else [prompt]
        with self.lock:
            attempts = []
            for key in keys:
                self.attempts[key].append(time.monotonic())
                attempts.append(len(self.attempts[key]))
            self.prompts_per_request.append(len(keys))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            names = []
            for key, attempt in zip(keys, attempts, strict=True):
                name, _, plan = key.partition("|")
                steps = plan.split(",") if plan else []
                if plan == "always429":
                    steps = ["429"] * 1000
                if attempt <= len(steps):
                    status, headers, code = FAILURES[steps[attempt - 1]]
                    error = {"message": f"scripted {status}", "type": code, "code": code}
                    return status, headers, {"error": error}
                names.append(name)
            if "messages" in body:
                return 200, {}, chat_body(names[0], body)
            return 200, {}, completion_body(names, body)
        finally:
            with self.lock:
                self.in_flight -= 1


def completion_body(names: list[str], body: dict) -> dict:
    """Each prompt's `n` choices, prompt by prompt (choice j of prompt p is index p * n + j),
    listed in reverse to check that the client orders them by index."""
    top = {" baseball": -0.05, " hockey": -3.0}
    n = body.get("n", 1)
    choices = [
        {
            "text": name if n == 1 else f"{name}/{j}",
            "index": p * n + j,
            "finish_reason": "length",
            "logprobs": {
                "tokens": [" baseball"],
                "token_logprobs": [-0.05],
                "top_logprobs": [top],
                "text_offset": [0],
            },
        }
        for p, name in enumerate(names)
        for j in range(n)
    ]
    return {
        "id": f"cmpl-{names[0]}",
        "object": "text_completion",
        "created": 1_767_225_600,
        "model": body["model"],
        "choices": choices[::-1],
        "usage": {
            "prompt_tokens": 5 * len(names),
            "completion_tokens": n * len(names),
            "total_tokens": 6 * len(names),
        },
    }


def chat_body(name: str, body: dict) -> dict:
    return {
        "id": f"chatcmpl-{name}",
        "object": "chat.completion",
        "created": 1_767_225_600,
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": name},
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }


@pytest.fixture
def api():
    scripted = ScriptedAPI()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length))
            status, headers, payload = scripted.answer(self.path, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # keep the test output clean
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 64  # the default 5 drops connections beyond it for a second

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    scripted.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield scripted
    server.shutdown()
    server.server_close()


@pytest.fixture
def env(api, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", api.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    return api


def texts(responses) -> list[str]:
    return [r.choices[0].text for r in responses]


def test_results_come_back_in_order_with_retries_and_bounded_concurrency(env):
    plans = ["", "429", "500", "429,500", "500,500,429", "", "429,429"]
    prompts = [f"p{i:02d}|{plans[i % len(plans)]}".rstrip("|") for i in range(40)]
    responses = batch.complete_all(
        prompts, "ft:babbage-002:test", concurrency=5, per_request=1, retry=FAST
    )
    assert texts(responses) == [p.partition("|")[0] for p in prompts]
    for prompt in prompts:
        _, _, plan = prompt.partition("|")
        expected = len(plan.split(",")) + 1 if plan else 1
        assert len(env.attempts[prompt]) == expected
    assert 1 < env.max_in_flight <= 5


def test_prompts_go_in_lists_and_come_back_one_response_per_prompt(env):
    prompts = [f"p{i:02d}" + ("|500" if i == 27 else "") for i in range(45)]
    responses = batch.complete_all(prompts, "m", per_request=20, concurrency=2, retry=FAST)
    assert sorted(env.prompts_per_request) == [5, 20, 20, 20]  # the second list, sent twice
    assert texts(responses) == [p.partition("|")[0] for p in prompts]
    assert all(len(r.choices) == 1 and r.choices[0].index == 0 for r in responses)
    assert all(r.usage is None for r in responses)  # a request's usage is all its prompts'
    assert responses[0].id == responses[19].id != responses[20].id


def test_several_choices_per_prompt_are_split_prompt_by_prompt(env):
    responses = batch.complete_all(["a", "b", "c"], "m", n=2, retry=FAST)
    assert [[c.text for c in r.choices] for r in responses] == [
        ["a/0", "a/1"],
        ["b/0", "b/1"],
        ["c/0", "c/1"],
    ]
    assert [[c.index for c in r.choices] for r in responses] == [[0, 1]] * 3


def test_each_request_carries_the_classifier_settings(env):
    seen = []
    original = env.answer

    def spy(path, body):
        seen.append(body)
        return original(path, body)

    env.answer = spy
    batch.complete_all(["x"], "ft:babbage-002:test", retry=FAST, user="course")
    assert seen[0]["max_tokens"] == 1 and seen[0]["temperature"] == 0
    assert seen[0]["logprobs"] == 2 and seen[0]["user"] == "course"


@pytest.mark.parametrize(("plan", "asked"), [("429ra", 1.0), ("429ms", 0.3)])
def test_retry_after_is_honoured(env, plan, asked):
    prompt = f"slow|{plan}"
    batch.complete_all([prompt], "m", retry=FAST)
    first, second = env.attempts[prompt]
    assert second - first >= asked - 0.05  # FAST alone would wait at most 0.01 s


def test_retries_are_capped_then_a_clear_error_keeps_what_arrived(env):
    with pytest.raises(BatchRequestFailed) as caught:
        batch.complete_all(
            ["ok", "stuck|always429"], "m", per_request=1, retry=replace(FAST, max_retries=2)
        )
    assert len(env.attempts["stuck|always429"]) == 3
    message = str(caught.value)
    assert "Request 2 of 2" in message and "2 retries" in message and "HTTP 429" in message
    assert texts(caught.value.results[:1]) == ["ok"] and caught.value.results[1] is None


def test_a_bad_request_is_not_retried(env):
    with pytest.raises(BatchRequestFailed, match=r"Request 1 of 1 was refused: HTTP 400") as caught:
        batch.complete_all(["bad|400"], "m", retry=FAST)
    assert len(env.attempts["bad|400"]) == 1
    assert "HTTP 400 (scripted 400)" in str(caught.value)  # the API's words, the code once


def test_an_exhausted_quota_is_explained_not_retried(env):
    with pytest.raises(APIRefused, match="insufficient_quota"):
        batch.complete_all(["broke|quota"], "m", retry=FAST)
    assert len(env.attempts["broke|quota"]) == 1


def test_a_retry_after_beyond_the_limit_ends_the_batch(env, monkeypatch):
    waits = []
    real_sleep = asyncio.sleep

    async def sleep(seconds, *args, **kwargs):
        waits.append(seconds)
        return await real_sleep(seconds, *args, **kwargs)

    monkeypatch.setattr(batch.asyncio, "sleep", sleep)
    policy = RetryPolicy(first_backoff=0.01, max_retry_after=0.5)
    with pytest.raises(BatchRequestFailed, match="asks to wait 1 s"):
        batch.complete_all(["x|429ra"], "m", retry=policy)
    # Ended at once: one attempt, and no wait of the second the server asked for.
    assert len(env.attempts["x|429ra"]) == 1 and all(w < 1 for w in waits)


def test_the_progress_bar_ends_at_n_of_n(env, capsys):
    batch.complete_all([f"q{i}|429" for i in range(12)], "m", retry=FAST, desc="test posts")
    final = capsys.readouterr().err.rstrip("\n").split("\r")[-1]
    assert final.startswith("test posts: 100%|") and final.endswith("| 12/12")


def test_it_works_where_an_event_loop_is_already_running(env):
    async def notebook_cell():
        assert asyncio.get_running_loop()
        plain = batch.complete_all(["a", "b|500"], "m", retry=FAST)
        awaited = await batch.acomplete_all(["c", "d|429"], "m", retry=FAST)
        return texts(plain) + texts(awaited)

    assert asyncio.run(notebook_cell()) == ["a", "b", "c", "d"]


def test_a_given_client_is_used_and_left_open(api):
    sync_client = openai.OpenAI(base_url=api.base_url, api_key="k")
    assert texts(batch.complete_all(["s1", "s2"], "m", client=sync_client, retry=FAST)) == [
        "s1",
        "s2",
    ]

    async def twice():
        async_client = openai.AsyncOpenAI(base_url=api.base_url, api_key="k", max_retries=5)
        first = await batch.acomplete_all(["a1"], "m", client=async_client, retry=FAST)
        second = await batch.acomplete_all(["a2|500"], "m", client=async_client, retry=FAST)
        assert not async_client.is_closed() and async_client.max_retries == 5
        await async_client.close()
        return texts(first + second)

    assert asyncio.run(twice()) == ["a1", "a2"]
    # The SDK's own retries are off: one 500 costs exactly one retry, ours.
    assert len(api.attempts["a2|500"]) == 2


def test_chat_all_keeps_the_order(env):
    conversations = [
        [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": f"c{i}"}]
        for i in range(6)
    ]
    conversations[2][-1]["content"] = "c2|429"
    responses = batch.chat_all(conversations, "ft:gpt-4o-mini:test", retry=FAST, concurrency=3)
    assert [r.choices[0].message.content for r in responses] == [f"c{i}" for i in range(6)]


def test_nothing_is_sent_for_no_prompts(env):
    assert batch.complete_all([], "m") == []
    assert not env.attempts


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: batch.complete_all("one prompt", "m"), "not one string"),
        (lambda: batch.complete_all(["a", 3], "m"), "Prompt 1 is 3, not a string"),
        (lambda: batch.complete_all([None], "m"), "Prompt 0 is None, not a string"),
        (lambda: batch.complete_all(["a"], "m", concurrency=0), "concurrency"),
        (lambda: batch.complete_all(["a"], "m", per_request=0), "per_request"),
        (lambda: batch.chat_all([[{"content": "hi"}]], "m"), "Conversation 0, message 0"),
        (lambda: batch.chat_all([[]], "m"), "Conversation 0 must be"),
        (  # a chat completion's setting, for a legacy completion: named, not the SDK's TypeError
            lambda: batch.complete_all(["a"], "m", max_completion_tokens=2),
            "complete_all does not take max_completion_tokens: .* which take .*max_tokens",
        ),
        (lambda: batch.chat_all([[{"role": "user", "content": "hi"}]], "m", echo=True), "echo"),
    ],
)
def test_bad_arguments_get_a_clear_error(env, call, message):
    with pytest.raises(CourseError, match=message):
        call()
    assert not env.attempts


def test_retry_after_header_forms():
    def failure(**headers):
        return SimpleNamespace(response=SimpleNamespace(headers=headers))

    assert retry_after_seconds(failure(**{"retry-after": "2.5"})) == 2.5
    assert retry_after_seconds(failure(**{"retry-after-ms": "150", "retry-after": "9"})) == 0.15
    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8 <= retry_after_seconds(failure(**{"retry-after": in_ten})) <= 10.5
    assert retry_after_seconds(failure(**{"retry-after": "soon"})) is None
    assert retry_after_seconds(failure()) is None


def test_backoff_doubles_and_is_capped_when_no_delay_is_asked():
    policy = RetryPolicy(first_backoff=1.0, max_backoff=5.0)
    silent = SimpleNamespace(response=SimpleNamespace(headers={}))
    delays = [policy.delay(n, silent) for n in range(5)]
    for n, delay in enumerate(delays):
        assert 0.5 * min(5.0, 2**n) <= delay <= min(5.0, 2**n)


def _interrupt_the_process():
    os.kill(os.getpid(), signal.SIGINT)


def _interrupt_this_thread():
    # The system may deliver a process's SIGINT to any of its threads; Python raises it in the
    # main thread only when that thread next wakes up.
    signal.pthread_kill(threading.get_ident(), signal.SIGINT)


@pytest.mark.parametrize(
    "interrupt", [_interrupt_the_process, _interrupt_this_thread], ids=["process", "other-thread"]
)
def test_interrupting_the_kernel_cancels_the_batch(env, interrupt):
    env.delay = 0.05  # 200 prompts two at a time would take five seconds

    async def notebook_cell():
        batch.complete_all(
            [f"i{n}" for n in range(200)], "m", concurrency=2, per_request=1, retry=FAST
        )

    # A kernel turns SIGINT into KeyboardInterrupt; a Python started with SIGINT ignored (by
    # nohup, or as a shell's background job) would not, so the test sets Python's own handler.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Timer(0.3, interrupt).start()  # Jupyter's interrupt
    loop = asyncio.new_event_loop()  # like ipykernel's loop: no SIGINT handler of its own
    try:
        with pytest.raises(KeyboardInterrupt):
            loop.run_until_complete(notebook_cell())
    finally:
        loop.close()
        signal.signal(signal.SIGINT, previous)
    # It stopped part way (however late a loaded machine delivered the interrupt), and nothing
    # goes on sending after it.
    sent = sum(len(times) for times in env.attempts.values())
    time.sleep(0.2)
    assert sum(len(times) for times in env.attempts.values()) == sent < 200
