"""The simulated provider's rules, without sockets: pricing, validation, de-duplication,
credit, refunds and the fault dice."""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

import pytest

from chapar.simulator import Simulator, SimulatorConfig, normalise, outcome_for
from chapar.simulator.engine import replies_to, reply_text
from chapar.simulator.pages import _GSM7 as GSM7_CHARS
from chapar.simulator.pages import _GSM7_EXTENSION as GSM7_EXTENSION
from chapar.simulator.pages import GSM7, UCS2, count_pages


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(**config: Any) -> tuple[Simulator, Clock]:
    clock = Clock()
    return Simulator(SimulatorConfig(**config), clock=clock), clock


def sendarray(
    sim: Simulator,
    receptors: list[str],
    text: str = "hi",
    local_ids: list[Any] | None = None,
    id_field: str = "localid",
) -> tuple[int, Any]:
    params = {
        "receptor": json.dumps(receptors),
        "sender": json.dumps(["10004346"] * len(receptors)),
        "message": json.dumps([text] * len(receptors)),
    }
    if local_ids is not None:
        params[id_field] = (
            ",".join(map(str, local_ids))
            if id_field == "localmessageids"
            else json.dumps(local_ids)
        )
    reply = sim.api("key", "sms/sendarray.json", params)
    body = json.loads(reply.body)
    assert body["return"]["status"] == reply.status
    return reply.status, body["entries"]


def numbers(n: int, start: int = 0) -> list[str]:
    return [f"98912{start + i:07d}" for i in range(n)]


# --- numbers, pages, outcomes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["989121234567", "09121234567", "9121234567", "+989121234567", "00989121234567"]
)
def test_every_usual_form_of_a_mobile_number_is_one_number(raw: str):
    assert normalise(raw) == "989121234567"


@pytest.mark.parametrize("raw", ["98912123456", "08121234567", "abc", ""])
def test_anything_else_is_not_a_number(raw: str):
    assert normalise(raw) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, (GSM7, 1)),
        ("a" * 161, (GSM7, 2)),
        ("a" * 306, (GSM7, 2)),
        ("a" * 307, (GSM7, 3)),
        ("{" * 80, (GSM7, 1)),  # extension characters take two septets
        ("{" * 81, (GSM7, 2)),
        ("a" * 152 + "{" + "a" * 152, (GSM7, 3)),  # 306 septets, but the pair moves whole
        ("س" * 70, (UCS2, 1)),
        ("س" * 71, (UCS2, 2)),
        ("س" * 268, (UCS2, 4)),
        ("س" * 66 + "😀" * 2, (UCS2, 1)),  # an emoji is two UTF-16 units: 70 in all
        ("س" * 66 + "😀" + "س" * 66, (UCS2, 3)),  # 134 units, but the pair moves whole
        ("", (GSM7, 0)),
    ],
)
def test_pages_follow_gsm7_and_ucs2_rules(text: str, expected: tuple[str, int]):
    assert count_pages(text) == expected


def _pages_char_by_char(text: str) -> tuple[str, int]:
    """The rule character by character: each character's width, packed page by page."""
    gsm = all(ch in GSM7_CHARS for ch in text)
    widths = [
        (2 if ch in GSM7_EXTENSION else 1) if gsm else (2 if ord(ch) > 0xFFFF else 1) for ch in text
    ]
    single, multi = (160, 153) if gsm else (70, 67)
    if not widths:
        return GSM7, 0
    if sum(widths) <= single:
        return (GSM7 if gsm else UCS2), 1
    pages, used = 1, 0
    for width in widths:
        if used + width > multi:
            pages, used = pages + 1, 0
        used += width
    return (GSM7 if gsm else UCS2), pages


@pytest.mark.parametrize("alphabet", ["ab c.", "ab{€", "سلام ب۱", "سلام😀", "ab {}€\\سلام😀1"])
def test_the_page_count_s_shortcuts_agree_with_the_rule_character_by_character(alphabet: str):
    rng = random.Random(alphabet)
    for _ in range(3_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 700)))
        assert count_pages.__wrapped__(text) == _pages_char_by_char(text), text


