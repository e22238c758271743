"""Send a group of batches in order, each its own checkpoint:

    open (transaction 1) → [reconcile → rehold] → deliver → record (transaction 2)

The record of one batch and the opening of the next share a transaction (one open of the
file per batch, not two). Safe to call again after any crash: an in-flight batch is
reconciled before anything of it is sent again.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import time as dt_time
from typing import Any, TypeVar

import duckdb

from chapar.providers import make_provider
from chapar.reasons import Code, Reason
from chapar.sending.batch import Checkpoint, open_batch, rehold
from chapar.sending.deliver import (
    Delivery,
    ProviderFactory,
    TokenBucket,
    deliver,
    reconcile,
    reconciles,
)
from chapar.sending.heartbeat import Heartbeat, beating
from chapar.sending.record import record_batch
from chapar.sending.run import BatchOutcome, RunRef
from chapar.settings import Settings, get_settings
from chapar.store import fetch_one, transaction
from chapar.store.queries import q
from chapar.store.repo import line_for
from chapar.window import parse_window

T = TypeVar("T")


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
_loops = threading.local()


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on this thread's own event loop, kept between batches.

    ``asyncio.run`` per batch re-installs a SIGINT handler each time, and Python formats the
    repr of the old one — here a chain reaching the last batch's results (≈50 ms).
    """
    loop = getattr(_loops, "loop", None)
    if loop is None or loop.is_closed():
        loop = _loops.loop = asyncio.new_event_loop()
    return loop.run_until_complete(coro)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """A batch's columns live until it is recorded and keep triggering full garbage
    collections; collect less often meanwhile."""
    previous = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


@dataclass(frozen=True)
class LinePolicy:
    """The campaign's sender line: its window and rate (the line's own, else the settings')."""

    sender: str
    window: tuple[dt_time, dt_time] | None
    rate_per_minute: int | None


def line_policy(con: duckdb.DuckDBPyConnection, ref: RunRef, settings: Settings) -> LinePolicy:
    _, sender = fetch_one(con.execute(q("campaign_text"), {"campaign_id": ref.campaign_id})) or (
        "",
        "",
    )
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


def send_batches(
    ref: RunRef,
    batch_nos: Sequence[int],
    factory: ProviderFactory | None = None,
    bucket: TokenBucket | None = None,
    on_batch: Callable[[RunRef, BatchOutcome], None] | None = None,
) -> list[BatchOutcome]:
    """Send batches in order until one stops the run; the outcome of each."""
    settings = get_settings()
    factory = factory or (lambda: make_provider(settings))
    outcomes: list[BatchOutcome] = []
    queue = list(batch_nos)
    if not queue:
        return outcomes
    own = None if beating(ref) else Heartbeat(ref, settings)
    with own or nullcontext(), fewer_collections():
        heartbeat = beating(ref)
        assert heartbeat is not None
        _send_queue(ref, queue, factory, bucket, on_batch, settings, heartbeat, outcomes)
    return outcomes


@contextmanager
def _writing(heartbeat: Heartbeat) -> Iterator[duckdb.DuckDBPyConnection]:
    """A transaction of the engine's: it renews the lease, so the heartbeat waits for it
    (DuckDB refuses two writes of one row at once in a process) and counts it as a beat."""
    started = time.monotonic()
    with heartbeat.lock, transaction() as con:
        yield con
    heartbeat.renewed(started)


def _send_queue(
    ref: RunRef,
    queue: list[int],
    factory: ProviderFactory,
    bucket: TokenBucket | None,
    on_batch: Callable[[RunRef, BatchOutcome], None] | None,
    settings: Settings,
    heartbeat: Heartbeat,
    outcomes: list[BatchOutcome],
) -> None:
    """The batches as a pipeline: while batch *n+1*'s requests are out, batch *n* is
    recorded in a worker thread. Batch *n+1* is committed in flight (transaction 1) before
    any of its requests leaves, and batch *n* is recorded before *n+1* is, so a crash
    anywhere leaves at most two batches in flight — both reconciled by a rebuild."""
    with _writing(heartbeat) as con:
        line = line_policy(con, ref, settings)
        nxt = open_batch(con, ref, queue[0], settings, line.window)
    bucket = bucket or _bucket_for(line)
    recorder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="record-batch")
    recording: Future[BatchOutcome] | None = None

    def settle() -> bool:
        """Wait for the batch being recorded; False when it stopped the run."""
        nonlocal recording
        if recording is None:
            return True
        outcome, recording = recording.result(), None  # LeaseLost and errors raise here
        outcomes.append(outcome)
        if on_batch:
            on_batch(ref, outcome)
        return outcome.stop is None

    def record(cp: Checkpoint, delivery: Delivery) -> BatchOutcome:
        try:
            with _writing(heartbeat) as con:
                status = record_batch(con, ref, cp, delivery, settings)
                crashpoint("recording")
            crashpoint("recorded")
        except BaseException:
            heartbeat.lost = True  # no request of the next batch may leave now
            raise
        return BatchOutcome(cp.batch_no, len(delivery.local_ids), status, delivery.stop)

    try:
        for i in range(len(queue)):
            following = queue[i + 1] if i + 1 < len(queue) else None
            if isinstance(nxt, BatchOutcome):
                if not settle():
                    return
                outcomes.append(nxt)
                if on_batch:
                    on_batch(ref, nxt)
                if nxt.stop is not None or following is None:
                    return
                with _writing(heartbeat) as con:
                    nxt = open_batch(con, ref, following, settings, line.window)
                continue
            crashpoint("prepared")
            delivery = _deliver(ref, nxt, factory, bucket, heartbeat, settings)
            crashpoint("requested")
            settle()  # the batch before went without a stop, or this one was not opened
            upcoming: Checkpoint | BatchOutcome | None = None
            if delivery.stop is None and following is not None:
                with _writing(heartbeat) as con:
                    upcoming = open_batch(con, ref, following, settings, line.window)
            recording = recorder.submit(record, nxt, delivery)
            if delivery.stop is not None or upcoming is None:
                break
            nxt = upcoming
        settle()
    finally:
        recorder.shutdown(wait=True)


def _deliver(
    ref: RunRef,
    cp: Checkpoint,
    factory: ProviderFactory,
    bucket: TokenBucket,
    heartbeat: Heartbeat,
    settings: Settings,
) -> Delivery:
    """Reconcile an in-flight batch (and settle its credit), then send what it still owes."""
    out = Delivery()
    provider = factory()
    try:
        skip: set[int] = set()
        if cp.was_in_flight:
            if not reconciles(provider):
                out.unknown.update(cp.local_ids)
                out.stop_with(
                    Reason(
                        Code.OUTCOME_UNKNOWN,
                        {"batch": cp.batch_no, "provider": provider.name},
                    )
                )
                return out
            out.unknown = run_async(reconcile(provider, cp.local_ids, settings, out))
            skip = set(out.local_ids) | out.unknown
            with _writing(heartbeat) as con:
                rehold(con, ref, cp, set(out.local_ids), out.unknown)
            if out.unknown:
                # Some may be at the provider: send nothing more of this batch now.
                out.stop_with(Reason(Code.PROVIDER_UNAVAILABLE))
                return out
        return run_async(deliver(provider, cp, skip, bucket, heartbeat, settings, out))
    finally:
        run_async(provider.aclose())


def send_batch(
    ref: RunRef,
    batch_no: int,
    factory: ProviderFactory | None = None,
    bucket: TokenBucket | None = None,
) -> BatchOutcome:
    """Send one batch: checkpoint, requests, record."""
    return send_batches(ref, [batch_no], factory, bucket)[0]
