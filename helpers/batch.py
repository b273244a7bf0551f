"""Many requests at once: bounded concurrency, a progress bar, and retries on 429 and 5xx.

`complete_all` and `chat_all` are plain functions a notebook cell can call; `acomplete_all` and
`achat_all` are the same for code that is already async. Results come back in input order.

The legacy completions endpoint takes a list of prompts in one request (`prompt=[...]`) and
answers with their choices in one list, prompt by prompt; `complete_all` sends its prompts that
way, `per_request` at a time, which costs a fraction of a round trip per prompt. Chat has no
list form: `chat_all` sends one conversation per request, a bounded number at once.

Retries are this module's job, not the SDK's: the AsyncOpenAI client used here is made with
`max_retries=0`. Two stacked policies would multiply the attempts (the SDK's 3 per call times
ours) and hide them; here a rate-limited request waits as long as the API's `Retry-After` asks
(else an exponential backoff), keeps its concurrency slot meanwhile so that the whole batch slows
down, and gives up after a bounded number of retries with a clear error.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import inspect
import random
import reprlib
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

import openai
from tqdm import tqdm

from helpers.api_errors import explain
from helpers.errors import CourseError

# No elapsed time, rate or ETA: the bar's final state is the same on every run.
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt}"
# Prompts sent in one completions request. The API documents no maximum for the list (each
# prompt, plus max_tokens, must fit the model's context window, and a request's tokens count
# against the tokens-per-minute limit as a whole); 20 is what common clients send, and it keeps
# the work a retry repeats small.
PROMPTS_PER_REQUEST = 20


class BatchRequestFailed(CourseError):
    """A request of a batch failed for good; `results` holds what had arrived (None elsewhere)."""

    def __init__(self, message: str, results: list | None = None) -> None:
        super().__init__(message)
        self.results = results


@dataclass(frozen=True)
class RetryPolicy:
    """How a request that met a 429, a 5xx or a dropped connection is tried again."""

    max_retries: int = 6  # after the first attempt
    first_backoff: float = 1.0  # seconds before the first retry when the API names no delay
    max_backoff: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After ends the batch instead of stalling it

    def delay(self, retry: int, exc: Exception) -> float:
        """Seconds to wait before retry number `retry` (0 for the first)."""
        asked = retry_after_seconds(exc)
        if asked is not None:
            return asked
        backoff = min(self.max_backoff, self.first_backoff * 2**retry)
        # Jitter spreads the retries of requests that failed together.
        return backoff * random.uniform(0.5, 1.0)


def retry_after_seconds(exc: Exception) -> float | None:
    """The delay the API asked for (`retry-after-ms`, or `Retry-After` in seconds or as a date)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    for header, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())
    return None


def is_retryable(exc: Exception) -> bool:
    """429s (except an exhausted quota), 5xx and dropped connections pass; the rest will not."""
    if isinstance(exc, openai.RateLimitError):
        return explain(exc) is None  # insufficient_quota will not clear up by waiting
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code >= 500
    return isinstance(exc, openai.APIConnectionError)


async def acomplete_all(
    prompts: Sequence[str],
    model: str,
    *,
    client: openai.AsyncOpenAI | openai.OpenAI | None = None,
    concurrency: int = 8,
    per_request: int = PROMPTS_PER_REQUEST,
    max_tokens: int = 1,
    temperature: float = 0,
    logprobs: int | None = 2,
    retry: RetryPolicy | None = None,
    desc: str = "completions",
    **extra,
) -> list:
    """One completion per prompt, in the prompts' order: `complete_all` for async code."""
    _check_prompts(prompts)
    _check_settings(extra, "complete_all", "completions")
    _check_count("per_request", per_request)
    chosen = {"max_tokens": max_tokens, "temperature": temperature, "logprobs": logprobs}
    # None means "not sent": the API's own default applies.
    settings = {key: value for key, value in (chosen | extra).items() if value is not None}
    n = settings.get("n", 1)
    chunks = [list(prompts[i : i + per_request]) for i in range(0, len(prompts), per_request)]

    async def send(api: openai.AsyncOpenAI, chunk: list[str]):
        return await api.completions.create(model=model, prompt=chunk, **settings)

    responses = await _run_batch(chunks, send, client, concurrency, retry, desc, len)
    return [
        one
        for chunk, response in zip(chunks, responses, strict=True)
        for one in split_by_prompt(response, len(chunk), n)
    ]


