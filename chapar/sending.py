"""The send pipeline: plan a run, send it batch by batch, stop cleanly, continue exactly.

The one promise: every planned number of a run reaches the provider exactly once. How:

1. ``begin_run`` plans the run (start, reset) and takes its lease in one transaction; a
   second start/rebuild/reset while the lease is live is refused.
2. ``send_batch``: transaction 1 marks the batch ``in_flight`` and holds its credit —
   committed *before* any request. Then the requests (concurrent, at most 200 numbers each,
   carrying local ids). Transaction 2 records every accepted message, charges the ledger and
   marks the batch ``done`` (or back to ``pending`` when some are left).
3. A batch found ``in_flight`` may be partly at the provider: it is reconciled by local id
   first, and only what the provider lacks is sent. A request whose fate is unknown
   (timeout, dropped connection, 5xx) is likewise reconciled before anything is re-sent.

Plain functions over the store and a provider; Prefect tasks wrap them (``tasks/``).
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import signal
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as dt_time
from enum import StrEnum
from typing import Any, TypeVar

import duckdb
import polars as pl

from chapar import campaigns as rules
from chapar.campaigns import CampaignStatus, MessageState, RunStatus
from chapar.errors import Busy, NotAllowed
from chapar.lease import lease_is_live, new_owner
from chapar.numbers import format_number
from chapar.pages import count_pages
from chapar.pricing import page_price
from chapar.providers import make_provider
from chapar.providers.base import (
    AuthError,
    InsufficientCredit,
    MessageStatus,
    OutgoingMessage,
    Provider,
    ProviderError,
    RejectedInput,
    TransientError,
    UnknownOutcome,
)
from chapar.settings import Settings, get_settings
from chapar.store import connect, fetch_one, transaction
from chapar.store.queries import q
from chapar.store.repo import default_actor, get_campaign, line_for, record_audit
from chapar.window import next_opening, parse_window

ProviderFactory = Callable[[], Provider]
T = TypeVar("T")

# Why a run stopped, as stored and shown.
INSUFFICIENT_CREDIT = "insufficient credit"
PROVIDER_CREDIT = "insufficient credit at the provider"
PROVIDER_DOWN = "provider unavailable"
SCHEDULE_CUT = "schedule cut"
INTERRUPTED = "interrupted"
OUTSIDE_WINDOW = "outside the sending window"
STOP_REASONS = (
    INSUFFICIENT_CREDIT, PROVIDER_CREDIT, PROVIDER_DOWN, SCHEDULE_CUT, INTERRUPTED, OUTSIDE_WINDOW,
)  # fmt: skip

_PROVIDER_STATE = {
    MessageStatus.QUEUED: MessageState.SENT,
    MessageStatus.SENT: MessageState.SENT,
    MessageStatus.DELIVERED: MessageState.DELIVERED,
    MessageStatus.UNDELIVERED: MessageState.UNDELIVERED,
    MessageStatus.FAILED: MessageState.FAILED,
    MessageStatus.BLACKLISTED: MessageState.BLOCKED,
    MessageStatus.CANCELLED: MessageState.CANCELLED,
}


def state_of(status: MessageStatus) -> MessageState | None:
    """Chapar's message state for a provider status; None for an id it does not know."""
    return _PROVIDER_STATE.get(status)


class Mode(StrEnum):
    START = "start"  # plan run 1 and send it
    REBUILD = "rebuild"  # continue an unfinished run
    RESET = "reset"  # reset counter +1, plan a new run, send it
    RESUME = "resume"  # continue a run that waited for its sending window


class LeaseLost(Busy):
    """Another process took this run's lease: this one must stop at once."""


@dataclass(frozen=True)
class RunRef:
    campaign_id: int
    run_no: int
    owner: str
    planned: int
    batches: int


@dataclass
class BatchOutcome:
    batch_no: int
    sent: int = 0
    status: str = "done"
    stop_reason: str | None = None
    resume_at: datetime | None = None  # set when the sending window closed


@dataclass
class RunResult:
    campaign_id: int
    run_no: int
    status: RunStatus
    reason: str | None
    sent: int
    planned: int
    resume_at: datetime | None = None


