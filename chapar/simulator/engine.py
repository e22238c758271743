"""The simulated provider's account, outbox and fault dice — no I/O, so it is fast and
testable on its own. :mod:`chapar.simulator.server` puts it behind HTTP.

Semantics worth knowing (tests rely on them):

- Outcomes are a pure function of the number (:func:`outcome_for`), independent of the seed:
  ≈85 % delivered (10), ≈8 % undelivered (11), ≈4 % blocked (14), ≈3 % failed (6). Every
  message reads 4 (sent to telecom) until ``delivery_delay_s`` has passed, then its outcome.
  Blocked messages are refunded when they turn final.
- A request is all or nothing: 418 when its new messages cost more than the credit, or are
  more than ``credit_stop_after`` still allows (that fault is a budget of messages).
- A local id seen before returns the existing entry and charges nothing, but the outbox
  counts the submission: ``accepted`` = unique messages, ``submissions`` = times a number was
  carried by an accepted request. Exactly-once means both equal 1.
- Faults are drawn from a seeded RNG once per faultable request: ``error`` answers
  ``error_status`` without accepting; ``timeout`` accepts and never answers; ``drop``
  accepts and closes the connection. ``fault_scope`` "send" (default) limits faults to the
  send methods, so reconciliation calls see a healthy provider; "all" faults every call.
"""

from __future__ import annotations

import dataclasses
import heapq
import json
import random
import re
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from chapar.simulator.pages import GSM7, count_pages

#: what the server does after answering (or instead of answering)
Action = Literal["answer", "timeout", "drop"]

STATUS_TEXT: dict[int, str] = {
    1: "در صف ارسال",
    2: "زمان بندی شده",
    4: "ارسال شده به مخابرات",
    5: "ارسال شده به مخابرات",
    6: "خطا در ارسال پیام",
    10: "رسیده به گیرنده",
    11: "نرسیده به گیرنده",
    13: "لغو شده",
    14: "بلاک شده توسط گیرنده",
    100: "شناسه پیامک نامعتبر است",
}
RETURN_TEXT: dict[int, str] = {
    200: "تایید شد",
    400: "پارامترها ناقص هستند",
    403: "کد شناسائی API-Key معتبر نمی‌باشد",
    404: "متدی با این نام پیدا نشده است",
    405: "متد Get/Post اشتباه است",
    409: "سرور قادر به پاسخگوئی نیست بعدا تلاش کنید",
    411: "دریافت کننده نامعتبر است",
    412: "ارسال کننده نامعتبر است",
    413: "پیام خالی است و یا طول پیام بیش از حد مجاز می‌باشد",
    414: "حجم درخواست بیشتر از حد مجاز است",
    418: "اعتبار حساب شما کافی نیست",
    419: "طول آرایه متن و گیرنده و فرستنده هم اندازه نیست",
    500: "خطای داخلی سرور",
    502: "خطای دروازه",
    503: "سرویس در دسترس نیست",
}

SENT_TO_TELECOM = 4
UNKNOWN_ID = 100
BLOCKED = 14
MAX_SEND = 200
MAX_STATUS = 500
_NUMBER = re.compile(r"(?:\+98|0098|98|0)?(9\d{9})")
_SENDER = re.compile(r"\+?\d{3,20}")
SEND_METHODS = frozenset({"sms/send.json", "sms/sendarray.json"})

#: The names settable at run time (POST /_simulator/faults), as in the CLI flags.
FAULT_NAMES = (
    "latency_ms",
    "error_rate",
    "error_status",
    "timeout_rate",
    "drop_rate",
    "credit_stop_after",
    "delivery_delay_s",
    "fault_scope",
    "seed",
)


@dataclass
class SimulatorConfig:
    """Everything the simulator starts with; the fault fields can change while it runs."""

    host: str = "127.0.0.1"
    port: int = 8765
    credit: int = 10_000_000_000
    latency_ms: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    timeout_rate: float = 0.0
    drop_rate: float = 0.0
    credit_stop_after: int | None = None
    delivery_delay_s: float = 2.0
    seed: int = 0
    fault_scope: Literal["send", "all"] = "send"
    #: if set, only this key is accepted (403 otherwise); None accepts any key
    api_key: str | None = None
    price_ucs2: int = 1_180
    price_gsm7: int = 2_560
    max_pages: int = 4
    #: longest a "timeout" request is held before the connection is closed unanswered
    hold_s: float = 3600.0
    default_sender: str = "10008663"

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        for name in ("error_rate", "timeout_rate", "drop_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {rate}")
        if self.error_rate + self.timeout_rate + self.drop_rate > 1.0 + 1e-9:
            raise ValueError("error_rate + timeout_rate + drop_rate must not exceed 1")
        if not 400 <= self.error_status <= 599:
            raise ValueError(f"error_status must be an HTTP error code, got {self.error_status}")
        if self.fault_scope not in ("send", "all"):
            raise ValueError(f"fault_scope must be 'send' or 'all', got {self.fault_scope!r}")
        if self.latency_ms < 0 or self.delivery_delay_s < 0:
            raise ValueError("latency_ms and delivery_delay_s must not be negative")
        if self.credit_stop_after is not None and self.credit_stop_after < 0:
            raise ValueError("credit_stop_after must not be negative")

    def faults(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FAULT_NAMES}


