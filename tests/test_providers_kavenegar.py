"""The Kavenegar adapter over a real socket, against the simulator process.

Every path of the Protocol and every fault kind the pipeline must survive: what is safe to
retry, what must be reconciled first, and that reconciliation finds what was accepted.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from chapar.providers import (
    InsufficientCredit,
    KavenegarProvider,
    MessageStatus,
    OutgoingMessage,
    ProviderError,
    RejectedInput,
    TransientError,
    UnknownOutcome,
    make_provider,
)
from chapar.settings import Settings
from chapar.simulator import outcome_for
from chapar.simulator.process import SimulatorProcess

pytestmark = pytest.mark.integration

T = TypeVar("T")
KEY = "k3y-Secr3t-0123456789abcdef"
PERSIAN = "سلام! تخفیف ویژه فروشگاه ما تا پایان هفته"  # 1 UCS-2 page: 1180 Rials
LATIN = "Big sale this week"  # 1 GSM-7 page: 2560 Rials
FINAL = {
    10: MessageStatus.DELIVERED,
    11: MessageStatus.UNDELIVERED,
    14: MessageStatus.BLACKLISTED,
    6: MessageStatus.FAILED,
}
_ids = itertools.count(1_000_001)
_numbers = itertools.count(100_000)


def batch(n: int, text: str = PERSIAN) -> list[OutgoingMessage]:
    """n messages to numbers and local ids no other test uses."""
    return [
        OutgoingMessage(next(_ids), f"98912{next(_numbers):07d}", "10004346", text)
        for _ in range(n)
    ]


def using(
    sim: SimulatorProcess, work: Callable[[KavenegarProvider], Awaitable[T]], **kwargs: Any
) -> T:
    """Run ``work`` with a fresh adapter on the simulator, closing it afterwards."""

    async def main() -> T:
        provider = KavenegarProvider(
            sim.base_url, kwargs.pop("api_key", KEY), trust_env=False, **kwargs
        )
        try:
            return await work(provider)
        finally:
            await provider.aclose()

    return asyncio.run(main())


# --- the happy paths -------------------------------------------------------------------------


def test_a_send_returns_one_result_per_message_in_input_order(simulator: SimulatorProcess):
    simulator.set_faults(delivery_delay_s=60)
    messages = batch(200)
    results = using(simulator, lambda p: p.send(messages))
    assert [r.local_id for r in results] == [m.local_id for m in messages]
    assert [r.receptor for r in results] == [m.receptor for m in messages]
    assert len({r.message_id for r in results}) == 200
    assert {r.status for r in results} == {MessageStatus.SENT}
    assert {r.cost for r in results} == {1180}
    outbox = simulator.outbox()
    assert outbox["total_accepted"] == outbox["total_submissions"] == 200
    line = outbox["receptors"][messages[0].receptor]
    assert line == {"accepted": 1, "submissions": 1, "local_ids": [str(messages[0].local_id)]}


def test_sending_lowers_the_credit_by_the_cost_of_the_pages(simulator: SimulatorProcess):
    simulator.set_faults(delivery_delay_s=60)  # no refund of blocked numbers meanwhile
    messages = batch(3, LATIN) + batch(2, PERSIAN * 2)  # 1 GSM-7 page each; 2 UCS-2 pages each

    async def work(p: KavenegarProvider) -> tuple[int, int]:
        before = await p.credit()
        await p.send(messages)
        return before, await p.credit()

    before, after = using(simulator, work)
    assert before - after == 3 * 2560 + 2 * 2 * 1180


def test_statuses_read_sent_until_the_delivery_delay_then_each_numbers_outcome(
    simulator: SimulatorProcess,
):
    simulator.set_faults(delivery_delay_s=0.4)
    messages = batch(60)

    async def work(p: KavenegarProvider) -> tuple[Any, Any, Any]:
        results = await p.send(messages)
        early = await p.status([r.message_id for r in results])
        await asyncio.sleep(0.5)
        late = await p.status([r.message_id for r in results])
        by_local = await p.status_by_local_ids([m.local_id for m in messages])
        return early, late, by_local

    early, late, by_local = using(simulator, work)
    assert {r.status for r in early} == {MessageStatus.SENT}
    expected = [FINAL[outcome_for(m.receptor)] for m in messages]
    assert [r.status for r in late] == expected
    assert all(s.is_final for s in expected)
    assert [(r.local_id, r.status) for r in by_local] == [
        (m.local_id, s) for m, s in zip(messages, expected, strict=True)
    ]
    assert [r.message_id for r in by_local] == [r.message_id for r in late]


def test_an_unknown_message_id_reads_as_unknown(simulator: SimulatorProcess):
    reports = using(simulator, lambda p: p.status(["12345", "999999999999"]))
    assert [r.status for r in reports] == [MessageStatus.UNKNOWN, MessageStatus.UNKNOWN]


def test_status_by_local_ids_returns_only_the_ids_the_provider_has(simulator: SimulatorProcess):
    sent = batch(5)
    never_sent = [m.local_id for m in batch(5)]

    async def work(p: KavenegarProvider) -> Any:
        await p.send(sent)
        return await p.status_by_local_ids(never_sent + [m.local_id for m in sent])

    reports = using(simulator, work)
    assert [r.local_id for r in reports] == [m.local_id for m in sent]


def test_status_calls_are_split_into_requests_of_at_most_500(simulator: SimulatorProcess):
    messages = batch(200) + batch(200) + batch(200)

    async def work(p: KavenegarProvider) -> tuple[int, int]:
        results = []
        for start in range(0, 600, 200):
            results += await p.send(messages[start : start + 200])
        by_id = await p.status([r.message_id for r in results])
        by_local = await p.status_by_local_ids([m.local_id for m in messages])
        return len(by_id), len(by_local)

    assert using(simulator, work) == (600, 600)
    requests = simulator.state()["requests"]
    assert requests["sms/status.json"] == 2
    assert requests["sms/statuslocalmessageid.json"] == 2


def test_blocked_messages_are_refunded_once_final(simulator: SimulatorProcess):
    simulator.set_faults(delivery_delay_s=0.2)
    messages = batch(200)
    blocked = sum(outcome_for(m.receptor) == 14 for m in messages)
    assert blocked > 0  # ≈4 % of numbers

    async def work(p: KavenegarProvider) -> tuple[int, int, int]:
        before = await p.credit()
        await p.send(messages)
        charged = await p.credit()
        await asyncio.sleep(0.3)
        return before, charged, await p.credit()

    before, charged, settled = using(simulator, work)
    assert before - charged == 200 * 1180
    assert settled - charged == blocked * 1180


def test_concurrent_sends_over_a_small_pool_all_arrive_exactly_once(simulator: SimulatorProcess):
    batches = [batch(200) for _ in range(12)]

    async def work(p: KavenegarProvider) -> list[Any]:
        return await asyncio.gather(*(p.send(b) for b in batches))

    results = using(simulator, work, concurrency=4)
    assert sum(len(r) for r in results) == 2400
    outbox = simulator.outbox()
    assert outbox["total_accepted"] == outbox["total_submissions"] == 2400
    assert {line["submissions"] for line in outbox["receptors"].values()} == {1}


def test_make_provider_reaches_the_simulator_through_the_kavenegar_adapter(
    simulator: SimulatorProcess,
):
    settings = Settings(provider="simulator", simulator_port=simulator.port)
    provider = make_provider(settings)
    assert isinstance(provider, KavenegarProvider)
    assert provider.name == "simulator" and provider.max_per_send == 200

    async def work() -> Any:
        try:
            return await provider.send(batch(2))
        finally:
            await provider.aclose()

    assert len(asyncio.run(work())) == 2


# --- de-duplication --------------------------------------------------------------------------


def test_a_repeated_local_id_is_not_charged_again_but_counts_as_a_submission(
    simulator: SimulatorProcess,
):
    messages = batch(3)

    async def work(p: KavenegarProvider) -> tuple[Any, Any, int, int]:
        first = await p.send(messages)
        charged = await p.credit()
        again = await p.send(messages)
        return first, again, charged, await p.credit()

    first, again, charged, after = using(simulator, work)
    assert [r.message_id for r in again] == [r.message_id for r in first]
    assert after == charged
    line = simulator.receptor(messages[0].receptor)
    assert (line["accepted"], line["submissions"]) == (1, 2)
    assert simulator.outbox()["total_accepted"] == 3
    assert simulator.outbox()["total_submissions"] == 6


# --- refusals: nothing accepted, safe to act on ----------------------------------------------


@pytest.mark.parametrize("status", [409])
def test_a_retry_later_answer_is_a_transient_error_and_nothing_was_accepted(
    simulator: SimulatorProcess, status: int
):
    simulator.set_faults(error_rate=1.0, error_status=status)
    messages = batch(10)
    with pytest.raises(TransientError) as caught:
        using(simulator, lambda p: p.send(messages))
    assert caught.value.provider_code == status
    assert simulator.outbox()["total_accepted"] == 0
    simulator.clear_faults()
    assert using(simulator, lambda p: p.status_by_local_ids([m.local_id for m in messages])) == []


def test_insufficient_credit_refuses_the_whole_request(simulator: SimulatorProcess):
    simulator.set_faults(delivery_delay_s=60)  # no refund of blocked numbers meanwhile
    simulator.set_credit(1180 * 5)
    with pytest.raises(InsufficientCredit) as caught:
        using(simulator, lambda p: p.send(batch(6)))
    assert caught.value.provider_code == 418
    assert simulator.outbox()["total_accepted"] == 0
    assert len(using(simulator, lambda p: p.send(batch(5)))) == 5
    assert simulator.state()["credit"] == 0


def test_credit_stop_after_accepts_that_many_messages_then_answers_418(
    simulator: SimulatorProcess,
):
    simulator.set_faults(credit_stop_after=400)

    async def work(p: KavenegarProvider) -> int:
        await p.send(batch(200))
        await p.send(batch(200))
        with pytest.raises(InsufficientCredit):
            await p.send(batch(200))
        return 0

    using(simulator, work)
    assert simulator.outbox()["total_accepted"] == 400


def test_an_invalid_number_is_rejected_input(simulator: SimulatorProcess):
    bad = [OutgoingMessage(next(_ids), "98912123", "10004346", "hi")]
    with pytest.raises(RejectedInput) as caught:
        using(simulator, lambda p: p.send(bad))
    assert caught.value.provider_code == 411


def test_an_empty_or_too_long_text_is_rejected_input(simulator: SimulatorProcess):
    for text in ("", "س" * 269):  # Kavenegar takes at most 4 pages (268 Persian characters)
        with pytest.raises(RejectedInput) as caught:
            using(simulator, lambda p, t=text: p.send(batch(1, t)))
        assert caught.value.provider_code == 413


def test_more_than_200_messages_are_refused_before_any_request(simulator: SimulatorProcess):
    with pytest.raises(RejectedInput):
        using(simulator, lambda p: p.send(batch(201)))
    assert simulator.state()["requests"] == {}


def test_an_unreachable_provider_is_a_transient_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens

    async def work() -> None:
        provider = KavenegarProvider(f"http://127.0.0.1:{port}/v1", KEY, trust_env=False)
        try:
            await provider.send(batch(1))
        finally:
            await provider.aclose()

    with pytest.raises(TransientError) as caught:
        asyncio.run(work())
    assert KEY not in str(caught.value)


# --- unknown outcomes: maybe accepted, reconcile first ---------------------------------------


@pytest.mark.parametrize("status", [500, 503])
def test_a_5xx_is_an_unknown_outcome_and_reconcile_tells_it_was_not_accepted(
    simulator: SimulatorProcess, status: int
):
    simulator.set_faults(error_rate=1.0, error_status=status)
    messages = batch(20)
    with pytest.raises(UnknownOutcome) as caught:
        using(simulator, lambda p: p.send(messages))
    assert caught.value.provider_code == status
    simulator.clear_faults()
    found = using(simulator, lambda p: p.status_by_local_ids([m.local_id for m in messages]))
    assert found == []


def test_a_timed_out_request_is_an_unknown_outcome_and_reconcile_finds_the_messages(
    simulator: SimulatorProcess,
):
    simulator.set_faults(timeout_rate=1.0)
    messages = batch(50)
    started = time.monotonic()
    with pytest.raises(UnknownOutcome) as caught:
        using(simulator, lambda p: p.send(messages), timeout=0.5)
    assert time.monotonic() - started < 5
    assert KEY not in str(caught.value)
    found = using(simulator, lambda p: p.status_by_local_ids([m.local_id for m in messages]))
    assert sorted(r.local_id for r in found) == sorted(m.local_id for m in messages)
    assert simulator.outbox()["total_accepted"] == 50


def test_a_dropped_response_is_an_unknown_outcome_and_reconcile_finds_the_messages(
    simulator: SimulatorProcess,
):
    simulator.set_faults(drop_rate=1.0)
    messages = batch(50)
    with pytest.raises(UnknownOutcome) as caught:
        using(simulator, lambda p: p.send(messages))
    assert KEY not in str(caught.value)
    found = using(simulator, lambda p: p.status_by_local_ids([m.local_id for m in messages]))
    assert sorted(r.local_id for r in found) == sorted(m.local_id for m in messages)


def test_resending_after_reconcile_only_the_missing_messages_delivers_each_once(
    simulator: SimulatorProcess,
):
    """The pipeline's recovery in miniature: random drops and 5xx, reconcile, send the rest."""
    simulator.set_faults(drop_rate=0.3, error_rate=0.2, error_status=503, seed=7)
    messages = batch(1000)
    chunks = [messages[i : i + 100] for i in range(0, 1000, 100)]

    async def work(p: KavenegarProvider) -> None:
        pending = list(chunks)
        while pending:
            chunk = pending.pop()
            try:
                await p.send(chunk)
            except UnknownOutcome:
                have = {
                    r.local_id for r in await p.status_by_local_ids([m.local_id for m in chunk])
                }
                rest = [m for m in chunk if m.local_id not in have]
                if rest:
                    pending.append(rest)

    using(simulator, work)
    outbox = simulator.outbox()
    assert outbox["total_accepted"] == outbox["total_submissions"] == 1000
    assert {line["accepted"] for line in outbox["receptors"].values()} == {1}


