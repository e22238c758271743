"""Thin Prefect tasks over the send pipeline in ``chapar.sending`` (tested there directly).

A task is a group of batches, a batch tens of thousands of numbers: each task costs
milliseconds and each DuckDB commit ~15-40 ms, so neither is per request. The batch is the
checkpoint. No
task caches a result: the truth of progress is in DuckDB, and a re-run asks DuckDB.
"""

from __future__ import annotations

from prefect import task

from chapar import delivery, sending
from chapar.campaigns import RunStatus


@task(name="begin-run", retries=2, retry_delay_seconds=1)
def begin_run(campaign_id: int, mode: str, owner: str) -> sending.RunRef:
    return sending.begin_run(campaign_id, sending.Mode(mode), owner=owner, actor="prefect")


@task(name="batch-groups")
def batch_groups(ref: sending.RunRef) -> list[list[int]]:
    return sending.batch_groups(ref)


# A retry is safe at any point: an in-flight batch is reconciled before anything is re-sent.
@task(name="send-batches", task_run_name="batches-{batch_nos[0]}", retries=3, retry_delay_seconds=2)
def send_batches(ref: sending.RunRef, batch_nos: list[int]) -> list[sending.BatchOutcome]:
    return sending.send_batches(ref, batch_nos)


@task(name="finish-run")
def finish_run(
    ref: sending.RunRef, status: str, reason: str | None = None, resume_at: str | None = None
) -> None:
    from datetime import datetime

    sending.finish_run(
        ref,
        RunStatus(status),
        reason,
        datetime.fromisoformat(resume_at) if resume_at else None,
        actor="prefect",
    )


@task(name="sync-statuses", retries=2, retry_delay_seconds=5)
def sync_statuses() -> delivery.SyncResult:
    return delivery.sync_statuses()
