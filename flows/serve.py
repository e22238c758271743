"""Serve Chapar's deployments from one process (the embedded default of `make run`).

The names match prefect.yaml, so the dashboard and the CLI trigger the same deployments
whether they are served here or run by workers of a pool.

Stopping: one SIGTERM (from `chapar up`, or from the kernel when `chapar up` dies) stops this
process within about :data:`STOP_GRACE_S` seconds. Prefect's runner would shut down
gracefully, waiting for its flow runs (seen: 8 s and more); here the flow runs this process
started get SIGTERM, SIGKILL after the grace, and the process exits. That is safe: a send
killed mid-batch is reconciled by the next run (the engine's exactly-once promise).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import cast

#: seconds the flow runs get between SIGTERM and SIGKILL when this process is stopped
STOP_GRACE_S = 1.0
# A campaign sends in one flow run at a time (its lease); this caps campaigns at once.
SEND_LIMIT = 4
# An Excel export of 1M rows holds a few hundred MB: two at once at most.
EXPORT_LIMIT = 2


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux ``/proc``; empty elsewhere)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(p) for p in task.read_text().split()]
        except OSError:
            continue
    return found


def _signal_tree(pids: list[int], sig: signal.Signals) -> None:
    """``sig`` to each process and, if it leads one, its process group (flow runs may run in
    a session of their own)."""
    for pid in pids:
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            continue


def stop_now(signum: int, frame: FrameType | None) -> None:
    """Stop at once: the flow runs first (SIGTERM, SIGKILL after the grace), then exit."""
    children = _children(os.getpid())
    _signal_tree(children, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in children):
        time.sleep(0.05)
        for pid in children:  # reap the ones that exited, so they do not linger as zombies
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                continue
    _signal_tree(_children(os.getpid()), signal.SIGKILL)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(128 + signum)


def main() -> None:
    # Before the (slow) imports: a SIGTERM during start-up stops it too.
    signal.signal(signal.SIGTERM, stop_now)

    from prefect.deployments.runner import RunnerDeployment
    from prefect.runner import Runner

    from flows.export import export_run
    from flows.imports import import_file
    from flows.inbox import sync_inbox
    from flows.schedule import sync_schedules
    from flows.send import send_campaign
    from flows.status import sync_delivery_status

    # to_deployment returns a deployment, not a coroutine, when called outside async code.
    deployments = [
        send_campaign.to_deployment("chapar-send", concurrency_limit=SEND_LIMIT, tags=["chapar"]),
        sync_delivery_status.to_deployment(
            "chapar-sync-status", interval=timedelta(seconds=60), tags=["chapar"]
        ),
        sync_inbox.to_deployment(
            "chapar-sync-inbox", interval=timedelta(seconds=300), tags=["chapar"]
        ),
        import_file.to_deployment("chapar-import-list", tags=["chapar"]),
        export_run.to_deployment("chapar-export", concurrency_limit=EXPORT_LIMIT, tags=["chapar"]),
        sync_schedules.to_deployment(
            "chapar-schedules", interval=timedelta(seconds=60), tags=["chapar"]
        ),
    ]
    # What prefect.serve() does, except that the runner's own SIGTERM handler (a graceful
    # shutdown that waits for flow runs) is replaced by stop_now: Runner.start() installs
    # ``self.handle_sigterm``, so the instance attribute decides.
    runner = Runner(pause_on_shutdown=True)
    runner.handle_sigterm = stop_now  # type: ignore[method-assign]
    for deployment in cast(list[RunnerDeployment], deployments):
        runner.add_deployment(deployment)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(runner.start())


if __name__ == "__main__":
    main()