def test_latency_delays_every_answer(simulator: SimulatorProcess):
    simulator.set_faults(latency_ms=150)
    started = time.monotonic()
    using(simulator, lambda p: p.credit())
    assert time.monotonic() - started >= 0.15


def test_latency_beyond_the_client_timeout_still_accepts_the_messages(
    simulator: SimulatorProcess,
):
    simulator.set_faults(latency_ms=800)
    messages = batch(10)
    with pytest.raises(UnknownOutcome):
        using(simulator, lambda p: p.send(messages), timeout=0.3)
    time.sleep(0.7)
    simulator.clear_faults()
    assert (
        len(using(simulator, lambda p: p.status_by_local_ids([m.local_id for m in messages]))) == 10
    )


# --- the key stays secret --------------------------------------------------------------------


def test_the_api_key_appears_in_no_error_text_repr_or_log_line(
    simulator: SimulatorProcess, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    errors: list[ProviderError] = []
    for faults in (
        {"error_rate": 1.0, "error_status": 503},
        {"drop_rate": 1.0},
        {"timeout_rate": 1.0},
        {"error_rate": 1.0, "error_status": 409},
    ):
        simulator.set_faults(**faults)
        with pytest.raises(ProviderError) as caught:
            using(simulator, lambda p: p.send(batch(2)), timeout=0.3)
        errors.append(caught.value)
        simulator.clear_faults()

    async def work(p: KavenegarProvider) -> str:
        await p.credit()
        return repr(p)

    text = using(simulator, work)
    for error in errors:
        text += f"{error}|{error!r}|{error.__cause__}|{error.__context__}"
    text += caplog.text
    assert "HTTP Request" in caplog.text  # httpx did log the URLs…
    assert KEY not in text  # …with the key masked
    assert "/***/" in caplog.text


# --- one text for all: sms/send, and columns ---------------------------------------------------


def columns(n: int) -> tuple[list[int], list[str]]:
    """n fresh local ids and numbers, as columns."""
    return [next(_ids) for _ in range(n)], [f"98912{next(_numbers):07d}" for _ in range(n)]


def test_one_text_for_all_goes_by_sms_send_and_is_charged_found_and_counted_as_sendarray(
    simulator: SimulatorProcess,
):
    simulator.set_faults(delivery_delay_s=60)
    local_ids, receptors = columns(200)

    async def work(p: KavenegarProvider) -> tuple[int, list[Any], list[Any], int]:
        before = await p.credit()
        results = await p.send_columns(local_ids, receptors, "10004346", PERSIAN)
        found = await p.status_by_local_ids(local_ids)
        return before, results, found, await p.credit()

    before, results, found, after = using(simulator, work)
    assert [r.local_id for r in results] == local_ids
    assert [r.receptor for r in results] == receptors
    assert before - after == 200 * 1180
    assert {r.local_id: r.message_id for r in found} == {r.local_id: r.message_id for r in results}
    requests = simulator.state()["requests"]
    assert requests.get("sms/send.json") == 1 and "sms/sendarray.json" not in requests
    line = simulator.receptor(receptors[7])
    assert line == {"accepted": 1, "submissions": 1, "local_ids": [str(local_ids[7])]}


def test_a_text_per_recipient_goes_by_sendarray_and_each_is_priced_on_its_own(
    simulator: SimulatorProcess,
):
    simulator.set_faults(delivery_delay_s=60)
    local_ids, receptors = columns(2)
    texts = [LATIN, PERSIAN * 2]  # 1 GSM-7 page; 2 UCS-2 pages

    async def work(p: KavenegarProvider) -> int:
        before = await p.credit()
        await p.send_columns(local_ids, receptors, "10004346", texts)
        return before - await p.credit()

    assert using(simulator, work) == 2560 + 2 * 1180
    assert simulator.state()["requests"].get("sms/sendarray.json") == 1


def test_sms_send_repeated_with_the_same_local_ids_is_not_charged_again(
    simulator: SimulatorProcess,
):
    local_ids, receptors = columns(20)
    first = using(simulator, lambda p: p.send_columns(local_ids, receptors, "10004346", PERSIAN))
    again = using(simulator, lambda p: p.send_columns(local_ids, receptors, "10004346", PERSIAN))
    assert [r.message_id for r in again] == [r.message_id for r in first]
    outbox = simulator.outbox()
    assert (outbox["total_accepted"], outbox["total_submissions"]) == (20, 40)


@pytest.mark.parametrize("fault", ["timeout_rate", "drop_rate"])
def test_a_lost_sms_send_answer_is_an_unknown_outcome_and_reconcile_finds_every_message(
    simulator: SimulatorProcess, fault: str
):
    simulator.set_faults(**{fault: 1.0})
    local_ids, receptors = columns(100)
    with pytest.raises(UnknownOutcome) as caught:
        using(
            simulator,
            lambda p: p.send_columns(local_ids, receptors, "10004346", PERSIAN),
            timeout=0.5,
        )
    assert KEY not in str(caught.value) and KEY not in caught.value.text("fa")
    simulator.clear_faults()
    found = using(simulator, lambda p: p.status_by_local_ids(local_ids))
    assert sorted(r.local_id for r in found) == sorted(local_ids)


def test_an_sms_send_the_credit_cannot_cover_accepts_nothing(simulator: SimulatorProcess):
    simulator.set_credit(1180 * 10 - 1)
    local_ids, receptors = columns(10)
    with pytest.raises(InsufficientCredit) as caught:
        using(simulator, lambda p: p.send_columns(local_ids, receptors, "10004346", PERSIAN))
    assert caught.value.code == "provider_credit" and caught.value.provider_code == 418
    assert simulator.outbox()["total_accepted"] == 0


def test_the_kavenegar_adapter_reconciles_by_local_id(simulator: SimulatorProcess):
    assert KavenegarProvider.reconciles_by_local_id is True
    provider = make_provider(Settings(provider="simulator", simulator_port=simulator.port))
    assert provider.reconciles_by_local_id is True
    asyncio.run(provider.aclose())


# --- replies -----------------------------------------------------------------------------------


def test_an_injected_reply_is_received_once_and_a_repeated_read_returns_nothing_new(
    simulator: SimulatorProcess,
):
    simulator.set_faults(reply_rate=0.0)
    messages = batch(1)
    using(simulator, lambda p: p.send(messages))
    injected = simulator.inject("0" + messages[0].receptor[2:], "لغو ۱۱")  # to the line that sent
    simulator.inject("09350000001", "stop", receptor="30001234")  # another line's reply

    async def work(p: KavenegarProvider) -> tuple[list[Any], list[Any]]:
        return await p.receive("10004346"), await p.receive("10004346")

    first, second = using(simulator, work)
    assert second == []
    (reply,) = first
    assert reply.message_id == str(injected["messageid"])
    assert (reply.sender, reply.receptor) == (messages[0].receptor, "10004346")
    assert reply.text == "لغو ۱۱"
    assert reply.received_at.tzinfo is not None
    assert abs(reply.received_at.timestamp() - time.time()) < 60
    assert [r["read"] for r in simulator.inbox()] == [True, False]


def test_more_than_100_unread_replies_are_read_in_pages_by_one_receive(
    simulator: SimulatorProcess,
):
    simulator.set_faults(reply_rate=0.0)
    for i in range(230):
        simulator.inject(f"0912{i:07d}", "11", receptor="10004346")
    replies = using(simulator, lambda p: p.receive("10004346"))
    assert len(replies) == len({r.message_id for r in replies}) == 230
    assert simulator.state()["requests"]["sms/receive.json"] == 3


def test_numbers_reply_by_themselves_after_the_reply_delay(simulator: SimulatorProcess):
    simulator.set_faults(reply_rate=1.0, reply_delay_s=0.3)
    messages = batch(40)
    using(simulator, lambda p: p.send(messages))
    assert using(simulator, lambda p: p.receive("10004346")) == []  # not yet
    time.sleep(0.4)
    replies = using(simulator, lambda p: p.receive("10004346"))
    delivered = {m.receptor for m in messages if outcome_for(m.receptor) == 10}
    assert {r.sender for r in replies} == delivered
    assert all(r.text for r in replies)
