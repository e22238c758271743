"""A run from beginning to end: plan it and take its lease, drive it batch group by batch
group, finish it. The one loop (:func:`drive`) serves the CLI and the Prefect flow alike;
the flow hands in its task as the way to send a group.

Every status write checks that this process still owns the run's lease: a process that
lost it (it was frozen past the TTL and a rebuild took over) writes nothing and stops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import duckdb

from chapar import campaigns as rules
from chapar.campaigns import CampaignStatus, RunStatus
from chapar.errors import Busy, NotAllowed
from chapar.lease import lease_is_live, new_owner
from chapar.reasons import Code, Reason, audit_status
from chapar.sending import audience
from chapar.sending.heartbeat import Heartbeat
from chapar.settings import Settings, get_settings
from chapar.store import (
    connect,
    execute_in_store,
    execute_reading,
    fetch_one,
    retrying,
    transaction,
)
from chapar.store.queries import q
from chapar.store.repo import Line, default_actor, get_campaign, line_for, record_audit


class Mode(StrEnum):
    START = "start"  # plan run 1 and send it
    REBUILD = "rebuild"  # continue an unfinished run
    RESET = "reset"  # reset counter +1, plan a new run of everyone, send it
    RESUME = "resume"  # continue a run that waited for its sending window
    RESEND = "resend"  # a new run of the latest run's undelivered and failed numbers


class LeaseLost(Busy):
    """Another process took this run's lease: this one must stop at once, writing nothing."""

    def __init__(self, campaign_id: int, run_no: int) -> None:
        super().__init__(Code.LEASE_LOST, campaign=campaign_id, run=run_no)


@dataclass(frozen=True)
class RunRef:
    campaign_id: int
    run_no: int
    owner: str
    planned: int
    batches: int

    @property
    def key(self) -> dict[str, Any]:
        return {"campaign_id": self.campaign_id, "run_no": self.run_no}


@dataclass
class BatchOutcome:
    batch_no: int
    sent: int = 0
    status: str = "done"
    stop: Reason | None = None
    resume_at: datetime | None = None  # set when the sending window closed

    @property
    def stop_reason(self) -> Reason | None:
        return self.stop


@dataclass
class RunResult:
    campaign_id: int
    run_no: int
    status: RunStatus
    reason: Reason | None
    sent: int
    planned: int
    resume_at: datetime | None = None


