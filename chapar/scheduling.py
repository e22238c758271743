"""The Scheduler port: who starts a send now, schedules it for later, or cancels it.

The core asks these five things and never imports an orchestrator. Two adapters, chosen by
the ``scheduler`` setting as providers are:

- ``prefect`` (the default): Prefect's deployments — ``flows/scheduler.py``; every Prefect
  client call of the product lives there.
- ``inprocess``: this process's threads and timers, for a dashboard run without Prefect and
  for tests. A timer lives only as long as the process does.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from chapar.campaigns import CampaignStatus
from chapar.errors import ChaparError
from chapar.reasons import Code
from chapar.settings import get_settings

if TYPE_CHECKING:
    from chapar.exports import ExportRequest


class SchedulerUnavailable(ChaparError):
    """The send could not be handed to the orchestrator (server down, deployment missing…)."""


@runtime_checkable
class Scheduler(Protocol):
    name: str

    def available(self) -> bool:
        """Does the orchestrator answer now?"""
        ...

    def start(self, campaign_id: int, mode: str) -> str | None:
        """Start a send (start, rebuild, reset, resume) now; a link to it, if there is one."""
        ...

    def schedule(self, campaign_id: int, mode: str, when: datetime) -> str | None:
        """Have the send start at ``when``; replaces the campaign's earlier schedule."""
        ...

    def cancel(self, campaign_id: int) -> bool:
        """Cancel the campaign's scheduled send if it has not begun; True if one was."""
        ...

    def apply(self, campaign_id: int) -> str | None:
        """Make the orchestrator match the campaign's schedule after an edit or a cut."""
        ...

    def export(self, request: ExportRequest) -> str | None:
        """Build an export file in the background (:func:`chapar.exports.run_export`: its
        progress and file in the request's job folder); a link to it, if there is one."""
        ...


OnDone = Callable[[int, BaseException | None], None]


class InProcessScheduler:
    """Sends in daemon threads of this process; schedules with timers."""

    name = "inprocess"

    def __init__(self, on_done: OnDone | None = None) -> None:
        self.on_done = on_done
        self._timers: dict[int, threading.Timer] = {}
        self._lock = threading.Lock()

    def available(self) -> bool:
        return True

    def start(self, campaign_id: int, mode: str, wait_s: float = 0.5) -> str | None:
        """A refusal (busy, not allowed) or a quick failure is raised here; a later one goes
        to ``on_done``. If the process stops mid-run, the run's lease lapses and it shows as
        unfinished (interrupted), ready to rebuild."""
        from chapar.sending import Mode, send_run

        failure: list[BaseException] = []

        def work() -> None:
            error: BaseException | None = None
            try:
                send_run(campaign_id, Mode(mode))
            except BaseException as exc:
                error = exc
                failure.append(exc)
            finally:
                if self.on_done is not None:
                    self.on_done(campaign_id, error)

        thread = threading.Thread(target=work, name=f"chapar-send-{campaign_id}", daemon=True)
        thread.start()
        thread.join(wait_s)
        if failure:
            exc = failure[0]
            if isinstance(exc, ChaparError):
                raise exc
            raise SchedulerUnavailable(Code.SEND_FAILED, detail=str(exc)) from exc
        return None

    def schedule(self, campaign_id: int, mode: str, when: datetime) -> str | None:
        self.cancel(campaign_id)
        delay = max(0.0, (when - datetime.now(UTC)).total_seconds())
        timer = threading.Timer(delay, self.start, args=(campaign_id, mode))
        timer.daemon = True
        with self._lock:
            self._timers[campaign_id] = timer
        timer.start()
        return None

    def cancel(self, campaign_id: int) -> bool:
        with self._lock:
            timer = self._timers.pop(campaign_id, None)
        if timer is None:
            return False
        timer.cancel()
        return True

    def apply(self, campaign_id: int) -> str | None:
        from chapar.store import repo

        campaign = repo.get_campaign(campaign_id)
        if (
            campaign.status is CampaignStatus.SCHEDULED
            and campaign.start_at is not None
            and campaign.current_run == 0
        ):
            return self.schedule(campaign_id, "start", campaign.start_at)
        self.cancel(campaign_id)
        return None

    def export(self, request: ExportRequest) -> str | None:
        from chapar.exports import run_export

        thread = threading.Thread(
            target=run_export, args=(request,), name=f"chapar-export-{request.job_id}",
            daemon=True,
        )  # fmt: skip
        thread.start()
        return None


#: The adapters by setting; Prefect's lives outside the core, named by its import path.
ADAPTERS = {"prefect": "flows.scheduler:PrefectScheduler"}
_inprocess: InProcessScheduler | None = None


def scheduler_name() -> str:
    # CHAPAR_SEND_INPROCESS=1 is the earlier spelling of CHAPAR_SCHEDULER=inprocess.
    if os.environ.get("CHAPAR_SEND_INPROCESS", "").strip().lower() in {"1", "true", "yes"}:
        return "inprocess"
    return get_settings().scheduler


def in_process(on_done: OnDone | None = None) -> InProcessScheduler:
    """This process's own scheduler (one per process), whatever the setting says."""
    global _inprocess
    if _inprocess is None:
        _inprocess = InProcessScheduler(on_done)
    elif on_done is not None:
        _inprocess.on_done = on_done
    return _inprocess


def get_scheduler(on_done: OnDone | None = None) -> Scheduler:
    """The configured scheduler (one in-process scheduler per process)."""
    name = scheduler_name()
    if name == "inprocess":
        return in_process(on_done)
    module, _, attr = ADAPTERS[name].partition(":")
    adapter: Scheduler = getattr(importlib.import_module(module), attr)()
    return adapter
