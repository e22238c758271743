"""Deliver a batch in flight: reconcile what may already be at the provider, then the
requests — concurrent, at most a request's size each, at the line's rate — while a
heartbeat keeps the run's lease.

Nothing here writes to the store except the heartbeat's lease renewals; what the provider
accepted is returned as columns and recorded by transaction 2 (``record.py``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from chapar.campaigns import MessageState
from chapar.providers.base import (
    MessageStatus,
    OutgoingMessage,
    Provider,
    ProviderError,
    SendResult,
    TransientError,
    UnknownOutcome,
)
from chapar.providers.texts import FormTexts
from chapar.reasons import Code, Reason
from chapar.sending.batch import Checkpoint
from chapar.sending.heartbeat import Heartbeat
from chapar.settings import Settings

ProviderFactory = Callable[[], Provider]

#: Status lookups by local id ask about this many ids a call (Kavenegar's limit).
RECONCILE_CHUNK = 500

_PROVIDER_STATE = {
    MessageStatus.QUEUED: MessageState.SENT,
    MessageStatus.SENT: MessageState.SENT,
    MessageStatus.DELIVERED: MessageState.DELIVERED,
    MessageStatus.UNDELIVERED: MessageState.UNDELIVERED,
    MessageStatus.FAILED: MessageState.FAILED,
    MessageStatus.BLACKLISTED: MessageState.BLOCKED,
    MessageStatus.CANCELLED: MessageState.CANCELLED,
}


#: What an accepted message is recorded as, by the status the send answered with.
_ACCEPTED_AS = {status: state.value for status, state in _PROVIDER_STATE.items()}


def state_of(status: MessageStatus) -> MessageState | None:
    """Chapar's message state for a provider status; None for an id it does not know."""
    return _PROVIDER_STATE.get(status)


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


# --- what a delivery returns -------------------------------------------------------------


@dataclass
class Delivery:
    """What the provider accepted (as columns), what it may hold, and why it stopped."""

    local_ids: list[int] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    #: local ids whose fate is unknown (their status lookups kept failing)
    unknown: set[int] = field(default_factory=set)
    stop: Reason | None = None
    lease_in_doubt: bool = False

    def accept(self, local_id: int, message_id: str, state: MessageState) -> None:
        self.local_ids.append(local_id)
        self.message_ids.append(message_id)
        self.states.append(state.value)

    def accept_all(self, results: Sequence[SendResult]) -> None:
        """A request's answers, as columns (one pass each: no call per message)."""
        self.local_ids.extend([r.local_id for r in results])
        self.message_ids.extend([r.message_id for r in results])
        self.states.extend([_ACCEPTED_AS.get(r.status, "sent") for r in results])

    def stop_with(self, reason: Reason) -> None:
        if self.stop is None:
            self.stop = reason


def _refusal(exc: ProviderError) -> Reason:
    """Why the run stops: each provider error carries its own reason code."""
    return exc.reason


def cannot_ask(cp: Checkpoint, provider: Provider) -> Reason:
    """Why a run stops when a batch's fate is unknown at a provider that keeps no local ids."""
    return Reason(Code.OUTCOME_UNKNOWN, {"batch": cp.batch_no, "provider": provider.name})


def unanswered(cp: Checkpoint, unknown: set[int], settings: Settings) -> Reason:
    """Why a run stops when the provider would not say whether it holds some messages."""
    return Reason(
        Code.STATUS_UNANSWERED,
        {"count": len(unknown), "batch": cp.batch_no, "seconds": settings.reconcile_patience_s},
    )


def reconciles(provider: Provider) -> bool:
    """Can this provider say which local ids it holds? (SMS.ir keeps no client-side ids.)"""
    return bool(getattr(provider, "reconciles_by_local_id", True))


# --- reconcile ---------------------------------------------------------------------------


async def reconcile(
    provider: Provider, local_ids: Sequence[int], settings: Settings, out: Delivery
) -> set[int]:
    """Which of these local ids does the provider hold? Asks in chunks, keeps every answer,
    retries only the failed chunks with backoff within the patience budget. Found messages
    are added to ``out``; returns the ids still unknown (their chunks never answered)."""
    step = RECONCILE_CHUNK
    chunks = [list(local_ids[i : i + step]) for i in range(0, len(local_ids), step)]
    gate = asyncio.Semaphore(settings.provider_concurrency)
    deadline = time.monotonic() + settings.reconcile_patience_s
    attempt = 0

    async def ask(chunk: list[int]) -> bool:
        async with gate:
            try:
                reports = await provider.status_by_local_ids(chunk)
            except (TransientError, UnknownOutcome):
                return False
        for r in reports:
            state = state_of(r.status)
            if r.local_id is not None and state is not None:
                out.accept(r.local_id, r.message_id, state)
        return True

    while chunks:
        answered = await asyncio.gather(*(ask(c) for c in chunks))
        chunks = [c for c, ok in zip(chunks, answered, strict=True) if not ok]
        if not chunks or time.monotonic() >= deadline:
            break
        attempt += 1
        await asyncio.sleep(min(_backoff(attempt), max(0.0, deadline - time.monotonic())))
    return {lid for c in chunks for lid in c}


# --- requests ----------------------------------------------------------------------------


