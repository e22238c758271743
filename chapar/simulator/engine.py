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
- ``date`` (scheduled sending) and ``type`` are accepted and ignored: everything goes at once.
- ``sms/send`` (one text, comma-separated ``receptor`` and ``localid``) and ``sms/sendarray``
  (JSON arrays) share one acceptance path: the same validation, faults, credit and outbox.
- Inbox: replies arrive by ``POST /_simulator/inbox`` (:meth:`Simulator.inject`) or are
  generated: a share ``reply_rate`` (default 1 %) of the numbers — chosen by a hash of the
  number, so always the same ones — answer each message delivered to them, ``reply_delay_s``
  after it was accepted, with a text also chosen by the number ("11", "۱۱", "لغو ۱۱", "stop",
  "12", "ممنون", …; :data:`REPLY_TEXTS`). They are made lazily when the inbox is read, so
  sending costs nothing more. ``sms/receive`` with ``isread=0`` returns up to 100 unread
  replies to ``linenumber``, oldest first, and marks them read: a repeated read returns
  nothing new (``isread=1`` reads the already-read ones again). A reply's ``messageid`` never
  changes, so a consumer can de-duplicate on it.
"""

from __future__ import annotations

import dataclasses
import heapq
import json
import random
import re
import time
import zlib
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
FINAL = -1  # internal: "the number's own outcome"
UNKNOWN_ID = 100
BLOCKED = 14
MAX_SEND = 200
MAX_STATUS = 500
_NORMAL_LIST = re.compile(r"989\d{9}(?:,989\d{9})*")
_NUMBER = re.compile(r"(?:\+98|0098|98|0)?(9\d{9})")
_SENDER = re.compile(r"\+?\d{3,20}")
SEND_METHODS = frozenset({"sms/send.json", "sms/sendarray.json"})
MAX_RECEIVE = 100
FIRST_REPLY_ID = 900_000_001
#: what generated replies say (opt-out, opt-in, and the replies that are neither), picked
#: by a hash of the replying number
REPLY_TEXTS = (
    "11",
    "۱۱",
    "١١",
    "لغو",
    "لغو ۱۱",
    "لغو11",
    "لغو\u200c۱۱",
    "stop",
    "STOP",
    "12",
    "۱۲",
    "ممنون",
    "سلام، قیمتش چنده؟",
    "خاموش",
)

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
    "reply_rate",
    "reply_delay_s",
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
    #: share of numbers that reply to each message delivered to them (by a hash of the number)
    reply_rate: float = 0.01
    #: seconds from a message's acceptance to its generated reply
    reply_delay_s: float = 3.0

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
        if not 0.0 <= self.reply_rate <= 1.0:
            raise ValueError(f"reply_rate must be between 0 and 1, got {self.reply_rate}")
        if self.reply_delay_s < 0:
            raise ValueError("reply_delay_s must not be negative")

    def faults(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FAULT_NAMES}


def normalise(number: str) -> str | None:
    """``989xxxxxxxxx`` for every usual form of an Iranian mobile, None if not one. The
    provider's own reading, kept apart from :mod:`chapar.numbers` on purpose (see pages.py)."""
    if len(number) == 12 and number.startswith("989") and number.isdigit():
        return number  # the form Chapar sends: skip the regex
    match = _NUMBER.fullmatch(number.strip())
    return "98" + match.group(1) if match else None


#: final status by ``crc32(number) % 100``: 85 delivered, 8 undelivered, 4 blocked, 3 failed
_OUTCOMES = (10,) * 85 + (11,) * 8 + (BLOCKED,) * 4 + (6,) * 3


def outcome_for(number: str) -> int:
    """The final Kavenegar status of any message to ``number`` (normalised form)."""
    return _OUTCOMES[zlib.crc32(number.encode()) % 100]


