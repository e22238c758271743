"""The SMS.ir adapter against scripted answers (httpx.MockTransport), per PROVIDERS.md."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from chapar.providers import (
    AuthError,
    InsufficientCredit,
    MessageStatus,
    OutgoingMessage,
    ProviderError,
    ReconcileUnsupported,
    RejectedInput,
    SmsIrProvider,
    TransientError,
    UnknownOutcome,
)

KEY = "smsir-SECRET-key-42"
BASE = "https://api.sms.ir/v1"
Handler = Callable[[httpx.Request], httpx.Response]


def ok(data: Any) -> httpx.Response:
    return httpx.Response(200, json={"status": 1, "message": "موفق", "data": data})


def refused(status: int, http: int = 400) -> httpx.Response:
    return httpx.Response(http, json={"status": status, "message": "خطا", "data": None})


def call(handler: Handler, work: Callable[[SmsIrProvider], Any], **kwargs: Any) -> Any:
    async def main() -> Any:
        provider = SmsIrProvider(BASE, KEY, transport=httpx.MockTransport(handler), **kwargs)
        try:
            return await work(provider)
        finally:
            await provider.aclose()

    return asyncio.run(main())


def messages(n: int = 3, text: str = "سلام", sender: str = "30007732") -> list[OutgoingMessage]:
    return [OutgoingMessage(100 + i, f"9891200000{i:02d}", sender, text) for i in range(n)]


def test_one_text_goes_by_send_bulk_and_ids_come_back_in_order():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok({"packId": "p-1", "messageIds": [71, 72, 73], "cost": 3.0})

    sent = messages()
    results = call(handler, lambda p: p.send(sent))
    (request,) = seen
    assert request.method == "POST" and request.url.path == "/v1/send/bulk"
    assert request.headers["x-api-key"] == KEY
    assert json.loads(request.content) == {
        "lineNumber": 30007732,
        "messageText": "سلام",
        "mobiles": [m.receptor for m in sent],
        "sendDateTime": None,
    }
    assert [(r.local_id, r.message_id, r.status, r.cost) for r in results] == [
        (100, "71", MessageStatus.SENT, None),
        (101, "72", MessageStatus.SENT, None),
        (102, "73", MessageStatus.SENT, None),
    ]


def test_different_texts_go_by_like_to_like():
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/send/likeToLike"
        seen.append(json.loads(request.content))
        return ok({"packId": "p-2", "messageIds": [1, 2], "cost": 2})

    sent = [
        OutgoingMessage(1, "989120000001", "3000", "a"),
        OutgoingMessage(2, "989120000002", "3000", "b"),
    ]
    call(handler, lambda p: p.send(sent))
    assert seen[0]["messageTexts"] == ["a", "b"]
    assert seen[0]["mobiles"] == ["989120000001", "989120000002"]


def test_a_send_with_two_lines_or_over_100_numbers_is_refused_before_any_request():
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    two_lines = messages(1, sender="3000") + messages(1, sender="4000")
    for batch in (two_lines, messages(101), messages(1, sender="SHOP")):
        with pytest.raises(RejectedInput):
            call(handler, lambda p, b=batch: p.send(b))


def test_fewer_message_ids_than_numbers_is_an_unknown_outcome():
    with pytest.raises(UnknownOutcome):
        call(
            lambda r: ok({"packId": "p", "messageIds": [1], "cost": 1}),
            lambda p: p.send(messages()),
        )


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (1, MessageStatus.DELIVERED),
        (2, MessageStatus.UNDELIVERED),
        (3, MessageStatus.SENT),
        (4, MessageStatus.FAILED),
        (5, MessageStatus.SENT),
        (6, MessageStatus.FAILED),
        (7, MessageStatus.BLACKLISTED),
        (None, MessageStatus.SENT),
    ],
)
def test_each_delivery_state_maps_to_a_chapar_status(state: int | None, status: MessageStatus):
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "GET" and request.url.path == "/v1/send/55"
        return ok({"messageId": 55, "mobile": "9120000000", "deliveryState": state})

    (report,) = call(handler, lambda p: p.status(["55"]))
    assert (report.message_id, report.status) == ("55", status)


def test_status_asks_each_id_a_few_at_a_time_and_an_unknown_id_reads_as_unknown():
    in_flight, peak = 0, 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        message_id = int(request.url.path.rsplit("/", 1)[1])
        if message_id == 13:
            return refused(111)
        return ok({"messageId": message_id, "deliveryState": 1})

    ids = [str(i) for i in range(1, 21)]
    reports = call(slow, lambda p: p.status(ids), concurrency=4)  # type: ignore[arg-type]
    assert [r.message_id for r in reports] == ids
    assert reports[12].status is MessageStatus.UNKNOWN
    assert {r.status for r in reports[:12]} == {MessageStatus.DELIVERED}
    assert peak <= 4


def test_a_pack_is_read_message_by_message():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/send/pack/p-9"
        return ok([{"messageId": 1, "deliveryState": 1}, {"messageId": 2, "deliveryState": 7}])

    reports = call(handler, lambda p: p.pack_status("p-9"))
    assert [(r.message_id, r.status) for r in reports] == [
        ("1", MessageStatus.DELIVERED),
        ("2", MessageStatus.BLACKLISTED),
    ]


def test_reconciling_by_local_ids_is_unsupported_and_says_why():
    with pytest.raises(ReconcileUnsupported, match="never by resending"):
        call(lambda r: ok(None), lambda p: p.status_by_local_ids([1, 2]))


def test_credit_is_read_as_a_number():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/credit"
        return ok(1234.0)

    assert call(handler, lambda p: p.credit()) == 1234


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (refused(102), InsufficientCredit),
        (refused(104), RejectedInput),
        (refused(101), RejectedInput),
        (refused(105), RejectedInput),
        (refused(11), AuthError),
        (refused(20), TransientError),
        (refused(0), UnknownOutcome),
        (refused(999), ProviderError),
        (httpx.Response(401, text=""), AuthError),
        (httpx.Response(429, text=""), TransientError),
        (httpx.Response(500, text="oops"), UnknownOutcome),
        (httpx.Response(200, text="not json"), UnknownOutcome),
        (refused(102, http=200), InsufficientCredit),
    ],
)
def test_each_error_answer_maps_to_its_meaning(response: httpx.Response, error: type):
    with pytest.raises(error) as caught:
        call(lambda r: response, lambda p: p.send(messages()))
    assert type(caught.value) is error
    assert KEY not in str(caught.value)


def test_a_timeout_is_an_unknown_outcome_and_never_shows_the_key():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout(f"no answer {request.headers['x-api-key']}", request=request)

    with pytest.raises(UnknownOutcome) as caught:
        call(handler, lambda p: p.send(messages()))
    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value)


def test_a_failed_connection_is_a_transient_error():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(TransientError):
        call(handler, lambda p: p.send(messages()))


# --- columns, reconciling, replies -------------------------------------------------------------


def test_send_columns_with_one_text_goes_by_bulk_and_with_a_text_each_by_like_to_like():
    seen: list[tuple[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, json.loads(request.content)))
        return ok({"packId": "p", "messageIds": [7, 8], "cost": 2.0})

    mobiles = ["989120000001", "989120000002"]
    one = call(handler, lambda p: p.send_columns([1, 2], mobiles, "30007732", "سلام"))
    each = call(handler, lambda p: p.send_columns([1, 2], mobiles, "30007732", ["علی", "مریم"]))
    assert seen[0] == (
        "/v1/send/bulk",
        {"lineNumber": 30007732, "messageText": "سلام", "mobiles": mobiles, "sendDateTime": None},
    )
    assert seen[1][0] == "/v1/send/likeToLike"
    assert seen[1][1]["messageTexts"] == ["علی", "مریم"]
    assert [(r.local_id, r.receptor, r.message_id) for r in one] == [
        (1, mobiles[0], "7"),
        (2, mobiles[1], "8"),
    ]
    assert [r.message_id for r in each] == ["7", "8"]


def test_send_columns_refuses_what_does_not_line_up_before_any_request():
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    with pytest.raises(RejectedInput):
        call(handler, lambda p: p.send_columns([1], ["989120000001"] * 2, "30007732", "x"))
    with pytest.raises(RejectedInput):
        call(handler, lambda p: p.send_columns([1, 2], ["989120000001"] * 2, "3000", ["x"]))
    with pytest.raises(RejectedInput) as caught:
        call(handler, lambda p: p.send_columns(list(range(101)), ["9"] * 101, "3000", "x"))
    assert caught.value.provider_code == 105


def test_smsir_says_it_cannot_reconcile_by_local_id():
    assert SmsIrProvider.reconciles_by_local_id is False
    error = ReconcileUnsupported("smsir: no local ids")
    assert error.provider_code is None


def test_receive_reads_the_latest_replies_of_every_line_page_after_page():
    pages = [100, 3]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        n, start = pages.pop(0), 1000 * (2 - len(pages))
        return ok(
            [
                {
                    "receiveReturnId": start + i,
                    "messageText": "لغو ۱۱",
                    "number": 30007732 if start + i != 1000 else 30009999,
                    "mobile": 9121234567,
                    "receivedDateTime": 1_767_225_600,
                }
                for i in range(n)
            ]
        )

    replies = call(handler, lambda p: p.receive("30007732"))
    assert [(r.method, r.url.path, r.url.params["count"]) for r in seen] == [
        ("GET", "/v1/receive/latest", "100")
    ] * 2
    assert len(replies) == 103
    first = replies[0]
    assert (first.message_id, first.sender, first.receptor, first.text) == (
        "1000",
        "989121234567",
        "30009999",  # another line's reply is kept, with its line: SMS.ir reads once
        "لغو ۱۱",
    )
    assert first.received_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert {r.receptor for r in replies[1:]} == {"30007732"}


def test_no_replies_and_replies_of_an_unexpected_shape():
    assert call(lambda r: ok([]), lambda p: p.receive("30007732")) == []
    assert call(lambda r: ok(None), lambda p: p.receive("30007732")) == []
    with pytest.raises(ProviderError, match="unexpected shape"):
        call(lambda r: ok([{"messageText": "x"}]), lambda p: p.receive("30007732"))


def test_an_error_reason_never_shows_the_key():
    with pytest.raises(ProviderError) as caught:
        call(lambda r: refused(101), lambda p: p.send(messages()))
    error = caught.value
    assert error.code == "provider_refused" and error.provider_code == 101
    for text in (str(error), error.text("en"), error.text("fa"), str(error.reason.details)):
        assert KEY not in text
