"""The Kavenegar adapter's wire format and error mapping, against scripted answers
(httpx.MockTransport): the answers the simulator never gives."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import duckdb
import httpx
import polars as pl
import pytest

from chapar.providers import (
    AuthError,
    InsufficientCredit,
    KavenegarProvider,
    MessageStatus,
    OutgoingMessage,
    ProviderError,
    RejectedInput,
    TransientError,
    UnknownOutcome,
)
from chapar.providers.kavenegar import _string_array
from chapar.providers.texts import FormTexts, form_texts

KEY = "wire-Key/with+odd=chars"
BASE = "https://api.kavenegar.com/v1"

Handler = Callable[[httpx.Request], httpx.Response]


def answer(status: int, entries: Any = None, http: int | None = None) -> httpx.Response:
    body = {"return": {"status": status, "message": "پیام"}, "entries": entries}
    return httpx.Response(http or status, json=body)


def call(handler: Handler, work: Callable[[KavenegarProvider], Any]) -> Any:
    async def main() -> Any:
        provider = KavenegarProvider(BASE, KEY, transport=httpx.MockTransport(handler))
        try:
            return await work(provider)
        finally:
            await provider.aclose()

    return asyncio.run(main())


def messages(n: int = 2) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(500 + i, f"98912000000{i}", "10004346", f"سلام & 100% + {i}")
        for i in range(n)
    ]


def entries_for(sent: list[OutgoingMessage], status: int = 1) -> list[dict[str, Any]]:
    return [
        {"messageid": 9000 + i, "receptor": m.receptor, "status": status, "cost": 1180}
        for i, m in enumerate(sent)
    ]


def test_sendarray_posts_json_arrays_and_local_ids_under_both_names():
    seen: list[httpx.Request] = []
    sent = messages(3)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(200, entries_for(sent))

    results = call(handler, lambda p: p.send(sent))
    (request,) = seen
    assert request.method == "POST"
    assert request.url.raw_path == b"/v1/wire-Key%2Fwith%2Bodd%3Dchars/sms/sendarray.json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(request.content.decode(), strict_parsing=True).items()}
    assert json.loads(form["receptor"]) == [m.receptor for m in sent]
    assert json.loads(form["sender"]) == ["10004346"] * 3
    assert json.loads(form["message"]) == [m.text for m in sent]
    assert form["localmessageids"] == "500,501,502"
    assert json.loads(form["localid"]) == [500, 501, 502]
    assert [(r.message_id, r.status, r.cost) for r in results] == [
        ("9000", MessageStatus.QUEUED, 1180),
        ("9001", MessageStatus.QUEUED, 1180),
        ("9002", MessageStatus.QUEUED, 1180),
    ]


@pytest.mark.parametrize(
    "items",
    [
        ["989120000001", "989120000002"],
        ['سلام % & + = " \\ \n', "hi there"],
        ["same text"] * 5,
        [f"پیام شخصی {i} ✓ 😀" for i in range(20)],  # many distinct texts: byte-wise path
        ["١٢٣"],  # digits, but not ASCII ones
        [],
    ],
)
def test_array_fields_are_form_encoded_json_exactly(items: list[str]):
    (decoded,) = parse_qs(f"x={_string_array(items)}", keep_blank_values=True)["x"]
    assert json.loads(decoded) == items


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (418, InsufficientCredit),
        (409, TransientError),
        (411, RejectedInput),
        (412, RejectedInput),
        (413, RejectedInput),
        (414, RejectedInput),
        (419, RejectedInput),
        (422, RejectedInput),
        (401, AuthError),
        (403, AuthError),
        (407, AuthError),
        (402, UnknownOutcome),
        (404, ProviderError),
    ],
)
def test_each_kavenegar_error_code_maps_to_its_meaning(code: int, error: type[ProviderError]):
    with pytest.raises(error) as caught:
        call(lambda r: answer(code), lambda p: p.send(messages()))
    assert type(caught.value) is error
    assert caught.value.provider_code == code
    assert KEY not in str(caught.value)


def test_a_5xx_with_an_envelope_is_an_unknown_outcome():
    with pytest.raises(UnknownOutcome):
        call(lambda r: answer(200, [], http=502), lambda p: p.send(messages()))


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>gateway</html>"),
        httpx.Response(502, text="Bad Gateway"),
        httpx.Response(200, json={"entries": []}),
    ],
)
def test_an_unreadable_answer_to_a_send_is_an_unknown_outcome(response: httpx.Response):
    with pytest.raises(UnknownOutcome):
        call(lambda r: response, lambda p: p.send(messages()))


def test_a_bare_http_429_is_a_transient_error():
    with pytest.raises(TransientError):
        call(lambda r: httpx.Response(429, text="slow down"), lambda p: p.send(messages()))


def test_entries_that_do_not_match_the_messages_are_an_unknown_outcome():
    sent = messages(2)
    too_few = entries_for(sent)[:1]
    swapped = list(reversed(entries_for(sent)))
    for entries in (too_few, swapped, {"messageid": 1}):
        with pytest.raises(UnknownOutcome):
            call(lambda r, e=entries: answer(200, e), lambda p: p.send(sent))


def test_every_kavenegar_message_status_maps_to_a_chapar_status():
    codes = {
        1: "queued",
        2: "queued",
        4: "sent",
        5: "sent",
        6: "failed",
        10: "delivered",
        11: "undelivered",
        13: "cancelled",
        14: "blacklisted",
        100: "unknown",
        77: "unknown",
    }

    def handler(request: httpx.Request) -> httpx.Response:
        ids = parse_qs(request.content.decode())["messageid"][0].split(",")
        return answer(200, [{"messageid": int(i), "status": int(i)} for i in ids])

    reports = call(handler, lambda p: p.status([str(c) for c in codes]))
    assert {int(r.message_id): r.status.value for r in reports} == codes


def test_a_status_answer_of_an_unexpected_shape_is_a_provider_error():
    with pytest.raises(ProviderError):
        call(lambda r: answer(200, [{"nothing": 1}]), lambda p: p.status(["1"]))


def test_credit_reads_remaincredit():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/account/info.json")
        return answer(200, {"remaincredit": 123456, "expiredate": 0, "type": "master"})

    assert call(handler, lambda p: p.credit()) == 123456


def test_a_read_timeout_is_an_unknown_outcome_without_the_key_or_its_url():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout(f"timed out reading {request.url}", request=request)

    with pytest.raises(UnknownOutcome) as caught:
        call(handler, lambda p: p.send(messages()))
    error = caught.value
    assert error.__cause__ is None and error.__context__ is None
    assert "wire-Key" not in str(error)


def test_a_transport_error_text_is_masked():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError(f"peer closed {request.url}", request=request)

    with pytest.raises(UnknownOutcome) as caught:
        call(handler, lambda p: p.send(messages()))
    assert "wire-Key" not in str(caught.value)
    assert "***" in str(caught.value)


def test_a_provider_without_a_key_refuses_to_start():
    with pytest.raises(AuthError):
        KavenegarProvider(BASE, "")


def test_nothing_is_sent_for_an_empty_batch():
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    assert call(handler, lambda p: p.send([])) == []
    assert call(handler, lambda p: p.status([])) == []
    assert call(handler, lambda p: p.status_by_local_ids([])) == []


# --- one text for all: sms/send ----------------------------------------------------------------


def form_of(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode(), strict_parsing=True).items()}


def test_one_text_goes_by_sms_send_with_the_text_once_and_comma_separated_local_ids():
    seen: list[httpx.Request] = []
    text = "سلام & 100% + تخفیف"
    sent = [OutgoingMessage(700 + i, f"98912000000{i}", "10004346", text) for i in range(3)]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(200, entries_for(sent, status=5))

    results = call(handler, lambda p: p.send(sent))
    (request,) = seen
    assert request.url.path.endswith("/sms/send.json")
    form = form_of(request)
    assert form == {
        "receptor": "989120000000,989120000001,989120000002",
        "sender": "10004346",
        "message": text,
        "localid": "700,701,702",
    }
    assert request.content.decode().count("%D8%B3%D9%84%D8%A7%D9%85") == 1  # the text once
    assert [(r.local_id, r.message_id, r.status) for r in results] == [
        (700, "9000", MessageStatus.SENT),
        (701, "9001", MessageStatus.SENT),
        (702, "9002", MessageStatus.SENT),
    ]


def test_send_columns_takes_one_text_as_a_str_or_as_equal_texts():
    bodies: list[bytes] = []
    receptors = ["989120000000", "989120000001"]

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        assert request.url.path.endswith("/sms/send.json")
        return answer(200, [{"messageid": i, "receptor": r} for i, r in enumerate(receptors)])

    one = call(handler, lambda p: p.send_columns([1, 2], receptors, "10004346", "hi"))
    equal = call(handler, lambda p: p.send_columns([1, 2], receptors, "10004346", ["hi", "hi"]))
    assert bodies[0] == bodies[1]
    assert [r.local_id for r in one] == [r.local_id for r in equal] == [1, 2]


def test_send_columns_with_a_text_each_goes_by_sendarray():
    seen: list[httpx.Request] = []
    receptors = ["989120000000", "989120000001"]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(200, [{"messageid": i, "receptor": r} for i, r in enumerate(receptors)])

    call(handler, lambda p: p.send_columns([1, 2], receptors, "10004346", ["علی", "مریم"]))
    (request,) = seen
    assert request.url.path.endswith("/sms/sendarray.json")
    form = form_of(request)
    assert json.loads(form["message"]) == ["علی", "مریم"]
    assert json.loads(form["sender"]) == ["10004346", "10004346"]
    assert form["localmessageids"] == "1,2"


ODD_TEXTS = ['سلام % & + = " \\ \n', "hi there", "پیام\u200cها ١٢٣ ✓ 😀", "\x01\t/", ""]


def test_texts_encoded_ahead_decode_to_the_same_texts_in_the_same_order():
    # past DuckDB's row groups (122,880 rows), where a parallel scan could reorder rows
    texts = [f"{ODD_TEXTS[i % len(ODD_TEXTS)]}{i}" for i in range(300_000)]
    encoded = form_texts(duckdb.connect(), pl.Series(texts))
    assert list(encoded) == texts
    for i in (0, 1, 4, 122_879, 122_880, 299_999):
        (decoded,) = parse_qs(f"x={encoded.form[i]}", keep_blank_values=True)["x"]
        assert json.loads(decoded) == texts[i]
    part = encoded.take([4, 2, 0])
    assert list(part) == [texts[4], texts[2], texts[0]]
    (decoded,) = parse_qs(f"x={part.form_array()}", keep_blank_values=True)["x"]
    assert json.loads(decoded) == list(part)


def test_a_request_of_texts_encoded_ahead_carries_them_exactly():
    seen: list[httpx.Request] = []
    receptors = [f"98912000000{i}" for i in range(len(ODD_TEXTS))]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(200, [{"messageid": i, "receptor": r} for i, r in enumerate(receptors)])

    texts = form_texts(duckdb.connect(), pl.Series(ODD_TEXTS))
    assert isinstance(texts, FormTexts)
    ids = list(range(len(receptors)))
    call(handler, lambda p: p.send_columns(ids, receptors, "10004346", texts))
    (request,) = seen
    assert request.url.path.endswith("/sms/sendarray.json")
    assert json.loads(form_of(request)["message"]) == ODD_TEXTS


def test_messages_from_two_lines_go_by_sendarray_each_with_its_sender():
    seen: list[httpx.Request] = []
    sent = [
        OutgoingMessage(1, "989120000000", "10004346", "hi"),
        OutgoingMessage(2, "989120000001", "30001234", "hi"),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(200, entries_for(sent))

    call(handler, lambda p: p.send(sent))
    assert seen[0].url.path.endswith("/sms/sendarray.json")
    assert json.loads(form_of(seen[0])["sender"]) == ["10004346", "30001234"]


def test_columns_that_do_not_line_up_or_exceed_200_are_refused_before_any_request():
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    with pytest.raises(RejectedInput):
        call(handler, lambda p: p.send_columns([1], ["989120000000", "989120000001"], "1", "x"))
    with pytest.raises(RejectedInput):
        call(handler, lambda p: p.send_columns([1, 2], ["989120000000"] * 2, "1", ["x"]))
    numbers = [f"98912{i:07d}" for i in range(201)]
    with pytest.raises(RejectedInput) as caught:
        call(handler, lambda p: p.send_columns(list(range(201)), numbers, "1", "x"))
    assert caught.value.provider_code == 414
    assert call(handler, lambda p: p.send_columns([], [], "1", "x")) == []


def test_sms_send_entries_that_do_not_match_the_receptors_are_an_unknown_outcome():
    receptors = ["989120000000", "989120000001"]
    in_order = [{"messageid": i, "receptor": r} for i, r in enumerate(receptors)]
    for entries in (in_order[:1], in_order[::-1], None, [{"receptor": receptors[0]}] * 2):
        with pytest.raises(UnknownOutcome):
            call(
                lambda r, e=entries: answer(200, e),
                lambda p: p.send_columns([1, 2], receptors, "10004346", "hi"),
            )


# --- errors carry a reason ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (418, "provider_credit"),
        (409, "provider_unavailable"),
        (503, "provider_unavailable"),
        (411, "provider_refused"),
        (403, "provider_auth"),
        (499, "provider_error"),
    ],
)
def test_every_error_carries_a_reason_code_and_the_providers_code(status: int, reason: str):
    with pytest.raises(ProviderError) as caught:
        call(lambda r: answer(status), lambda p: p.send(messages()))
    error = caught.value
    assert error.code == reason and error.reason.code == reason
    assert error.provider_code == status
    assert error.reason.params["code"] == status
    assert "wire-Key" not in error.text("en") and "wire-Key" not in error.text("fa")
    assert "wire-Key" not in str(error.reason.details)


# --- replies: sms/receive ----------------------------------------------------------------------


def test_receive_reads_unread_replies_of_one_line_and_normalises_the_sender():
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/sms/receive.json")
        seen.append(form_of(request))
        return answer(
            200,
            [
                {
                    "messageid": 31,
                    "message": "لغو ۱۱",
                    "sender": "09121234567",
                    "receptor": "10004346",
                    "date": 1_767_225_600,
                }
            ],
        )

    (reply,) = call(handler, lambda p: p.receive("10004346"))
    assert seen == [{"linenumber": "10004346", "isread": "0"}]
    assert reply.message_id == "31" and reply.text == "لغو ۱۱"
    assert reply.sender == "989121234567" and reply.receptor == "10004346"
    assert reply.received_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_receive_reads_page_after_page_while_pages_come_back_full():
    pages = [100, 100, 7]

    def handler(request: httpx.Request) -> httpx.Response:
        n, start = pages.pop(0), 1000 * (3 - len(pages))
        return answer(
            200,
            [
                {"messageid": start + i, "message": "11", "sender": "09121234567", "date": 0}
                for i in range(n)
            ],
        )

    replies = call(handler, lambda p: p.receive("10004346"))
    assert len(replies) == 207 and not pages
    assert {r.receptor for r in replies} == {"10004346"}


def test_receive_stops_when_a_full_page_brings_nothing_new():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        same = [{"messageid": i, "sender": "09121234567", "date": 0} for i in range(100)]
        return answer(200, same)

    assert len(call(handler, lambda p: p.receive("10004346"))) == 100
    assert len(calls) == 2


def test_an_empty_inbox_reads_as_no_replies_and_a_bad_entry_is_a_provider_error():
    assert call(lambda r: answer(200, None), lambda p: p.receive("10004346")) == []
    with pytest.raises(ProviderError):
        call(lambda r: answer(200, [{"message": "x"}]), lambda p: p.receive("10004346"))


def test_both_adapters_are_providers_and_say_whether_they_reconcile_by_local_id():
    from chapar.providers import Provider, SmsIrProvider

    async def check() -> None:
        kavenegar = KavenegarProvider(BASE, KEY)
        smsir = SmsIrProvider("https://api.sms.ir/v1", KEY)
        try:
            assert isinstance(kavenegar, Provider) and isinstance(smsir, Provider)
            assert (kavenegar.reconciles_by_local_id, smsir.reconciles_by_local_id) == (
                True,
                False,
            )
        finally:
            await kavenegar.aclose()
            await smsir.aclose()

    asyncio.run(check())
