"""The send engine. Its one promise: every planned number of a run reaches the provider
exactly once, whatever stops the run and wherever.

The files follow the data:

- ``run.py``     plan a run and take its lease; the one loop that drives it; finish; cut
- ``batch.py``   open a batch (transaction 1): freeze text, pages and cost; hold credit;
                 mark it in flight — committed before any request
- ``deliver.py`` reconcile what may be at the provider (by local id, in chunks), then the
                 requests at the line's rate, while a heartbeat keeps the lease
- ``record.py``  record what was accepted (transaction 2): charge at the frozen figures,
                 settle the hold, recount the run
- ``engine.py``  a group of batches through those steps, each its own checkpoint

Credit is written only through :mod:`chapar.credit`. Plain functions; Prefect tasks wrap
them (``tasks/``), and the flow hands its task to :func:`drive` as the way to send a group.
"""

from __future__ import annotations

import threading

from chapar.providers import warm_up
from chapar.sending.deliver import ProviderFactory, TokenBucket, state_of
from chapar.sending.engine import crashpoint, run_async, send_batch, send_batches
from chapar.sending.run import (
    WHOLE_RUN,
    BatchOutcome,
    LeaseLost,
    Mode,
    RunRef,
    RunResult,
    SendGroup,
    batch_groups,
    begin_run,
    cut_schedule,
    drive,
    finish_run,
    open_batches,
    progress,
    stop_of,
)


def send_run(
    campaign_id: int,
    mode: Mode,
    factory: ProviderFactory | None = None,
    on_batch: object = None,
    actor: str | None = None,
) -> RunResult:
    """Start, rebuild, reset or resume a campaign and send until done or stopped, in this
    process (the CLI's way; the Prefect flow drives the same loop with its task)."""
    # the provider's client loads the CA store once a process (≈0.3 s): meanwhile, not
    # before the first request
    threading.Thread(target=warm_up, name="provider-warm-up", daemon=True).start()
    ref = begin_run(campaign_id, mode, actor=actor)
    return drive(
        ref,
        lambda r, group: send_batches(r, group, factory, on_batch=on_batch),  # type: ignore[arg-type]
        actor=actor,
        group_size=WHOLE_RUN,
    )


__all__ = [
    "BatchOutcome",
    "LeaseLost",
    "Mode",
    "ProviderFactory",
    "RunRef",
    "RunResult",
    "SendGroup",
    "TokenBucket",
    "batch_groups",
    "begin_run",
    "crashpoint",
    "cut_schedule",
    "drive",
    "finish_run",
    "open_batches",
    "progress",
    "run_async",
    "send_batch",
    "send_batches",
    "send_run",
    "state_of",
    "stop_of",
]
