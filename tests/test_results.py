"""Results files: base64 and plain CSV, missing validation columns, bad input, checkpoints."""

from __future__ import annotations

import base64
import math
from types import SimpleNamespace

import pandas as pd
import pytest

from helpers.errors import CourseError
from helpers.results import (
    ResultsFileError,
    checkpoints_table,
    decode_results,
    download_results,
    epoch_boundaries,
    read_results,
    steps_per_epoch,
)

CSV = (
    "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n"
    "1,2.5,0.25,,\n"
    "2,1.75,0.5,1.9,0.4\n"
    "3,0.5,0.75,,\n"
    "4,0.25,1.0,0.3,0.9\n"
)


def b64(text: str) -> bytes:
    return base64.b64encode(text.encode())


def test_base64_and_plain_csv_decode_to_the_same_text():
    assert decode_results(b64(CSV)) == CSV
    assert decode_results(CSV.encode()) == CSV
    assert decode_results(CSV) == CSV
    # base64 wrapped over several lines, as some tools write it
    wrapped = b"\n".join(b64(CSV)[i : i + 16] for i in range(0, len(b64(CSV)), 16))
    assert decode_results(wrapped) == CSV


def test_read_results_gives_numbers_with_gaps_where_validation_was_not_run():
    table = read_results(b64(CSV))
    assert list(table["step"]) == [1, 2, 3, 4]
    assert table["step"].dtype.kind == "i"
    assert table["train_loss"].tolist() == [2.5, 1.75, 0.5, 0.25]
    assert table["valid_loss"].isna().tolist() == [True, False, True, False]
    assert table.loc[3, "valid_mean_token_accuracy"] == 0.9


def test_missing_validation_columns_are_added_empty():
    csv = "step,train_loss,train_accuracy\n1,1.0,0.5\n2,0.5,0.75\n"
    table = read_results(b64(csv))
    assert {"valid_loss", "valid_mean_token_accuracy"} <= set(table.columns)
    assert table["valid_loss"].isna().all()


def test_rows_are_sorted_by_step():
    csv = "step,train_loss\n2,0.5\n1,1.0\n"
    assert read_results(csv)["step"].tolist() == [1, 2]


def test_legacy_column_names_are_mapped():
    csv = (
        "step,elapsed_tokens,training_loss,training_token_accuracy,validation_loss\n1,10,1.0,0.5,\n"
    )
    table = read_results(csv)
    assert table.loc[0, "train_loss"] == 1.0 and table.loc[0, "train_accuracy"] == 0.5
    assert "valid_loss" in table.columns


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"hello world", "neither a CSV whose header starts with 'step' nor base64 of one"),
        (b64("name,value\n1,2\n"), "neither a CSV"),
        (b"", "neither a CSV"),
        (b"\xff\xfe\x00binary", "is not text"),
        (b"step,accuracy\n1,0.5\n", "no column train_loss"),
        (b"step,train_loss\n", "no rows"),
        (b"step,train_loss\n1,0.5\n2,oops\n", "line 3, column 'train_loss': 'oops'"),
        (b"step,train_loss\n1,0.5\n1.5,0.4\n", "line 3, column 'step': 1.5 is not a step"),
        (b"step,train_loss\n1,0.5\n,0.4\n", "line 3, column 'step': nan is not a step"),
        (b"step,train_loss\n1,0.5\n1,0.4\n", "line 3, column 'step': step 1 appears twice"),
        (b"step,train_loss,train_loss\n1,0.5,0.5\n", "line 1: column 'train_loss' appears twice"),
        (b"step,train_loss\n1,0.5,9,9\n", "line 2: 4 fields where the header"),
    ],
)
def test_bad_input_gets_a_clear_course_error(raw, message):
    with pytest.raises(ResultsFileError, match=message) as caught:
        read_results(raw)
    assert isinstance(caught.value, CourseError)
    assert caught.value._render_traceback_()[0].startswith("ResultsFileError: The results file")


def test_a_saved_file_is_read_by_path_and_left_untouched(tmp_path):
    path = tmp_path / "results.csv"
    path.write_bytes(b64(CSV))
    before = path.read_bytes()
    assert len(read_results(path)) == 4
    assert len(read_results(str(path))) == 4
    assert path.read_bytes() == before
    with pytest.raises(ResultsFileError, match=str(tmp_path / "missing.csv")):
        read_results(tmp_path / "missing.csv")
    path.write_text("step,train_loss\n1,x\n")
    with pytest.raises(ResultsFileError, match=rf"{path}, line 2, column 'train_loss'"):
        read_results(path)


class FakeFiles:
    def __init__(self, body: bytes):
        self.body, self.asked = body, []

    def content(self, file_id):
        self.asked.append(file_id)
        return SimpleNamespace(read=lambda: self.body)


