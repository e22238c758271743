"""Thin Prefect tasks over the send pipeline in ``chapar.sending`` (tested there directly).

A task is one batch (thousands of numbers), not one request: each task costs milliseconds
and each DuckDB commit ~15 ms, so the batch is the unit of both checkpoint and task. No
task caches a result: the truth of progress is in DuckDB, and a re-run asks DuckDB.
"""

from __future__ import annotations

from prefect import task

from chapar import delivery, sending
from chapar.campaigns import RunStatus


@task(name="begin-run", retries=2, retry_delay_seconds=1)
def begin_run(campaign_id: int, mode: str, owner: str) -> sending.RunRef:
    return sending.begin_run(campaign_id, sending.Mode(mode), owner=owner, actor="prefect")


@task(name="open-batches")
def open_batches(ref: sending.RunRef) -> list[int]:
    return sending.open_batches(ref)


# A retry is safe at any point: send_batch reconciles an in-flight batch before sending.
@task(name="send-batch", task_run_name="batch-{batch_no}", retries=3, retry_delay_seconds=2)
def send_batch(ref: sending.RunRef, batch_no: int) -> sending.BatchOutcome:
    return sending.send_batch(ref, batch_no)


@task(name="finish-run")
def finish_run(ref: sending.RunRef, status: str, reason: str | None = None,
               resume_at: str | None = None) -> None:  # fmt: skip
    from datetime import datetime

    sending.finish_run(ref, RunStatus(status), reason,
                       datetime.fromisoformat(resume_at) if resume_at else None, actor="prefect")  # fmt: skip


@task(name="sync-statuses", retries=2, retry_delay_seconds=5)
def sync_statuses() -> delivery.SyncResult:
    return delivery.sync_statuses()