async def _send_columns(
    provider: Provider,
    local_ids: list[int],
    receptors: list[str],
    sender: str,
    texts: Sequence[str] | str,
) -> list[SendResult]:
    send_columns = getattr(provider, "send_columns", None)
    if send_columns is not None:
        results: list[SendResult] = await send_columns(local_ids, receptors, sender, texts)
        return results
    each = [texts] * len(local_ids) if isinstance(texts, str) else texts
    return await provider.send(
        [
            OutgoingMessage(lid, rec, sender, text)
            for lid, rec, text in zip(local_ids, receptors, each, strict=True)
        ]
    )


@dataclass
class _Request:
    local_ids: list[int]
    receptors: list[str]
    texts: FormTexts | str


async def _send_request(
    provider: Provider,
    req: _Request,
    cp: Checkpoint,
    out: Delivery,
    bucket: TokenBucket,
    heartbeat: Heartbeat,
    settings: Settings,
) -> None:
    attempt = 0
    failed: ProviderError | None = None  # the last failure, to say why if it stops here
    while req.local_ids and out.stop is None:
        # The rate's wait comes before the lease's check: a process frozen while it waited
        # for tokens must not send on a check made before it froze. From the check to the
        # request nothing is awaited, so the window a freeze could slip into is the few
        # microseconds the adapter takes to write the request.
        await bucket.take(len(req.local_ids))
        if not await heartbeat.wait_ok():
            # Lost: the record will find it so and write nothing. In doubt: no request leaves
            # until the lease is surely ours; the record renews it or finds it lost.
            out.lease_in_doubt = True
            out.stop_with(Reason(Code.LEASE_LOST if heartbeat.lost else Code.LEASE_IN_DOUBT))
            return
        try:
            out.accept_all(
                await _send_columns(provider, req.local_ids, req.receptors, cp.sender, req.texts)
            )
            return
        except TransientError as exc:
            failed = exc  # not accepted: safe to send again after a pause
        except UnknownOutcome as exc:
            failed = exc
            # Maybe accepted: ask before sending anything again.
            if not reconciles(provider):
                out.unknown.update(req.local_ids)
                out.stop_with(cannot_ask(cp, provider))
                return
            before = set(out.local_ids)
            unknown = await reconcile(provider, req.local_ids, settings, out)
            if unknown:
                out.unknown.update(unknown)
                out.stop_with(unanswered(cp, unknown, settings))
                return
            req = _without(req, set(out.local_ids) - before)
        except ProviderError as exc:
            out.stop_with(_refusal(exc))
            return
        attempt += 1
        if attempt > settings.provider_retries:
            # The last failure says why (unreachable, HTTP 429, a timeout...), the key masked.
            out.stop_with(failed.reason if failed else Reason(Code.PROVIDER_UNAVAILABLE))
            return
        await asyncio.sleep(_backoff(attempt))


def _without(req: _Request, found: set[int]) -> _Request:
    idx = [i for i, lid in enumerate(req.local_ids) if lid not in found]
    texts = req.texts if isinstance(req.texts, str) else req.texts.take(idx)
    return _Request([req.local_ids[i] for i in idx], [req.receptors[i] for i in idx], texts)


def requests_of(cp: Checkpoint, skip: set[int], size: int) -> list[_Request]:
    """The batch's affordable messages not already at the provider, as requests."""
    idx: Sequence[int]
    if skip:
        idx = [i for i, lid in enumerate(cp.local_ids) if lid not in skip][: cp.affordable]
        local_ids, receptors = [cp.local_ids[i] for i in idx], [cp.receptors[i] for i in idx]
    else:  # a batch opened now: slices of its columns, no index a message
        idx = range(len(cp.local_ids))[: cp.affordable]
        local_ids, receptors = cp.local_ids[: len(idx)], cp.receptors[: len(idx)]
    out = []
    for start in range(0, len(idx), size):
        end = start + size
        texts: FormTexts | str = cp.text if cp.texts is None else cp.texts.take(idx[start:end])
        out.append(_Request(local_ids[start:end], receptors[start:end], texts))
    return out


async def deliver(
    provider: Provider,
    cp: Checkpoint,
    skip: set[int],
    bucket: TokenBucket,
    heartbeat: Heartbeat,
    settings: Settings,
    out: Delivery,
) -> Delivery:
    """Send what the batch still owes, concurrently, into ``out``."""
    size = min(settings.request_size, provider.max_per_send)
    reqs = iter(requests_of(cp, skip, size))

    # A few senders that each take the next request, rather than a task a request waiting
    # on a semaphore: the same concurrency without a wake-up a request (at 1M messages the
    # tasks cost 5-20% of the provider phase, against none for the senders).
    async def sender() -> None:
        for req in reqs:
            if out.stop is not None:
                return
            await _send_request(provider, req, cp, out, bucket, heartbeat, settings)

    senders = [asyncio.ensure_future(sender()) for _ in range(settings.provider_concurrency)]
    try:
        await asyncio.gather(*senders)
    except BaseException:
        # An error no request handles (a bug, an interrupt): the other senders stop too,
        # rather than go on sending the next time this thread's loop runs. What they had
        # out stays in flight, for a rebuild to reconcile.
        for task in senders:
            task.cancel()
        await asyncio.gather(*senders, return_exceptions=True)
        raise
    owed = len(cp.local_ids) - len(skip)
    if out.stop is None and (cp.affordable or 0) < owed:
        out.stop_with(Reason(Code.INSUFFICIENT_CREDIT))
    return out
