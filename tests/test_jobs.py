"""The job helpers' logic against a scripted stand-in for the API (simulator tests cover HTTP)."""

import time
from types import SimpleNamespace

import httpx2
import openai
import pytest

from helpers import jobs


def event(n, message=None, type_="message", data=None):
    return SimpleNamespace(
        id=f"ftevent-{n:03d}",
        created_at=1_767_225_600 + n,
        message=message or f"event {n}",
        type=type_,
        data=data or {},
    )


class ScriptedJobs:
    """Serves a job whose events appear one poll at a time, newest first, with paging."""

    def __init__(self, events, statuses, failures=()):
        self.events, self.statuses, self.failures = events, list(statuses), set(failures)
        self.polls = 0
        self.limits = []  # what each request for events asked for

    def retrieve(self, job_id):
        self.polls += 1
        if self.polls in self.failures:
            request = httpx2.Request("GET", "http://127.0.0.1/v1/fine_tuning/jobs/x")
            raise openai.APIConnectionError(request=request)
        status = self.statuses[min(self.polls, len(self.statuses)) - 1]
        return SimpleNamespace(id=job_id, status=status)

    def list_events(self, job_id, limit=20, after=None):
        self.limits.append(limit)
        visible = self.events[: min(self.polls * 3, len(self.events))][::-1]
        start = 0
        if after:
            start = [e.id for e in visible].index(after) + 1
        page = visible[start : start + limit]
        return SimpleNamespace(data=page, has_more=start + limit < len(visible))


def client_for(scripted):
    return SimpleNamespace(fine_tuning=SimpleNamespace(jobs=scripted))


@pytest.fixture(autouse=True)
def forget_printed():
    jobs._printed.clear()
    jobs._first_page.clear()


def test_every_event_is_printed_once_in_order(capsys):
    events = [event(i) for i in range(10)]
    scripted = ScriptedJobs(events, ["running"] * 3 + ["succeeded"])
    job = jobs.follow_job(client_for(scripted), "ftjob-1", poll_seconds=0)
    assert job.status == "succeeded"
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("] ")[1] for line in lines] == [f"event {i}" for i in range(10)]
    assert lines[0] == "[2026-01-01 00:00:00] event 0"


def test_following_again_prints_only_new_events(capsys):
    events = [event(i) for i in range(6)]
    jobs.follow_job(client_for(ScriptedJobs(events[:3], ["succeeded"])), "ftjob-2", poll_seconds=0)
    capsys.readouterr()
    again = ScriptedJobs(events, ["succeeded"])
    again.polls = 1  # all six events are visible at the first poll
    jobs.follow_job(client_for(again), "ftjob-2", poll_seconds=0)
    out = capsys.readouterr().out
    assert "event 2" not in out and "event 3" in out and "event 5" in out


def test_pages_are_followed_when_many_events_are_new(capsys):
    events = [event(i) for i in range(250)]
    scripted = ScriptedJobs(events, ["succeeded"])
    scripted.polls = 100  # every event is already visible
    assert len(jobs.new_events(client_for(scripted), "ftjob-3", page_size=40)) == 250


def test_a_poll_asks_for_about_as_many_events_as_the_last_one_found():
    # Three new events appear per poll: after the first poll (which cannot know), each asks for
    # those three and a few more, in one request, rather than for a full page of old ones.
    events = [event(i) for i in range(30)]
    scripted = ScriptedJobs(events, ["running"] * 9 + ["succeeded"])
    found = []
    for _ in range(10):
        scripted.retrieve("ftjob-7")
        found.append(len(jobs.new_events(client_for(scripted), "ftjob-7")))
    assert found == [3] * 10
    assert scripted.limits == [jobs.FIRST_PAGE] + [3 + jobs.FIRST_PAGE] * 9