def crashpoint(name: str) -> None:
    """Die here, as kill -9 would, when ``CHAPAR_CRASH_AT`` names this point.

    The kill tests use it to stop a real sending process at exact places (``prepared``:
    batch committed in flight, no request yet; ``requested``: requests answered, nothing
    recorded; ``recording``: inside the recording transaction, before COMMIT; ``recorded``:
    just after it), besides killing it at random moments from outside. ``name:N`` dies the
    N-th time the point is reached.
    """
    wanted = os.environ.get("CHAPAR_CRASH_AT")
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _crash_counts[name] = _crash_counts.get(name, 0) + 1
    if _crash_counts[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


_crash_counts: dict[str, int] = {}


def _one(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> Any:
    row = fetch_one(con.execute(q(name), params))
    return row if row is None else (row[0] if len(row) == 1 else row)


# --- begin: plan and take the lease -----------------------------------------------------------


def begin_run(
    campaign_id: int, mode: Mode, owner: str | None = None, actor: str | None = None
) -> RunRef:
    """Plan (start, reset) or reopen (rebuild, resume) a run and take its lease, at once."""
    settings = get_settings()
    owner = owner or new_owner()
    actor = actor or default_actor()
    with transaction() as con:
        campaign = get_campaign(campaign_id, con)
        run_no = campaign.current_run
        if run_no:
            lease = fetch_one(
                con.execute(q("run_lease"), {"campaign_id": campaign_id, "run_no": run_no})
            )
            if lease and lease_is_live(lease[0], lease[1], datetime.now(UTC)):
                raise Busy(
                    f"campaign {campaign_id} is sending now (run {run_no}); "
                    "wait for it to stop, or cut its schedule"
                )
        check = {
            Mode.START: rules.can_send,
            Mode.REBUILD: rules.can_rebuild,
            Mode.RESET: rules.can_reset,
            Mode.RESUME: _can_resume,
        }[mode](campaign)
        if not check.allowed:
            raise NotAllowed(f"cannot {mode.value} campaign {campaign_id}: {check.reason}")
        if mode in (Mode.START, Mode.RESET):
            run_no = campaign.current_run + 1
            line = line_for(con, campaign.sender)
            rate = line.rate_per_minute or settings.rate_per_minute
            _plan(con, campaign_id, run_no, campaign.send_count, batch_size(settings, rate))
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
        _set_status(con, actor, campaign_id, campaign.status, CampaignStatus.SENDING, None)
        planned, batches = fetch_one(
            con.execute(q("run_counts"), {"campaign_id": campaign_id, "run_no": run_no})
        ) or (0, 0)
    return RunRef(campaign_id, run_no, owner, planned, batches)


def _can_resume(c: rules.Campaign) -> rules.ActionCheck:
    if c.status in (CampaignStatus.SCHEDULED, CampaignStatus.UNFINISHED) and c.current_run:
        return rules.ActionCheck(True)
    return rules.ActionCheck(False, "nothing waits to continue")


def batch_size(settings: Settings, rate_per_minute: int | None) -> int:
    """The run's batch size: the setting, or less when the line's rate would make one batch
    outlast half the lease (the lease is renewed between batches)."""
    if rate_per_minute is None:
        return settings.batch_size
    by_rate = int(rate_per_minute * settings.lease_ttl_s / 60 / 2)
    return max(settings.request_size, min(settings.batch_size, by_rate))


def _plan(
    con: duckdb.DuckDBPyConnection,
    campaign_id: int,
    run_no: int,
    send_count: int | None,
    size: int,
) -> None:
    params = {"campaign_id": campaign_id, "run_no": run_no}
    con.execute(q("run_insert"), params)
    con.execute(q("plan_messages"), {**params, "batch_size": size, "send_count": send_count})
    con.execute(q("plan_batches"), params)
    con.execute(q("run_set_planned"), params)


def _set_status(
    con: duckdb.DuckDBPyConnection,
    actor: str,
    campaign_id: int,
    old: CampaignStatus | None,
    new: CampaignStatus,
    reason: str | None,
) -> None:
    con.execute(
        q("campaign_set_status"), {"id": campaign_id, "status": new.value, "reason": reason}
    )
    if old is not new:
        record_audit(
            con,
            actor,
            campaign_id,
            "status",
            "status",
            old.value if old else None,
            new.value + (f" ({reason})" if reason else ""),
        )


# --- one batch ---------------------------------------------------------------------------------


@dataclass
class _Prepared:
    was_in_flight: bool
    messages: list[OutgoingMessage]
    costs: dict[int, int]  # local id -> cost
    pages: int
    affordable: int  # how many of ``messages`` (a prefix) the held credit covers
    numbers: dict[int, int] = field(default_factory=dict)  # local id -> number


@dataclass
class _Checkpoint:
    """What transaction 1 read and committed for a batch now in flight."""

    was_in_flight: bool
    pending: pl.DataFrame
    text: str
    sender: str
    pages: int
    affordable: int


def _prepare_in(
    con: duckdb.DuckDBPyConnection, ref: RunRef, batch_no: int, settings: Settings
) -> _Checkpoint | BatchOutcome:
    """Transaction 1 of a batch: renew the lease, hold its credit, mark it in flight."""
    key = {"campaign_id": ref.campaign_id, "run_no": ref.run_no, "batch_no": batch_no}
    renewed = fetch_one(
        con.execute(
            q("run_renew_lease"),
            {
                "campaign_id": ref.campaign_id,
                "run_no": ref.run_no,
                "owner": ref.owner,
                "ttl": settings.lease_ttl_s,
            },
        )
    )
    if renewed is None:
        raise LeaseLost(f"run {ref.run_no} of campaign {ref.campaign_id} is no longer ours")
    if renewed[0]:
        return BatchOutcome(batch_no, status="pending", stop_reason=SCHEDULE_CUT)
    status = _one(con, "batch_status", key)
    if status == "done":
        return BatchOutcome(batch_no)
    con.execute(q("batch_drop_blacklisted"), key)
    con.execute(q("holds_release"), key)  # any hold here is a dead sender's
    pending = con.sql(q("batch_pending_messages"), params=key).pl()
    text, sender = _one(con, "campaign_text", {"campaign_id": ref.campaign_id})
    count = count_pages(text)
    pending = pending.with_columns(
        pl.col("operator")
        .replace_strict(
            {
                op: count.pages * page_price(count.encoding, op, settings)
                for op in pending["operator"].unique().to_list()
            },
            return_dtype=pl.Int64,
        )
        .alias("cost")
    )
    balance = int(_one(con, "balance", {}))
    affordable = int((pending["cost"].cum_sum() <= balance).sum())
    if pending.is_empty() or (affordable == 0 and status != "in_flight"):
        con.execute(q("batch_end"), {**key, "unresolved": False})
        reason = INSUFFICIENT_CREDIT if not pending.is_empty() else None
        return BatchOutcome(batch_no, status="pending" if reason else "done", stop_reason=reason)
    held = int(pending["cost"].head(affordable).sum())
    con.execute(
        q("ledger_insert"),
        {"kind": "hold", "amount": -held, **key, "note": f"batch {batch_no} in flight"},
    )
    con.execute(q("batch_begin"), key)
    return _Checkpoint(status == "in_flight", pending, text, sender, count.pages, affordable)


def _prepared(checkpoint: _Checkpoint | BatchOutcome) -> _Prepared | BatchOutcome:
    """After transaction 1 committed: the messages to hand to the provider."""
    if isinstance(checkpoint, BatchOutcome):
        return checkpoint
    crashpoint("prepared")
    c = checkpoint
    local_ids = c.pending["local_id"].to_list()
    numbers = c.pending["number"].to_list()
    messages = [
        OutgoingMessage(local_id=lid, receptor=format_number(num), sender=c.sender, text=c.text)
        for lid, num in zip(local_ids, numbers, strict=True)
    ]
    return _Prepared(
        was_in_flight=c.was_in_flight,
        messages=messages,
        costs=dict(zip(local_ids, c.pending["cost"].to_list(), strict=True)),
        pages=c.pages,
        affordable=c.affordable,
        numbers=dict(zip(local_ids, numbers, strict=True)),
    )


@dataclass
class _Accepted:
    local_id: int
    message_id: str
    state: MessageState


@dataclass
class _Delivery:
    accepted: dict[int, _Accepted] = field(default_factory=dict)
    unresolved: bool = False
    stop_reason: str | None = None


class TokenBucket:
    """Keeps a line to its rate (messages a minute); ``None`` means no limit.

    It holds at most one second of the rate or one request, whichever is more, so a run
    starts at its rate instead of a minute-long burst.
    """

    def __init__(self, per_minute: int | None, burst: int = 200) -> None:
        self.rate = per_minute / 60.0 if per_minute else None
        self.capacity = max(float(burst), self.rate or 0.0)
        self.tokens = self.capacity
        self.stamp = time.monotonic()
        self.lock = asyncio.Lock()

    async def take(self, n: int) -> None:
        if self.rate is None:
            return
        async with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= min(n, self.capacity):
                    self.tokens -= n
                    return
                await asyncio.sleep((min(n, self.capacity) - self.tokens) / self.rate)


def _backoff(attempt: int) -> float:
    return min(0.05 * 2**attempt, 2.0) * (0.5 + random.random())


async def _reconcile(
    provider: Provider, local_ids: Sequence[int], settings: Settings
) -> dict[int, _Accepted]:
    """Which of these local ids does the provider already hold? Retries its own failures."""
    for attempt in range(settings.provider_retries + 1):
        try:
            reports = await provider.status_by_local_ids(local_ids)
            break
        except (TransientError, UnknownOutcome):
            if attempt == settings.provider_retries:
                raise
            await asyncio.sleep(_backoff(attempt))
    found = {}
    for r in reports:
        state = state_of(r.status)
        if r.local_id is not None and state is not None:
            found[r.local_id] = _Accepted(r.local_id, r.message_id, state)
    return found


async def _send_chunk(
    provider: Provider,
    chunk: list[OutgoingMessage],
    out: _Delivery,
    bucket: TokenBucket,
    settings: Settings,
) -> None:
    remaining = chunk
    attempt = 0
    while remaining and out.stop_reason is None:
        try:
            await bucket.take(len(remaining))
            for r in await provider.send(remaining):
                out.accepted[r.local_id] = _Accepted(
                    r.local_id, r.message_id, state_of(r.status) or MessageState.SENT
                )
            return
        except TransientError:
            pass  # not accepted: safe to send again after a pause
        except UnknownOutcome:
            # Maybe accepted: ask before sending anything again.
            try:
                found = await _reconcile(provider, [m.local_id for m in remaining], settings)
            except ProviderError:
                out.unresolved = True
                out.stop_reason = PROVIDER_DOWN
                return
            out.accepted.update(found)
            remaining = [m for m in remaining if m.local_id not in found]
        except InsufficientCredit:
            out.stop_reason = PROVIDER_CREDIT
            return
        except (RejectedInput, AuthError) as exc:
            out.stop_reason = f"provider refused: {exc}"
            return
        attempt += 1
        if attempt > settings.provider_retries:
            out.stop_reason = PROVIDER_DOWN
            return
        await asyncio.sleep(_backoff(attempt))


async def _deliver(
    factory: ProviderFactory, prepared: _Prepared, bucket: TokenBucket, settings: Settings
) -> _Delivery:
    out = _Delivery()
    provider = factory()
    try:
        todo = prepared.messages
        if prepared.was_in_flight:
            try:
                out.accepted.update(
                    await _reconcile(provider, [m.local_id for m in todo], settings)
                )
            except ProviderError:
                out.unresolved = True
                out.stop_reason = PROVIDER_DOWN
                return out
        todo = [m for m in todo[: prepared.affordable] if m.local_id not in out.accepted]
        size = min(settings.request_size, provider.max_per_send)
        chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
        gate = asyncio.Semaphore(settings.provider_concurrency)

        async def one(chunk: list[OutgoingMessage]) -> None:
            async with gate:
                await _send_chunk(provider, chunk, out, bucket, settings)

        await asyncio.gather(*(one(c) for c in chunks))
        if out.stop_reason is None and prepared.affordable < len(prepared.messages):
            out.stop_reason = INSUFFICIENT_CREDIT
        return out
    finally:
        await provider.aclose()


def _record_in(
    con: duckdb.DuckDBPyConnection,
    ref: RunRef,
    batch_no: int,
    prepared: _Prepared,
    delivery: _Delivery,
) -> str:
    """Transaction 2 of a batch: record what the provider accepted, charge, settle the hold."""
    key = {"campaign_id": ref.campaign_id, "run_no": ref.run_no, "batch_no": batch_no}
    accepted = list(delivery.accepted.values())
    frame = pl.DataFrame(
        {
            "seq": [a.local_id % 100_000_000 for a in accepted],
            "number": [prepared.numbers[a.local_id] for a in accepted],
            "campaign_id": [ref.campaign_id] * len(accepted),
            "status": [a.state.value for a in accepted],
            "provider_id": [a.message_id for a in accepted],
            "pages": [prepared.pages] * len(accepted),
            "cost": [prepared.costs[a.local_id] for a in accepted],
        },
        schema={
            "seq": pl.Int32,
            "number": pl.Int64,
            "campaign_id": pl.Int32,
            "status": pl.String,
            "provider_id": pl.String,
            "pages": pl.Int16,
            "cost": pl.Int64,
        },
    )
    charged = int(frame["cost"].sum())
    con.register("incoming", frame)
    try:
        con.execute(q("messages_record"), key)
        con.execute(q("blacklist_from_provider"))
    finally:
        con.unregister("incoming")
    con.execute(q("holds_release"), key)
    if charged:
        con.execute(
            q("ledger_insert"),
            {"kind": "charge", "amount": -charged, **key, "note": f"{len(accepted)} messages"},
        )
    refund_blocked(con, ref.campaign_id)
    return str(_one(con, "batch_end", {**key, "unresolved": delivery.unresolved}))


def refund_blocked(con: duckdb.DuckDBPyConnection, campaign_id: int | None) -> int:
    """Refund, once, messages the provider blocked or cancelled."""
    total = 0
    for cid, run_no, amount, n in con.execute(
        q("refunds_due"), {"campaign_id": campaign_id}
    ).fetchall():
        con.execute(
            q("ledger_insert"),
            {
                "kind": "refund",
                "amount": amount,
                "campaign_id": cid,
                "run_no": run_no,
                "batch_no": None,
                "note": f"{n} blocked or cancelled",
            },
        )
        total += amount
    con.execute(q("refunds_mark"), {"campaign_id": campaign_id})
    return total


_loops = threading.local()


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on this thread's own event loop, kept between batches.

    ``asyncio.run`` per batch re-installs a SIGINT handler each time, and Python formats the
    repr of the old one — here a chain reaching the last batch's 5,000 results (≈50 ms).
    """
    loop = getattr(_loops, "loop", None)
    if loop is None or loop.is_closed():
        loop = _loops.loop = asyncio.new_event_loop()
    return loop.run_until_complete(coro)


def send_batches(
    ref: RunRef,
    batch_nos: Sequence[int],
    factory: ProviderFactory | None = None,
    bucket: TokenBucket | None = None,
    on_batch: Callable[[RunRef, BatchOutcome], None] | None = None,
) -> list[BatchOutcome]:
    """Send batches in order until one stops the run. Each batch is its own checkpoint; the
    record of one and the checkpoint of the next share a transaction (one open of the file
    per batch, not two). Safe to call again after any crash: an in-flight batch is
    reconciled first."""
    settings = get_settings()
    factory = factory or (lambda: make_provider(settings))
    outcomes: list[BatchOutcome] = []
    queue = list(batch_nos)
    if not queue:
        return outcomes
    with transaction() as con:
        line = _line_policy(con, ref, settings)
        nxt = _open_next(con, ref, queue[0], settings, line)
    bucket = bucket or _bucket_for(line)
    with fewer_collections():
        _send_queue(ref, queue, nxt, factory, bucket, on_batch, settings, line, outcomes)
    return outcomes


@contextmanager
def fewer_collections() -> Iterator[None]:
    """A batch's message objects live until it is recorded and keep triggering full garbage
    collections (measured: ~1 s of CPU a million messages); collect less often meanwhile."""
    previous = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _send_queue(
    ref: RunRef,
    queue: list[int],
    nxt: _Checkpoint | BatchOutcome,
    factory: ProviderFactory,
    bucket: TokenBucket,
    on_batch: Callable[[RunRef, BatchOutcome], None] | None,
    settings: Settings,
    line: LinePolicy,
    outcomes: list[BatchOutcome],
) -> None:
    for i, batch_no in enumerate(queue):
        prepared = _prepared(nxt)
        following = queue[i + 1] if i + 1 < len(queue) else None
        if isinstance(prepared, BatchOutcome):
            outcome = prepared
            if outcome.stop_reason is None and following is not None:
                with transaction() as con:
                    nxt = _open_next(con, ref, following, settings, line)
        else:
            delivery = run_async(_deliver(factory, prepared, bucket, settings))
            crashpoint("requested")
            with transaction() as con:
                status = _record_in(con, ref, batch_no, prepared, delivery)
                crashpoint("recording")
                if delivery.stop_reason is None and following is not None:
                    nxt = _open_next(con, ref, following, settings, line)
            crashpoint("recorded")
            outcome = BatchOutcome(batch_no, len(delivery.accepted), status, delivery.stop_reason)
        outcomes.append(outcome)
        if on_batch:
            on_batch(ref, outcome)
        if outcome.stop_reason:
            break


@dataclass(frozen=True)
class LinePolicy:
    """The campaign's sender line: its window and rate (the line's own, else the settings')."""

    sender: str
    window: tuple[dt_time, dt_time] | None
    rate_per_minute: int | None


def _line_policy(con: duckdb.DuckDBPyConnection, ref: RunRef, settings: Settings) -> LinePolicy:
    _, sender = _one(con, "campaign_text", {"campaign_id": ref.campaign_id})
    line = line_for(con, sender)
    window = line.send_window if line.send_window is not None else settings.send_window
    rate = line.rate_per_minute if line.rate_per_minute is not None else settings.rate_per_minute
    return LinePolicy(sender, parse_window(window), rate)


def _bucket_for(line: LinePolicy) -> TokenBucket:
    """One token bucket per line and thread, kept between tasks, so a run's groups of
    batches share the line's rate rather than each starting with a full bucket."""
    buckets: dict[tuple[str, int | None], TokenBucket] = _loops.__dict__.setdefault("buckets", {})
    key = (line.sender, line.rate_per_minute)
    if key not in buckets:
        buckets[key] = TokenBucket(line.rate_per_minute)
    return buckets[key]


def _open_next(
    con: duckdb.DuckDBPyConnection,
    ref: RunRef,
    batch_no: int,
    settings: Settings,
    line: LinePolicy,
) -> _Checkpoint | BatchOutcome:
    """The next batch's checkpoint, unless the line's sending window has closed."""
    opening = next_opening(datetime.now(UTC), line.window, settings.timezone)
    if opening is not None:
        return BatchOutcome(
            batch_no, status="pending", stop_reason=OUTSIDE_WINDOW, resume_at=opening
        )
    return _prepare_in(con, ref, batch_no, settings)


def send_batch(
    ref: RunRef,
    batch_no: int,
    factory: ProviderFactory | None = None,
    bucket: TokenBucket | None = None,
) -> BatchOutcome:
    """Send one batch: checkpoint, requests, record."""
    return send_batches(ref, [batch_no], factory, bucket)[0]


# --- the run -----------------------------------------------------------------------------------


def open_batches(ref: RunRef) -> list[int]:
    with connect() as con:
        rows = con.execute(
            q("batches_open"), {"campaign_id": ref.campaign_id, "run_no": ref.run_no}
        ).fetchall()
    return [r[0] for r in rows]


def finish_run(
    ref: RunRef,
    status: RunStatus,
    reason: str | None = None,
    resume_at: datetime | None = None,
    actor: str | None = None,
) -> None:
    """Release the lease and set the run's and the campaign's status."""
    campaign_status = {
        RunStatus.COMPLETED: CampaignStatus.COMPLETED,
        RunStatus.UNFINISHED: CampaignStatus.UNFINISHED,
        RunStatus.WAITING: CampaignStatus.SCHEDULED,
        RunStatus.CANCELLED: CampaignStatus.CANCELLED,
    }[status]
    with transaction() as con:
        con.execute(
            q("run_finish"),
            {
                "campaign_id": ref.campaign_id,
                "run_no": ref.run_no,
                "owner": ref.owner,
                "status": status.value,
                "reason": reason,
                "resume_at": resume_at,
            },
        )
        _set_status(
            con,
            actor or default_actor(),
            ref.campaign_id,
            CampaignStatus.SENDING,
            campaign_status,
            reason,
        )


def progress(ref: RunRef) -> tuple[int, int]:
    """(handed to the provider or settled, planned) for the run."""
    with connect() as con:
        planned, done = fetch_one(
            con.execute(q("progress"), {"campaign_id": ref.campaign_id, "run_no": ref.run_no})
        ) or (0, 0)
    return int(done), int(planned)


def batch_groups(ref: RunRef) -> list[list[int]]:
    """The run's open batches in groups: one group is one Prefect task."""
    size = get_settings().batches_per_task
    batches = open_batches(ref)
    return [batches[i : i + size] for i in range(0, len(batches), size)]


def stop_of(outcome: BatchOutcome) -> tuple[RunStatus, str, datetime | None]:
    """How a run that stopped at this batch ends: waiting for its window, or unfinished."""
    if outcome.resume_at is not None:
        when = outcome.resume_at.strftime("%Y-%m-%d %H:%M %Z")
        return RunStatus.WAITING, f"{OUTSIDE_WINDOW}; continues {when}", outcome.resume_at
    return RunStatus.UNFINISHED, outcome.stop_reason or INTERRUPTED, None


def send_run(
    campaign_id: int,
    mode: Mode,
    factory: ProviderFactory | None = None,
    on_batch: Callable[[RunRef, BatchOutcome], None] | None = None,
    actor: str | None = None,
) -> RunResult:
    """Start, rebuild, reset or resume a campaign and send until done or stopped (no Prefect:
    the flow in ``flows/send.py`` composes the same steps as tasks)."""
    ref = begin_run(campaign_id, mode, actor=actor)
    sent = 0
    try:
        for group in batch_groups(ref):
            outcomes = send_batches(ref, group, factory, on_batch=on_batch)
            sent += sum(o.sent for o in outcomes)
            if outcomes and outcomes[-1].stop_reason:
                status, reason, resume_at = stop_of(outcomes[-1])
                finish_run(ref, status, reason, resume_at, actor=actor)
                return RunResult(
                    campaign_id, ref.run_no, status, reason, sent, ref.planned, resume_at
                )
    except LeaseLost:
        raise
    except BaseException as exc:
        reason = INTERRUPTED if isinstance(exc, KeyboardInterrupt) else f"error: {exc}"
        finish_run(ref, RunStatus.UNFINISHED, reason, actor=actor)
        raise
    finish_run(ref, RunStatus.COMPLETED, actor=actor)
    return RunResult(campaign_id, ref.run_no, RunStatus.COMPLETED, None, sent, ref.planned)


def cut_schedule(campaign_id: int, actor: str | None = None) -> str:
    """Cut: a scheduled campaign is cancelled; a sending one stops after its batch in flight."""
    actor = actor or default_actor()
    with transaction() as con:
        campaign = get_campaign(campaign_id, con)
        check = rules.can_cut(campaign)
        if not check.allowed:
            raise NotAllowed(f"cannot cut campaign {campaign_id}: {check.reason}")
        if campaign.is_sending:
            con.execute(
                q("run_request_stop"), {"campaign_id": campaign_id, "run_no": campaign.current_run}
            )
            record_audit(con, actor, campaign_id, "cut", "schedule", "sending", "stop requested")
            return "stopping after the batch in flight"
        new = CampaignStatus.CANCELLED if campaign.current_run == 0 else CampaignStatus.UNFINISHED
        if campaign.current_run:  # a run waiting for its window stops here
            con.execute(
                q("run_cut_waiting"),
                {
                    "campaign_id": campaign_id,
                    "run_no": campaign.current_run,
                    "reason": SCHEDULE_CUT,
                },
            )
        _set_status(con, actor, campaign_id, campaign.status, new, SCHEDULE_CUT)
        record_audit(con, actor, campaign_id, "cut", "schedule", str(campaign.start_at), None)
    return new.value
