"""The `wandb` integration of a fine-tuning job: its metrics as an offline Weights & Biases run.

OpenAI's API sends a job's metrics to the W&B project named in `integrations`. The simulator never
contacts anyone: when the optional `wandb` package is installed, it writes the same metrics to an
offline run under the working folder (`wandb/offline-run-*`), which `wandb sync` uploads later.
Without `wandb` the integration is only recorded on the job, as before. Writing the run never
fails the job: a W&B problem is reported in the job's log line and nothing else changes.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from helpers.paths import work_dir

log = logging.getLogger(__name__)


def offline_runs_folder() -> Path:
    """Where offline runs go: `wandb/` in the course's working folder."""
    return work_dir() / "wandb"


def wandb_settings(job: dict) -> list[dict]:
    return [i["wandb"] for i in job.get("integrations") or [] if i.get("type") == "wandb"]


def write_offline_runs(job: dict, metrics: list[dict]) -> int:
    """One offline run per `wandb` integration of a finished job; how many were written."""
    wanted = wandb_settings(job)
    if not wanted:
        return 0
    try:
        import wandb
    except ImportError:
        return 0
    written = 0
    for settings in wanted:
        try:
            _write_run(wandb, job, settings, metrics)
            written += 1
        except Exception as exc:  # noqa: BLE001 - W&B trouble must not fail a trained job
            log.warning("Could not write the offline W&B run of %s: %s", job["id"], exc)
    return written


def _write_run(wandb, job: dict, settings: dict, metrics: list[dict]) -> None:
    folder = work_dir()
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("WANDB_SILENT", "true")
    run = wandb.init(
        mode="offline",
        dir=str(folder),
        project=settings["project"],
        entity=settings.get("entity"),
        name=settings.get("name") or job["id"],
        tags=settings.get("tags"),
        id=job["id"].replace("ftjob-", ""),
        config={
            "model": job["model"],
            "fine_tuned_model": job.get("fine_tuned_model"),
            "hyperparameters": job.get("hyperparameters"),
        },
        reinit="create_new",
    )
    try:
        for row in metrics:
            values = {k: v for k, v in row.items() if isinstance(v, int | float) and k != "step"}
            run.log(values, step=int(row["step"]))
    finally:
        run.finish()