def test_a_burst_of_events_is_read_in_full_pages():
    events = [event(i) for i in range(250)]
    scripted = ScriptedJobs(events, ["succeeded"])
    scripted.polls = 100
    assert len(jobs.new_events(client_for(scripted), "ftjob-8", page_size=100)) == 250
    assert scripted.limits == [jobs.FIRST_PAGE, 100, 100, 100]


def test_a_dropped_connection_resumes_from_the_last_event(capsys):
    events = [event(i) for i in range(9)]
    scripted = ScriptedJobs(events, ["running"] * 5 + ["succeeded"], failures={2, 3})
    job = jobs.follow_job(client_for(scripted), "ftjob-4", poll_seconds=0)
    assert job.status == "succeeded"
    out = capsys.readouterr().out
    assert [f"event {i}" in out for i in range(9)] == [True] * 9
    assert out.count("event 1\n") == 1


def test_a_connection_that_never_returns_ends_with_a_plain_message():
    scripted = ScriptedJobs([event(0)], ["running"], failures=set(range(1, 100)))
    with pytest.raises(jobs.CourseError, match='follow_job\\(client, "ftjob-5"\\) again'):
        jobs.follow_job(client_for(scripted), "ftjob-5", poll_seconds=0, max_reconnects=2)


def test_ctrl_c_leaves_the_job_running_and_says_how_to_resume(capsys, monkeypatch):
    scripted = ScriptedJobs([event(0)], ["running"])
    calls = {"n": 0}

    def interrupt_second_sleep(_seconds):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(jobs.time, "sleep", interrupt_second_sleep)
    job = jobs.follow_job(client_for(scripted), "ftjob-6", poll_seconds=1)
    assert job.status == "running"
    assert 'Resume with follow_job(client, "ftjob-6")' in capsys.readouterr().out


def test_metrics_events_move_the_bar_instead_of_printing(capsys):
    metrics = [
        event(i, f"Step {i}/4: training loss=0.5", "metrics", {"step": i, "total_steps": 4})
        for i in range(1, 5)
    ]
    events = [event(0, "Fine-tuning job started"), *metrics, event(9, "done")]
    jobs.follow_job(client_for(ScriptedJobs(events, ["running", "succeeded"])), "j", poll_seconds=0)
    captured = capsys.readouterr()
    assert "Step 1/4" not in captured.out and "done" in captured.out
    assert "4/4 steps" in captured.err.replace("\r", "\n").splitlines()[-1]