def normalise(number: str) -> str | None:
    """``989xxxxxxxxx`` for every usual form of an Iranian mobile, None if not one."""
    match = _NUMBER.fullmatch(number.strip())
    return "98" + match.group(1) if match else None


def outcome_for(number: str) -> int:
    """The final Kavenegar status of any message to ``number`` (normalised form)."""
    bucket = zlib.crc32(number.encode()) % 100
    if bucket < 85:
        return 10
    if bucket < 93:
        return 11
    if bucket < 97:
        return BLOCKED
    return 6


class ApiError(Exception):
    """A Kavenegar error answer: the HTTP status equals ``return.status``."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass(slots=True)
class Message:
    message_id: int
    number: str
    receptor: str
    sender: str
    text: str
    local_id: str | None
    accepted_at: float
    date: int
    outcome: int
    cost: int


@dataclass(slots=True)
class Receptor:
    accepted: int = 0
    submissions: int = 0
    local_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes
    action: Action = "answer"


def envelope(status: int, entries: Any = None, message: str | None = None) -> bytes:
    body = {"return": {"status": status, "message": message or RETURN_TEXT.get(status, "")}}
    body["entries"] = entries
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _id_list(value: str) -> list[str]:
    """Ids as a JSON array or a comma list (the SDKs send both)."""
    value = value.strip()
    if value.startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            raise ApiError(400) from None
        if not isinstance(items, list):
            raise ApiError(400)
        return [str(i).strip() for i in items]
    return [i.strip() for i in value.split(",")] if value else []


def _json_array(value: str | None) -> list[str]:
    if value is None:
        raise ApiError(400)
    try:
        items = json.loads(value)
    except ValueError:
        raise ApiError(400) from None
    if not isinstance(items, list):
        raise ApiError(400)
    return [str(i) for i in items]


def _local_ids(params: Mapping[str, str]) -> list[str] | None:
    for name in ("localid", "localmessageids", "localmessageid"):
        value = params.get(name)
        if value:
            return _id_list(value)
    return None


class Simulator:
    """The provider's state. Single-threaded by design: the server calls it from one loop."""

    def __init__(self, config: SimulatorConfig, clock: Any = time.monotonic) -> None:
        self.config = config
        self.credit = config.credit
        self._clock = clock
        self._rng = random.Random(config.seed)
        self._budget = config.credit_stop_after
        self._next_id = 700_000_001
        self._messages: dict[int, Message] = {}
        self._by_local: dict[str, Message] = {}
        self._receptors: dict[str, Receptor] = {}
        self._refunds: list[tuple[float, int]] = []
        self.total_submissions = 0
        self.requests: dict[str, int] = {}
        self.faults_injected: dict[str, int] = {"error": 0, "timeout": 0, "drop": 0}
        self._started = time.time()

    # --- control (the /_simulator endpoints) ---------------------------------------------

    def set_faults(self, changes: Mapping[str, Any]) -> None:
        """Apply fault changes atomically; unknown names or bad values raise ValueError."""
        clean = {str(k).replace("-", "_"): v for k, v in changes.items()}
        unknown = sorted(set(clean) - set(FAULT_NAMES))
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(unknown)}")
        candidate = dataclasses.replace(self.config, **clean)  # runs check()
        self.config = candidate
        if "seed" in clean:
            self._rng = random.Random(candidate.seed)
        if "credit_stop_after" in clean:
            self._budget = candidate.credit_stop_after

    def set_credit(self, credit: int) -> None:
        if credit < 0:
            raise ValueError("credit must not be negative")
        self.credit = credit

    def reset(self) -> None:
        """Forget the outbox (messages, local ids, counts); credit and faults stay."""
        self._messages.clear()
        self._by_local.clear()
        self._receptors.clear()
        self._refunds.clear()
        self.total_submissions = 0

    def outbox(self, number: str | None = None) -> dict[str, Any]:
        receptors = self._receptors
        if number is not None:
            key = normalise(number) or number
            receptors = {key: receptors[key]} if key in receptors else {}
        return {
            "receptors": {
                n: {"accepted": r.accepted, "submissions": r.submissions, "local_ids": r.local_ids}
                for n, r in receptors.items()
            },
            "total_accepted": len(self._messages),
            "total_submissions": self.total_submissions,
        }

    def state(self) -> dict[str, Any]:
        self._settle()
        return {
            "credit": self.credit,
            "faults": self.config.faults(),
            "credit_stop_remaining": self._budget,
            "messages": len(self._messages),
            "total_accepted": len(self._messages),
            "total_submissions": self.total_submissions,
            "requests": dict(self.requests),
            "faults_injected": dict(self.faults_injected),
            "cpu_s": time.process_time(),
            "uptime_s": round(time.time() - self._started, 3),
        }

    # --- the Kavenegar API ---------------------------------------------------------------

    def api(self, key: str, method: str, params: Mapping[str, str]) -> Reply:
        """Answer ``/v1/{key}/{method}`` (method like ``sms/sendarray.json``)."""
        self.requests[method] = self.requests.get(method, 0) + 1
        try:
            if self.config.api_key is not None and key != self.config.api_key:
                raise ApiError(403)
            handler = self._handlers.get(method)
            if handler is None:
                raise ApiError(404)
            faultable = method in SEND_METHODS or self.config.fault_scope == "all"
            return handler(self, params, faultable)
        except ApiError as exc:
            return Reply(exc.status, envelope(exc.status))

    def _draw(self) -> str | None:
        c = self.config
        if not (c.error_rate or c.timeout_rate or c.drop_rate):
            return None
        r = self._rng.random()
        fault = None
        if r < c.error_rate:
            fault = "error"
        elif r < c.error_rate + c.timeout_rate:
            fault = "timeout"
        elif r < c.error_rate + c.timeout_rate + c.drop_rate:
            fault = "drop"
        if fault is not None:
            self.faults_injected[fault] += 1
        return fault

    def _error_reply(self) -> Reply:
        status = self.config.error_status
        return Reply(status, envelope(status))

    def _reply(self, entries: Any, fault: str | None) -> Reply:
        """The fault decides what happens to an answer already decided (and accepted)."""
        action: Action = (
            "timeout" if fault == "timeout" else "drop" if fault == "drop" else "answer"
        )
        return Reply(200, envelope(200, entries), action)

    def _send(self, params: Mapping[str, str], faultable: bool) -> Reply:
        receptors = [r for r in params.get("receptor", "").split(",") if r.strip()]
        if not receptors or "message" not in params:
            raise ApiError(400)
        count = len(receptors)
        sender = params.get("sender") or self.config.default_sender  # the account's line
        return self._accept(
            receptors, [sender] * count, [params["message"]] * count, params, faultable
        )

    def _sendarray(self, params: Mapping[str, str], faultable: bool) -> Reply:
        receptors = _json_array(params.get("receptor"))
        senders = _json_array(params.get("sender"))
        texts = _json_array(params.get("message"))
        if not receptors:
            raise ApiError(400)
        if not len(receptors) == len(senders) == len(texts):
            raise ApiError(419)
        return self._accept(receptors, senders, texts, params, faultable)

    def _accept(
        self,
        receptors: list[str],
        senders: list[str],
        texts: list[str],
        params: Mapping[str, str],
        faultable: bool,
    ) -> Reply:
        count = len(receptors)
        if count > MAX_SEND:
            raise ApiError(414)
        local_ids = _local_ids(params)
        if local_ids is not None and len(local_ids) != count:
            raise ApiError(419)
        numbers = [normalise(r) for r in receptors]
        if None in numbers:
            raise ApiError(411)
        cfg = self.config
        costs: dict[str, int] = {}
        for sender in set(senders):
            if not _SENDER.fullmatch(sender):
                raise ApiError(412)
        for text in set(texts):
            encoding, pages = count_pages(text)
            if not 0 < pages <= cfg.max_pages:
                raise ApiError(413)
            costs[text] = pages * (cfg.price_gsm7 if encoding == GSM7 else cfg.price_ucs2)

        fault = self._draw() if faultable else None
        if fault == "error":
            return self._error_reply()

        # Which messages are new? (a local id seen before, even earlier in this request, is not)
        by_local = self._by_local
        fresh: list[bool] = []
        seen: set[str] = set()
        new_cost = 0
        for i in range(count):
            lid = local_ids[i] if local_ids is not None else None
            is_new = not lid or (lid not in by_local and lid not in seen)
            if lid:
                seen.add(lid)
            fresh.append(is_new)
            if is_new:
                new_cost += costs[texts[i]]
        new_count = sum(fresh)
        self._settle()
        if new_cost > self.credit or (self._budget is not None and new_count > self._budget):
            return Reply(418, envelope(418))

        now, date = self._clock(), int(time.time())
        entries = []
        refund = 0
        for i in range(count):
            lid = local_ids[i] if local_ids is not None else None
            number = numbers[i]
            assert number is not None
            if fresh[i]:
                text = texts[i]
                msg = Message(
                    self._next_id,
                    number,
                    receptors[i],
                    senders[i],
                    text,
                    lid or None,
                    now,
                    date,
                    outcome_for(number),
                    costs[text],
                )
                self._next_id += 1
                self._messages[msg.message_id] = msg
                if lid:
                    by_local[lid] = msg
                if msg.outcome == BLOCKED:
                    refund += msg.cost
            else:
                msg = by_local[lid]  # type: ignore[index]
            rec = self._receptors.get(number)
            if rec is None:
                rec = self._receptors[number] = Receptor()
            rec.submissions += 1
            if fresh[i]:
                rec.accepted += 1
                if lid:
                    rec.local_ids.append(lid)
            entries.append(self._send_entry(msg, now))
        self.total_submissions += count
        self.credit -= new_cost
        if self._budget is not None:
            self._budget -= new_count
        if refund:
            heapq.heappush(self._refunds, (now + self.config.delivery_delay_s, refund))
        return self._reply(entries, fault)

    def _code(self, msg: Message, now: float) -> int:
        if now - msg.accepted_at >= self.config.delivery_delay_s:
            return msg.outcome
        return SENT_TO_TELECOM

    def _send_entry(self, msg: Message, now: float) -> dict[str, Any]:
        code = self._code(msg, now)
        return {
            "messageid": msg.message_id,
            "message": msg.text,
            "status": code,
            "statustext": STATUS_TEXT[code],
            "sender": msg.sender,
            "receptor": msg.receptor,
            "date": msg.date,
            "cost": msg.cost,
        }

    def _settle(self) -> None:
        """Refund blocked messages whose delivery time has come."""
        refunds, now = self._refunds, self._clock()
        while refunds and refunds[0][0] <= now:
            self.credit += heapq.heappop(refunds)[1]

    def _status(self, params: Mapping[str, str], faultable: bool) -> Reply:
        ids = _id_list(params.get("messageid", ""))
        if not ids:
            raise ApiError(400)
        if len(ids) > MAX_STATUS:
            raise ApiError(414)
        fault = self._draw() if faultable else None
        if fault == "error":
            return self._error_reply()
        now, entries = self._clock(), []
        for raw in ids:
            msg = self._messages.get(int(raw)) if raw.isdigit() else None
            code = self._code(msg, now) if msg else UNKNOWN_ID
            entries.append(
                {
                    "messageid": int(raw) if raw.isdigit() else raw,
                    "status": code,
                    "statustext": STATUS_TEXT[code],
                }
            )
        return self._reply(entries, fault)

    def _status_local(self, params: Mapping[str, str], faultable: bool) -> Reply:
        ids = _local_ids(params)
        if not ids:
            raise ApiError(400)
        if len(ids) > MAX_STATUS:
            raise ApiError(414)
        fault = self._draw() if faultable else None
        if fault == "error":
            return self._error_reply()
        now, entries = self._clock(), []
        for lid in ids:
            msg = self._by_local.get(lid)
            code = self._code(msg, now) if msg else UNKNOWN_ID
            entries.append(
                {
                    "messageid": msg.message_id if msg else 0,
                    "localid": lid,
                    "status": code,
                    "statustext": STATUS_TEXT[code],
                }
            )
        return self._reply(entries, fault)

    def _info(self, params: Mapping[str, str], faultable: bool) -> Reply:
        fault = self._draw() if faultable else None
        if fault == "error":
            return self._error_reply()
        self._settle()
        expires = int(time.time()) + 365 * 86_400
        return self._reply(
            {"remaincredit": self.credit, "expiredate": expires, "type": "master"}, fault
        )

    _handlers: ClassVar[dict[str, Callable[[Simulator, Mapping[str, str], bool], Reply]]] = {
        "sms/send.json": _send,
        "sms/sendarray.json": _sendarray,
        "sms/status.json": _status,
        "sms/statuslocalmessageid.json": _status_local,
        "account/info.json": _info,
    }
