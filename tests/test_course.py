"""The course's files, split and jobs: reuse, uploads, standalone notebooks, one 948/238 split."""

import json

import openai
import pytest

from helpers import course, jobs, simulator
from helpers.api_errors import TrainingNotAvailable
from helpers.costs import CostLimitExceeded
from tests.refusals import status_error


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    handle = simulator.start(state_dir=tmp_path_factory.mktemp("state"))
    yield openai.OpenAI(base_url=handle.base_url, api_key="test-key")
    handle.stop()


@pytest.fixture
def small_file(tmp_path):
    path = tmp_path / "small.jsonl"
    rows = [
        {"prompt": f"post {i} about {label}\n\n###\n\n", "completion": f" {label}"}
        for i in range(12)
        for label in ("baseball", "hockey")
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_an_upload_is_found_again_and_a_different_file_is_not(client, small_file, tmp_path):
    assert jobs.find_uploaded_file(client, small_file) is None
    with open(small_file, "rb") as f:
        uploaded = client.files.create(file=(jobs.upload_name(small_file), f), purpose="fine-tune")
    assert jobs.find_uploaded_file(client, small_file).id == uploaded.id
    assert jobs.upload_once(client, small_file).id == uploaded.id
    changed = tmp_path / "other" / small_file.name
    changed.parent.mkdir()
    changed.write_text(small_file.read_text() + '{"prompt": "x", "completion": " y"}\n')
    assert jobs.find_uploaded_file(client, changed) is None


def test_an_edit_of_the_same_size_is_uploaded_afresh(client, tmp_path):
    path = tmp_path / "same_size.jsonl"
    path.write_text('{"prompt": "a post\\n\\n###\\n\\n", "completion": " hockey"}\n')
    first = jobs.upload_once(client, path)
    path.write_text('{"prompt": "a post\\n\\n###\\n\\n", "completion": " soccer"}\n')
    assert jobs.find_uploaded_file(client, path) is None
    second = jobs.upload_once(client, path)
    assert second.id != first.id and second.bytes == first.bytes
    assert second.filename == f"same_size.{jobs.content_hash(path)}.jsonl"


def test_create_job_once_uploads_and_creates_only_the_first_time(client, small_file):
    settings = {"model": "babbage-002", "suffix": "once"}
    uploads_before = len(list(client.files.list(purpose="fine-tune")))
    first = jobs.create_job_once(client, small_file, metadata={"course_dataset": "t"}, **settings)
    uploads_after = len(list(client.files.list(purpose="fine-tune")))
    again = jobs.create_job_once(client, small_file, metadata={"course_dataset": "t"}, **settings)
    assert again.id == first.id
    assert len(list(client.files.list(purpose="fine-tune"))) == uploads_after <= uploads_before + 1
    assert first.metadata[jobs.FINGERPRINT_KEY] == jobs.fingerprint(small_file, None, **settings)
    # A job meant to be cancelled is found again only when asked for.
    demo = {"model": "babbage-002", "suffix": "cancel-demo"}
    job = jobs.create_job_once(client, small_file, **demo)
    client.fine_tuning.jobs.cancel(job.id)
    assert jobs.create_job_once(client, small_file, include_cancelled=True, **demo).id == job.id
    assert jobs.create_job_once(client, small_file, **demo).id != job.id


def test_on_a_paid_backend_a_job_over_the_cost_limit_is_refused_before_any_upload(
    client, small_file, monkeypatch, capsys
):
    monkeypatch.setenv("TUTORIAL_BACKEND", "openai")
    monkeypatch.setenv("TUTORIAL_MAX_COST_USD", "0")
    # Uploads only: a results file may appear meanwhile, as an earlier test's job ends.
    uploads = len(list(client.files.list(purpose="fine-tune")))
    with pytest.raises(CostLimitExceeded, match="over your limit of \\$0.00"):
        jobs.create_job_once(client, small_file, model="babbage-002", suffix="too-dear")
    assert len(list(client.files.list(purpose="fine-tune"))) == uploads
    monkeypatch.setenv("TUTORIAL_MAX_COST_USD", "1")  # within the limit: checked, then created
    capsys.readouterr()
    job = jobs.create_job_once(client, small_file, model="babbage-002", suffix="affordable")
    assert job.status in jobs.REUSABLE_STATUSES
    # Silently: a notebook that printed the estimate before the call does not see it twice.
    assert capsys.readouterr().out == ""


def test_a_refused_job_is_explained_in_plain_words(client, small_file, monkeypatch):
    def refuse(**_):
        raise status_error(openai.PermissionDeniedError, 403, "training_not_available")

    monkeypatch.setattr(client.fine_tuning.jobs, "create", refuse)
    with pytest.raises(TrainingNotAvailable, match="Nothing was created"):
        jobs.create_job_once(client, small_file, model="babbage-002", suffix="refused")


def test_the_epochs_asked_for_are_read_from_method_or_hyperparameters():
    supervised = {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 4}}}
    assert jobs.requested_epochs({"model": "babbage-002"}) == "auto"
    assert jobs.requested_epochs({"method": supervised}) == 4
    assert jobs.requested_epochs({"hyperparameters": {"n_epochs": 2}}) == 2


