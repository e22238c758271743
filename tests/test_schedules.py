"""Schedules against a real local Prefect server with the deployments served in a real
process: a start time runs at its time, a change moves it, a cut cancels it, and a closed
sending window schedules a continuation that sends when the window opens."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from chapar import reports
from chapar.campaigns import CampaignStatus
from chapar.reasons import Code, read_audit_status
from chapar.sending import cut_schedule
from chapar.settings import get_settings
from chapar.store import repo
from tests.prefect_fixtures import cancel_leftover_flow_runs
from tests.test_sending import assert_exactly_once, make_campaign

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def serve_flows(
    use_prefect_server, simulator, chapar_home, monkeypatch
) -> Iterator[Callable[..., None]]:  # type: ignore[no-untyped-def]
    """Start `python -m flows.serve` with this test's database and simulator."""
    procs: list[subprocess.Popen[bytes]] = []
    prefect_server = use_prefect_server
    cancel_leftover_flow_runs()

    def start(**extra: str) -> None:
        env = {
            **os.environ,
            **prefect_server.env,
            "CHAPAR_DATA_DIR": str(chapar_home),
            "CHAPAR_SIMULATOR_PORT": str(simulator.port),
            **extra,
        }
        for key, value in extra.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "flows.serve"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        from prefect import get_client

        deadline = time.monotonic() + 60
        with get_client(sync_client=True) as client:
            while time.monotonic() < deadline:
                try:
                    client.read_deployment_by_name("send-campaign/chapar-send")
                    return
                except Exception:
                    time.sleep(0.5)
        pytest.fail("the deployments were not served within 60 s")

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_for(campaign_id: int, status: CampaignStatus, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if repo.get_campaign(campaign_id).status is status:
            return
        time.sleep(0.5)
    campaign = repo.get_campaign(campaign_id)
    pytest.fail(
        f"campaign {campaign_id} is {campaign.status} ({campaign.status_reason}), "
        f"not {status}, after {seconds} s"
    )


def flow_run_state(flow_run_id: str) -> str:
    from prefect import get_client

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(flow_run_id)).state
    assert state is not None
    return state.type.value


def test_a_start_time_becomes_a_flow_run_that_sends_at_that_time(serve_flows, simulator, write):
    from flows.schedule import apply_schedule

    serve_flows(CHAPAR_SEND_WINDOW="always")
    start = datetime.now(UTC) + timedelta(seconds=8)
    cid = make_campaign(write, n=500, start_at=start)
    flow_run = apply_schedule(cid)
    # The runner may already have picked it up (PENDING) ahead of its time.
    assert flow_run is not None and flow_run_state(flow_run) in {"SCHEDULED", "PENDING"}
    wait_for(cid, CampaignStatus.COMPLETED)
    page, _ = reports.numbers(cid, limit=1_000)
    # The runner may start the flow run early (it prefetches); the flow waits for its time.
    assert min(page["sent_at"]) >= start, "sent before its time"
    assert_exactly_once(simulator, cid)


def test_changing_the_start_time_moves_the_flow_run(serve_flows, simulator, write):
    from flows.schedule import apply_schedule

    serve_flows(CHAPAR_SEND_WINDOW="always")
    cid = make_campaign(write, n=300, start_at=datetime.now(UTC) + timedelta(hours=1))
    first = apply_schedule(cid)
    repo.edit_campaign(cid, {"start_at": datetime.now(UTC) + timedelta(seconds=4)})
    second = apply_schedule(cid)
    assert first and second and first != second
    assert flow_run_state(first) == "CANCELLED"
    wait_for(cid, CampaignStatus.COMPLETED)
    assert_exactly_once(simulator, cid)


def test_cutting_a_schedule_cancels_its_flow_run_and_sends_nothing(serve_flows, simulator, write):
    from flows.schedule import apply_schedule

    serve_flows(CHAPAR_SEND_WINDOW="always")
    cid = make_campaign(write, n=300, start_at=datetime.now(UTC) + timedelta(seconds=5))
    flow_run = apply_schedule(cid)
    assert flow_run is not None
    cut_schedule(cid)
    apply_schedule(cid)
    assert flow_run_state(flow_run) == "CANCELLED"
    time.sleep(8)
    assert repo.get_campaign(cid).status is CampaignStatus.CANCELLED
    assert simulator.outbox()["receptors"] == {}


def test_a_closed_window_schedules_a_continuation_that_sends_when_it_opens(
    serve_flows, simulator, write
):
    from prefect.deployments import run_deployment

    serve_flows(CHAPAR_SEND_WINDOW="always", CHAPAR_TIMEZONE="UTC")
    cid = make_campaign(write, n=400)
    # The line's own window, set once the flows serve (their start-up, slow on a loaded
    # machine, must not eat the wait): it opens 25 s from now.
    opens = datetime.now(UTC) + timedelta(seconds=25)
    closes = opens + timedelta(hours=1)
    repo.set_line("30001234", f"{opens:%H:%M:%S}-{closes:%H:%M:%S}", None)
    run_deployment(
        "send-campaign/chapar-send", parameters={"campaign_id": cid, "mode": "start"}, timeout=0
    )
    wait_for(cid, CampaignStatus.COMPLETED, seconds=120)
    # It waited (a scheduled continuation), and nothing went out before the window opened.
    waited = [
        a
        for a in repo.audit_trail(cid)
        if a.field == "status"
        and (why := read_audit_status(a.new_value or "")[1]) is not None
        and why.code is Code.OUTSIDE_WINDOW
    ]
    assert waited, "the run never waited for its window"
    page, _ = reports.numbers(cid, limit=1_000)
    assert min(page["sent_at"]) >= opens - timedelta(seconds=2)
    assert_exactly_once(simulator, cid)


def test_a_replaced_schedule_whose_run_still_fires_sends_nothing(serve_flows, simulator, write):
    from flows.schedule import apply_schedule

    serve_flows(CHAPAR_SEND_WINDOW="always")
    cid = make_campaign(write, n=100, start_at=datetime.now(UTC) + timedelta(seconds=3))
    stale = apply_schedule(cid)
    assert stale is not None
    repo.set_scheduled_flow_run(cid, "a-newer-flow-run")  # as if moved, the old run not cancelled
    deadline = time.monotonic() + 60
    while flow_run_state(stale) not in {"COMPLETED", "FAILED", "CRASHED"}:
        assert time.monotonic() < deadline, "the stale flow run never ran"
        time.sleep(0.5)
    assert flow_run_state(stale) == "COMPLETED"
    assert repo.get_campaign(cid).status is CampaignStatus.SCHEDULED
    assert simulator.outbox()["receptors"] == {}