def split_by_prompt(response, prompts: int, n: int = 1) -> list:
    """A response to `prompts` prompts cut into one response per prompt.

    The API numbers the choices prompt by prompt (prompt p's j-th choice has index p * n + j);
    each part keeps the response's id, model and time, its own choices numbered from 0, and no
    usage (the request's token counts belong to all its prompts together).
    """
    choices = sorted(response.choices, key=lambda c: c.index)
    if len(choices) != prompts * n:
        raise CourseError(
            f"The API answered {len(choices)} choices for {prompts} prompts with n={n}; "
            f"expected {prompts * n}."
        )
    return [
        response.model_copy(
            update={
                "choices": [
                    c.model_copy(update={"index": j})
                    for j, c in enumerate(choices[p * n : p * n + n])
                ],
                "usage": None,
            }
        )
        for p in range(prompts)
    ]


async def achat_all(
    messages_list: Sequence[Sequence[Mapping]],
    model: str,
    *,
    client: openai.AsyncOpenAI | openai.OpenAI | None = None,
    concurrency: int = 8,
    temperature: float = 0,
    retry: RetryPolicy | None = None,
    desc: str = "chat completions",
    **extra,
) -> list:
    """One chat completion per conversation, in input order: `chat_all` for async code."""
    _check_conversations(messages_list)
    _check_settings(extra, "chat_all", "chat")
    settings = {"temperature": temperature} | extra

    async def send(api: openai.AsyncOpenAI, messages: Sequence[Mapping]):
        return await api.chat.completions.create(model=model, messages=list(messages), **settings)

    return await _run_batch(messages_list, send, client, concurrency, retry, desc)


def complete_all(
    prompts: Sequence[str],
    model: str,
    *,
    client: openai.AsyncOpenAI | openai.OpenAI | None = None,
    concurrency: int = 8,
    per_request: int = PROMPTS_PER_REQUEST,
    max_tokens: int = 1,
    temperature: float = 0,
    logprobs: int | None = 2,
    retry: RetryPolicy | None = None,
    desc: str = "completions",
    **extra,
) -> list:
    """Send every prompt to the completions endpoint; one response per prompt, in input order.

    Prompts go `per_request` to a request (`prompt=[...]`), at most `concurrency` requests in
    flight. The defaults make a classifier's request: one token, no sampling, the two likeliest
    tokens. `client` is an OpenAI or AsyncOpenAI client (by default one made from the
    environment), `retry` a RetryPolicy, `desc` the progress bar's label (it counts prompts);
    `extra` goes to `completions.create` as it is. Each prompt's response holds its own choices
    and no usage (see `split_by_prompt`). Works in a notebook cell too, where an event loop is
    already running.
    """
    return run_coroutine(
        lambda: acomplete_all(
            prompts,
            model,
            client=client,
            concurrency=concurrency,
            per_request=per_request,
            max_tokens=max_tokens,
            temperature=temperature,
            logprobs=logprobs,
            retry=retry,
            desc=desc,
            **extra,
        )
    )


def chat_all(
    messages_list: Sequence[Sequence[Mapping]],
    model: str,
    *,
    client: openai.AsyncOpenAI | openai.OpenAI | None = None,
    concurrency: int = 8,
    temperature: float = 0,
    retry: RetryPolicy | None = None,
    desc: str = "chat completions",
    **extra,
) -> list:
    """Send every conversation to the chat completions endpoint; responses in input order.

    Options as for `complete_all`; `extra` goes to `chat.completions.create` as it is
    (`max_completion_tokens`, `logprobs`, `top_logprobs`...).
    """
    return run_coroutine(
        lambda: achat_all(
            messages_list,
            model,
            client=client,
            concurrency=concurrency,
            temperature=temperature,
            retry=retry,
            desc=desc,
            **extra,
        )
    )


