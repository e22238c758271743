"""Exports as background jobs (issue 11 point 5): the job writes its file and its progress
into a folder under the data dir; a large export from the reports page goes through the
Scheduler port (here its in-process adapter), the page shows the progress and then the
download. The Prefect path is in tests/test_dashboard_export_prefect.py."""

from __future__ import annotations

import io
import json
import time

import polars as pl
import pytest

from bench.bench_export import seed_sent_run
from chapar import exports, reports, scheduling
from chapar.exports import ExportRequest, Progress, new_request, read_progress, run_export
from chapar.reasons import Code
from chapar.settings import get_settings
from dashboards import data
from dashboards import exports as dashboard_exports
from dashboards.exports import labels_for
from tests.dashboard_fixtures import app_fixture, click, menu, run_ok, texts  # noqa: F401  (app)


def wait_finished(job: dashboard_exports.Job, timeout_s: float = 60) -> Progress:
    deadline = time.monotonic() + timeout_s
    while not job.finished:
        assert time.monotonic() < deadline, job.progress
        time.sleep(0.05)
    return job.progress


def test_an_export_job_writes_its_file_and_its_progress_in_its_folder():
    cid = seed_sent_run(3_000, title="Autumn")
    request = new_request(cid, 1, "delivered", "csv", "autumn.csv", labels_for("en"))
    assert request.folder.parent == get_settings().data_dir / "exports"
    assert read_progress(request.folder) == Progress("queued")

    done = run_export(request)

    assert (done.state, done.file) == ("done", "autumn.csv")
    assert done.done == done.total == reports.run_report(cid).n("delivered")
    assert read_progress(request.folder) == done
    frame = pl.read_csv(request.folder / "autumn.csv", skip_rows=3)
    assert frame.height == done.total and set(frame["Status"]) == {"delivered"}
    assert sorted(p.name for p in request.folder.iterdir()) == ["autumn.csv", "progress.json"]


def test_a_request_travels_as_json_and_comes_back_the_same():
    request = ExportRequest("abc", 7, 2, None, "xlsx", "f.xlsx", labels_for("fa"))
    assert ExportRequest.from_params(json.loads(json.dumps(request.params()))) == request


def test_progress_is_written_while_the_rows_are(monkeypatch):
    cid = seed_sent_run(50_000)
    monkeypatch.setattr(reports, "EXPORT_CHUNK", 10_000)
    monkeypatch.setattr(exports, "PROGRESS_EVERY_S", 0.0)
    request = new_request(cid, 1, None, "csv", "all.csv")
    seen: list[tuple[str, int, int]] = []
    real = exports.write_progress

    def spy(folder, progress):  # type: ignore[no-untyped-def]
        seen.append((progress.state, progress.done, progress.total))
        real(folder, progress)

    monkeypatch.setattr(exports, "write_progress", spy)
    run_export(request)
    assert seen[:2] == [("running", 0, 0), ("running", 0, 50_000)]  # counted first
    assert [done for state, done, _ in seen if state == "running"][2:] == [
        10_000, 20_000, 30_000, 40_000, 50_000,
    ]  # fmt: skip
    assert seen[-1] == ("done", 50_000, 50_000)


def test_a_refused_export_is_recorded_with_its_reason_pointing_to_csv(monkeypatch):
    cid = seed_sent_run(2_000)
    monkeypatch.setattr(reports, "EXCEL_MAX_ROWS", 1_000)
    request = new_request(cid, 1, None, "xlsx", "big.xlsx")
    failed = run_export(request)
    assert failed.state == "failed" and failed.reason == Code.EXCEL_TOO_BIG.value
    assert failed.error is not None and ".csv" in failed.error.text("en")
    assert "CSV" in failed.error.text("fa")
    assert not (request.folder / "big.xlsx").exists()  # nothing half-written
    assert read_progress(request.folder) == failed


def test_a_large_export_from_the_reports_page_goes_through_the_scheduler_port(app, monkeypatch):
    monkeypatch.setenv("CHAPAR_SCHEDULER", "inprocess")
    get_settings.cache_clear()
    monkeypatch.setattr(dashboard_exports, "LARGE_ROWS", 1_000)
    handed: list[ExportRequest] = []
    real = scheduling.InProcessScheduler.export

    def spy(self, request):  # type: ignore[no-untyped-def]
        handed.append(request)
        return real(self, request)

    monkeypatch.setattr(scheduling.InProcessScheduler, "export", spy)
    cid = seed_sent_run(5_000, title="Autumn")
    at = click(menu(run_ok(app()), cid), f"reports_c{cid}")
    click(at, "rep_prepare_xlsx")
    assert [(r.campaign_id, r.run_no, r.fmt) for r in handed] == [(cid, 1, "xlsx")]
    job = dashboard_exports.job((data.db_key(), cid, 1, None, "xlsx", "en"))
    assert job is not None and job.request == handed[0]
    assert wait_finished(job).state == "done"
    run_ok(at)
    name = f"chapar-campaign-{cid}-run-1.xlsx"
    assert [b.label for b in at.download_button] == [f"Download {name}"]
    sheet = pl.read_excel(job.folder / name, read_options={"header_row": 3})
    assert sheet.height == 5_000


def test_a_scheduler_that_cannot_take_the_export_shows_why(app, monkeypatch):
    """Prefect is the default scheduler and nothing answers here (the app fixture)."""
    monkeypatch.delenv("CHAPAR_SCHEDULER", raising=False)
    monkeypatch.delenv("CHAPAR_SEND_INPROCESS", raising=False)
    get_settings.cache_clear()
    monkeypatch.setattr(dashboard_exports, "LARGE_ROWS", 1_000)
    cid = seed_sent_run(2_000)
    at = click(menu(run_ok(app()), cid), f"reports_c{cid}")
    click(at, "rep_prepare_csv")
    run_ok(at)
    assert "The export failed" in texts(at)
    assert "Prefect server" in texts(at)


@pytest.mark.parametrize("rows", [10])
def test_a_small_export_runs_in_this_process_whatever_the_scheduler(app, monkeypatch, rows):
    monkeypatch.delenv("CHAPAR_SCHEDULER", raising=False)
    monkeypatch.delenv("CHAPAR_SEND_INPROCESS", raising=False)
    get_settings.cache_clear()
    cid = seed_sent_run(rows)
    at = click(menu(run_ok(app()), cid), f"reports_c{cid}")
    click(at, "rep_prepare_csv")
    job = dashboard_exports.job((data.db_key(), cid, 1, None, "csv", "en"))
    assert job is not None
    assert wait_finished(job).state == "done" and job.url is None
    raw = (job.folder / job.name).read_bytes()
    frame = pl.read_csv(io.BytesIO(raw), skip_rows=3)
    assert frame.height == rows