def test_outcomes_depend_only_on_the_number_in_the_promised_shares():
    shares = Counter(outcome_for(n) for n in numbers(20_000))
    assert outcome_for("989121234567") == outcome_for("989121234567")
    assert 0.83 < shares[10] / 20_000 < 0.87
    assert 0.06 < shares[11] / 20_000 < 0.10
    assert 0.03 < shares[14] / 20_000 < 0.05
    assert 0.02 < shares[6] / 20_000 < 0.04


# --- sending -----------------------------------------------------------------------------------


def test_a_send_charges_pages_times_the_page_price_of_its_encoding():
    sim, _ = make(credit=100_000)
    status, entries = sendarray(sim, numbers(2), text="س" * 71)  # 2 UCS-2 pages
    assert status == 200
    assert [e["cost"] for e in entries] == [2 * 1180] * 2
    assert sim.credit == 100_000 - 4 * 1180
    status, entries = sendarray(sim, numbers(1, 10), text="hello")
    assert entries[0]["cost"] == 2560


def test_every_entry_carries_the_kavenegar_fields():
    sim, _ = make()
    _, (entry,) = sendarray(sim, ["09121234567"], text='say "hi" 100%')
    assert set(entry) == {
        "messageid",
        "message",
        "status",
        "statustext",
        "sender",
        "receptor",
        "date",
        "cost",
    }
    assert entry["receptor"] == "09121234567"  # echoed as given
    assert entry["message"] == 'say "hi" 100%'
    assert entry["status"] == 4


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"receptor": '["98912"]', "sender": '["1000"]', "message": '["x"]'}, 411),
        ({"receptor": '["989121234567"]', "sender": '["abc"]', "message": '["x"]'}, 412),
        ({"receptor": '["989121234567"]', "sender": '["1000"]', "message": '[""]'}, 413),
        (
            {
                "receptor": '["989121234567"]',
                "sender": '["1000"]',
                "message": json.dumps(["x" * 613]),
            },
            413,
        ),
        (
            {
                "receptor": json.dumps(numbers(201)),
                "sender": json.dumps(["1000"] * 201),
                "message": json.dumps(["x"] * 201),
            },
            414,
        ),
        ({"receptor": '["989121234567"]', "sender": '["1000","1000"]', "message": '["x"]'}, 419),
        (
            {
                "receptor": '["989121234567"]',
                "sender": '["1000"]',
                "message": '["x"]',
                "localid": "[1,2]",
            },
            419,
        ),
        ({"receptor": '["989121234567"]', "sender": '["1000"]'}, 400),
        ({"receptor": "989121234567", "sender": '["1000"]', "message": '["x"]'}, 400),
    ],
)
def test_invalid_requests_get_kavenegar_error_codes_and_accept_nothing(params: Any, status: int):
    sim, _ = make()
    reply = sim.api("key", "sms/sendarray.json", params)
    assert reply.status == status
    assert json.loads(reply.body)["return"]["status"] == status
    assert sim.total_accepted == 0


def test_sms_send_takes_comma_separated_receptors_and_local_ids():
    sim, _ = make()
    reply = sim.api(
        "key",
        "sms/send.json",
        {"receptor": "09121234567,09351234567", "message": "hi", "localid": "7,8"},
    )
    entries = json.loads(reply.body)["entries"]
    assert [e["receptor"] for e in entries] == ["09121234567", "09351234567"]
    assert sim.outbox()["receptors"]["989351234567"]["local_ids"] == ["8"]


@pytest.mark.parametrize(
    ("field", "ids"),
    [
        ("localid", [1, 2]),
        ("localid", ["1", "2"]),
        ("localmessageids", [1, 2]),
        ("localmessageid", [1, 2]),
    ],
)
def test_local_ids_are_read_under_each_name_the_sdks_use(field: str, ids: list[Any]):
    sim, _ = make()
    sendarray(sim, numbers(2), local_ids=ids, id_field=field)
    assert sendarray(sim, numbers(2), local_ids=ids, id_field=field)[0] == 200
    assert sim.total_accepted == 2 and sim.total_submissions == 4


