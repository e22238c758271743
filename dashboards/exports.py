"""Exports from the dashboard: the words of a file in Persian or English, and exports built
in the background with their progress, so a page never waits on a large file.

A job is a :class:`chapar.exports.ExportRequest`: :func:`chapar.exports.run_export` writes
the file and its progress into the job's folder under the data dir. A small export (up to
:data:`LARGE_ROWS` rows) runs in a thread of this process; a large one goes through the
Scheduler port (``CHAPAR_SCHEDULER``): a flow run of Prefect's ``chapar-export`` deployment,
or a thread here with ``inprocess``. The reports page polls the progress file in a fragment
and offers the download when it is done. This process remembers one job per (database,
campaign, run, flag, format, language); a new job of the same key replaces the old one's
folder.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from chapar import reports
from chapar.campaigns import MessageState
from chapar.errors import ChaparError
from chapar.exports import ExportRequest, Progress, fail, new_request, read_progress
from chapar.numbers import OPERATOR_NAMES_FA
from chapar.reports import ExportLabels
from chapar.scheduling import get_scheduler, in_process

Format = Literal["csv", "xlsx"]
Lang = Literal["fa", "en"]


def labels_for(lang: str) -> ExportLabels:
    """Headers and values of an export in ``lang`` (Persian: Jalali dates, RTL sheet)."""
    from dashboards.i18n import LABELS

    i = 0 if lang == "fa" else 1
    headers = {c: LABELS[f"col.{c}"][i] for c in reports.EXPORT_COLUMNS}
    states = {s.value: LABELS[f"mstate.{s.value}"][i] for s in MessageState}
    operators = dict(OPERATOR_NAMES_FA) if lang == "fa" else {}
    return ExportLabels(
        headers=headers, states=states, operators=operators, title=LABELS["title"][i],
        message=LABELS["message"][i], jalali=lang == "fa", rtl=lang == "fa",
    )  # fmt: skip


#: Exports above this many rows go through the Scheduler port (Prefect by default); smaller
#: ones are quicker written here than handed to a flow run (which takes seconds to start).
LARGE_ROWS = 100_000


@dataclass
class Job:
    """One export this process started; its state is read from the job's progress file
    (written by whoever runs it: this process or a Prefect flow run)."""

    key: tuple[object, ...]
    name: str
    request: ExportRequest
    url: str | None = None

    @property
    def folder(self) -> Path:
        return self.request.folder

    @property
    def progress(self) -> Progress:
        return read_progress(self.folder) or Progress()

    @property
    def finished(self) -> bool:
        return self.progress.finished

    @property
    def done(self) -> int:
        return self.progress.done

    @property
    def total(self) -> int:
        return self.progress.total

    @property
    def error(self) -> ChaparError | None:
        return self.progress.error

    @property
    def path(self) -> Path | None:
        found = self.progress
        return self.folder / found.file if found.state == "done" and found.file else None

    @property
    def fraction(self) -> float:
        found = self.progress
        if found.finished:
            return 1.0
        return 0.0 if found.total <= 0 else min(1.0, found.done / found.total)


_jobs: dict[tuple[object, ...], Job] = {}
_lock = threading.Lock()


def job(key: tuple[object, ...]) -> Job | None:
    return _jobs.get(key)


def start(
    db: str,
    campaign_id: int,
    run_no: int,
    status: str | None,
    fmt: Format,
    lang: Lang,
    name: str,
    rows: int = 0,
) -> Job:
    """Start building the export (a second click while it runs is the same job). ``rows``:
    how many it will hold, which decides where it runs. A scheduler that cannot take it
    (Prefect down) is recorded as the job's failure, shown on the page."""
    key = (db, campaign_id, run_no, status, fmt, lang)
    with _lock:
        running = _jobs.get(key)
        if running is not None and not running.finished:
            return running
        if running is not None:
            shutil.rmtree(running.folder, ignore_errors=True)
        request = new_request(campaign_id, run_no, status, fmt, name, labels_for(lang))
        new = Job(key, name, request)
        _jobs[key] = new
    scheduler = get_scheduler() if rows > LARGE_ROWS else in_process()
    try:
        new.url = scheduler.export(request)
    except Exception as exc:
        fail(request.folder, exc)
    return new
