"""The send pipeline against the real simulator over a real socket: exactly once, always.

Every test ends by reading the simulator's outbox: each planned number accepted once and
carried by exactly one accepted request, nothing else sent.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from chapar import reports
from chapar.campaigns import FILTERED, CampaignStatus, RunStatus
from chapar.delivery import sync_statuses
from chapar.errors import Busy, InputError, NotAllowed
from chapar.reasons import Code, Reason
from chapar.sending import (
    Mode,
    begin_run,
    cut_schedule,
    send_batch,
    send_run,
)
from chapar.settings import get_settings
from chapar.store import repo
from tests.invariants import assert_counters_match, assert_money_holds

INSUFFICIENT_CREDIT = Reason(Code.INSUFFICIENT_CREDIT)
SCHEDULE_CUT = Reason(Code.SCHEDULE_CUT)

pytestmark = pytest.mark.integration


@pytest.fixture
def sim(simulator, monkeypatch):  # type: ignore[no-untyped-def]
    """The simulator as this test's provider, small batches so runs have many of them."""
    monkeypatch.setenv("CHAPAR_SIMULATOR_PORT", str(simulator.port))
    monkeypatch.setenv("CHAPAR_BATCH_SIZE", "500")
    monkeypatch.setenv("CHAPAR_PROVIDER_TIMEOUT_S", "1")
    get_settings.cache_clear()
    return simulator


def numbers(n: int, start: int = 0) -> list[str]:
    return [f"0912{start + i:07d}" for i in range(n)]


def make_campaign(write, n: int = 3_000, credit: int = 10**9, **kw) -> int:  # type: ignore[no-untyped-def]
    repo.import_list("people", write("people.txt", "\n".join(numbers(n))))
    if credit:
        repo.topup(credit)
    return repo.create_campaign("Test", kw.pop("message", "سلام"), "30001234", ["people"], **kw)


def planned_numbers(campaign_id: int, run_no: int) -> set[str]:
    page, _ = reports.numbers(campaign_id, run_no, limit=10**9)
    return {
        str(n) for n, s in zip(page["number"], page["status"], strict=True) if s not in FILTERED
    }


def assert_exactly_once(sim, campaign_id: int, runs: int = 1) -> None:  # type: ignore[no-untyped-def]
    """Each number reached the provider once for every run that planned it; nothing else."""
    expected: dict[str, int] = {}
    for run_no in range(1, runs + 1):
        for number in planned_numbers(campaign_id, run_no):
            expected[number] = expected.get(number, 0) + 1
    outbox = sim.outbox()["receptors"]
    assert set(outbox) == set(expected), "a number was sent that was not planned, or skipped"
    wrong = {
        n: v
        for n, v in outbox.items()
        if (v["accepted"], v["submissions"]) != (expected[n], expected[n])
    }
    assert not wrong, f"numbers not sent exactly once a run: {dict(list(wrong.items())[:5])}"
    assert_money_holds(sim)
    assert_counters_match(campaign_id)


def test_a_campaign_sends_every_planned_number_exactly_once(sim, write):
    cid = make_campaign(write)
    result = send_run(cid, Mode.START)
    assert (result.status, result.sent, result.planned) == (RunStatus.COMPLETED, 3_000, 3_000)
    assert repo.get_campaign(cid).status is CampaignStatus.COMPLETED
    assert_exactly_once(sim, cid)
    assert reports.run_report(cid).figures()["sent"] == 3_000


def test_invalid_duplicate_and_blacklisted_numbers_are_never_sent_nor_charged(sim, write):
    repo.import_blacklist(write("bl.txt", "09120000001\n"))
    repo.import_list("people", write("p.txt", "09120000000\n09120000001\nbad\n09120000000\n"))
    repo.topup(10**6)
    cid = repo.create_campaign("T", "hi", "30001234", ["people"])
    send_run(cid, Mode.START)
    figures = reports.run_report(cid).figures()
    assert (figures["sent"], figures["blacklisted"], figures["invalid"], figures["duplicates"]) == (
        1,
        1,
        1,
        1,
    )
    assert set(sim.outbox()["receptors"]) == {"989120000000"}
    assert repo.balance() == 10**6 - figures["cost"]