class ApiError(Exception):
    """A Kavenegar error answer: the HTTP status equals ``return.status``."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass(slots=True)
class Batch:
    """The new messages of one accepted request, as parallel lists: message ``first_id + i``
    is position ``i``. Storing requests rather than messages keeps acceptance to a few
    C-level bulk operations (the hot path) and lookups to one bisect."""

    first_id: int
    numbers: list[str]
    receptors: list[str]
    senders: list[str]
    texts: list[str]
    costs: list[int]
    local_ids: list[str | None]
    accepted_at: float
    date: int


@dataclass(slots=True)
class Inbound:
    """A reply in the inbox: from ``sender`` (a mobile, 98…) to our line ``receptor``."""

    message_id: int
    sender: str
    receptor: str
    text: str
    #: Unix time it was received, as ``sms/receive`` reports it
    date: int
    read: bool = False

    def entry(self) -> dict[str, Any]:
        """As ``sms/receive`` writes it; the sender in the national form (0912…)."""
        return {
            "messageid": self.message_id,
            "message": self.text,
            "sender": "0" + self.sender[2:],
            "receptor": self.receptor,
            "date": self.date,
        }


def replies_to(number: str, rate: float) -> bool:
    """Whether ``number`` (normalised) answers the messages delivered to it: the same
    numbers for the same rate, independent of the outcome hash."""
    return zlib.crc32(b"reply:" + number.encode()) % 10_000 < round(rate * 10_000)


def reply_text(number: str) -> str:
    return REPLY_TEXTS[zlib.crc32(b"text:" + number.encode()) % len(REPLY_TEXTS)]


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes
    action: Action = "answer"


def envelope(status: int, entries: Any = None) -> bytes:
    return envelope_raw(status, _dumps(entries))


def envelope_raw(status: int, entries_json: str) -> bytes:
    """The envelope around entries already serialised (the hot paths build them as text)."""
    ret = _dumps({"status": status, "message": RETURN_TEXT.get(status, "")})
    return f'{{"return":{ret},"entries":{entries_json}}}'.encode()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_STATUS_JSON = {code: _dumps(text) for code, text in STATUS_TEXT.items()}


def _entry_template(text: str, sender: str, code: int, date: int, cost: int) -> str:
    """A send entry as Kavenegar writes it, with ``%d`` (message id) and ``%s`` (receptor)
    left open. Receptor and sender are validated digits, so they need no JSON escaping."""
    text_json = _dumps(text).replace("%", "%%")
    return (
        f'{{"messageid":%d,"message":{text_json},"status":{code},'
        f'"statustext":{_STATUS_JSON[code]},"sender":"{sender}","receptor":"%s",'
        f'"date":{date},"cost":{cost}}}'
    )


#: A string as JSON writes it with ``ensure_ascii=False`` (what :func:`_dumps` gives for a
#: ``str``), in C: thousands of distinct texts a second are escaped one call each.
_json_string: Callable[[str], str] = json.encoder.encode_basestring


def _entry_open(sender: str, code: int, date: int) -> str:
    """:func:`_entry_template` with the text and cost left open too (``%s``, ``%d``): one
    template per status serves a batch whose messages each carry their own text."""
    return (
        f'{{"messageid":%d,"message":%s,"status":{code},'
        f'"statustext":{_STATUS_JSON[code]},"sender":"{sender}","receptor":"%s",'
        f'"date":{date},"cost":%d}}'
    )


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
        return list(map(str, items))
    return value.replace(" ", "").split(",") if value else []


_recent_arrays: dict[str, list[str]] = {}


def _json_array(value: str | None, repeated: bool = False) -> list[str]:
    """A JSON array of strings. ``repeated`` fields (a campaign's one text and line, sent
    in every request) are parsed once per distinct value; the list returned is then shared,
    so callers treat it as read-only."""
    if value is None:
        raise ApiError(400)
    if repeated and len(value) >= 1024:
        cached = _recent_arrays.get(value)
        if cached is not None:
            return cached
    try:
        items = json.loads(value)
    except ValueError:
        raise ApiError(400) from None
    if not isinstance(items, list):
        raise ApiError(400)
    if not all(map(str.__instancecheck__, items)):
        items = list(map(str, items))
    if repeated and len(value) >= 1024:
        if len(_recent_arrays) >= 32:
            _recent_arrays.clear()
        _recent_arrays[value] = items
    return items


def _local_ids(params: Mapping[str, str]) -> list[str] | None:
    """Local ids under any of the SDKs' names; the comma list first (cheapest to read)."""
    for name in ("localmessageids", "localid", "localmessageid"):
        value = params.get(name)
        if value:
            return _id_list(value)
    return None