def test_fingerprint_changes_with_data_and_settings(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text('{"prompt": "x", "completion": " y"}\n')
    b.write_text('{"prompt": "x", "completion": " z"}\n')
    same = jobs.fingerprint(a, None, model="babbage-002", n_epochs=3)
    assert same == jobs.fingerprint(a, None, n_epochs=3, model="babbage-002")
    assert same != jobs.fingerprint(b, None, model="babbage-002", n_epochs=3)
    assert same != jobs.fingerprint(a, None, model="babbage-002", n_epochs=4)


def test_a_batch_is_created_once_for_the_same_requests(tmp_path):
    from helpers import simulator
    from helpers.jsonl_lines import write_jsonl

    def requests(prompts):
        body = {"model": "babbage-002", "max_tokens": 1, "temperature": 0}
        return [
            {
                "custom_id": f"p{i}",
                "method": "POST",
                "url": "/v1/completions",
                "body": {**body, "prompt": p},
            }
            for i, p in enumerate(prompts)
        ]

    handle = simulator.start(state_dir=tmp_path / "state", seed=1)
    try:
        client = openai.OpenAI(base_url=handle.base_url, api_key="test-key")
        path = write_jsonl(tmp_path / "requests.jsonl", requests(["a", "b"]))
        first = jobs.create_batch_once(client, path, "/v1/completions", metadata={"k": "v"})
        again = jobs.create_batch_once(client, path, "/v1/completions")
        assert again.id == first.id and first.metadata["k"] == "v"
        assert len(client.files.list(purpose="batch").data) == 1
        assert first.metadata[jobs.FINGERPRINT_KEY] == jobs.fingerprint(
            path, endpoint="/v1/completions", completion_window="24h"
        )
        # Other requests are another batch; a failed or cancelled batch is not reused.
        write_jsonl(path, requests(["a", "c"]))
        other = jobs.create_batch_once(client, path, "/v1/completions")
        assert other.id != first.id
        client.batches.cancel(other.id)
        while (ended := client.batches.retrieve(other.id)).status not in jobs.BATCH_TERMINAL:
            time.sleep(0.02)
        reused = jobs.create_batch_once(client, path, "/v1/completions").id == other.id
        assert reused == (ended.status == "completed")  # it may have finished before the cancel
        assert len(client.files.list(purpose="batch").data) == 2  # the same content, once
    finally:
        handle.stop()


def test_a_mistyped_path_or_a_folder_is_named_not_a_traceback(tmp_path):
    from helpers.errors import InputFileError

    with pytest.raises(InputFileError, match="missing.jsonl: does not exist"):
        jobs.fingerprint(tmp_path / "missing.jsonl", model="babbage-002")
    with pytest.raises(InputFileError, match="is a folder, not a file"):
        jobs.content_hash(tmp_path)


def test_follow_job_takes_the_job_itself_as_well_as_its_id(capsys):
    scripted = ScriptedJobs([event(1)], ["running", "succeeded"])
    job = jobs.follow_job(client_for(scripted), SimpleNamespace(id="ftjob-x"), poll_seconds=0)
    assert (job.id, job.status) == ("ftjob-x", "succeeded")


def test_a_job_id_that_does_not_exist_is_said_plainly():
    class Missing:
        def retrieve(self, job_id):
            request = httpx2.Request("GET", f"http://127.0.0.1/v1/fine_tuning/jobs/{job_id}")
            response = httpx2.Response(404, json={"error": {}}, request=request)
            raise openai.NotFoundError("not found", response=response, body={})

    with pytest.raises(jobs.CourseError, match="No fine-tuning job has the id 'ftjob-typo'"):
        jobs.follow_job(client_for(Missing()), "ftjob-typo", poll_seconds=0, quiet=True)


class TimedJob:
    """A simulated job on a fake clock: validated at 0.3 s, 100 steps at 100 a second from then,
    succeeded 50 ms after its last step; every step logs a metrics event."""

    STEPS, START, RATE, END = 100, 0.3, 100.0, 1.35

    def __init__(self):
        self.now, self.polls, self.waits = 0.0, [], []

    def sleep(self, seconds):
        self.waits.append(seconds)
        self.now += seconds

    def retrieve(self, job_id):
        self.polls.append(self.now)
        return SimpleNamespace(id=job_id, status="succeeded" if self.now >= self.END else "running")

    def list_events(self, job_id, limit=20, after=None):
        done = max(0, min(self.STEPS, int((self.now - self.START) * self.RATE)))
        data = {"step": done, "total_steps": self.STEPS}
        newest = [event(done, f"Step {done}", "metrics", data)] if done else []
        return SimpleNamespace(data=newest, has_more=False)


def test_a_simulated_job_is_polled_less_often_mid_job_and_its_end_noticed_at_once(monkeypatch):
    timed = TimedJob()
    monkeypatch.setattr(jobs.time, "sleep", timed.sleep)
    monkeypatch.setattr(jobs.time, "monotonic", lambda: timed.now)
    monkeypatch.setattr(jobs, "is_paid", lambda: False)
    jobs.follow_job(client_for(timed), "ftjob-timed")
    shortest, longest = jobs.SIMULATOR_POLL
    assert all(shortest <= wait <= longest for wait in timed.waits)
    assert max(timed.waits) > 2 * shortest  # the waits grow while the job has far to go
    assert len(timed.polls) <= 15  # a poll every 50 ms would have made 28
    assert timed.polls[-1] - TimedJob.END <= shortest  # its end is seen at the next short poll