def test_send_count_takes_the_first_recipients(sim, write):
    cid = make_campaign(write, n=100, send_count=30)
    assert send_run(cid, Mode.START).sent == 30
    assert planned_numbers(cid, 1) == {f"98912{i:07d}" for i in range(30)}
    assert_exactly_once(sim, cid)


def test_credit_running_out_stops_the_run_and_rebuild_after_a_topup_finishes_it(sim, write):
    cid = make_campaign(write, credit=1_180 * 1_234)
    first = send_run(cid, Mode.START)
    assert (first.status, first.reason) == (RunStatus.UNFINISHED, INSUFFICIENT_CREDIT)
    campaign = repo.get_campaign(cid)
    assert (campaign.status, campaign.status_reason) == (
        CampaignStatus.UNFINISHED,
        INSUFFICIENT_CREDIT,
    )
    assert repo.balance() >= 0
    with pytest.raises(NotAllowed, match="already sent"):
        send_run(cid, Mode.START)
    repo.topup(10**9)
    assert send_run(cid, Mode.REBUILD).status is RunStatus.COMPLETED
    assert_exactly_once(sim, cid)


def test_the_providers_insufficient_credit_answer_stops_the_run_too(sim, write):
    cid = make_campaign(write)
    sim.set_faults(credit_stop_after=1_100)
    first = send_run(cid, Mode.START)
    assert first.reason is not None
    assert (first.status, first.reason.code) == (RunStatus.UNFINISHED, Code.PROVIDER_CREDIT)
    sim.set_faults(credit_stop_after=None)
    assert send_run(cid, Mode.REBUILD).status is RunStatus.COMPLETED
    assert_exactly_once(sim, cid)


@pytest.mark.parametrize(
    "fault",
    [
        {"error_rate": 0.3, "error_status": 409},
        {"error_rate": 0.3, "error_status": 503},
        {"drop_rate": 0.2},
        {"timeout_rate": 0.05},
    ],
)
def test_provider_faults_at_a_high_rate_still_send_exactly_once(sim, write, fault):
    cid = make_campaign(write, n=2_000)
    sim.set_faults(**fault)
    result = send_run(cid, Mode.START)
    while result.status is RunStatus.UNFINISHED:  # a provider that stays down: rebuild
        result = send_run(cid, Mode.REBUILD)
    assert_exactly_once(sim, cid)


def test_reset_sends_everyone_again_once_and_keeps_run_one_unchanged(sim, write):
    cid = make_campaign(write, n=1_000)
    send_run(cid, Mode.START)
    before = reports.run_report(cid, 1).figures()
    result = send_run(cid, Mode.RESET)
    # Numbers the provider reported blocked in run 1 joined the blacklist: not sent again.
    assert (result.run_no, result.sent) == (2, 1_000 - before["blocked"])
    assert reports.run_report(cid, 2).figures()["blacklisted"] == before["blocked"]
    assert repo.get_campaign(cid).reset_count == 1
    assert reports.run_report(cid, 1).figures() == before
    assert_exactly_once(sim, cid, runs=2)


def test_a_second_send_while_one_holds_the_lease_is_refused(sim, write):
    cid = make_campaign(write, n=10)
    begin_run(cid, Mode.START)  # this process now holds a live lease
    for mode in (Mode.START, Mode.REBUILD, Mode.RESET):
        with pytest.raises(Busy, match="is sending now"):
            begin_run(cid, mode)


