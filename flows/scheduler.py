"""The Scheduler port's Prefect adapter: every Prefect client call of the product is here
or in the flows it calls (``flows/schedule.py``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import httpx

from chapar.exports import ExportRequest
from chapar.reasons import Code
from chapar.scheduling import SchedulerUnavailable
from chapar.settings import get_settings
from chapar.store import repo

SEND_DEPLOYMENT = "send-campaign/chapar-send"
EXPORT_DEPLOYMENT = "export-run/chapar-export"


def prefect_api_url() -> str:
    return (
        os.environ.get("PREFECT_API_URL") or f"http://127.0.0.1:{get_settings().prefect_port}/api"
    ).rstrip("/")


def prefect_ui_url() -> str:
    return (
        os.environ.get("PREFECT_UI_URL") or f"http://127.0.0.1:{get_settings().prefect_port}"
    ).rstrip("/")


def _answers(api: str) -> str | None:
    """None if the Prefect server at ``api`` answers, else why not."""
    try:
        httpx.get(f"{api}/health", timeout=3.0).raise_for_status()
    except httpx.HTTPError as exc:
        return exc.__class__.__name__
    return None


@contextmanager
def _prefect(api: str) -> Iterator[None]:
    """Prefect's client pointed at ``api`` for this block. Never let Prefect go without a
    server: it would start a temporary one in this process (STACK-NOTES)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api}):
        yield


class PrefectScheduler:
    """Sends are flow runs of the ``chapar-send`` deployment; a schedule is a scheduled one."""

    name = "prefect"

    def __init__(self) -> None:
        self.api = prefect_api_url()

    def available(self) -> bool:
        return _answers(self.api) is None

    def _require(self) -> None:
        why = _answers(self.api)
        if why is not None:
            raise SchedulerUnavailable(Code.PREFECT_DOWN, api=self.api, why=why)

    def start(self, campaign_id: int, mode: str) -> str | None:
        """Hand the send to Prefect (``run_deployment(..., timeout=0)``); the flow run's URL.
        The same click on the same campaign state is the same flow run (Prefect dedupes)."""
        self._require()
        from prefect.deployments import run_deployment
        from prefect.exceptions import ObjectNotFound

        from flows.schedule import cancel_scheduled

        campaign = repo.get_campaign(campaign_id)
        key = (
            f"chapar-{campaign_id}-{mode}-run{campaign.current_run}-reset{campaign.reset_count}"
            f"-{campaign.status.value}-{campaign.updated_at.isoformat()}"
        )
        try:
            with _prefect(self.api):
                if mode == "start" and repo.scheduled_flow_run(campaign_id):
                    cancel_scheduled(campaign_id)  # sent now: its scheduled run must not run
                flow_run = run_deployment(
                    SEND_DEPLOYMENT,
                    parameters={"campaign_id": campaign_id, "mode": mode},
                    timeout=0,
                    as_subflow=False,
                    idempotency_key=key,
                )
        except ObjectNotFound:
            raise SchedulerUnavailable(
                Code.PREFECT_NO_DEPLOYMENT, deployment=SEND_DEPLOYMENT
            ) from None
        except Exception as exc:
            raise SchedulerUnavailable(Code.PREFECT_REFUSED, detail=str(exc)) from None
        return f"{prefect_ui_url()}/runs/flow-run/{flow_run.id}"  # type: ignore[union-attr]

    def schedule(self, campaign_id: int, mode: str, when: datetime) -> str | None:
        from flows.schedule import schedule_run

        with _prefect(self.api):
            return schedule_run(campaign_id, mode, when)

    def cancel(self, campaign_id: int) -> bool:
        from flows.schedule import cancel_scheduled

        with _prefect(self.api):
            return cancel_scheduled(campaign_id)

    def apply(self, campaign_id: int) -> str | None:
        """Make Prefect's scheduled flow run match the campaign; SchedulerUnavailable when
        no server answers (then ``chapar up``'s sync-schedules flow heals it later)."""
        self._require()
        from flows.schedule import apply_schedule

        try:
            with _prefect(self.api):
                return apply_schedule(campaign_id)
        except Exception as exc:  # Prefect went away between the check and the call
            raise SchedulerUnavailable(Code.PREFECT_REFUSED, detail=str(exc)) from None

    def export(self, request: ExportRequest) -> str | None:
        """Hand the export to Prefect (a flow run of ``chapar-export``, without waiting); the
        flow run's URL. The job id is the idempotency key: one flow run per job."""
        self._require()
        from prefect.deployments import run_deployment
        from prefect.exceptions import ObjectNotFound

        try:
            with _prefect(self.api):
                flow_run = run_deployment(
                    EXPORT_DEPLOYMENT,
                    parameters={"request": request.params()},
                    timeout=0,
                    as_subflow=False,
                    idempotency_key=f"chapar-export-{request.job_id}",
                )
        except ObjectNotFound:
            raise SchedulerUnavailable(
                Code.PREFECT_NO_DEPLOYMENT, deployment=EXPORT_DEPLOYMENT
            ) from None
        except Exception as exc:
            raise SchedulerUnavailable(Code.PREFECT_REFUSED, detail=str(exc)) from None
        return f"{prefect_ui_url()}/runs/flow-run/{flow_run.id}"  # type: ignore[union-attr]
