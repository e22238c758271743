"""Thin Prefect tasks over the send pipeline in ``chapar.sending`` (tested there directly).

A task is a group of batches, a batch tens of thousands of numbers: each task costs
milliseconds and each DuckDB commit ~15-40 ms, so neither is per request. The batch is the
checkpoint. No
task caches a result: the truth of progress is in DuckDB, and a re-run asks DuckDB.
"""

from __future__ import annotations

from typing import Any

from prefect import task

from chapar import delivery, sending
from chapar.errors import ChaparError
from chapar.reasons import Code


def _not_lease_lost(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a failed group unless this process lost the run's lease: then nothing more may
    be sent or written by it."""
    try:
        state.result()
    except sending.LeaseLost:
        return False
    except BaseException:
        return True
    return True


def _not_a_refusal(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a run's start unless Chapar refused it (sending now, already sent, …): a second
    later it would refuse the same. A store that stayed locked or kept conflicting is
    worth another try."""
    try:
        state.result()
    except ChaparError as exc:
        return exc.code in (Code.DATABASE_LOCKED, Code.STORE_CONFLICT)
    except BaseException:
        return True
    return True


@task(name="begin-run", retries=2, retry_delay_seconds=1, retry_condition_fn=_not_a_refusal)
def begin_run(campaign_id: int, mode: str, owner: str) -> sending.RunRef:
    return sending.begin_run(campaign_id, sending.Mode(mode), owner=owner, actor="prefect")


# A retry is safe at any point: an in-flight batch is reconciled before anything is re-sent.
@task(
    name="send-batches",
    task_run_name="batches-{batch_nos[0]}",
    retries=3,
    retry_delay_seconds=2,
    retry_condition_fn=_not_lease_lost,
)
def send_batches(ref: sending.RunRef, batch_nos: list[int]) -> list[sending.BatchOutcome]:
    return sending.send_batches(ref, batch_nos)


@task(name="sync-statuses", retries=2, retry_delay_seconds=5)
def sync_statuses() -> delivery.SyncResult:
    return delivery.sync_statuses()
