"""Kavenegar adapter (also used against the simulator, which speaks the same protocol).

Wire protocol: ``{base}/{APIKEY}/{scope}/{method}.json``, form-encoded POST, answers in the
envelope ``{"return": {"status": 200, "message": …}, "entries": …}`` (see PROVIDERS.md).
The key sits in the URL path, so no URL is ever put in an error text or log line unmasked.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, quote_plus

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
    RejectedInput,
    SendResult,
    StatusReport,
    TransientError,
    UnknownOutcome,
)
from chapar.providers.texts import FormTexts

#: Kavenegar message status -> Chapar's. 2 is "scheduled": not yet handed over, so queued.
STATUS_MAP: dict[int, MessageStatus] = {
    1: MessageStatus.QUEUED,
    2: MessageStatus.QUEUED,
    4: MessageStatus.SENT,
    5: MessageStatus.SENT,
    6: MessageStatus.FAILED,
    10: MessageStatus.DELIVERED,
    11: MessageStatus.UNDELIVERED,
    13: MessageStatus.CANCELLED,
    14: MessageStatus.BLACKLISTED,
    100: MessageStatus.UNKNOWN,
}
UNKNOWN_ID = 100

_REJECTED = frozenset({400, 411, 412, 413, 414, 417, 419, 422})
_AUTH = frozenset({401, 403, 407})
_TRANSIENT = frozenset({409, 429})
#: 402 "operation failed" does not say whether anything was accepted.
_AMBIGUOUS = frozenset({402})

STATUS_CHUNK = 500
#: ``sms/receive`` answers at most this many replies a call
RECEIVE_PAGE = 100
#: pages read by one :meth:`KavenegarProvider.receive` (the rest waits for the next call)
RECEIVE_MAX_PAGES = 50


def map_status(code: Any) -> MessageStatus:
    """Unrecognised codes map to UNKNOWN (not final: the poller keeps asking)."""
    try:
        return STATUS_MAP.get(int(code), MessageStatus.UNKNOWN)
    except (TypeError, ValueError):
        return MessageStatus.UNKNOWN


def error_for(code: int, text: str) -> ProviderError:
    """The error class for a Kavenegar ``return.status`` (or a bare HTTP status)."""
    if code == 418:
        return InsufficientCredit(text, code=code)
    if code in _TRANSIENT:
        return TransientError(text, code=code)
    if code in _REJECTED:
        return RejectedInput(text, code=code)
    if code in _AUTH:
        return AuthError(text, code=code)
    if code >= 500 or code in _AMBIGUOUS:
        return UnknownOutcome(f"{text}; the request may have been accepted", code=code)
    return ProviderError(text, code=code)


_FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def _string_array(items: list[str]) -> str:
    """``quote_plus(json.dumps(items, ensure_ascii=False))``, fast.

    urllib quotes byte by byte in Python: ≈1–3 ms for a 200-message Persian ``sendarray``,
    more than the whole rest of a request. A campaign repeats one text and one sender, so
    each distinct string is JSON-encoded and quoted once and the array is joined; digits-only
    strings (numbers, lines) need no quoting; when many texts differ (personalised
    messages), each is percent-encoded byte for byte in C (``bytes.hex``), which is valid
    form encoding, only larger for Latin text.
    """
    distinct = dict.fromkeys(items)
    if all(map(str.isdigit, distinct)) and all(map(str.isascii, distinct)):
        return "%5B%22" + "%22%2C%22".join(items) + "%22%5D" if items else "%5B%5D"
    encode = _quote if len(distinct) <= 8 else _hex_quote
    quoted = {item: encode(json.dumps(item, ensure_ascii=False)) for item in distinct}
    return "%5B" + "%2C".join([quoted[item] for item in items]) + "%5D"


def _quote(value: str) -> str:
    return quote_plus(value, safe="")


def _hex_quote(value: str) -> str:
    raw = value.encode()
    return "%" + raw.hex("%").upper() if raw else ""


@functools.lru_cache(maxsize=64)
def _quote_cached(value: str) -> str:
    """A form value; a campaign repeats one text and one line in every request, so each is
    percent-encoded once (≈50 µs for a two-page Persian text)."""
    return quote_plus(value, safe="")


def _comma_list(values: Sequence[str]) -> str:
    """Comma-separated values, form-encoded; normalised numbers need no quoting."""
    joined = ",".join(values)
    return joined if joined.replace(",", "").isdigit() else quote_plus(joined, safe=",")


def _inbound(entry: Any, line: str) -> InboundMessage:
    """One ``sms/receive`` entry; ``date`` is Unix time (seconds)."""
    raw_sender = str(entry["sender"])
    number = normalize(raw_sender)
    receptor = entry.get("receptor")
    return InboundMessage(
        message_id=str(entry["messageid"]),
        sender=str(number) if number is not None else raw_sender,
        receptor=str(receptor) if receptor not in (None, "") else line,
        text=str(entry.get("message") or ""),
        received_at=datetime.fromtimestamp(int(float(entry["date"])), UTC),
    )


class KavenegarProvider(HttpAdapter):
    """Kavenegar over httpx: ``sms/send`` (one text) or ``sms/sendarray`` (a text each) with
    local ids, status by message or local id, replies by ``sms/receive``."""

    max_per_send = 200
    reconciles_by_local_id = True

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        concurrency: int = 8,
        name: str = "kavenegar",
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
        )
        self._prefix = f"{base_url.rstrip('/')}/{quote(api_key, safe='')}/"

    async def _call(self, path: str, form: dict[str, str] | bytes) -> Any:
        """POST one method and return its ``entries``, or raise the matching error. ``form``
        is a dict, or a body already form-encoded (see :func:`_string_array`)."""
        if isinstance(form, bytes):
            response = await self._request(
                "POST", self._prefix + path, path, content=form, headers=_FORM_HEADERS
            )
        else:
            response = await self._request("POST", self._prefix + path, path, data=form)
        http = response.status_code
        try:
            body = json.loads(response.content)
            ret = body["return"]
            code, message = int(ret["status"]), str(ret.get("message", ""))
        except (ValueError, KeyError, TypeError):
            if http == 200 or http >= 500:
                raise UnknownOutcome(
                    f"{self.name} {path}: unreadable answer (HTTP {http}); "
                    "the request may have been accepted",
                    code=http,
                ) from None
            raise error_for(http, f"{self.name} {path}: HTTP {http}") from None
        if http >= 500:
            raise UnknownOutcome(
                self._mask(f"{self.name} {path}: HTTP {http} ({code} {message}); ")
                + "the request may have been accepted",
                code=http,
            )
        if code != 200 or http != 200:
            raise error_for(code, self._mask(f"{self.name} {path}: {code} {message}"))
        return body.get("entries")

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        """One request for at most ``max_per_send`` messages: ``sms/send`` when they share a
        sender and a text, ``sms/sendarray`` otherwise (see :meth:`send_columns`)."""
        if not messages:
            return []
        sender = messages[0].sender
        local_ids = [m.local_id for m in messages]
        receptors = [m.receptor for m in messages]
        if any(m.sender != sender for m in messages):
            self._check_size(len(messages))
            return await self._send_array(
                local_ids, receptors, [m.sender for m in messages], [m.text for m in messages]
            )
        return await self.send_columns(local_ids, receptors, sender, [m.text for m in messages])

    async def send_columns(
        self,
        local_ids: Sequence[int],
        receptors: Sequence[str],
        sender: str,
        texts: Sequence[str] | str,
    ) -> list[SendResult]:
        """One request from columns. One text for all (a ``str``, or a sequence of equal
        texts) goes by ``sms/send``, which carries the text once; different texts go by
        ``sms/sendarray``, which carries one text per receptor."""
        count = len(receptors)
        if len(local_ids) != count or (not isinstance(texts, str) and len(texts) != count):
            raise RejectedInput(
                f"{self.name}: {len(local_ids)} local ids, {count} receptors and "
                f"{1 if isinstance(texts, str) else len(texts)} texts do not line up",
                code=419,
            )
        if not count:
            return []
        self._check_size(count)
        receptors = receptors if isinstance(receptors, list) else list(receptors)
        if isinstance(texts, str):
            return await self._send_same(local_ids, receptors, sender, texts)
        if isinstance(texts, FormTexts):  # compared as encoded: no Python str a text
            same = texts.one_text()
            if same is not None:
                return await self._send_same(local_ids, receptors, sender, same)
            return await self._send_array(local_ids, receptors, [sender] * count, texts)
        first = texts[0]
        if all(text == first for text in texts):
            return await self._send_same(local_ids, receptors, sender, first)
        return await self._send_array(local_ids, receptors, [sender] * count, list(texts))

    def _check_size(self, count: int) -> None:
        if count > self.max_per_send:
            raise RejectedInput(
                f"{self.name}: {count} messages in one send, at most {self.max_per_send}",
                code=414,
            )

    async def _send_same(
        self, local_ids: Sequence[int], receptors: Sequence[str], sender: str, text: str
    ) -> list[SendResult]:
        """``sms/send``: comma-separated receptors and local ids (one per receptor), the
        text once."""
        form = (
            f"receptor={_comma_list(receptors)}"
            f"&sender={_quote_cached(sender)}"
            f"&message={_quote_cached(text)}"
            f"&localid={'%2C'.join(map(str, local_ids))}"
        )
        path = "sms/send.json"
        entries = await self._call(path, form.encode("ascii"))
        return self._results(path, local_ids, receptors, entries)

    async def _send_array(
        self,
        local_ids: Sequence[int],
        receptors: Sequence[str],
        senders: list[str],
        texts: list[str] | FormTexts,
    ) -> list[SendResult]:
        """``sms/sendarray``. Local ids go both as ``localmessageids`` (comma list) and
        ``localid`` (JSON array) because the official SDKs disagree on the name."""
        ids = list(map(str, local_ids))
        # texts a batch encoded ahead (FormTexts) are only joined here
        message = texts.form_array() if isinstance(texts, FormTexts) else _string_array(texts)
        form = (
            f"receptor={_string_array(list(receptors))}"
            f"&sender={_string_array(senders)}"
            f"&message={message}"
            f"&localmessageids={'%2C'.join(ids)}"
            f"&localid=%5B{'%2C'.join(ids)}%5D"
        )
        path = "sms/sendarray.json"
        entries = await self._call(path, form.encode("ascii"))
        return self._results(path, local_ids, receptors, entries)

    def _results(
        self, path: str, local_ids: Sequence[int], receptors: Sequence[str], entries: Any
    ) -> list[SendResult]:
        """One result per message, in order. Anything else (fewer entries, another order, a
        missing field) may hide accepted messages: an unknown outcome, to be reconciled."""
        count = len(receptors)
        if not isinstance(entries, list) or len(entries) != count:
            got = len(entries) if isinstance(entries, list) else type(entries).__name__
            raise UnknownOutcome(
                f"{self.name} {path}: {got} entries for {count} messages; "
                "the request may have been accepted"
            )
        try:
            # Column by column (a few C-level passes rather than a loop body per message):
            # statuses and costs repeat, so each distinct one is mapped once.
            echoed = [entry["receptor"] for entry in entries]
            if echoed != receptors and [str(e)[-10:] for e in echoed] != [
                r[-10:] for r in receptors
            ]:  # Kavenegar may echo 0912… for 98912…: the national part must match
                raise ValueError("entries out of order")
            message_ids = [str(entry["messageid"]) for entry in entries]
            statuses = [entry.get("status") for entry in entries]
            costs = [entry.get("cost") for entry in entries]
            status_of = {s: STATUS_MAP.get(s) or map_status(s) for s in set(statuses)}
            cost_of = {c: None if c is None else int(c) for c in set(costs)}
            return list(
                map(
                    SendResult,
                    local_ids,
                    receptors,
                    message_ids,
                    map(status_of.__getitem__, statuses),
                    map(cost_of.__getitem__, costs),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise UnknownOutcome(
                f"{self.name} {path}: entries do not match the messages sent; "
                "the request may have been accepted"
            ) from None

    async def status(self, message_ids: Sequence[str]) -> list[StatusReport]:
        path = "sms/status.json"
        reports: list[StatusReport] = []
        for start in range(0, len(message_ids), STATUS_CHUNK):
            chunk = message_ids[start : start + STATUS_CHUNK]
            entries = await self._call(path, {"messageid": ",".join(chunk)})
            with self._readable(path):
                reports.extend(
                    StatusReport(str(e["messageid"]), map_status(e.get("status")))
                    for e in entries or ()
                )
        return reports

    async def status_by_local_ids(self, local_ids: Sequence[int]) -> list[StatusReport]:
        """``sms/statuslocalmessageid``; ids the provider does not have (status 100, no
        message id) are left out, so the answer is exactly what was accepted."""
        path = "sms/statuslocalmessageid.json"
        reports: list[StatusReport] = []
        for start in range(0, len(local_ids), STATUS_CHUNK):
            chunk = local_ids[start : start + STATUS_CHUNK]
            entries = await self._call(path, {"localid": ",".join(map(str, chunk))})
            with self._readable(path):
                for e in entries or ():
                    message_id = e.get("messageid")
                    code = int(e.get("status", UNKNOWN_ID))
                    if code == UNKNOWN_ID or message_id in (None, 0, "0", ""):
                        continue
                    reports.append(
                        StatusReport(str(message_id), map_status(code), int(e["localid"]))
                    )
        return reports

    async def credit(self) -> int:
        path = "account/info.json"
        entries = await self._call(path, {})
        try:
            return int(float(entries["remaincredit"]))
        except (KeyError, TypeError, ValueError):
            raise ProviderError(f"{self.name} {path}: no remaincredit in the answer") from None

    async def receive(self, line: str) -> list[InboundMessage]:
        """Unread replies to ``line`` (``sms/receive``, ``isread=0``), page after page while
        a page comes back full (100), at most :data:`RECEIVE_MAX_PAGES` pages a call. Whether
        Kavenegar marks what it returns as read is not documented: a page that brings no new
        message id ends the loop, and callers key replies by ``message_id``."""
        path = "sms/receive.json"
        replies: dict[str, InboundMessage] = {}
        for _ in range(RECEIVE_MAX_PAGES):
            entries = await self._call(path, {"linenumber": line, "isread": "0"})
            with self._readable(path):
                page = [_inbound(e, line) for e in entries or ()]
            fresh = [r for r in page if r.message_id not in replies]
            replies.update((r.message_id, r) for r in fresh)
            if len(page) < RECEIVE_PAGE or not fresh:
                break
        return list(replies.values())

    @contextmanager
    def _readable(self, path: str) -> Iterator[None]:
        """A read whose entries do not have the documented shape is a provider fault."""
        try:
            yield
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ProviderError(f"{self.name} {path}: entries of an unexpected shape") from None