INTERRUPT_CHECK = 0.1  # seconds between two looks for an interrupt while a batch runs


def run_coroutine(make: Callable[[], Awaitable]):
    """Run a coroutine to its end from plain code, even inside Jupyter.

    Jupyter's kernel already runs an event loop, where `asyncio.run` is refused; the coroutine
    then runs in its own loop in a worker thread while this call waits for it. Interrupting the
    kernel cancels the batch (its requests in flight are dropped) instead of leaving it running.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    running: dict = {}
    interrupted = threading.Event()

    async def main():
        running["loop"], running["task"] = asyncio.get_running_loop(), asyncio.current_task()
        if interrupted.is_set():
            raise asyncio.CancelledError
        return await make()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch") as pool:
        future = pool.submit(asyncio.run, main())
        try:
            # Waited for in slices: the system may hand the interrupt (SIGINT) to another of the
            # kernel's threads, and Python raises it in this one only when this one wakes up.
            while not future.done():
                wait([future], timeout=INTERRUPT_CHECK)
            return future.result()
        except KeyboardInterrupt:
            interrupted.set()
            if "task" in running:
                # The batch may have ended just before the interrupt: its loop is then closed.
                with contextlib.suppress(RuntimeError):
                    running["loop"].call_soon_threadsafe(running["task"].cancel)
            raise  # leaving the `with` waits until the cancelled batch has closed its client


def _check_count(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CourseError(f"{name} must be a whole number of at least 1, not {value!r}.")


async def _run_batch(
    items: Sequence, send, client, concurrency: int, retry, desc: str, size=lambda item: 1
) -> list:
    """`send` each item, in order; `size(item)` is how far the progress bar moves for it."""
    _check_count("concurrency", concurrency)
    if not items:
        return []
    api, owned = _async_client(client)
    try:
        policy = retry or RetryPolicy()
        return await _gather_in_order(items, send, api, concurrency, policy, desc, size)
    finally:
        if owned:
            await api.close()


async def _gather_in_order(items, send, api, concurrency, retry, desc, size) -> list:
    results: list = [None] * len(items)
    slots = asyncio.Semaphore(concurrency)
    total = sum(size(item) for item in items)
    bar = tqdm(total=total, desc=desc, file=sys.stderr, bar_format=BAR_FORMAT)

    async def one(index: int, item) -> None:
        async with slots:
            results[index] = await _with_retries(send, api, item, index, len(items), retry)
        bar.update(size(item))

    tasks = [asyncio.ensure_future(one(i, item)) for i, item in enumerate(items)]
    try:
        await asyncio.gather(*tasks)
    except BaseException as exc:
        # One request failed for good: stop the others rather than let them run unobserved.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if isinstance(exc, BatchRequestFailed):
            exc.results = results
        raise
    finally:
        bar.close()
    return results


async def _with_retries(send, api, item, index: int, total: int, retry: RetryPolicy):
    which = f"Request {index + 1} of {total}"
    for attempt in range(retry.max_retries + 1):
        try:
            return await send(api, item)
        except openai.APIError as exc:
            if not is_retryable(exc):
                raise _refused(which, exc) from None
            if attempt == retry.max_retries:
                raise BatchRequestFailed(
                    f"{which} still failed after {retry.max_retries} retries: {_describe(exc)}. "
                    "Lower `concurrency`, or wait a minute and run the cell again."
                ) from None
            wait = retry.delay(attempt, exc)
            if wait > retry.max_retry_after:
                raise BatchRequestFailed(
                    f"{which}: the API asks to wait {wait:.0f} s before retrying "
                    f"({_describe(exc)}), longer than {retry.max_retry_after:.0f} s. "
                    "Run the cell again later."
                ) from None
            await asyncio.sleep(wait)
    raise AssertionError("unreachable: the loop returns or raises")


def _refused(which: str, exc: openai.APIError) -> CourseError:
    plain = explain(exc) if isinstance(exc, openai.APIStatusError) else None
    if plain is not None:
        return plain
    return BatchRequestFailed(f"{which} was refused: {_describe(exc)}.")


def _describe(exc: openai.APIError) -> str:
    if isinstance(exc, openai.APIStatusError):
        # The SDK's message begins "Error code: 404 - ...": the API's own words follow it.
        body = exc.body if isinstance(exc.body, dict) else {}
        said = body.get("message") if isinstance(body.get("message"), str) else exc.message
        return f"HTTP {exc.status_code} ({said})"
    return f"{type(exc).__name__} ({exc.message})"


def _async_client(client) -> tuple[openai.AsyncOpenAI, bool]:
    """The client to send with, with the SDK's retries off, and whether this module owns it."""
    if isinstance(client, openai.AsyncOpenAI):
        return client.with_options(max_retries=0), False
    try:
        if client is None:
            return openai.AsyncOpenAI(max_retries=0), True
        if isinstance(client, openai.OpenAI):
            # Same endpoint and credentials, in an async client bound to this event loop.
            fresh = openai.AsyncOpenAI(
                api_key=client.api_key,
                organization=client.organization,
                project=client.project,
                base_url=client.base_url,
                timeout=client.timeout,
                max_retries=0,
            )
            return fresh, True
    except openai.OpenAIError as exc:
        raise CourseError(
            f"Cannot make an API client: {exc} Run use_backend() first (it sets OPENAI_BASE_URL "
            "and OPENAI_API_KEY), or pass client=."
        ) from None
    raise CourseError(f"client must be an OpenAI or AsyncOpenAI client, not {type(client)}.")


