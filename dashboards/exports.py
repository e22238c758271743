"""Exports from the dashboard: the words of a file in Persian or English, and exports built
in a background thread with their progress, so a page never waits on a large file.

A job writes to a temporary file through :func:`chapar.reports.export` (which snapshots the
run's rows once and then streams them in chunks) and reports rows done; the reports page
polls it in a fragment and offers the download when it is ready. Jobs live in this
process, one per (database, campaign, run, flag, format, language); a finished file is
kept until the next job of the same key or the process ends.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from chapar import reports
from chapar.campaigns import MessageState
from chapar.errors import ChaparError
from chapar.numbers import OPERATOR_NAMES_FA
from chapar.reports import ExportLabels

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


@dataclass
class Job:
    key: tuple[object, ...]
    name: str
    total: int = 0
    done: int = 0
    finished: bool = False
    error: ChaparError | None = None
    path: Path | None = None
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="chapar-job-")))

    @property
    def fraction(self) -> float:
        if self.finished:
            return 1.0
        return 0.0 if self.total <= 0 else min(1.0, self.done / self.total)


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
) -> Job:
    """Start building the export in a thread (a second click while it runs is the same job)."""
    key = (db, campaign_id, run_no, status, fmt, lang)
    with _lock:
        running = _jobs.get(key)
        if running is not None and not running.finished:
            return running
        if running is not None:
            shutil.rmtree(running.folder, ignore_errors=True)
        new = Job(key, name)
        _jobs[key] = new

    def progress(done: int, total: int) -> None:
        new.done, new.total = done, total

    def work() -> None:
        target = new.folder / name
        try:
            reports.export(campaign_id, target, run_no, status, labels=labels_for(lang),
                           progress=progress)  # fmt: skip
            new.path = target
        except ChaparError as exc:
            new.error = exc
        except Exception as exc:  # a failure is shown on the page, never lost in a thread
            new.error = ChaparError(f"{exc.__class__.__name__}: {exc}")
        finally:
            new.finished = True

    threading.Thread(target=work, name=f"chapar-export-{campaign_id}", daemon=True).start()
    return new