def test_a_repeated_local_id_returns_the_first_entry_free_of_charge_and_is_counted():
    sim, _ = make(credit=10_000)
    _, first = sendarray(sim, numbers(2), local_ids=[1, 2])
    credit = sim.credit
    _, again = sendarray(sim, numbers(3), local_ids=[1, 2, 3])
    assert [e["messageid"] for e in again[:2]] == [e["messageid"] for e in first]
    assert sim.credit == credit - 2560
    outbox = sim.outbox()
    assert outbox["receptors"][numbers(1)[0]] == {
        "accepted": 1,
        "submissions": 2,
        "local_ids": ["1"],
    }
    assert (outbox["total_accepted"], outbox["total_submissions"]) == (3, 5)


def test_a_local_id_repeated_inside_one_request_is_one_message():
    sim, _ = make()
    _, entries = sendarray(sim, ["989121111111", "989121111111"], local_ids=[5, 5])
    assert entries[0]["messageid"] == entries[1]["messageid"]
    assert sim.outbox()["receptors"]["989121111111"]["accepted"] == 1


def test_a_request_the_credit_cannot_cover_is_refused_whole():
    sim, _ = make(credit=2560 * 2)
    assert sendarray(sim, numbers(3))[0] == 418
    assert sim.total_accepted == 0 and sim.credit == 2560 * 2
    assert sendarray(sim, numbers(2))[0] == 200
    assert sim.credit == 0
    assert sendarray(sim, numbers(2), local_ids=None)[0] == 418


def test_repeats_cost_nothing_so_they_pass_even_with_no_credit_left():
    sim, _ = make(credit=2560)
    sendarray(sim, numbers(1), local_ids=[9])
    assert sendarray(sim, numbers(1), local_ids=[9])[0] == 200


def test_credit_stop_after_is_a_budget_of_messages():
    sim, _ = make(credit_stop_after=5)
    assert sendarray(sim, numbers(3))[0] == 200
    assert sendarray(sim, numbers(3, 10))[0] == 418  # 3 > 2 left: all or nothing
    assert sendarray(sim, numbers(2, 20))[0] == 200
    assert sendarray(sim, numbers(1, 30))[0] == 418
    sim.set_faults({"credit_stop_after": None})
    assert sendarray(sim, numbers(1, 30))[0] == 200


def test_statuses_turn_final_after_the_delay_and_blocked_ones_are_refunded():
    sim, clock = make(credit=10**9, delivery_delay_s=2.0)
    batch = numbers(200)
    _, entries = sendarray(sim, batch, local_ids=list(range(200)))
    charged = sim.credit
    ids = ",".join(str(e["messageid"]) for e in entries)
    early = json.loads(sim.api("k", "sms/status.json", {"messageid": ids}).body)
    assert {e["status"] for e in early["entries"]} == {4}
    clock.now += 2.0
    late = json.loads(sim.api("k", "sms/statuslocalmessageid.json", {"localid": "0,1,2,999"}).body)
    assert [e["status"] for e in late["entries"]] == [outcome_for(n) for n in batch[:3]] + [100]
    assert late["entries"][3]["messageid"] == 0
    blocked = sum(outcome_for(n) == 14 for n in batch)
    info = json.loads(sim.api("k", "account/info.json", {}).body)["entries"]
    assert info["remaincredit"] == charged + blocked * 2560


def test_status_accepts_at_most_500_ids():
    sim, _ = make()
    reply = sim.api("k", "sms/status.json", {"messageid": ",".join(map(str, range(501)))})
    assert reply.status == 414


def test_faults_are_drawn_from_the_seeded_dice_and_repeat_with_the_seed():
    def run() -> list[str]:
        sim, _ = make(error_rate=0.2, timeout_rate=0.2, drop_rate=0.2, seed=42)
        outcomes = []
        for i in range(200):
            reply = sim.api(
                "k",
                "sms/sendarray.json",
                {
                    "receptor": json.dumps([numbers(1, i)[0]]),
                    "sender": '["1000"]',
                    "message": '["x"]',
                },
            )
            outcomes.append("error" if reply.status != 200 else reply.action)
        return outcomes

    first = run()
    assert first == run()
    shares = Counter(first)
    assert all(20 < shares[kind] < 60 for kind in ("error", "timeout", "drop"))
    assert 60 < shares["answer"] < 100


def test_an_error_fault_accepts_nothing_while_timeout_and_drop_accept():
    for fault, accepted in (("error_rate", 0), ("timeout_rate", 1), ("drop_rate", 1)):
        sim, _ = make(**{fault: 1.0})
        sendarray(sim, numbers(1))
        assert sim.total_accepted == accepted