def test_cutting_a_sending_campaign_stops_it_after_the_batch_in_flight(sim, write):
    cid = make_campaign(write, n=1_500)
    ref = begin_run(cid, Mode.START)
    assert send_batch(ref, 0).sent == 500
    cut_schedule(cid)
    assert send_batch(ref, 1).stop_reason == SCHEDULE_CUT


def test_cutting_a_scheduled_campaign_cancels_it(sim, write):
    cid = make_campaign(write, n=10, start_at=datetime(2030, 1, 1, tzinfo=UTC))
    assert repo.get_campaign(cid).status is CampaignStatus.SCHEDULED
    cut_schedule(cid)
    assert repo.get_campaign(cid).status is CampaignStatus.CANCELLED
    assert sim.outbox()["receptors"] == {}


def test_outside_the_sending_window_a_run_waits_for_the_next_opening(sim, write, monkeypatch):
    now = datetime.now(UTC).astimezone()
    closed = f"{(now.hour + 2) % 24:02d}:00-{(now.hour + 3) % 24:02d}:00"
    monkeypatch.setenv("CHAPAR_SEND_WINDOW", closed)
    monkeypatch.setenv("CHAPAR_TIMEZONE", str(now.tzinfo))
    get_settings.cache_clear()
    cid = make_campaign(write, n=10)
    result = send_run(cid, Mode.START)
    assert result.status is RunStatus.WAITING and result.resume_at is not None
    assert result.resume_at > datetime.now(UTC)
    assert repo.get_campaign(cid).status is CampaignStatus.SCHEDULED
    assert sim.outbox()["receptors"] == {}


def test_delivery_statuses_are_synced_blocked_numbers_blacklisted_and_refunded_once(sim, write):
    cid = make_campaign(write, n=2_000)
    send_run(cid, Mode.START)
    sync_statuses()
    figures = reports.run_report(cid).figures()
    assert figures["awaiting delivery"] == 0
    assert figures["delivered"] + figures["undelivered"] + figures["blocked"] == 2_000
    assert figures["blocked"] > 0
    assert repo.blacklist_size() == figures["blocked"]
    refunds = sum(e.amount for e in repo.ledger(100) if e.kind == "refund")
    assert refunds == figures["blocked"] * 1_180
    again = sync_statuses()
    assert again.updated == 0
    assert sum(e.amount for e in repo.ledger(100) if e.kind == "refund") == refunds


def test_a_lines_own_window_overrides_the_default(sim, write):
    cid = make_campaign(write, n=10)
    repo.set_line("30001234", "03:00-03:00:01", None)  # a one-second window: closed now
    result = send_run(cid, Mode.START)
    assert result.status is RunStatus.WAITING
    assert sim.outbox()["receptors"] == {}


def test_a_lines_rate_holds_the_sending_to_it(sim, write):
    cid = make_campaign(write, n=600)
    repo.set_line("30001234", "always", 6_000)  # 100 a second, 200 at once at most
    started = time.monotonic()
    assert send_run(cid, Mode.START).status is RunStatus.COMPLETED
    # 600 messages at 100/s with a 200-message burst take at least 4 s: a lower bound,
    # whatever the machine's speed.
    assert time.monotonic() - started >= 3.9
    assert_exactly_once(sim, cid)


def test_a_bad_line_window_is_refused():
    with pytest.raises(InputError, match="window"):
        repo.set_line("30001234", "9 to 5", None)


def test_a_report_exports_to_csv_and_excel_filtered_by_status(sim, write, tmp_path):
    import polars as pl

    cid = make_campaign(write, n=300)
    send_run(cid, Mode.START)
    delivered = reports.run_report(cid).n("delivered")
    assert reports.export(cid, tmp_path / "d.csv", status="delivered") == delivered
    assert pl.read_csv(tmp_path / "d.csv").height == delivered
    assert reports.export(cid, tmp_path / "all.xlsx") == 300
    assert pl.read_excel(tmp_path / "all.xlsx").height == 300
    assert not list(tmp_path.glob("*.part"))