def _one(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> Any:
    row = fetch_one(con.execute(q(name), params))
    return row if row is None else (row[0] if len(row) == 1 else row)


# --- plan and take the lease -------------------------------------------------------------


def _can_resume(c: rules.Campaign) -> rules.ActionCheck:
    if c.status in (CampaignStatus.SCHEDULED, CampaignStatus.UNFINISHED) and c.current_run:
        return rules.ActionCheck(True)
    return rules.ActionCheck(False, Reason(Code.NOTHING_TO_RESUME))


def _can_resend_now(c: rules.Campaign) -> rules.ActionCheck:
    with connect() as con:
        return _can_resend(con, c)


def _can_resend(con: duckdb.DuckDBPyConnection, c: rules.Campaign) -> rules.ActionCheck:
    n = (
        _one(con, "resendable", {"campaign_id": c.id, "run_no": c.current_run})
        if c.current_run
        else 0
    )
    return rules.can_resend(c, int(n or 0))


def can_resend(campaign_id: int) -> rules.ActionCheck:
    """Whether ``chapar resend`` would be allowed now (for the CLI and the dashboard)."""
    with connect() as con:
        return _can_resend(con, get_campaign(campaign_id, con))


_CHECKS: dict[Mode, Callable[[rules.Campaign], rules.ActionCheck]] = {
    Mode.START: rules.can_send,
    Mode.REBUILD: rules.can_rebuild,
    Mode.RESET: rules.can_reset,
    Mode.RESUME: _can_resume,
    Mode.RESEND: _can_resend_now,
}


def begin_run(
    campaign_id: int, mode: Mode, owner: str | None = None, actor: str | None = None
) -> RunRef:
    """Plan (start, reset) or reopen (rebuild, resume) a run and take its lease, at once.
    On a shared store two starts at the same moment conflict: the later one runs again and
    finds the run taken (``Busy``), never a raw database error."""
    settings = get_settings()
    owner = owner or new_owner()
    actor = actor or default_actor()
    return retrying(lambda con: _begin(con, campaign_id, mode, owner, actor, settings))


def _begin(
    con: duckdb.DuckDBPyConnection,
    campaign_id: int,
    mode: Mode,
    owner: str,
    actor: str,
    settings: Settings,
) -> RunRef:
    campaign = get_campaign(campaign_id, con)
    run_no = campaign.current_run
    if run_no:
        lease = _one(con, "run_lease", {"campaign_id": campaign_id, "run_no": run_no})
        if lease and lease_is_live(lease[0], lease[1], datetime.now(UTC)):
            raise Busy(Code.BUSY, campaign=campaign_id, run=run_no)
    check = _can_resend(con, campaign) if mode is Mode.RESEND else _CHECKS[mode](campaign)
    if not check.allowed:
        raise NotAllowed(check.reason or Reason(Code.NOT_UNFINISHED))
    if mode in (Mode.START, Mode.RESET, Mode.RESEND):
        run_no = campaign.current_run + 1
        line = line_for(con, campaign.sender)
        rate = line.rate_per_minute or settings.rate_per_minute
        kind = {Mode.START: "send", Mode.RESET: "reset", Mode.RESEND: "resend"}[mode]
        plan(
            con,
            campaign_id,
            run_no,
            campaign.send_count,
            batch_size(settings, rate),
            kind,
            sender=campaign.sender,
            cap=cap_for(line, settings),
            defer=campaign.defer_capped,
        )
        con.execute(
            q("campaign_new_run"),
            {"campaign_id": campaign_id, "run_no": run_no, "reset": int(mode is Mode.RESET)},
        )
        if mode is Mode.RESET:
            record_audit(
                con,
                actor,
                campaign_id,
                "reset",
                "reset_count",
                campaign.reset_count,
                campaign.reset_count + 1,
            )
    con.execute(
        q("run_take_lease"),
        {
            "campaign_id": campaign_id,
            "run_no": run_no,
            "owner": owner,
            "ttl": settings.lease_ttl_s,
        },
    )
    set_campaign_status(con, actor, campaign_id, campaign.status, CampaignStatus.SENDING)
    planned, batches = _one(con, "run_counts", {"campaign_id": campaign_id, "run_no": run_no})
    return RunRef(campaign_id, run_no, owner, int(planned or 0), int(batches or 0))


def batch_size(settings: Settings, rate_per_minute: int | None) -> int:
    """The run's batch size: the setting, or less when the line's rate would make one batch
    outlast half the lease."""
    if rate_per_minute is None:
        return settings.batch_size
    by_rate = int(rate_per_minute * settings.lease_ttl_s / 60 / 2)
    return max(settings.request_size, min(settings.batch_size, by_rate))


def cap_for(line: Line, settings: Settings) -> tuple[int, int] | None:
    """The frequency cap on a line: (messages, days), or None. The line's own cap wins
    (0 messages: no cap on this line); else the settings'."""
    if line.cap_messages is not None:
        return None if line.cap_messages == 0 else (line.cap_messages, line.cap_days or 1)
    if settings.cap_messages is None:
        return None
    return settings.cap_messages, settings.cap_days


def plan(
    con: duckdb.DuckDBPyConnection,
    campaign_id: int,
    run_no: int,
    send_count: int | None,
    size: int,
    kind: str = "send",
    sender: str | None = None,
    cap: tuple[int, int] | None = None,
    defer: bool = False,
) -> None:
    """Freeze a run's audience: one message row per recipient, batched; filtered rows kept
    with their status and never batched. A resend's audience is the previous run's
    undelivered and failed numbers; the suppression ledger (on ``sender``'s line) and the
    frequency cap (``cap``: messages, Tehran days) filter either. With ``defer``, numbers at
    the cap are planned in batches of their own that wait until their cap frees."""
    params = {"campaign_id": campaign_id, "run_no": run_no}
    con.execute(q("run_insert"), {**params, "kind": kind})
    if kind == "resend":
        source = con.execute(q("plan_source_resend"), params).pl()
    else:
        list_ids = _one(con, "campaign_list_ids", {"campaign_id": campaign_id}) or []
        source = audience.rows_of(con, list_ids)
    planned = audience.classify(
        source,
        audience.barred_on(con, sender),
        audience.capped_now(con, cap),
        batch_size=size,
        send_count=None if kind == "resend" else send_count,
        defer=defer,
    )
    execute_reading(con, q("plan_insert"), params, planned=planned)
    execute_reading(con, q("plan_batches"), params, planned=planned)
    con.execute(q("run_set_planned"), params)
    refresh_counts(con, campaign_id, run_no)


def refresh_counts(
    con: duckdb.DuckDBPyConnection, campaign_id: int, run_no: int, batch_no: int | None = None
) -> None:
    """Recount a run's figures by status flag — the whole run, or only the batch whose
    messages changed — inside the caller's transaction."""
    params = {"campaign_id": campaign_id, "run_no": run_no}
    if batch_no is None:
        con.execute(q("run_counts_clear"), params)
        con.execute(q("run_counts_insert"), params)
    else:
        execute_in_store(con, q("run_counts_clear_batch"), {**params, "batch_no": batch_no})
        execute_in_store(con, q("run_counts_insert_batch"), {**params, "batch_no": batch_no})


def set_campaign_status(
    con: duckdb.DuckDBPyConnection,
    actor: str,
    campaign_id: int,
    old: CampaignStatus | None,
    new: CampaignStatus,
    reason: Reason | None = None,
) -> None:
    """The one place a campaign's status changes; a change is kept in the audit trail."""
    con.execute(
        q("campaign_set_status"),
        {
            "id": campaign_id,
            "status": new.value,
            "reason": reason.code.value if reason else None,
            "details": reason.details if reason else None,
        },
    )
    if old is not new:
        record_audit(
            con,
            actor,
            campaign_id,
            "status",
            "status",
            old.value if old else None,
            audit_status(new.value, reason),
        )


# --- finish ------------------------------------------------------------------------------

_CAMPAIGN_STATUS = {
    RunStatus.COMPLETED: CampaignStatus.COMPLETED,
    RunStatus.UNFINISHED: CampaignStatus.UNFINISHED,
    RunStatus.WAITING: CampaignStatus.SCHEDULED,
    RunStatus.CANCELLED: CampaignStatus.CANCELLED,
}


def finish_run(
    ref: RunRef,
    status: RunStatus,
    reason: Reason | None = None,
    resume_at: datetime | None = None,
    actor: str | None = None,
) -> bool:
    """Release the lease and set the run's and the campaign's status — only if this process
    still owns the lease. Returns False (and writes nothing) when it does not."""
    with transaction() as con:
        owned = fetch_one(
            con.execute(
                q("run_finish"),
                {
                    **ref.key,
                    "owner": ref.owner,
                    "status": status.value,
                    "reason": reason.code.value if reason else None,
                    "details": reason.details if reason else None,
                    "resume_at": resume_at,
                },
            )
        )
        if owned is None:
            return False
        set_campaign_status(
            con,
            actor or default_actor(),
            ref.campaign_id,
            CampaignStatus.SENDING,
            _CAMPAIGN_STATUS[status],
            reason,
        )
    return True


def _one_list(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> list[Any]:
    return [r[0] for r in con.execute(q(name), params).fetchall()]


# --- the loop ----------------------------------------------------------------------------

SendGroup = Callable[[RunRef, list[int]], Sequence[BatchOutcome]]


def open_batches(ref: RunRef) -> list[int]:
    with connect() as con:
        return _one_list(con, "batches_open", ref.key)


#: one group: the whole run (sending in one process has no task to size, and the pipeline
#: of batches runs unbroken from the first to the last)
WHOLE_RUN = 0


def batch_groups(ref: RunRef, size: int | None = None) -> list[list[int]]:
    """The run's open batches in groups: one group is one Prefect task
    (``batches_per_task``), or the whole run (:data:`WHOLE_RUN`)."""
    size = get_settings().batches_per_task if size is None else size
    batches = open_batches(ref)
    if size <= WHOLE_RUN:
        return [batches] if batches else []
    return [batches[i : i + size] for i in range(0, len(batches), size)]


def stop_of(outcome: BatchOutcome) -> tuple[RunStatus, Reason, datetime | None]:
    """How a run that stopped at this batch ends: waiting for its window, or unfinished."""
    if outcome.resume_at is not None:
        waits_for_cap = outcome.stop is not None and outcome.stop.code is Code.CAP_WAIT
        when = outcome.resume_at.isoformat()  # the edge shows it in the zone and calendar
        return (
            RunStatus.WAITING,
            Reason(Code.CAP_WAIT if waits_for_cap else Code.OUTSIDE_WINDOW, {"resume_at": when}),
            outcome.resume_at,
        )
    return RunStatus.UNFINISHED, outcome.stop or Reason(Code.INTERRUPTED), None


def drive(
    ref: RunRef,
    send_group: SendGroup,
    on_progress: Callable[[RunRef], None] | None = None,
    actor: str | None = None,
    group_size: int | None = None,
) -> RunResult:
    """Send a run's open batches group by group (``group_size`` batches; default: the
    setting ``batches_per_task``) until done or stopped, then finish it.

    A lost lease propagates and nothing more is written. Any other exception (an error, a
    KeyboardInterrupt) finishes the run unfinished — if the lease is still ours — and
    propagates.
    """
    sent = 0
    status, reason, resume_at = RunStatus.COMPLETED, None, None
    with Heartbeat(ref) as heartbeat:
        try:
            for group in batch_groups(ref, group_size):
                outcomes = send_group(ref, group)
                sent += sum(o.sent for o in outcomes)
                if on_progress is not None:
                    on_progress(ref)
                if outcomes and outcomes[-1].stop is not None:
                    status, reason, resume_at = stop_of(outcomes[-1])
                    break
        except LeaseLost:
            raise
        except BaseException as exc:
            why = (
                Reason(Code.INTERRUPTED)
                if isinstance(exc, KeyboardInterrupt)
                else Reason(Code.ERROR, {"detail": str(exc)[:300] or type(exc).__name__})
            )
            with heartbeat.lock:
                finish_run(ref, RunStatus.UNFINISHED, why, actor=actor)
            raise
        with heartbeat.lock:
            if not finish_run(ref, status, reason, resume_at, actor=actor):
                raise LeaseLost(ref.campaign_id, ref.run_no)
    return RunResult(ref.campaign_id, ref.run_no, status, reason, sent, ref.planned, resume_at)


def progress(ref: RunRef) -> tuple[int, int]:
    """(handed to the provider or settled, planned) for the run."""
    with connect() as con:
        planned, done = _one(con, "progress", ref.key) or (0, 0)
    return int(done), int(planned)


# --- cut ---------------------------------------------------------------------------------


def cut_schedule(campaign_id: int, actor: str | None = None) -> Reason:
    """Cut: a scheduled campaign is cancelled; a sending one stops after its batch in flight.
    Returns what happened, as a reason to show."""
    actor = actor or default_actor()
    with transaction() as con:
        campaign = get_campaign(campaign_id, con)
        check = rules.can_cut(campaign)
        if not check.allowed:
            raise NotAllowed(check.reason or Reason(Code.NOTHING_TO_CUT))
        if campaign.is_sending:
            con.execute(
                q("run_request_stop"), {"campaign_id": campaign_id, "run_no": campaign.current_run}
            )
            record_audit(con, actor, campaign_id, "cut", "schedule", "sending", "stop requested")
            return Reason(Code.STOPPING)
        cut = Reason(Code.SCHEDULE_CUT)
        if campaign.current_run == 0:
            new, outcome = CampaignStatus.CANCELLED, Reason(Code.CANCELLED_NEVER_SENT)
        else:  # a run waiting for its window stops here, rebuildable
            new, outcome = CampaignStatus.UNFINISHED, cut
            con.execute(
                q("run_cut_waiting"),
                {
                    "campaign_id": campaign_id,
                    "run_no": campaign.current_run,
                    "reason": cut.code.value,
                },
            )
        set_campaign_status(con, actor, campaign_id, campaign.status, new, cut)
        record_audit(con, actor, campaign_id, "cut", "schedule", str(campaign.start_at), None)
    return outcome