def test_running_the_create_cell_again_reuses_the_job(client, small_file):
    settings = {"model": "babbage-002", "suffix": "reuse"}
    fingerprint = jobs.fingerprint(small_file, None, **settings)
    with open(small_file, "rb") as f:
        uploaded = client.files.create(file=f, purpose="fine-tune")

    def create_cell():  # what notebook 03's cell does, run twice
        job = jobs.find_reusable_job(client, fingerprint)
        if job is None:
            job = client.fine_tuning.jobs.create(
                training_file=uploaded.id,
                metadata={"course_fingerprint": fingerprint},
                **settings,
            )
        return job

    first = create_cell()
    assert create_cell().id == first.id
    other = jobs.fingerprint(small_file, None, model="babbage-002", suffix="other")
    assert jobs.find_reusable_job(client, other) is None
    # A cancelled job is not reused: the next run starts afresh.
    client.fine_tuning.jobs.cancel(first.id)
    assert jobs.find_reusable_job(client, fingerprint) is None


def test_a_later_notebook_alone_gets_its_job_made_on_the_simulator(
    client, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("TUTORIAL_WORK_DIR", str(tmp_path / "work"))
    job = course.course_job(client, "limericks")
    assert job.status == "succeeded" and job.fine_tuned_model.startswith("ft:gpt-4o-mini")
    assert "running notebook 03's job on the simulator" in capsys.readouterr().out
    assert (tmp_path / "work" / "limericks_train.jsonl").exists()
    # Found, not made again, the second time.
    assert course.course_job(client, "limericks").id == job.id
    assert "running" not in capsys.readouterr().out


def test_on_a_paid_backend_a_missing_job_names_the_notebook(client, monkeypatch):
    monkeypatch.setattr(course, "is_paid", lambda: True)
    with pytest.raises(course.CourseError, match="Run notebook 03-fine-tune.ipynb first"):
        course.course_job(client, "newsgroups")


def test_an_unknown_dataset_is_refused(client):
    with pytest.raises(course.CourseError, match="Unknown course dataset"):
        course.course_job(client, "poetry")


def test_the_classifier_split_is_the_files_notebook_02_writes():
    from helpers.datasets import DataUnavailable

    try:
        train, valid = course.classifier_split()
    except DataUnavailable as exc:
        pytest.skip(f"The 20 Newsgroups posts are not available: {exc}")
    assert (len(train), len(valid)) == (948, 238)
    assert not set(train.prompt) & set(valid.prompt)
    # The legacy tool's rows: the cookbook's validation file starts with these posts.
    assert valid.prompt.iloc[0].startswith("From: gld@cunixb.cc.columbia.edu")
    assert valid.prompt.iloc[1].startswith("From: smorris@venus.lerc.nasa.gov")
    assert all(p.endswith(course.SEPARATOR) for p in valid.prompt)
    assert set(valid.completion) == {" baseball", " hockey"}
    prompts, labels = course.classifier_test_prompts()
    assert len(prompts) == len(labels) == 796 and prompts[0].endswith(course.SEPARATOR)
