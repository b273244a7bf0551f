"""The simulator as a service: determinism, restarts, shared state, concurrency, faults, CLI."""

from __future__ import annotations

import json
import signal
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
from simulator_fixtures import (
    all_events,
    jsonl,
    launch_cli,
    tiny_classification,
    wait_for_job,
)

from helpers import simulator
from helpers.simulator.stamps import make_id

TRAIN = jsonl(tiny_classification(20))
VALID = jsonl(tiny_classification(6, offset=50))


def steps_of(client, job_id: str) -> list[dict]:
    return [e.data for e in all_events(client, job_id) if e.type == "metrics"]


def course_session(client) -> dict:
    """What a notebook does, as plain data: upload, train, look at the job, ask the model."""
    train = client.files.create(file=("train.jsonl", TRAIN), purpose="fine-tune")
    valid = client.files.create(file=("valid.jsonl", VALID), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model="babbage-002", training_file=train.id, validation_file=valid.id, suffix="same"
    )
    job, _ = wait_for_job(client, job.id)
    answer = client.completions.create(
        model=job.fine_tuned_model,
        prompt="Note 5: the rain and the snow today.\n\n###\n\n",
        max_tokens=1,
        temperature=0,
        logprobs=2,
    )
    chat = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], seed=3
    )
    return {
        "files": [train.model_dump(), valid.model_dump()],
        "job": job.model_dump(),
        "events": [e.model_dump() for e in all_events(client, job.id)],
        "checkpoints": [c.model_dump() for c in client.fine_tuning.jobs.checkpoints.list(job.id)],
        "results": client.files.content(job.result_files[0]).read().decode(),
        "answer": answer.model_dump(),
        "chat": chat.model_dump(),
    }


def test_a_fresh_state_with_the_same_seed_gives_identical_results(tmp_path, checked):
    runs = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        handle = simulator.start(state_dir=tmp_path / name, seed=seed)
        try:
            runs.append(course_session(checked.client(handle.base_url)))
        finally:
            handle.stop()
    assert json.dumps(runs[0], sort_keys=True) == json.dumps(runs[1], sort_keys=True)
    assert runs[0]["job"]["id"] != runs[2]["job"]["id"]
    assert runs[0]["job"]["created_at"] == 1_767_225_600 + 3  # two uploads, then the job


