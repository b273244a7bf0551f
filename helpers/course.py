"""The course's own files and jobs, so that notebooks 03-06 can each be run on their own.

Notebook 02 writes the prepared files and notebook 03 runs the jobs. A later notebook opened first
finds them here: the files are made again when missing, and the jobs are found by the
`course_dataset` in their metadata. On the simulator a missing job is run on the spot; on a paid
backend the learner is told which notebook creates it, and nothing is spent.

The classifier's split and test prompts are here too, for the tests and benchmarks that measure
the simulator on the very posts the course uses.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from helpers.backend import is_paid
from helpers.errors import CourseError
from helpers.jobs import create_job_once, follow_job
from helpers.jsonl_lines import read_jsonl
from helpers.paths import work_dir

SEPARATOR = "\n\n###\n\n"

FILE_NAMES = {
    "classifier_train": "sports_prepared_train.jsonl",
    "classifier_valid": "sports_prepared_valid.jsonl",
    "chat_train": "limericks_train.jsonl",
    "chat_valid": "limericks_valid.jsonl",
}

# The jobs of notebook 03, with the very settings it passes to `jobs.create`.
JOBS = {
    "newsgroups": {
        "files": ("classifier_train", "classifier_valid"),
        "settings": {"model": "babbage-002", "suffix": "baseball-hockey"},
    },
    "limericks": {
        "files": ("chat_train", "chat_valid"),
        "settings": {"model": "gpt-4o-mini-2024-07-18", "suffix": "limericks", "seed": 42},
    },
}


def prepared_files() -> dict[str, Path]:
    """The four training files of notebook 02, in the working folder; made again if missing."""
    folder = work_dir()
    paths = {key: folder / name for key, name in FILE_NAMES.items()}
    if not (paths["classifier_train"].exists() and paths["classifier_valid"].exists()):
        _prepare_classifier_files(folder)
    if not (paths["chat_train"].exists() and paths["chat_valid"].exists()):
        from helpers.limericks import write_chat_files

        write_chat_files(folder)
    return paths


def course_job(client, dataset: str):
    """The newest succeeded job of notebook 03 for `dataset` ("newsgroups" or "limericks")."""
    if dataset not in JOBS:
        raise CourseError(f"Unknown course dataset {dataset!r}: one of {', '.join(JOBS)}.")
    for job in client.fine_tuning.jobs.list(metadata={"course_dataset": dataset}, limit=20):
        if job.status == "succeeded":
            return job
    if is_paid():
        raise CourseError(
            f"No finished fine-tuning job for the {dataset} data yet. Run notebook "
            "03-fine-tune.ipynb first (it creates it), then come back to this one."
        )
    print(f"No {dataset} job yet: running notebook 03's job on the simulator now.")
    return _run_course_job(client, dataset)


def _run_course_job(client, dataset: str):
    recipe = JOBS[dataset]
    paths = prepared_files()
    train, valid = (paths[key] for key in recipe["files"])
    job = create_job_once(
        client, train, valid, metadata={"course_dataset": dataset}, **recipe["settings"]
    )
    job = follow_job(client, job.id, quiet=True)
    if job.status != "succeeded":
        raise CourseError(f"The {dataset} job {job.id} ended {job.status}: {job.error}")
    return job


def classifier_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The course's 948/238 split of the 1197 training posts: the rows of notebook 02's files.

    The preparation tool makes it (long posts removed, separator and leading space added, then
    the legacy tool's `DataFrame.sample(random_state=42)` split), so these are the very posts
    of the training and validation files, and of OpenAI's classifier walkthrough.
    """
    with tempfile.TemporaryDirectory() as folder:
        train, valid = _prepare_classifier_files(Path(folder))
        return pd.DataFrame(read_jsonl(train)), pd.DataFrame(read_jsonl(valid))


def classifier_test_prompts() -> tuple[list[str], list[str]]:
    """The 796 test posts as the course asks the classifier about them, and their labels.

    Each prompt is the stripped post and the separator; each label has its leading space.
    """
    from helpers.datasets import sports_table

    table = sports_table("test")
    return [p + SEPARATOR for p in table.prompt], [" " + c for c in table.completion]


def _prepare_classifier_files(folder: Path) -> list[Path]:
    """What notebook 02 does: the raw posts through the preparation tool, every action accepted."""
    from helpers.datasets import sports_table
    from helpers.prepare_data import prepare_completions_file

    raw = folder / "sports.jsonl"
    sports_table("train").to_json(raw, orient="records", lines=True, force_ascii=False)
    report = prepare_completions_file(
        raw, quiet=True, out_dir=folder, echo=False, reuse_identical=True
    )
    return report.written