def test_faults_hit_only_sends_unless_the_scope_is_all():
    sim, _ = make(error_rate=1.0)
    assert sim.api("k", "account/info.json", {}).status == 200
    sim.set_faults({"fault_scope": "all"})
    assert sim.api("k", "account/info.json", {}).status == 503


def test_bad_fault_settings_are_refused_and_change_nothing():
    sim, _ = make()
    for bad in (
        {"error_rate": 2},
        {"nonsense": 1},
        {"error_rate": 0.6, "drop_rate": 0.6},
        {"error_status": 200},
        {"fault_scope": "some"},
    ):
        with pytest.raises(ValueError):
            sim.set_faults(bad)
    assert sim.config.faults() == SimulatorConfig().faults()
    sim.set_faults({"error-rate": 0.5})  # CLI spelling accepted too
    assert sim.config.error_rate == 0.5


def test_only_the_configured_key_is_accepted_when_one_is_set():
    sim, _ = make(api_key="right")
    assert sim.api("wrong", "account/info.json", {}).status == 403
    assert sim.api("right", "account/info.json", {}).status == 200


def test_an_unknown_method_is_404():
    sim, _ = make()
    assert sim.api("k", "sms/nothing.json", {}).status == 404


def test_reset_forgets_the_outbox_but_keeps_credit_and_ids_moving_on():
    sim, _ = make(credit=10**6)
    _, (entry,) = sendarray(sim, numbers(1), local_ids=[1])
    credit = sim.credit
    sim.reset()
    assert sim.outbox() == {"receptors": {}, "total_accepted": 0, "total_submissions": 0}
    assert sim.credit == credit
    _, (again,) = sendarray(sim, numbers(1), local_ids=[1])
    assert again["messageid"] > entry["messageid"]


# --- the command line ------------------------------------------------------------------------


def test_the_command_line_fills_what_it_omits_from_the_settings(monkeypatch: pytest.MonkeyPatch):
    from chapar.settings import get_settings
    from chapar.simulator.__main__ import build_parser, config_from_args

    monkeypatch.setenv("CHAPAR_SIMULATOR_PORT", "9123")
    get_settings.cache_clear()
    try:
        args = build_parser().parse_args(["--error-rate", "0.1", "--error-status", "409"])
        config = SimulatorConfig(**config_from_args(args))
    finally:
        get_settings.cache_clear()
    assert (config.port, config.error_rate, config.error_status) == (9123, 0.1, 409)
    assert (config.price_ucs2, config.price_gsm7) == (1180, 2560)


def test_the_command_line_refuses_an_impossible_fault():
    from chapar.simulator.__main__ import main

    with pytest.raises(SystemExit) as caught:
        main(["--port", "0", "--error-rate", "2"])
    assert caught.value.code == 2


# --- sms/send ----------------------------------------------------------------------------------


def sms_send(sim: Simulator, receptors: list[str], text: str = "hi", **extra: str) -> Any:
    params = {"receptor": ",".join(receptors), "sender": "10004346", "message": text, **extra}
    reply = sim.api("key", "sms/send.json", params)
    return reply.status, json.loads(reply.body)["entries"]


def test_sms_send_prices_dedups_and_faults_like_sendarray():
    sim, _ = make(credit=10_000)
    status, entries = sms_send(sim, numbers(3), "سلام", localid="1,2,3")
    assert status == 200 and sim.credit == 10_000 - 3 * 1180
    status, again = sms_send(sim, numbers(3), "سلام", localid="1,2,3")
    assert [e["messageid"] for e in again] == [e["messageid"] for e in entries]
    assert sim.credit == 10_000 - 3 * 1180
    more_ids = ",".join(map(str, range(10, 19)))
    assert sms_send(sim, numbers(9, 10), "سلام", localid=more_ids)[0] == 418
    assert sms_send(sim, numbers(2), localid="1")[0] == 419
    assert sms_send(sim, numbers(201))[0] == 414
    sim.set_faults({"error_rate": 1.0})
    assert sms_send(sim, numbers(1, 50))[0] == 503
    assert sim.total_accepted == 3 and sim.total_submissions == 6


