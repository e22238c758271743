"""SMS.ir adapter (REST v1: header ``X-API-KEY``, JSON bodies, envelope
``{"status": 1, "message": …, "data": …}``; see PROVIDERS.md).

Limitation that shapes the pipeline: SMS.ir has **no client-side id**. After a send whose
outcome is unknown (timeout, dropped connection, 5xx) nothing can ask SMS.ir "which of my
local ids do you have"; :meth:`SmsIrProvider.status_by_local_ids` therefore raises
:class:`ReconcileUnsupported`. A pipeline must settle such a batch by reading what SMS.ir
holds — the pack (:meth:`SmsIrProvider.pack_status`, when the pack id came back) or the
messages sent in that period, in SMS.ir's own panel — and must never simply resend it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from chapar.numbers import normalize
from chapar.providers._http import HttpAdapter
from chapar.providers.base import (
    AuthError,
    InboundMessage,
    InsufficientCredit,
    MessageStatus,
    OutgoingMessage,
    ProviderError,
    ReconcileUnsupported,
    RejectedInput,
    SendResult,
    StatusReport,
    TransientError,
    UnknownOutcome,
)

#: SMS.ir ``deliveryState`` -> Chapar's. 3/5 (reached telecom/operator) are not final yet;
#: no state at all means accepted without a report so far.
DELIVERY_MAP: dict[int | None, MessageStatus] = {
    None: MessageStatus.SENT,
    1: MessageStatus.DELIVERED,
    2: MessageStatus.UNDELIVERED,
    3: MessageStatus.SENT,
    4: MessageStatus.FAILED,
    5: MessageStatus.SENT,
    6: MessageStatus.FAILED,
    7: MessageStatus.BLACKLISTED,
}

OK = 1
NOT_FOUND = 111
#: ``receive/latest`` answers at most this many replies a call
RECEIVE_PAGE = 100
#: pages read by one :meth:`SmsIrProvider.receive`
RECEIVE_MAX_PAGES = 50
_REJECTED = frozenset({101, 103, 104, 105, 106, 109, 110, 115, 117, 118})
_AUTH = frozenset({10, 11, 12, 13, 14})
_TRANSIENT = frozenset({20})


def error_for(status: int, text: str) -> ProviderError:
    """The error class for an SMS.ir envelope ``status`` (0 "failed" says nothing about
    acceptance, so it is an unknown outcome)."""
    if status == 102:
        return InsufficientCredit(text, code=status)
    if status in _TRANSIENT:
        return TransientError(text, code=status)
    if status in _REJECTED:
        return RejectedInput(text, code=status)
    if status in _AUTH:
        return AuthError(text, code=status)
    if status == 0:
        return UnknownOutcome(f"{text}; the request may have been accepted", code=status)
    return ProviderError(text, code=status)


class SmsIrProvider(HttpAdapter):
    """SMS.ir over httpx. A send carries one line (sender); one text goes by ``send/bulk``,
    different texts by ``send/likeToLike``. Per-message cost is not reported (``cost``
    is None): SMS.ir returns one cost for the whole pack."""

    max_per_send = 100
    #: no client-side ids: an unknown outcome cannot be settled by local id
    reconciles_by_local_id = False

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        concurrency: int = 8,
        name: str = "smsir",
        transport: httpx.AsyncBaseTransport | None = None,
        trust_env: bool = True,
    ) -> None:
        if not api_key:
            raise AuthError(f"{name}: no API key configured (CHAPAR_API_KEY)")
        super().__init__(
            name=name,
            secret=api_key,
            timeout=timeout,
            concurrency=concurrency,
            transport=transport,
            trust_env=trust_env,
            headers={"X-API-KEY": api_key},
        )
        self._base = base_url.rstrip("/") + "/"
        self._concurrency = concurrency

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        """One request; returns ``data`` or raises the matching error."""
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs["content"] = json.dumps(body, ensure_ascii=False).encode()
            kwargs["headers"] = {"Content-Type": "application/json"}
        response = await self._request(method, self._base + path, f"{method} {path}", **kwargs)
        http = response.status_code
        where = f"{self.name} {method} {path}"
        if http >= 500:
            raise UnknownOutcome(
                f"{where}: HTTP {http}; the request may have been accepted", code=http
            )
        if http == 401:
            raise AuthError(f"{where}: the API key was refused", code=http)
        if http == 429:
            raise TransientError(f"{where}: rate limited", code=http)
        try:
            envelope = json.loads(response.content)
            status, message = int(envelope["status"]), str(envelope.get("message", ""))
        except (ValueError, KeyError, TypeError):
            if http == 200:
                raise UnknownOutcome(
                    f"{where}: unreadable answer; the request may have been accepted", code=http
                ) from None
            raise ProviderError(f"{where}: HTTP {http}", code=http) from None
        if status != OK:
            raise error_for(status, self._mask(f"{where}: {status} {message}"))
        return envelope.get("data")

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        if not messages:
            return []
        senders = {m.sender for m in messages}
        if len(senders) != 1:
            raise RejectedInput(f"{self.name}: one send carries one line, got {len(senders)}")
        return await self.send_columns(
            [m.local_id for m in messages],
            [m.receptor for m in messages],
            senders.pop(),
            [m.text for m in messages],
        )

    async def send_columns(
        self,
        local_ids: Sequence[int],
        receptors: Sequence[str],
        sender: str,
        texts: Sequence[str] | str,
    ) -> list[SendResult]:
        """One request from columns: ``send/bulk`` for one text (a ``str``, or equal texts),
        ``send/likeToLike`` for a text per recipient. Local ids stay on this side only."""
        count = len(receptors)
        if len(local_ids) != count or (not isinstance(texts, str) and len(texts) != count):
            raise RejectedInput(
                f"{self.name}: {len(local_ids)} local ids, {count} receptors and "
                f"{1 if isinstance(texts, str) else len(texts)} texts do not line up",
                code=110,
            )
        if not count:
            return []
        if count > self.max_per_send:
            raise RejectedInput(
                f"{self.name}: {count} messages in one send, at most {self.max_per_send}",
                code=105,
            )
        if not sender.isdigit():
            raise RejectedInput(f"{self.name}: line number {sender!r} is not numeric", code=101)
        mobiles = list(receptors)
        same = texts if isinstance(texts, str) else texts[0]
        if isinstance(texts, str) or all(text == same for text in texts):
            path = "send/bulk"
            body: dict[str, Any] = {
                "lineNumber": int(sender),
                "messageText": same,
                "mobiles": mobiles,
                "sendDateTime": None,
            }
        else:
            path = "send/likeToLike"
            body = {
                "lineNumber": int(sender),
                "messageTexts": list(texts),
                "mobiles": mobiles,
                "sendDateTime": None,
            }
        data = await self._call("POST", path, body)
        try:
            ids = [str(i) for i in data["messageIds"]]
        except (KeyError, TypeError):
            ids = []
        if len(ids) != count:
            raise UnknownOutcome(
                f"{self.name} POST {path}: {len(ids)} message ids for {count} "
                "messages; the request may have been accepted"
            )
        return [
            SendResult(local_id, mobile, message_id, MessageStatus.SENT, None)
            for local_id, mobile, message_id in zip(local_ids, mobiles, ids, strict=True)
        ]

    async def receive(self, line: str) -> list[InboundMessage]:
        """Unread replies by ``GET receive/latest`` (at most 100 a call, read-once: SMS.ir
        marks what it returns as read), page after page while a page comes back full, at
        most :data:`RECEIVE_MAX_PAGES` pages.

        SMS.ir answers for **every line of the account** and cannot be asked for one line;
        since what it returned is never returned again, replies to other lines are returned
        too, each with its ``receptor`` (the line), rather than dropped: ``line`` only fills
        a reply whose line SMS.ir left out."""
        path = f"receive/latest?count={RECEIVE_PAGE}"
        replies: dict[str, InboundMessage] = {}
        for _ in range(RECEIVE_MAX_PAGES):
            data = await self._call("GET", path)
            try:
                page = [_inbound(d, line) for d in data or ()]
            except (KeyError, TypeError, ValueError, AttributeError):
                raise ProviderError(
                    f"{self.name} GET receive/latest: entries of an unexpected shape"
                ) from None
            fresh = [r for r in page if r.message_id not in replies]
            replies.update((r.message_id, r) for r in fresh)
            if len(page) < RECEIVE_PAGE or not fresh:
                break
        return list(replies.values())

    async def _one_status(self, message_id: str) -> StatusReport:
        try:
            data = await self._call("GET", f"send/{message_id}")
        except ProviderError as exc:
            if exc.provider_code == NOT_FOUND:
                return StatusReport(message_id, MessageStatus.UNKNOWN)
            raise
        return StatusReport(message_id, _delivery(data, f"GET send/{message_id}"))

    async def status(self, message_ids: Sequence[str]) -> list[StatusReport]:
        """``GET send/{id}`` per id (SMS.ir has no batch status call), ``concurrency`` at a
        time; the first error is raised once its group has finished (nothing left running)."""
        reports: list[StatusReport] = []
        for start in range(0, len(message_ids), self._concurrency):
            chunk = message_ids[start : start + self._concurrency]
            done = await asyncio.gather(*map(self._one_status, chunk), return_exceptions=True)
            for item in done:
                if isinstance(item, BaseException):
                    raise item
            reports.extend(r for r in done if isinstance(r, StatusReport))
        return reports

    async def pack_status(self, pack_id: str) -> list[StatusReport]:
        """Every message of a pack: how a send with an unknown outcome is settled when its
        pack id is known."""
        data = await self._call("GET", f"send/pack/{pack_id}")
        where = f"GET send/pack/{pack_id}"
        try:
            return [StatusReport(str(d["messageId"]), _delivery(d, where)) for d in data]
        except (KeyError, TypeError):
            raise ProviderError(f"{self.name} {where}: entries of an unexpected shape") from None

    async def status_by_local_ids(self, local_ids: Sequence[int]) -> list[StatusReport]:
        """Impossible on SMS.ir: it keeps no client-side id. A pipeline must treat an unknown
        SMS.ir outcome by reading the pack / the messages (see the module docstring), never
        by resending."""
        raise ReconcileUnsupported(
            f"{self.name}: SMS.ir keeps no client-side ids; settle an unknown outcome by "
            "reading the pack or the sent messages, never by resending"
        )

    async def credit(self) -> int:
        data = await self._call("GET", "credit")
        try:
            return int(float(data))
        except (TypeError, ValueError):
            raise ProviderError(f"{self.name} GET credit: not a number") from None


def _inbound(entry: Any, line: str) -> InboundMessage:
    """One ``receive/latest`` item: ``receiveReturnId``, ``messageText``, ``number`` (our
    line), ``mobile`` (the sender), ``receivedDateTime`` (Unix time)."""
    raw_mobile = str(entry["mobile"])
    number = normalize(raw_mobile)
    our_line = entry.get("number")
    return InboundMessage(
        message_id=str(entry["receiveReturnId"]),
        sender=str(number) if number is not None else raw_mobile,
        receptor=str(our_line) if our_line not in (None, "", 0) else line,
        text=str(entry.get("messageText") or ""),
        received_at=datetime.fromtimestamp(int(float(entry["receivedDateTime"])), UTC),
    )


def _delivery(data: Any, where: str) -> MessageStatus:
    try:
        state = data.get("deliveryState")
        return DELIVERY_MAP.get(None if state is None else int(state), MessageStatus.UNKNOWN)
    except (AttributeError, TypeError, ValueError):
        raise ProviderError(f"smsir {where}: entries of an unexpected shape") from None
