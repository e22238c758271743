"""A large export from the dashboard is a Prefect flow run: against a real local Prefect
server with Chapar's deployments served by ``python -m flows.serve`` (as ``chapar up``
does), the reports page hands the export to ``export-run/chapar-export``, shows its
progress and a link to the flow run, and offers the download when the flow run is done."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import polars as pl
import pytest

from bench.bench_export import seed_sent_run
from chapar.settings import get_settings
from dashboards import data
from dashboards import exports as dashboard_exports
from flows.scheduler import EXPORT_DEPLOYMENT
from tests.dashboard_fixtures import app_fixture, click, menu, run_ok  # noqa: F401  (app)
from tests.prefect_fixtures import cancel_leftover_flow_runs

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def served(use_prefect_server, simulator, chapar_home, monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """`python -m flows.serve` with this test's data dir, its deployments registered."""
    from prefect import get_client

    cancel_leftover_flow_runs()
    monkeypatch.setenv("CHAPAR_SIMULATOR_PORT", str(simulator.port))
    monkeypatch.delenv("CHAPAR_SCHEDULER", raising=False)
    monkeypatch.delenv("CHAPAR_SEND_INPROCESS", raising=False)
    get_settings.cache_clear()
    env = {**os.environ, **use_prefect_server.env, "CHAPAR_DATA_DIR": str(chapar_home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.serve"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        with get_client(sync_client=True) as client:
            while True:
                try:
                    client.read_deployment_by_name(EXPORT_DEPLOYMENT)
                    break
                except Exception:
                    assert time.monotonic() < deadline, "the deployments were not served in 60 s"
                    time.sleep(0.5)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_large_export_is_a_flow_run_with_progress_and_a_download(app, served, monkeypatch):
    from prefect import get_client

    monkeypatch.setattr(dashboard_exports, "LARGE_ROWS", 1_000)
    cid = seed_sent_run(20_000, title="Autumn")
    at = click(menu(run_ok(app()), cid), f"reports_c{cid}")
    click(at, "rep_prepare_xlsx")
    job = dashboard_exports.job((data.db_key(), cid, 1, None, "xlsx", "en"))
    assert job is not None and job.url is not None
    assert job.url.startswith("http://127.0.0.1:") and "/runs/flow-run/" in job.url
    run_id = UUID(job.url.rsplit("/", 1)[1])
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(run_id)
    request = flow_run.parameters["request"]
    assert (request["campaign_id"], request["run_no"], request["fmt"]) == (cid, 1, "xlsx")
    assert request["job_id"] == job.request.job_id

    deadline = time.monotonic() + 90
    while not job.finished:
        assert time.monotonic() < deadline, job.progress
        time.sleep(0.2)
    assert job.progress.state == "done" and job.error is None
    run_ok(at)
    name = f"chapar-campaign-{cid}-run-1.xlsx"
    assert f"Download {name}" in [b.label for b in at.download_button]
    assert job.path is not None
    assert pl.read_excel(job.path, read_options={"header_row": 3}).height == 20_000
    with get_client(sync_client=True) as client:
        deadline = time.monotonic() + 30
        while (state := client.read_flow_run(run_id).state) is None or not state.is_final():
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert state.is_completed()
