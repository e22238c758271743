"""Campaign schedules as Prefect flow runs of the send deployment.

A start time becomes a scheduled flow run; changing it moves the run (the old one is
cancelled, a new one scheduled); cutting it cancels the run. A run that waits for its
sending window is continued the same way. ``sync_schedules`` heals what was decided while
Prefect was unreachable; it runs on an interval (deployment chapar-schedules).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from prefect import flow, get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.states import Cancelled

from chapar.campaigns import CampaignStatus
from chapar.store import repo

SEND_DEPLOYMENT = "send-campaign/chapar-send"


def schedule_run(campaign_id: int, mode: str, when: datetime) -> str:
    """A scheduled flow run of the send deployment; its id is kept on the campaign."""
    cancel_scheduled(campaign_id)
    flow_run: FlowRun = run_deployment(  # type: ignore[assignment]  # sync in a sync caller
        SEND_DEPLOYMENT,
        parameters={"campaign_id": campaign_id, "mode": mode, "not_before": when.isoformat()},
        scheduled_time=when,
        timeout=0,
        as_subflow=False,
        flow_run_name=f"campaign-{campaign_id}-{mode}-scheduled",
    )
    repo.set_scheduled_flow_run(campaign_id, str(flow_run.id))
    return str(flow_run.id)


def cancel_scheduled(campaign_id: int) -> bool:
    """Cancel the campaign's scheduled flow run if it has not started; True if cancelled."""
    flow_run_id = repo.scheduled_flow_run(campaign_id)
    if not flow_run_id:
        return False
    cancelled = False
    with get_client(sync_client=True) as client:
        try:
            flow_run = client.read_flow_run(UUID(flow_run_id))
        except Exception:  # gone with a lost Prefect database: nothing to cancel
            flow_run = None
        if (
            flow_run is not None
            and flow_run.state is not None
            and (flow_run.state.is_scheduled() or flow_run.state.is_pending())
        ):
            client.set_flow_run_state(
                UUID(flow_run_id), Cancelled(message="schedule changed"), force=True
            )
            cancelled = True
    repo.set_scheduled_flow_run(campaign_id, None)
    return cancelled


def apply_schedule(campaign_id: int) -> str | None:
    """Make Prefect match the campaign: a scheduled run at its start time, or none."""
    campaign = repo.get_campaign(campaign_id)
    if (
        campaign.status is CampaignStatus.SCHEDULED
        and campaign.start_at is not None
        and campaign.current_run == 0
    ):
        return schedule_run(campaign_id, "start", campaign.start_at)
    if campaign.status is not CampaignStatus.SCHEDULED:
        cancel_scheduled(campaign_id)
    return None


@flow(name="sync-schedules")
def sync_schedules() -> int:
    """Schedule every scheduled campaign whose flow run is missing (made while Prefect was
    down, or lost with its database)."""
    made = 0
    with get_client(sync_client=True) as client:
        for campaign in repo.list_campaigns(archived=None):
            if campaign.status is not CampaignStatus.SCHEDULED or campaign.current_run:
                continue
            flow_run_id = repo.scheduled_flow_run(campaign.id)
            alive = False
            if flow_run_id:
                try:
                    state = client.read_flow_run(UUID(flow_run_id)).state
                    alive = state is not None and not state.is_final()
                except Exception:
                    alive = False
            if not alive and campaign.start_at is not None:
                schedule_run(campaign.id, "start", campaign.start_at)
                made += 1
    return made