def test_sms_send_local_ids_are_found_by_statuslocalmessageid():
    sim, _ = make()
    _, entries = sms_send(sim, numbers(2), localid="71,72")
    reply = sim.api("key", "sms/statuslocalmessageid.json", {"localid": "72,73"})
    found = json.loads(reply.body)["entries"]
    assert [(e["localid"], e["messageid"]) for e in found] == [
        ("72", entries[1]["messageid"]),
        ("73", 0),
    ]


# --- the inbox ---------------------------------------------------------------------------------


def receive(sim: Simulator, line: str = "10004346", isread: str = "0") -> list[dict[str, Any]]:
    reply = sim.api("key", "sms/receive.json", {"linenumber": line, "isread": isread})
    assert reply.status == 200, reply.body
    return list(json.loads(reply.body)["entries"])


def test_a_reply_is_read_once_with_a_stable_id_and_can_be_read_again_as_read():
    sim, _ = make(reply_rate=0.0)
    injected = sim.inject("+989121234567", "لغو ۱۱", "10004346")
    (entry,) = receive(sim)
    assert entry == {
        "messageid": injected["messageid"],
        "message": "لغو ۱۱",
        "sender": "09121234567",
        "receptor": "10004346",
        "date": entry["date"],
    }
    assert receive(sim) == []
    assert [e["messageid"] for e in receive(sim, isread="1")] == [injected["messageid"]]


def test_a_reply_goes_by_default_to_the_line_that_last_messaged_the_number():
    sim, _ = make(reply_rate=0.0)
    sim.api(
        "key",
        "sms/send.json",
        {"receptor": "989121234567", "sender": "30001234", "message": "hi"},
    )
    assert sim.inject("09121234567", "12")["receptor"] == "30001234"
    assert sim.inject("09351234567", "12")["receptor"] == "10008663"  # never messaged
    assert receive(sim, "10004346") == []
    assert [e["message"] for e in receive(sim, "30001234")] == ["12"]


@pytest.mark.parametrize(
    ("sender", "text", "receptor"),
    [("12345", "hi", None), ("09121234567", "", None), ("09121234567", "hi", "line!")],
)
def test_an_impossible_reply_is_refused(sender: str, text: str, receptor: str | None):
    sim, _ = make()
    with pytest.raises(ValueError):
        sim.inject(sender, text, receptor)
    assert sim.inbox() == []


def test_receive_needs_a_line_and_answers_at_most_100():
    sim, _ = make(reply_rate=0.0)
    assert sim.api("key", "sms/receive.json", {}).status == 400
    for i in range(150):
        sim.inject(f"0912{i:07d}", "11", "10004346")
    assert len(receive(sim)) == 100
    assert len(receive(sim)) == 50


def test_generated_replies_come_from_the_same_numbers_after_the_delay_and_only_if_delivered():
    sim, clock = make(reply_rate=0.2, reply_delay_s=5)
    sent = numbers(500)
    for start in range(0, 500, 100):
        sms_send(sim, sent[start : start + 100])
    clock.now += 4
    assert receive(sim) == []
    clock.now += 1
    replies = receive(sim)
    expected = {n for n in sent if replies_to(n, 0.2) and outcome_for(n) == 10}
    assert {"98" + r["sender"][1:] for r in replies} == expected
    assert 50 < len(expected) < 130  # ≈ 20 % of the ≈ 85 % delivered
    assert all(r["message"] == reply_text("98" + r["sender"][1:]) for r in replies)
    assert {r["message"] for r in replies} >= {"11", "۱۱", "لغو ۱۱", "stop", "12", "ممنون"}
    assert receive(sim) == []


def test_sending_does_not_touch_the_inbox_until_it_is_read():
    sim, _ = make(reply_rate=1.0, reply_delay_s=0)
    sms_send(sim, numbers(100))
    assert sim._inbox == []  # the hot path adds nothing
    assert len(sim.inbox()) == sum(outcome_for(n) == 10 for n in numbers(100))


def test_reset_empties_the_inbox():
    sim, _ = make()
    sim.inject("09121234567", "11")
    sim.reset()
    assert sim.inbox() == [] and sim.state()["inbox"] == {"replies": 0, "unread": 0}
