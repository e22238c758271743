"""The send flow: start, rebuild, reset or resume a campaign, in checkpointed batches.

One task sends a group of batches (tens of thousands of numbers each): a task per
200-number request would cost more in Prefect than the sending itself. Progress truth
lives in DuckDB; Prefect shows it as a progress artifact and a summary artifact per run.
Outside the sending window the run stops and schedules its own continuation at the next
opening — a scheduled flow run, not a sleeping worker.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from uuid import UUID

from prefect import State, flow, get_run_logger
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    update_progress_artifact,
)
from prefect.states import Cancelled

from chapar import reports, sending
from chapar.errors import Busy
from chapar.lease import new_owner
from chapar.providers import warm_up
from chapar.reasons import Code
from chapar.scheduling import get_scheduler
from flows.secrets import load_api_key
from tasks.sending import begin_run, send_batches


def _summary(campaign_id: int, run_no: int) -> str:
    rep = reports.run_report(campaign_id, run_no)
    lines = [f"# Campaign {campaign_id}, run {run_no}: {rep.status}", ""]
    if rep.reason:
        lines += [f"Stopped: **{rep.reason.text('en')}** — {rep.reason.text('fa')}", ""]
    lines += ["| figure | value |", "|---|---|"]
    lines += [f"| {k} | {v:,} |" for k, v in rep.figures().items()]
    return "\n".join(lines)


def is_current_schedule(campaign_id: int) -> bool:
    """Is this flow run the one the campaign is scheduled by? A moved schedule whose old run
    could not be cancelled, or a Prefect database that outlived the DuckDB file, must not
    send a campaign at a stale time."""
    from prefect.runtime import flow_run

    from chapar.store import repo

    return repo.scheduled_flow_run(campaign_id) == str(flow_run.id)


def wait_until(not_before: str | None) -> None:
    """A runner may start a scheduled flow run some seconds early (it prefetches them): a
    campaign never goes out before its time."""
    if not_before:
        delay = (datetime.fromisoformat(not_before) - datetime.now(UTC)).total_seconds()
        if delay > 0:
            time.sleep(delay)


@flow(name="send-campaign", flow_run_name="campaign-{campaign_id}-{mode}", log_prints=True)
def send_campaign(
    campaign_id: int, mode: str = "start", not_before: str | None = None
) -> dict[str, object] | State:
    """Send a campaign: ``mode`` is start, rebuild, reset or resume; a scheduled run passes
    its time as ``not_before`` (ISO 8601). The loop is the engine's own (``sending.drive``);
    this flow hands it the task that sends a group of batches."""
    logger = get_run_logger()
    if not_before is not None and not is_current_schedule(campaign_id):
        logger.warning("campaign %s: this scheduled run was replaced; nothing to do", campaign_id)
        return {"campaign_id": campaign_id, "status": "skipped", "reason": "stale schedule"}
    wait_until(not_before)
    load_api_key()
    # the tasks run in this process: its provider clients' CA store loads while planning
    threading.Thread(target=warm_up, name="provider-warm-up", daemon=True).start()
    try:
        ref = begin_run(campaign_id, mode, new_owner())
    except Busy as exc:
        if exc.code is not Code.BUSY:
            raise  # a store that stayed locked: a failure
        # Another start sends it now (a second click, a schedule beside a rebuild): this one
        # has nothing to do, which is no failure to alert anyone about.
        logger.warning("campaign %s: %s", campaign_id, exc)
        return Cancelled(message=str(exc))
    key = f"campaign-{campaign_id}-run-{ref.run_no}-progress"
    # Called from a sync flow, these return values, not coroutines.
    artifact: UUID = create_progress_artifact(  # type: ignore[assignment]
        0.0, key=key, description=f"campaign {campaign_id}"
    )

    def show_progress(r: sending.RunRef) -> None:
        done, planned = sending.progress(r)
        update_progress_artifact(artifact, 100.0 * done / max(planned, 1))

    result = sending.drive(ref, send_batches, on_progress=show_progress, actor="prefect")
    if result.resume_at is not None:
        get_scheduler().schedule(campaign_id, "resume", result.resume_at)
        logger.info("outside the sending window; continues at %s", result.resume_at)
    create_markdown_artifact(
        _summary(campaign_id, ref.run_no), key=f"campaign-{campaign_id}-run-{ref.run_no}-summary"
    )
    return {
        "campaign_id": campaign_id,
        "run_no": ref.run_no,
        "status": result.status.value,
        "reason": result.reason.code.value if result.reason else None,
    }
