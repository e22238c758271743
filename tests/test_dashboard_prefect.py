"""The dashboard hands a send to Prefect: the deployment send-campaign/chapar-send gets one
flow run with the campaign and mode, and the same click twice is the same flow run."""

from __future__ import annotations

import uuid

import pytest

from chapar.errors import Busy
from chapar.store import repo
from dashboards import data
from tests.dashboard_fixtures import campaign, people_fixture  # noqa: F401  (fixture: people)

pytestmark = pytest.mark.integration


@pytest.fixture
def deployment(prefect_server, monkeypatch):  # type: ignore[no-untyped-def]
    """The send deployment registered on a real Prefect server (no worker: its runs wait)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.send import send_campaign

    monkeypatch.setenv("PREFECT_API_URL", prefect_server.api_url)
    monkeypatch.setenv("PREFECT_UI_URL", "http://127.0.0.1:4200")
    with temporary_settings(updates={PREFECT_API_URL: prefect_server.api_url}):
        send_campaign.to_deployment(name="chapar-send").apply()
    return prefect_server


def test_send_creates_one_flow_run_with_the_campaign_and_mode(people, deployment):
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    cid = campaign()
    url = data.trigger(cid, "start")
    assert url is not None and url.startswith("http://127.0.0.1:4200/runs/flow-run/")
    run_id = uuid.UUID(url.rsplit("/", 1)[1])
    with (
        temporary_settings(updates={PREFECT_API_URL: deployment.api_url}),
        get_client(sync_client=True) as client,
    ):
        flow_run = client.read_flow_run(run_id)
    assert flow_run.parameters == {"campaign_id": cid, "mode": "start"}

    with pytest.raises(Busy, match="is still queued"):
        data.trigger(cid, "start")  # a second click before the flow begins
    assert data.start_send(cid, "start") == url  # and Prefect dedupes the same click
    assert repo.get_campaign(cid).current_run == 0  # nothing was sent by the dashboard


def test_a_start_time_set_in_the_dashboard_is_a_scheduled_flow_run_and_cut_cancels_it(
    people, deployment
):
    from datetime import UTC, datetime, timedelta

    from prefect import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from dashboards import ui  # noqa: F401  (the pages' helpers import cleanly)

    cid = campaign(start_at=datetime.now(UTC) + timedelta(days=1))
    assert data.tell_prefect(cid) is True
    flow_run_id = repo.scheduled_flow_run(cid)
    assert flow_run_id
    from chapar.sending import cut_schedule

    cut_schedule(cid)
    assert data.tell_prefect(cid) is True
    assert repo.scheduled_flow_run(cid) is None
    with (
        temporary_settings(updates={PREFECT_API_URL: deployment.api_url}),
        get_client(sync_client=True) as client,
    ):
        state = client.read_flow_run(uuid.UUID(flow_run_id)).state
    assert state is not None and state.is_cancelled()