def test_a_restart_in_the_middle_of_a_job_loses_nothing(tmp_path, checked):
    reference = simulator.start(state_dir=tmp_path / "reference")
    try:
        expected = course_session(checked.client(reference.base_url))["events"]
    finally:
        reference.stop()
    slow = simulator.start(state_dir=tmp_path / "restarted", speed=0.1)
    client = checked.client(slow.base_url)
    train = client.files.create(file=("train.jsonl", TRAIN), purpose="fine-tune")
    valid = client.files.create(file=("valid.jsonl", VALID), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model="babbage-002", training_file=train.id, validation_file=valid.id, suffix="same"
    )
    deadline = time.monotonic() + 30
    while len(steps_of(client, job.id)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.fine_tuning.jobs.retrieve(job.id).status == "running"
    slow.stop()
    again = simulator.start(state_dir=tmp_path / "restarted")
    try:
        client = checked.client(again.base_url)
        finished, _ = wait_for_job(client, job.id)
        events = [e.model_dump() for e in all_events(client, job.id)]
    finally:
        again.stop()
    assert finished.status == "succeeded"
    # Same steps, once each, with the same measured numbers as the run that never stopped.
    assert [e["data"] for e in events if e["type"] == "metrics"] == [
        e["data"] for e in expected if e["type"] == "metrics"
    ]
    assert [e["message"] for e in events] == [e["message"] for e in expected]


def test_pause_resume_and_cancel_in_the_middle_of_a_job(tmp_path, checked):
    handle = simulator.start(state_dir=tmp_path, speed=0.1)
    try:
        client = checked.client(handle.base_url)
        train = client.files.create(file=("train.jsonl", TRAIN), purpose="fine-tune")
        job = client.fine_tuning.jobs.create(model="babbage-002", training_file=train.id)
        deadline = time.monotonic() + 30
        while len(steps_of(client, job.id)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        paused = client.fine_tuning.jobs.pause(job.id)
        assert paused.status == "paused"
        done = len(steps_of(client, job.id))
        time.sleep(0.5)
        assert len(steps_of(client, job.id)) == done
        assert client.fine_tuning.jobs.resume(job.id).status == "running"
        while len(steps_of(client, job.id)) <= done and time.monotonic() < deadline:
            time.sleep(0.05)
        cancelled = client.fine_tuning.jobs.cancel(job.id)
        assert cancelled.status == "cancelled" and cancelled.finished_at is not None
        count = len(all_events(client, job.id))
        time.sleep(0.4)
        events = all_events(client, job.id)
        assert len(events) == count and events[-1].message == "Fine-tuning job cancelled"
        messages = [e.message for e in events]
        assert messages.index("Fine-tuning job paused") < messages.index("Fine-tuning job resumed")
        steps = [e.data["step"] for e in events if e.type == "metrics"]
        assert steps == list(range(1, len(steps) + 1))
        assert client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model is None
    finally:
        handle.stop()


def test_two_servers_on_one_state_share_it_and_run_four_jobs_once_each(tmp_path, checked):
    inside = simulator.start(state_dir=tmp_path)
    outside, url = launch_cli("--state", str(tmp_path), "--clock", "simulated")
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        here = checked.client(inside.base_url)
        there = checked.client(url)
        train = there.files.create(file=("train.jsonl", TRAIN), purpose="fine-tune")
        assert here.files.retrieve(train.id).bytes == len(TRAIN)
        jobs = [
            (here if i % 2 else there).fine_tuning.jobs.create(
                model="babbage-002", training_file=train.id, seed=i
            )
            for i in range(4)
        ]
        assert len({j.id for j in jobs}) == 4
        for job in jobs:
            finished, _ = wait_for_job(here, job.id)
            assert finished.status == "succeeded"
            steps = [s["step"] for s in steps_of(there, job.id)]
            assert steps == list(range(1, 101))
        names = {here.fine_tuning.jobs.retrieve(j.id).fine_tuned_model for j in jobs}
        assert len(names) == 4
    finally:
        outside.send_signal(signal.SIGTERM)
        outside.wait(timeout=20)
        inside.stop()


def test_two_hundred_concurrent_requests_are_neither_lost_nor_mixed_up(tmp_path, checked):
    handle = simulator.start(state_dir=tmp_path)
    try:
        client = checked.client(handle.base_url)

        def upload(i: int):
            data = jsonl(tiny_classification(1 + i % 5, offset=i))
            return i, data, client.files.create(file=(f"f{i}.jsonl", data), purpose="fine-tune")

        def chat(i: int):
            message = {"role": "user", "content": "word " * (i + 1)}
            return i, client.chat.completions.create(model="gpt-4o-mini", messages=[message])

        with ThreadPoolExecutor(max_workers=32) as pool:
            uploads = [pool.submit(upload, i) for i in range(100)]
            chats = [pool.submit(chat, i) for i in range(100)]
            uploaded = [f.result() for f in uploads]
            answered = [f.result() for f in chats]
        for i, data, file in uploaded:
            assert (file.filename, file.bytes) == (f"f{i}.jsonl", len(data))
            assert client.files.content(file.id).read() == data
        assert len({f.id for _, _, f in uploaded}) == 100
        assert len(client.files.list().data) == 100
        base_tokens = answered[0][1].usage.prompt_tokens
        for i, answer in answered:
            assert answer.usage.prompt_tokens == base_tokens + i  # each answer is its own request
        assert len({a.id for _, a in answered}) == 100
    finally:
        handle.stop()


def test_injected_faults_are_survived_by_the_sdks_retries(tmp_path, checked):
    handle = simulator.start(
        state_dir=tmp_path, faults="429=0.2,500=0.1,delay=0.1,delay_seconds=0.05"
    )
    try:
        patient = checked.client(handle.base_url)
        for i in range(12):
            patient.files.create(file=(f"f{i}.jsonl", TRAIN), purpose="fine-tune")
            assert patient.models.retrieve("babbage-002").id == "babbage-002"
        # Faulted uploads were refused before anything was stored: no duplicates.
        assert len(patient.files.list().data) == 12
        job = patient.fine_tuning.jobs.create(
            model="babbage-002", training_file=patient.files.list().data[0].id
        )
        assert wait_for_job(patient, job.id)[0].status == "succeeded"

        impatient = checked.client(handle.base_url, max_retries=0)
        kinds = set()
        for _ in range(20):
            try:
                impatient.models.list()
            except (openai.RateLimitError, openai.InternalServerError) as exc:
                kinds.add(type(exc).__name__)
        assert kinds == {"RateLimitError", "InternalServerError"}
    finally:
        handle.stop()


def test_the_real_clock_stamps_wall_time(tmp_path, checked):
    handle = simulator.start(state_dir=tmp_path, clock="real")
    try:
        uploaded = checked.client(handle.base_url).files.create(
            file=("t.jsonl", TRAIN), purpose="fine-tune"
        )
        assert abs(uploaded.created_at - time.time()) < 5
    finally:
        handle.stop()


def test_starting_twice_on_one_state_reuses_the_running_server(tmp_path, checked):
    first = simulator.start(state_dir=tmp_path)
    try:
        assert simulator.start(state_dir=tmp_path) is first
        with pytest.raises(simulator.SettingsError, match="other settings"):
            simulator.start(state_dir=tmp_path, seed=99)
    finally:
        first.stop()
    second = simulator.start(state_dir=tmp_path)
    try:
        assert second is not first and checked.client(second.base_url).models.list().data
    finally:
        second.stop()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_the_command_line_server_prints_its_url_and_stops_cleanly(tmp_path, stop_signal, checked):
    process, url = launch_cli("--state", str(tmp_path), "--port", "0")
    try:
        secret = "sk-test-do-not-log-0123456789"
        client = checked.client(url, api_key=secret)
        assert client.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"
        with pytest.raises(openai.NotFoundError):
            client.files.retrieve("file-missing")
    finally:
        process.send_signal(stop_signal)
        code = process.wait(timeout=20)
    out, err = process.communicate()
    assert code == 0
    assert url.startswith("http://127.0.0.1:")
    assert secret not in out + err


def test_the_command_line_refuses_a_non_loopback_host(tmp_path):
    process, first = launch_cli("--state", str(tmp_path), "--host", "0.0.0.0")
    code = process.wait(timeout=30)
    err = process.stderr.read()
    assert code == 2 and first == ""
    assert "Refusing to listen on 0.0.0.0" in err and "Traceback" not in err


def test_a_state_folder_from_another_version_is_refused_plainly(tmp_path):
    import sqlite3

    with sqlite3.connect(tmp_path / "state.sqlite3") as db:
        db.execute("CREATE TABLE jobs (id TEXT)")
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(simulator.StateError, match="another version of the simulator"):
        simulator.start(state_dir=tmp_path)


def test_bad_settings_are_refused_plainly(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMULATOR_SEED", "forty-two")
    with pytest.raises(simulator.SettingsError, match="SIMULATOR_SEED='forty-two' is not a whole"):
        simulator.start(state_dir=tmp_path)
    monkeypatch.setenv("SIMULATOR_SEED", "42")
    monkeypatch.setenv("SIMULATOR_SPEED", "fast")
    with pytest.raises(simulator.SettingsError, match="SIMULATOR_SPEED='fast' is not a number"):
        simulator.start(state_dir=tmp_path)
    monkeypatch.delenv("SIMULATOR_SPEED")
    with pytest.raises(simulator.SettingsError, match="clock must be one of"):
        simulator.start(state_dir=tmp_path, clock="fast")
    with pytest.raises(simulator.FaultPlanError, match="unknown fault setting"):
        simulator.start(state_dir=tmp_path, faults="teapot=0.5")
    process, first = launch_cli("--state", str(tmp_path), "--speed", "0")
    assert process.wait(timeout=30) == 2 and first == ""
    assert "speed must be more than 0" in process.stderr.read()


def test_allow_remote_answers_requests_for_any_host(tmp_path):
    import httpx2

    process, url = launch_cli("--state", str(tmp_path), "--allow-remote")
    try:
        answer = httpx2.get(
            url + "/models",
            headers={"Authorization": "Bearer test-key", "Host": "simulator.example:80"},
        )
        assert answer.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def test_a_restart_removes_what_a_killed_server_left_half_written(tmp_path):
    process, url = launch_cli("--state", str(tmp_path))
    assert url
    process.kill()  # kill -9: no clean-up of its own
    process.wait(timeout=20)
    process.communicate()
    tmp = tmp_path / "tmp"
    # What it would have left had it died in the middle of writing an upload's bytes.
    partial = tmp / f"{process.pid}-0123456789abcdef.part"
    partial.write_bytes(b'{"prompt": "half a li')
    foreign = tmp / "leftover-from-elsewhere"
    foreign.write_bytes(b"x")
    in_progress = tmp / "1-written-right-now.part"  # pid 1 is alive: a writer at work
    in_progress.write_bytes(b"y")
    handle = simulator.start(state_dir=tmp_path)
    try:
        assert sorted(p.name for p in tmp.iterdir()) == [in_progress.name]
    finally:
        handle.stop()


def test_completions_are_stamped_from_memory_as_a_transaction_each_would_stamp_them(
    tmp_path, checked
):
    """Ids and times of a server alone are those of one database transaction per request, across
    uploads (which move the clock in the database), concurrent requests and a restart."""
    epoch = 1_767_225_600
    message = [{"role": "user", "content": "hi"}]
    handle = simulator.start(state_dir=tmp_path, seed=7)
    try:
        client = checked.client(handle.base_url)
        first = client.files.create(file=("a.jsonl", TRAIN), purpose="fine-tune")
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(
                pool.map(
                    lambda _: client.chat.completions.create(model="gpt-4o-mini", messages=message),
                    range(100),
                )
            )
        second = client.files.create(file=("b.jsonl", TRAIN), purpose="fine-tune")
    finally:
        handle.stop()
    handle = simulator.start(state_dir=tmp_path, seed=7)
    try:
        client = checked.client(handle.base_url)
        after = [
            client.chat.completions.create(model="gpt-4o-mini", messages=message) for _ in range(3)
        ]
    finally:
        handle.stop()
    assert first.created_at == epoch + 1
    stamped = sorted((a.created, a.id) for a in answers)
    assert [t for t, _ in stamped] == [epoch + 2 + i for i in range(100)]
    assert [i for _, i in stamped] == [make_id("chatcmpl", 7, n) for n in range(1, 101)]
    assert second.created_at == epoch + 102
    assert [(a.created, a.id) for a in after] == [
        (epoch + 103 + i, make_id("chatcmpl", 7, 101 + i)) for i in range(3)
    ]


def test_a_server_started_without_waiting_answers_its_first_request(tmp_path, checked):
    """`wait=False` listens at once and builds the server in the background; a request sent
    meanwhile waits for it. A state folder that cannot be used is said at once."""
    handle = simulator.start(state_dir=tmp_path / "state", wait=False)
    try:
        assert handle.running and handle.base_url.startswith("http://127.0.0.1:")
        client = checked.client(handle.base_url, max_retries=0)
        assert client.models.retrieve("babbage-002").id == "babbage-002"
        assert simulator.start(state_dir=tmp_path / "state") is handle
    finally:
        handle.stop()
    assert not handle.running
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "state.sqlite3").write_bytes(b"not a database")
    with pytest.raises(simulator.StateError):
        simulator.start(state_dir=tmp_path / "other", wait=False)


def test_a_server_whose_warm_up_fails_still_serves(tmp_path, checked, monkeypatch):
    """The warm-up (starting the priors' build, loading an encoding) is a head start that runs
    while the server is built: what fails there is done again when needed, not a reason to stop."""
    from helpers.simulator.learners import prior

    def broken(names):
        raise OSError("no room to build the priors")

    monkeypatch.setattr(prior, "build_in_background", broken)
    handle = simulator.start(state_dir=tmp_path / "state")
    try:
        client = checked.client(handle.base_url, max_retries=0)
        assert client.models.retrieve("babbage-002").id == "babbage-002"
    finally:
        handle.stop()


def test_a_server_killed_right_after_an_answer_leaves_no_gap_in_ids_or_times(tmp_path, checked):
    """A notebook kernel may be killed as soon as its last cell ends: what its server stamped
    from memory is written back before each answer leaves, so the next server continues."""
    epoch = 1_767_225_600
    message = [{"role": "user", "content": "hi"}]
    killed, url = launch_cli("--state", str(tmp_path), "--clock", "simulated", "--seed", "4")
    try:
        before = [
            checked.client(url).chat.completions.create(model="gpt-4o-mini", messages=message)
            for _ in range(2)
        ]
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=20)
    handle = simulator.start(state_dir=tmp_path, seed=4)
    try:
        after = checked.client(handle.base_url).chat.completions.create(
            model="gpt-4o-mini", messages=message
        )
    finally:
        handle.stop()
    stamped = [(a.id, a.created) for a in (*before, after)]
    assert stamped == [(make_id("chatcmpl", 4, n), epoch + n) for n in (1, 2, 3)]


def test_a_port_another_server_listens_on_is_refused_plainly():
    from helpers.simulator.server import bind

    taken = bind("127.0.0.1", 0)
    try:
        port = taken.getsockname()[1]
        with pytest.raises(simulator.SettingsError, match=f"Cannot listen on 127.0.0.1:{port}"):
            bind("127.0.0.1", port)
    finally:
        taken.close()


def test_a_process_that_ran_a_simulator_leaves_its_models_out_of_the_last_collections(tmp_path):
    # At exit the interpreter's final garbage collections would scan every object of the
    # simulator's models (a second of each kernel's shutdown): the simulator's exit handler
    # stops its servers, then freezes the heap so that those collections skip it.
    import subprocess
    import sys

    from helpers.paths import REPO_ROOT

    code = (
        "import gc\nfrom helpers.simulator import server\n"
        f"server.start(state_dir={str(tmp_path / 'state')!r})\n"
        "print(gc.get_freeze_count())\nserver._stop_all()\n"
        "print(gc.get_freeze_count() > 0, server._running == {})"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "True", "True"], done.stdout + done.stderr


def test_a_starting_server_loads_only_the_encoding_every_notebook_needs(monkeypatch):
    # The chat models' o200k_base (67 MB) waits until a chat request or job needs it.
    from helpers.simulator import server
    from helpers.simulator.learners import prior
    from helpers.tokens import get_encoding

    monkeypatch.setattr(prior, "build_in_background", lambda names: None)
    get_encoding.cache_clear()
    try:
        server._warm_up()
        assert get_encoding.cache_info().currsize == 1
        get_encoding(server.WARM_ENCODING)
        assert get_encoding.cache_info().hits == 1
    finally:
        get_encoding.cache_clear()


def test_fastapis_warning_about_path_parameters_never_reaches_a_cell(tmp_path):
    """FastAPI hides a pydantic warning about its path parameters with `catch_warnings`, which
    is not thread-safe: a kernel thread that leaves its own `catch_warnings` (importing pandas)
    while the server is built in another puts back filters without FastAPI's, and the warning
    was printed in a notebook cell. That interleaving, played out in one thread: once a
    simulator has started, the warning stays silent."""
    from typing import Annotated

    from pydantic import Field, TypeAdapter
    from pydantic.warnings import UnsupportedFieldAttributeWarning

    with warnings.catch_warnings(record=True) as shown:  # the process's filters come back after
        warnings.simplefilter("default")
        handle = simulator.start(state_dir=tmp_path)
        try:
            kernel, fastapi = warnings.catch_warnings(), warnings.catch_warnings()
            kernel.__enter__()  # the kernel's import keeps the filters it found
            fastapi.__enter__()
            warnings.simplefilter("ignore", UnsupportedFieldAttributeWarning)
            kernel.__exit__(None, None, None)  # ...and puts them back while FastAPI works
            TypeAdapter(Annotated[str, Field(alias="job_id")])  # what FastAPI builds
            fastapi.__exit__(None, None, None)
        finally:
            handle.stop()
    assert not [w for w in shown if issubclass(w.category, UnsupportedFieldAttributeWarning)]