FIRST_ID = 700_000_001


class Simulator:
    """The provider's state. Single-threaded by design: the server calls it from one loop."""

    def __init__(self, config: SimulatorConfig, clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.credit = config.credit
        self._clock = clock
        self._rng = random.Random(config.seed)
        self._budget = config.credit_stop_after
        self._next_id = FIRST_ID
        self._batches: list[Batch] = []
        self._firsts: list[int] = []  # first_id of each batch, for bisect
        self._by_local: dict[str, int] = {}  # local id -> message id
        self._submitted: list[list[str]] = []  # the numbers of every accepted request
        self._refunds: list[tuple[float, int]] = []
        self.total_accepted = 0
        self.total_submissions = 0
        self.requests: dict[str, int] = {}
        self.faults_injected: dict[str, int] = {"error": 0, "timeout": 0, "drop": 0}
        self._started = time.time()
        self._inbox: list[Inbound] = []
        self._next_reply_id = FIRST_REPLY_ID
        self._replies_scanned = 0  # batches already looked at for generated replies

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
        """Forget the outbox (messages, local ids, counts) and the request statistics;
        credit and faults stay. Message ids keep counting, so an id from before the reset
        never names a new message."""
        self.requests.clear()
        self.faults_injected = dict.fromkeys(self.faults_injected, 0)
        self._batches.clear()
        self._firsts.clear()
        self._by_local.clear()
        self._submitted.clear()
        self._refunds.clear()
        self.total_accepted = self.total_submissions = 0
        self._inbox.clear()
        self._replies_scanned = 0

    def outbox(self, number: str | None = None) -> dict[str, Any]:
        """What each number received, counted here rather than on the hot path."""
        wanted = None if number is None else (normalise(number) or number)
        submissions: Counter[str] = Counter()
        for numbers in self._submitted:
            submissions.update(numbers)
        accepted: Counter[str] = Counter()
        for batch in self._batches:
            accepted.update(batch.numbers)
        local_ids: dict[str, list[str]] = {}
        for lid, message_id in self._by_local.items():
            found = self._find(message_id)
            if found is not None:
                local_ids.setdefault(found[0].numbers[found[1]], []).append(lid)
        receptors = list(submissions) if wanted is None else [wanted] * (wanted in submissions)
        return {
            "receptors": {
                n: {
                    "accepted": accepted[n],
                    "submissions": submissions[n],
                    "local_ids": local_ids.get(n, []),
                }
                for n in receptors
            },
            "total_accepted": self.total_accepted,
            "total_submissions": self.total_submissions,
        }

    def state(self) -> dict[str, Any]:
        self._settle()
        return {
            "credit": self.credit,
            "faults": self.config.faults(),
            "credit_stop_remaining": self._budget,
            "total_accepted": self.total_accepted,
            "total_submissions": self.total_submissions,
            "requests": dict(self.requests),
            "faults_injected": dict(self.faults_injected),
            "cpu_s": time.process_time(),
            "uptime_s": round(time.time() - self._started, 3),
            "inbox": {"replies": len(self._inbox), "unread": sum(not r.read for r in self._inbox)},
        }

    # --- the inbox -----------------------------------------------------------------------

    def check_reply(self, sender: Any, text: Any, receptor: Any = None) -> tuple[str, str]:
        """The normalised sender and the line of a reply to inject; ValueError if it is not
        one."""
        number = normalise(str(sender))
        if number is None:
            raise ValueError(f"sender {sender!r} is not a mobile number")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("text must be a non-empty string")
        line = str(receptor).strip() if receptor not in (None, "") else self._last_line(number)
        if not _SENDER.fullmatch(line):
            raise ValueError(f"receptor {receptor!r} is not a line number")
        return number, line

    def inject(self, sender: Any, text: str, receptor: Any = None) -> dict[str, Any]:
        """A reply from ``sender`` to ``receptor`` (default: the line that last messaged
        ``sender``, else the account's line), received now."""
        number, line = self.check_reply(sender, text, receptor)
        self._generate_replies()  # keep the inbox in arrival order
        reply = Inbound(self._next_reply_id, number, line, text, int(time.time()))
        self._next_reply_id += 1
        self._inbox.append(reply)
        return {**reply.entry(), "read": reply.read}

    def inbox(self) -> list[dict[str, Any]]:
        """Every reply so far, read or not (for tests and the curious)."""
        self._generate_replies()
        return [{**r.entry(), "read": r.read} for r in self._inbox]

    def _last_line(self, number: str) -> str:
        for batch in reversed(self._batches):
            if number in batch.numbers:
                return batch.senders[batch.numbers.index(number)]
        return self.config.default_sender

    def _generate_replies(self) -> None:
        """Materialise the generated replies whose time has come, batch by batch in
        acceptance order (the clock only moves forward, so the first batch not yet due ends
        the scan). Each reply gets its id once, here, and keeps it."""
        cfg, now, batches = self.config, self._clock(), self._batches
        while self._replies_scanned < len(batches):
            batch = batches[self._replies_scanned]
            if cfg.reply_rate > 0:
                if now - batch.accepted_at < cfg.reply_delay_s:
                    return
                date = batch.date + round(cfg.reply_delay_s)
                for number, sender in zip(batch.numbers, batch.senders, strict=True):
                    if replies_to(number, cfg.reply_rate) and outcome_for(number) == 10:
                        self._inbox.append(
                            Inbound(self._next_reply_id, number, sender, reply_text(number), date)
                        )
                        self._next_reply_id += 1
            self._replies_scanned += 1

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

    def _reply(self, entries_json: str, fault: str | None) -> Reply:
        """The fault decides what happens to an answer already decided (and accepted)."""
        action: Action = (
            "timeout" if fault == "timeout" else "drop" if fault == "drop" else "answer"
        )
        return Reply(200, envelope_raw(200, entries_json), action)

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
        senders = _json_array(params.get("sender"), repeated=True)
        texts = _json_array(params.get("message"), repeated=True)
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
        """Validate, price, maybe fault, then accept all of it or nothing. The hot path:
        per message only comprehensions and one string format."""
        count = len(receptors)
        if count > MAX_SEND:
            raise ApiError(414)
        local_ids = _local_ids(params)
        if local_ids is not None and len(local_ids) != count:
            raise ApiError(419)
        if _NORMAL_LIST.fullmatch(",".join(receptors)):
            numbers = receptors  # all already 989xxxxxxxxx: one regex instead of 200 calls
        else:
            receptors = [r.strip() for r in receptors]
            checked = [normalise(r) for r in receptors]
            if None in checked:
                raise ApiError(411)
            numbers = checked  # type: ignore[assignment]
        if not all(_SENDER.fullmatch(sender) for sender in set(senders)):
            raise ApiError(412)
        cfg = self.config
        prices: dict[str, int] = {}
        for text in set(texts):
            encoding, pages = count_pages(text)
            if not 0 < pages <= cfg.max_pages:
                raise ApiError(413)
            prices[text] = pages * (cfg.price_gsm7 if encoding == GSM7 else cfg.price_ucs2)

        fault = self._draw() if faultable else None
        if fault == "error":
            return self._error_reply()

        # Which positions are new? A local id seen before (even earlier in this request) is not.
        by_local = self._by_local
        lids: list[str | None] = list(local_ids) if local_ids is not None else [None] * count
        if local_ids is None or (
            len(set(local_ids)) == count and by_local.keys().isdisjoint(local_ids)
        ):
            new = range(count)  # the usual case
        else:
            seen: set[str] = set()
            fresh = []
            for i, lid in enumerate(local_ids):
                if not lid or (lid not in by_local and lid not in seen):
                    fresh.append(i)
                seen.add(lid)
            new = fresh  # type: ignore[assignment]
        costs = (
            [prices[texts[i]] for i in new] if len(prices) > 1 else [prices[texts[0]]] * len(new)
        )
        if sum(costs) > self.credit_now() or (
            self._budget is not None and len(costs) > self._budget
        ):
            return Reply(418, envelope(418))

        now, date, first = self._clock(), int(time.time()), self._next_id
        if len(costs) == count:
            batch = Batch(first, numbers, receptors, senders, texts, costs, lids, now, date)
        else:
            batch = Batch(
                first,
                [numbers[i] for i in new],
                [receptors[i] for i in new],
                [senders[i] for i in new],
                [texts[i] for i in new],
                costs,
                [lids[i] for i in new],
                now,
                date,
            )
        ids_of_new = range(first, first + len(costs))
        self._next_id += len(costs)
        if costs:
            self._batches.append(batch)
            self._firsts.append(first)
        if local_ids is not None:
            by_local.update(
                (lid, mid) for lid, mid in zip(batch.local_ids, ids_of_new, strict=True) if lid
            )
        self._submitted.append(numbers)
        self.total_accepted += len(costs)
        self.total_submissions += count
        self.credit -= sum(costs)
        if self._budget is not None:
            self._budget -= len(costs)
        outcomes = [_OUTCOMES[zlib.crc32(n.encode()) % 100] for n in batch.numbers]
        blocked = sum([c for o, c in zip(outcomes, costs, strict=True) if o == BLOCKED])
        if blocked:
            heapq.heappush(self._refunds, (now + cfg.delivery_delay_s, blocked))

        if len(costs) == count:  # all new: entries straight from the batch
            entries = self._batch_entries(batch, now)
        else:
            by_pos = dict(zip(new, ids_of_new, strict=True))

            def message_id(i: int) -> int:
                lid = lids[i]
                return by_pos[i] if i in by_pos or not lid else by_local[lid]

            entries = ",".join(
                self._entry(*self._located(message_id(i)), now) for i in range(count)
            )
        return self._reply(f"[{entries}]", fault)

    def _batch_entries(self, batch: Batch, now: float) -> str:
        """All of a fresh batch's send entries, comma-joined. A campaign's batch (one text,
        one line) needs one template per status; anything else one per message."""
        size = len(batch.numbers)
        if len(set(batch.senders)) > 1:
            return ",".join(self._entry(batch, i, now) for i in range(size))
        code = self._code(batch, now)
        codes = [code] * size if code != FINAL else list(map(outcome_for, batch.numbers))
        ids = range(batch.first_id, batch.first_id + size)
        if len(set(batch.texts)) > 1:  # a text each (personalised): one format a message
            opened = {c: _entry_open(batch.senders[0], c, batch.date) for c in set(codes)}
            return ",".join(
                [
                    opened[c] % (mid, text_json, receptor, cost)
                    for c, mid, text_json, receptor, cost in zip(
                        codes,
                        ids,
                        map(_json_string, batch.texts),
                        batch.receptors,
                        batch.costs,
                        strict=True,
                    )
                ]
            )
        templates = {
            c: _entry_template(batch.texts[0], batch.senders[0], c, batch.date, batch.costs[0])
            for c in set(codes)
        }
        return ",".join(
            [
                templates[c] % (mid, receptor)
                for c, mid, receptor in zip(codes, ids, batch.receptors, strict=True)
            ]
        )

    def _entry(self, batch: Batch, i: int, now: float) -> str:
        code = self._code(batch, now)
        if code == FINAL:
            code = outcome_for(batch.numbers[i])
        template = _entry_template(
            batch.texts[i], batch.senders[i], code, batch.date, batch.costs[i]
        )
        return template % (batch.first_id + i, batch.receptors[i])

    def _code(self, batch: Batch, now: float) -> int:
        """4 (sent to telecom) until the delivery delay has passed, then FINAL: the caller
        reads each number's own outcome."""
        if now - batch.accepted_at >= self.config.delivery_delay_s:
            return FINAL
        return SENT_TO_TELECOM

    def _located(self, message_id: int) -> tuple[Batch, int]:
        found = self._find(message_id)
        assert found is not None, message_id
        return found

    def _find(self, message_id: int) -> tuple[Batch, int] | None:
        at = bisect_right(self._firsts, message_id) - 1
        if at < 0:
            return None
        batch = self._batches[at]
        i = message_id - batch.first_id
        return (batch, i) if i < len(batch.numbers) else None

    def _status_of(self, message_id: int, now: float) -> int:
        found = self._find(message_id)
        if found is None:
            return UNKNOWN_ID
        batch, i = found
        code = self._code(batch, now)
        return outcome_for(batch.numbers[i]) if code == FINAL else code

    def credit_now(self) -> int:
        """The credit after refunding blocked messages whose delivery time has come."""
        self._settle()
        return self.credit

    def _settle(self) -> None:
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
        now, parts = self._clock(), []
        for raw in ids:
            known = raw.isdigit()
            code = self._status_of(int(raw), now) if known else UNKNOWN_ID
            ident = raw if known else _dumps(raw)
            parts.append(
                f'{{"messageid":{ident},"status":{code},"statustext":{_STATUS_JSON[code]}}}'
            )
        return self._reply(f"[{','.join(parts)}]", fault)

    def _status_local(self, params: Mapping[str, str], faultable: bool) -> Reply:
        ids = _local_ids(params)
        if not ids:
            raise ApiError(400)
        if len(ids) > MAX_STATUS:
            raise ApiError(414)
        fault = self._draw() if faultable else None
        if fault == "error":
            return self._error_reply()
        now, parts = self._clock(), []
        for lid in ids:
            message_id = self._by_local.get(lid, 0)
            code = self._status_of(message_id, now) if message_id else UNKNOWN_ID
            parts.append(
                f'{{"messageid":{message_id},"localid":{_dumps(lid)},'
                f'"status":{code},"statustext":{_STATUS_JSON[code]}}}'
            )
        return self._reply(f"[{','.join(parts)}]", fault)

    def _receive(self, params: Mapping[str, str], faultable: bool) -> Reply:
        """``sms/receive``: up to 100 replies to ``linenumber``, oldest first; ``isread=0``
        (the default) reads unread ones and marks them read, ``isread=1`` the read ones."""
        line = params.get("linenumber", "").strip()
        if not line:
            raise ApiError(400)
        if not _SENDER.fullmatch(line):
            raise ApiError(412)
        want_read = params.get("isread", "0").strip() == "1"
        fault = self._draw() if faultable else None
        if fault == "error":
            return self._error_reply()
        self._generate_replies()
        page = [r for r in self._inbox if r.receptor == line and r.read == want_read]
        page = page[:MAX_RECEIVE]
        for reply in page:
            reply.read = True  # even if the answer is then lost: read-once, as providers are
        return self._reply(_dumps([r.entry() for r in page]), fault)

    def _info(self, params: Mapping[str, str], faultable: bool) -> Reply:
        fault = self._draw() if faultable else None
        if fault == "error":
            return self._error_reply()
        expires = int(time.time()) + 365 * 86_400
        info = {"remaincredit": self.credit_now(), "expiredate": expires, "type": "master"}
        return self._reply(_dumps(info), fault)

    _handlers: ClassVar[dict[str, Callable[[Simulator, Mapping[str, str], bool], Reply]]] = {
        "sms/send.json": _send,
        "sms/sendarray.json": _sendarray,
        "sms/status.json": _status,
        "sms/statuslocalmessageid.json": _status_local,
        "sms/receive.json": _receive,
        "account/info.json": _info,
    }