# Arguments every request takes or the helper sets itself: not listed as the endpoint's settings.
PLUMBING = {"model", "prompt", "messages", "stream", "stream_options", "timeout"}


def _check_settings(extra: Mapping, helper: str, endpoint: str) -> None:
    """Refuse, by name, a setting the endpoint does not take (`max_completion_tokens` is a chat
    completion's, `max_tokens` a legacy completion's): the SDK would raise a bare TypeError."""
    if endpoint == "chat":
        from openai.resources.chat.completions import AsyncCompletions as resource
    else:
        from openai.resources.completions import AsyncCompletions as resource
    taken = set(inspect.signature(resource.create).parameters) - {"self"}
    unknown = sorted(set(extra) - taken)
    if unknown:
        other = "complete_all" if endpoint == "chat" else "chat_all"
        raise CourseError(
            f"{helper} does not take {', '.join(unknown)}: {helper} sends "
            f"{'chat completions' if endpoint == 'chat' else 'legacy completions'}, which take "
            f"{', '.join(sorted(n for n in taken - PLUMBING if not n.startswith('extra_')))}. "
            f"(For the other endpoint, use {other}.)"
        )


def _check_prompts(prompts) -> None:
    if isinstance(prompts, str):
        raise CourseError("Pass a list of prompts, not one string: complete_all([prompt], ...).")
    for index, prompt in enumerate(prompts):
        if not isinstance(prompt, str):
            raise CourseError(f"Prompt {index} is {reprlib.repr(prompt)}, not a string.")


def _check_conversations(messages_list) -> None:
    if isinstance(messages_list, (str, Mapping)):
        raise CourseError("Pass a list of conversations, each a list of messages.")
    for index, messages in enumerate(messages_list):
        if isinstance(messages, (str, Mapping)) or not messages:
            raise CourseError(f"Conversation {index} must be a non-empty list of messages.")
        for number, message in enumerate(messages):
            if not isinstance(message, Mapping) or "role" not in message:
                raise CourseError(
                    f"Conversation {index}, message {number}: a message is a dict with "
                    "'role' and 'content'."
                )