def test_download_results_decodes_and_saves_the_csv(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTORIAL_WORK_DIR", str(tmp_path))
    files = FakeFiles(b64(CSV))
    job = SimpleNamespace(id="ftjob-abc", status="succeeded", result_files=["file-res"])
    table = download_results(SimpleNamespace(files=files), job)
    assert files.asked == ["file-res"] and len(table) == 4
    assert (tmp_path / "ftjob-abc-results.csv").read_text() == CSV
    assert [p.name for p in tmp_path.iterdir()] == ["ftjob-abc-results.csv"]


def test_download_results_takes_the_job_id_as_well(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTORIAL_WORK_DIR", str(tmp_path))
    job = SimpleNamespace(id="ftjob-abc", status="succeeded", result_files=["file-res"])
    jobs_api = SimpleNamespace(retrieve=lambda job_id: job if job_id == job.id else None)
    client = SimpleNamespace(files=FakeFiles(b64(CSV)), fine_tuning=SimpleNamespace(jobs=jobs_api))
    assert len(download_results(client, "ftjob-abc")) == 4


def test_a_bad_download_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTORIAL_WORK_DIR", str(tmp_path))
    job = SimpleNamespace(id="ftjob-abc", status="succeeded", result_files=["file-res"])
    with pytest.raises(ResultsFileError, match="Results file file-res of job ftjob-abc"):
        download_results(SimpleNamespace(files=FakeFiles(b"<html>oops</html>")), job)
    assert list(tmp_path.iterdir()) == []


def test_a_job_without_results_says_why():
    job = SimpleNamespace(id="ftjob-x", status="running", result_files=[])
    with pytest.raises(ResultsFileError, match=r"no results file yet \(status: running\)"):
        download_results(SimpleNamespace(files=None), job)


def test_epoch_boundaries():
    assert epoch_boundaries(600, 3) == [200, 400, 600]
    assert epoch_boundaries(7, 1) == [7]
    assert epoch_boundaries(10, 3) == [3, 7, 10]
    assert epoch_boundaries(pd.Series([4, 8]).max(), 2) == [4, 8]  # numpy integers are fine
    steps = steps_per_epoch(1197, 8)
    assert steps == 150 and epoch_boundaries(3 * steps, 3)[0] == 150
    assert steps_per_epoch(16, 8) == 2


@pytest.mark.parametrize(
    ("args", "word"),
    [
        ((0, 3), "total_steps"),
        ((5, 0), "n_epochs"),
        ((3, 4), "cannot fit"),
        ((4.0, 2), "total_steps"),
    ],
)
def test_epoch_boundaries_rejects_nonsense(args, word):
    with pytest.raises(CourseError, match=word):
        epoch_boundaries(*args)


def checkpoint(step, **metrics):
    return SimpleNamespace(
        step_number=step,
        fine_tuned_model_checkpoint=f"ft:babbage-002:org::abc:ckpt-step-{step}",
        metrics=SimpleNamespace(step=float(step), **metrics),
    )


def test_checkpoints_table_is_sorted_and_keeps_only_recorded_metrics():
    listed = [  # the API lists the newest first
        checkpoint(30, train_loss=0.1, valid_loss=0.2, full_valid_loss=0.25),
        checkpoint(20, train_loss=0.3, valid_loss=None),
        checkpoint(10, train_loss=0.9, valid_loss=0.8),
    ]
    table = checkpoints_table(listed)
    assert table["step"].tolist() == [10, 20, 30]
    assert table["model"].iloc[0].endswith("ckpt-step-10")
    assert list(table.columns) == ["step", "model", "train_loss", "valid_loss", "full_valid_loss"]
    assert math.isnan(table.loc[1, "valid_loss"]) and table.loc[2, "full_valid_loss"] == 0.25


def test_checkpoints_table_reads_sdk_objects():
    from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint

    raw = {
        "id": "ftckpt_1",
        "created_at": 1_767_225_600,
        "fine_tuned_model_checkpoint": "ft:gpt-4o-mini:org::x:ckpt-step-8",
        "fine_tuning_job_id": "ftjob-1",
        "metrics": {"step": 8, "train_loss": 0.5, "train_mean_token_accuracy": 0.8},
        "object": "fine_tuning.job.checkpoint",
        "step_number": 8,
    }
    table = checkpoints_table([FineTuningJobCheckpoint.model_validate(raw)])
    assert table.to_dict("records") == [
        {
            "step": 8,
            "model": "ft:gpt-4o-mini:org::x:ckpt-step-8",
            "train_loss": 0.5,
            "train_mean_token_accuracy": 0.8,
        }
    ]


def test_the_name_of_a_csv_that_is_not_there_is_said_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ResultsFileError, match="Cannot read results.csv"):
        read_results("results.csv")
