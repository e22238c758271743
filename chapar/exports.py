"""Exports as background jobs: a run's numbers written by :func:`chapar.reports.export` into
a job folder, with the progress in a small JSON file beside it, so the one who asked (the
dashboard) follows it from another process — a Prefect flow run (``flows/export.py``) or
a thread of its own (the Scheduler port decides, ``chapar.scheduling``).

A job folder is ``<data_dir>/exports/<job id>/``: ``progress.json`` (state, rows done of
the total, the file's name, the failure's reason) and, when done, the file. The progress
file is replaced whole (``os.replace``): a reader never sees half of it. With workers on
other machines the data dir must be shared storage, as the DuckDB file already is.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from chapar import reports
from chapar.errors import ChaparError
from chapar.reasons import Code, Reason
from chapar.reports import ExportLabels
from chapar.settings import get_settings

State = Literal["queued", "running", "done", "failed"]
#: Seconds between two writes of the progress file while rows are written.
PROGRESS_EVERY_S = 0.25
#: Job folders older than this are removed when a new job starts.
KEEP_JOBS_S = 24 * 3600


@dataclass(frozen=True)
class ExportRequest:
    """What to export, and where the job keeps its file and progress."""

    job_id: str
    campaign_id: int
    run_no: int
    status: str | None
    fmt: Literal["csv", "xlsx"]
    name: str
    labels: ExportLabels | None = None

    def params(self) -> dict[str, Any]:
        """JSON-friendly parameters (a flow run's)."""
        out = asdict(self)
        out["labels"] = asdict(self.labels) if self.labels is not None else None
        return out

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ExportRequest:
        labels = params.get("labels")
        return cls(**{**params, "labels": ExportLabels(**labels) if labels else None})

    @property
    def folder(self) -> Path:
        return job_folder(self.job_id)


@dataclass
class Progress:
    state: State = "queued"
    done: int = 0
    total: int = 0
    file: str | None = None
    reason: str | None = None  # a Code's value
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    @property
    def error(self) -> ChaparError | None:
        if self.state != "failed":
            return None
        found = Reason.stored(self.reason or Code.MESSAGE.value, json.dumps(self.details))
        return ChaparError(found or Reason(Code.MESSAGE, {"text": "export failed"}))


def jobs_folder() -> Path:
    return get_settings().data_dir / "exports"


def job_folder(job_id: str) -> Path:
    if not job_id or "/" in job_id or job_id.startswith("."):
        raise ValueError(f"not a job id: {job_id!r}")
    return jobs_folder() / job_id


def new_request(
    campaign_id: int,
    run_no: int,
    status: str | None,
    fmt: Literal["csv", "xlsx"],
    name: str,
    labels: ExportLabels | None = None,
) -> ExportRequest:
    """A request with a fresh job id, its folder made and marked queued; old job folders
    are cleared away."""
    clear_old_jobs()
    request = ExportRequest(uuid.uuid4().hex, campaign_id, run_no, status, fmt, name, labels)
    request.folder.mkdir(parents=True, exist_ok=True)
    write_progress(request.folder, Progress())
    return request


def write_progress(folder: Path, progress: Progress) -> None:
    tmp = folder / "progress.json.part"
    tmp.write_text(json.dumps(asdict(progress), ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, folder / "progress.json")


def read_progress(folder: Path) -> Progress | None:
    """The job's progress; None when the folder has none (never started, or cleared)."""
    try:
        raw = json.loads((folder / "progress.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return Progress(**raw)


def fail(folder: Path, exc: BaseException) -> Progress:
    """Record a failure in the job's progress (the job never began, or broke)."""
    previous = read_progress(folder) or Progress()
    if isinstance(exc, ChaparError):
        reason = exc.reason
    else:
        reason = Reason(Code.MESSAGE, {"text": f"{exc.__class__.__name__}: {exc}"})
    failed = Progress("failed", previous.done, previous.total, None, reason.code.value,
                      reason.params)  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    write_progress(folder, failed)
    return failed


def run_export(request: ExportRequest) -> Progress:
    """Write the export into the job folder, its progress beside it; a failure is recorded
    there (and returned), never raised. The file appears under its name only when whole."""
    folder = request.folder
    folder.mkdir(parents=True, exist_ok=True)
    state = Progress("running")
    write_progress(folder, state)
    last = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        state.done, state.total = done, total
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY_S or done >= total:
            write_progress(folder, state)
            last = now

    try:
        rows = reports.export(request.campaign_id, folder / request.name, request.run_no,
                              request.status, labels=request.labels, progress=progress)  # fmt: skip
    except Exception as exc:  # recorded for the one who waits: never lost in a worker
        return fail(folder, exc)
    done = Progress("done", rows, rows, request.name)
    write_progress(folder, done)
    return done


def clear_old_jobs(keep_s: float = KEEP_JOBS_S) -> None:
    root = jobs_folder()
    if not root.is_dir():
        return
    cutoff = time.time() - keep_s
    for folder in root.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue
