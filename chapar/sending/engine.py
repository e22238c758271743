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
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import time as dt_time
from typing import Any, TypeVar

import duckdb

from chapar.providers import make_provider
from chapar.providers.base import Provider
from chapar.sending.batch import Checkpoint, open_batch, rehold, unbegin_batch
from chapar.sending.deliver import (
    Delivery,
    ProviderFactory,
    TokenBucket,
    cannot_ask,
    deliver,
    reconcile,
    reconciles,
    unanswered,
)
from chapar.sending.heartbeat import Heartbeat, beating
from chapar.sending.record import record_batch
from chapar.sending.run import BatchOutcome, RunRef
from chapar.settings import Settings, get_settings
from chapar.store import dialect, fetch_one, one_thread, retrying
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


def _write(heartbeat: Heartbeat, body: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
    """A transaction of the engine's. It renews the lease, so the heartbeat waits for it
    (DuckDB refuses two writes of one row at once in a process) and counts it as a beat;
    on a shared store a transaction refused for a concurrent one (``Conflict``) runs again
    (``body`` is SQL and Polars only: safe to repeat)."""

    def on_one_thread(con: duckdb.DuckDBPyConnection) -> T:
        # The event loop and the provider need the cores more than a batch's 100k-row update
        # needs DuckDB's parallelism (1M messages at 20 ms a request: 0.93-0.94 of the
        # adapter alone, against 0.87-0.91). On the shared store the statements run in
        # PostgreSQL: DuckDB's threads are left as they are.
        if dialect() == "postgres":
            return body(con)
        with one_thread(con):
            return body(con)

    started = time.monotonic()
    with heartbeat.lock:
        result = retrying(on_one_thread)
    heartbeat.renewed(started)
    return result


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
    """The batches as a pipeline. While batch *n*'s requests are out, a worker thread, in
    one transaction, records batch *n-1* and opens batch *n+1* (transaction 1: committed in
    flight before any of its requests leaves), so the requests never wait for the store.
    A crash anywhere leaves at most three batches in flight, each reconciled by a rebuild;
    when a batch stops the run, the batch opened after it, of which nothing left, is given
    back (pending again, its hold released) in the transaction that records the stop."""
    line: LinePolicy | None = None  # read in the first transaction (no open of its own)
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="record-batch")
    provider: Provider | None = None  # one client (and its connections) for the batches

    def emit(outcome: BatchOutcome) -> bool:
        outcomes.append(outcome)
        if on_batch:
            on_batch(ref, outcome)
        return outcome.stop is None

    def step(
        sent: tuple[Checkpoint, Delivery] | None,
        following: int | None,
        give_back: Checkpoint | BatchOutcome | None = None,
    ) -> tuple[BatchOutcome | None, Checkpoint | BatchOutcome | None]:
        """One transaction: record ``sent``, give back an opened batch nothing of which
        left, open ``following``; the recorded batch's outcome and the opened batch."""

        def body(con: duckdb.DuckDBPyConnection) -> tuple[str, Checkpoint | BatchOutcome | None]:
            nonlocal line
            line = line or line_policy(con, ref, settings)
            status = ""
            if sent is not None:
                status = record_batch(con, ref, *sent, settings)
                crashpoint("recording")
            if isinstance(give_back, Checkpoint) and not give_back.was_in_flight:
                # (one found in flight may be at the provider already: a rebuild reconciles it)
                unbegin_batch(con, ref, give_back)
            opened = None
            if following is not None:
                opened = open_batch(con, ref, following, settings, line.window)
            return status, opened

        try:
            status, opened = _write(heartbeat, body)
            if sent is not None:
                crashpoint("recorded")
        except BaseException:
            heartbeat.lost = True  # no request of the batch out now may leave any more
            raise
        if sent is None:
            return None, opened
        cp, delivery = sent
        return BatchOutcome(cp.batch_no, len(delivery.local_ids), status, delivery.stop), opened

    try:
        i = 0
        nxt: Checkpoint | BatchOutcome | None = step(None, queue[0])[1]
        assert line is not None
        bucket = bucket or _bucket_for(line)
        sent: tuple[Checkpoint, Delivery] | None = None  # delivered, not yet recorded
        while nxt is not None:
            following = queue[i + 1] if i + 1 < len(queue) else None
            if isinstance(nxt, BatchOutcome):  # nothing of batch i to send now
                if not emit(nxt) or following is None:
                    return
                i, nxt = i + 1, step(None, following)[1]
                continue
            job = worker.submit(step, sent, following) if sent or following is not None else None
            crashpoint("prepared")
            provider = provider or factory()
            delivery = _deliver(ref, nxt, provider, bucket, heartbeat, settings)
            crashpoint("requested")
            recorded, upcoming = job.result() if job is not None else (None, None)
            sent = (nxt, delivery)
            if (recorded is not None and not emit(recorded)) or delivery.stop is not None:
                last = step(sent, None, give_back=upcoming)[0]
                if last is not None:
                    emit(last)
                return
            if not isinstance(upcoming, Checkpoint):  # the end, or batch i+1 is not sent now
                last = step(sent, None)[0]
                if last is not None and not emit(last):
                    return
                sent = None
            i, nxt = i + 1, upcoming
    finally:
        worker.shutdown(wait=True)
        if provider is not None:
            run_async(provider.aclose())


def _deliver(
    ref: RunRef,
    cp: Checkpoint,
    provider: Provider,
    bucket: TokenBucket,
    heartbeat: Heartbeat,
    settings: Settings,
) -> Delivery:
    """Reconcile an in-flight batch (and settle its credit), then send what it still owes."""
    out = Delivery()
    skip: set[int] = set()
    if cp.was_in_flight:
        if not reconciles(provider):
            out.unknown.update(cp.local_ids)
            out.stop_with(cannot_ask(cp, provider))
            return out
        out.unknown = run_async(reconcile(provider, cp.local_ids, settings, out))
        found = set(out.local_ids)
        dropped = _write(heartbeat, lambda con: rehold(con, ref, cp, found, out.unknown))
        skip = found | out.unknown | dropped
        if out.unknown:
            # Some may be at the provider: send nothing more of this batch now.
            out.stop_with(unanswered(cp, out.unknown, settings))
            return out
    return run_async(deliver(provider, cp, skip, bucket, heartbeat, settings, out))


def send_batch(
    ref: RunRef,
    batch_no: int,
    factory: ProviderFactory | None = None,
    bucket: TokenBucket | None = None,
) -> BatchOutcome:
    """Send one batch: checkpoint, requests, record."""
    return send_batches(ref, [batch_no], factory, bucket)[0]
