"""The send engine's promises where the real world bites: an edit or a blacklist import
between a crash and its rebuild, a flaky status API, a frozen sender, a provider that
cannot be asked. Real processes, the real simulator over its socket, a real DuckDB file;
every test ends with exactly once, the money invariant and the counters.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chapar import reports
from chapar.campaigns import CampaignStatus, RunStatus
from chapar.errors import Busy, InputError, NotAllowed
from chapar.providers import make_provider
from chapar.reasons import Code
from chapar.sending import LeaseLost, Mode, begin_run, finish_run, send_batches, send_run
from chapar.sending.settle import settle_batch
from chapar.settings import get_settings
from chapar.store import repo, transaction
from tests.invariants import assert_counters_match, assert_money_holds
from tests.test_sending import assert_exactly_once, make_campaign, numbers

pytestmark = pytest.mark.integration

PERSIAN_PAGE = 1_180
#: A sender whose lease lapses 3 s after its last renewal, one request at a time.
ONE_AT_A_TIME = {"CHAPAR_LEASE_TTL_S": "3", "CHAPAR_PROVIDER_CONCURRENCY": "1"}


@pytest.fixture
def sim(simulator, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHAPAR_SIMULATOR_PORT", str(simulator.port))
    monkeypatch.setenv("CHAPAR_BATCH_SIZE", "1000")
    monkeypatch.setenv("CHAPAR_PROVIDER_TIMEOUT_S", "2")
    get_settings.cache_clear()
    return simulator


def chapar(*args: str, crash_at: str = "", **env: str) -> subprocess.Popen[bytes]:
    """The real `chapar` command in its own process (it inherits this test's settings)."""
    environ = {**os.environ, "CHAPAR_CRASH_AT": crash_at, **env}
    return subprocess.Popen(
        [sys.executable, "-m", "chapar", *args],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def finished(proc: subprocess.Popen[bytes], timeout: float = 120) -> tuple[int, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, (out + err).decode()


def rebuild_until_done(cid: int, most: int = 10) -> int:
    """Rebuild until the run completes; how many rebuilds it took."""
    for n in range(1, most + 1):
        if send_run(cid, Mode.REBUILD).status is RunStatus.COMPLETED:
            return n
    raise AssertionError(f"campaign {cid} still unfinished after {most} rebuilds")


def test_messages_that_went_out_before_a_crash_are_charged_as_sent_whatever_the_edit(sim, write):
    cid = make_campaign(write, n=1_000, credit=3_000_000, message="سلام")
    code, _ = finished(chapar("send", str(cid), crash_at="requested"))
    assert code == -signal.SIGKILL
    assert sim.outbox()["total_accepted"] == 1_000  # all at the provider, nothing recorded
    repo.edit_campaign(cid, {"message": "سلام " * 40})  # now three pages
    assert send_run(cid, Mode.REBUILD).status is RunStatus.COMPLETED
    figures = reports.run_report(cid).figures()
    assert (figures["sent"], figures["pages"]) == (1_000, 1_000)
    refunded = figures["blocked"] + reports.run_report(cid).n("cancelled")
    assert figures["cost"] == (1_000 - refunded) * PERSIAN_PAGE  # blocked ones are refunded
    assert repo.balance() == 3_000_000 - figures["cost"]
    assert_exactly_once(sim, cid)


def test_an_edit_applies_to_the_batches_not_yet_in_flight(sim, write):
    cid = make_campaign(write, n=3_000, message="سلام")
    # Killed when batch 0's requests were answered; batch 1 was being opened meanwhile (the
    # pipeline opens one ahead), so it may or may not have gone in flight; batch 2 had not.
    code, _ = finished(chapar("send", str(cid), crash_at="requested:1"))
    assert code == -signal.SIGKILL
    repo.edit_campaign(cid, {"message": "سلام " * 40})
    rebuild_until_done(cid)
    page, _ = reports.numbers(cid, limit=10_000)
    by_batch = dict(zip(page["seq"], page["pages"], strict=True))
    assert {by_batch[s] for s in range(1, 1_001)} == {1}  # went out as 1 page
    assert len({by_batch[s] for s in range(1_001, 2_001)}) == 1  # 1 if in flight, else 3
    assert {by_batch[s] for s in range(2_001, 3_001)} == {3}  # never in flight before the edit
    assert_exactly_once(sim, cid)


def test_numbers_blacklisted_after_a_crash_are_still_recorded_where_the_provider_has_them(
    sim, write
):
    cid = make_campaign(write, n=1_000)
    code, _ = finished(chapar("send", str(cid), crash_at="requested"))
    assert code == -signal.SIGKILL
    repo.import_blacklist(write("late.txt", "\n".join(numbers(10))))
    rebuild_until_done(cid)
    figures = reports.run_report(cid).figures()
    assert (figures["sent"], figures["blacklisted"]) == (1_000, 0)
    assert sim.outbox()["total_accepted"] == 1_000
    assert_exactly_once(sim, cid)


def test_numbers_blacklisted_after_a_crash_are_dropped_from_a_batch_in_flight_if_not_sent(
    sim, write
):
    cid = make_campaign(write, n=1_000)  # one batch, killed in flight before any request
    code, _ = finished(chapar("send", str(cid), crash_at="prepared"))
    assert code == -signal.SIGKILL
    late = numbers(10, start=500)
    repo.import_blacklist(write("late.txt", "\n".join(late)))
    rebuild_until_done(cid)
    figures = reports.run_report(cid).figures()
    assert (figures["sent"], figures["blacklisted"]) == (990, 10)
    outbox = sim.outbox()
    assert outbox["total_accepted"] == 990
    assert not {"98" + n[1:] for n in late} & set(outbox["receptors"])  # none even tried
    once = {(v["accepted"], v["submissions"]) for v in outbox["receptors"].values()}
    assert (len(outbox["receptors"]), once) == (990, {(1, 1)})  # the rest exactly once
    assert_money_holds(sim)
    assert_counters_match(cid)


def test_a_blacklisted_number_is_dropped_from_a_batch_never_handed_out(sim, write):
    cid = make_campaign(write, n=3_000)
    code, _ = finished(chapar("send", str(cid), crash_at="requested:2"))
    assert code == -signal.SIGKILL
    repo.import_blacklist(write("late.txt", "\n".join(numbers(5, start=2_500))))
    rebuild_until_done(cid)
    assert reports.run_report(cid).figures()["blacklisted"] == 5
    assert_money_holds(sim)
    assert_counters_match(cid)


@pytest.mark.parametrize("rate", [0.03, 0.2])
@pytest.mark.slow
def test_a_rebuild_makes_progress_when_every_call_fails_now_and_then(sim, write, rate):
    """Faults on *every* call, sends and status lookups alike: the lookups of an in-flight
    batch are kept chunk by chunk and only failed chunks retried."""
    cid = make_campaign(write, n=20_000)
    one_batch = {"CHAPAR_BATCH_SIZE": "20000"}  # one in-flight batch of 20,000
    code, _ = finished(chapar("send", str(cid), crash_at="requested", **one_batch))
    assert code == -signal.SIGKILL
    sim.set_faults(error_rate=rate, error_status=503, fault_scope="all")
    try:
        assert rebuild_until_done(cid, most=4) <= 4
    finally:
        sim.set_faults(error_rate=0.0, fault_scope="send")
    assert_exactly_once(sim, cid)


@pytest.mark.parametrize("rate", [0.03, 0.2])
def test_a_campaign_completes_within_a_few_rebuilds_when_every_call_fails_now_and_then(
    sim, write, rate
):
    sim.set_faults(error_rate=rate / 2, error_status=503, drop_rate=rate / 2, fault_scope="all")
    cid = make_campaign(write, n=5_000)
    try:
        result = send_run(cid, Mode.START)
        if result.status is not RunStatus.COMPLETED:
            assert rebuild_until_done(cid, most=5) <= 5
    finally:
        sim.set_faults(error_rate=0.0, drop_rate=0.0, fault_scope="send")
    assert_exactly_once(sim, cid)


class NoLocalIds:
    """A provider that keeps no client-side ids (as SMS.ir): the simulator's adapter with
    reconciliation switched off."""

    def __init__(self) -> None:
        self.inner = make_provider(get_settings())
        self.name = "no-local-ids"
        self.max_per_send = self.inner.max_per_send
        self.reconciles_by_local_id = False

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)


def test_a_provider_that_cannot_be_asked_stops_with_the_batch_to_check_never_resends(sim, write):
    cid = make_campaign(write, n=2_000)
    sim.set_faults(drop_rate=1.0)  # accepts, then drops the connection: fate unknown
    first = send_run(cid, Mode.START, factory=NoLocalIds)
    assert first.reason is not None and first.reason.code is Code.OUTCOME_UNKNOWN
    assert first.reason.params["batch"] == 0
    assert "pack" in first.reason.text("en") and "batch 0" in first.reason.text("en")
    sim.set_faults(drop_rate=0.0)
    submitted = sim.outbox()["total_submissions"]
    again = send_run(cid, Mode.REBUILD, factory=NoLocalIds)
    assert again.reason is not None and again.reason.code is Code.OUTCOME_UNKNOWN
    assert sim.outbox()["total_submissions"] == submitted  # nothing sent blind
    assert repo.balance() >= 0


def test_status_lookups_that_never_answer_stop_the_run_naming_the_batch_and_resend_nothing(
    sim, write, monkeypatch
):
    monkeypatch.setenv("CHAPAR_RECONCILE_PATIENCE_S", "1")
    get_settings.cache_clear()
    cid = make_campaign(write, n=2_000)
    sim.set_faults(drop_rate=1.0, fault_scope="all")  # sends and status lookups alike
    first = send_run(cid, Mode.START)
    assert first.reason is not None and first.reason.code is Code.STATUS_UNANSWERED
    assert first.reason.params["batch"] == 0 and first.reason.params["count"] > 0
    words = first.reason.text("en")
    assert "within 1 s" in words and "batch 0" in words and "rebuild" in words, words
    assert "دسته ۰" in first.reason.text("fa")
    submitted = sim.outbox()["total_submissions"]
    again = send_run(cid, Mode.REBUILD)  # still no answer: asks, never sends blind
    assert again.reason is not None and again.reason.code is Code.STATUS_UNANSWERED
    assert sim.outbox()["total_submissions"] == submitted
    sim.set_faults(drop_rate=0.0, fault_scope="send")
    assert rebuild_until_done(cid, most=3) <= 3
    assert_exactly_once(sim, cid)


def test_a_provider_that_cannot_be_reached_stops_the_run_saying_so(write, monkeypatch):
    monkeypatch.setenv("CHAPAR_SIMULATOR_PORT", "9")  # nothing listens: refused at once
    monkeypatch.setenv("CHAPAR_PROVIDER_RETRIES", "1")
    get_settings.cache_clear()
    cid = make_campaign(write, n=10)
    code, text = finished(chapar("send", str(cid)))
    assert code == 3, text
    assert (
        "provider unavailable: simulator sms/send.json: provider unreachable at 127.0.0.1:9" in text
    )
    assert repo.get_campaign(cid).status_reason.code is Code.PROVIDER_UNAVAILABLE  # type: ignore[union-attr]
    assert repo.balance() == 10**9  # nothing went out, nothing is charged
    assert_money_holds()  # and no hold is left behind
    assert_counters_match(cid)


def test_settling_a_batch_by_the_providers_report_records_what_went_out_and_resends_the_rest(
    sim, write
):
    cid = make_campaign(write, n=2_000)
    sim.set_faults(drop_rate=1.0)
    assert send_run(cid, Mode.START, factory=NoLocalIds).reason.code is Code.OUTCOME_UNKNOWN  # type: ignore[union-attr]
    sim.set_faults(drop_rate=0.0)
    held = [n for n, v in sim.outbox()["receptors"].items() if v["accepted"]]  # the pack report
    assert held  # the dropped requests reached the provider
    with pytest.raises(InputError) as refused:  # a number not of this batch changes nothing
        settle_batch(cid, 0, [*held[:3], "09990000000"])
    assert "09990000000" in refused.value.text("en")
    assert repo.get_campaign(cid).status_reason.code is Code.OUTCOME_UNKNOWN  # type: ignore[union-attr]
    settled = settle_batch(cid, 0, ["0" + n[2:] for n in held])  # as the report writes them
    assert settled.sent == len(held) and settled.given_back > 0
    assert "settled by hand" in repo.get_campaign(cid).status_reason.text("en")  # type: ignore[union-attr]
    assert rebuild_until_done(cid, most=3) <= 3  # the rest goes out; nothing twice
    assert_exactly_once(sim, cid)
    with pytest.raises(NotAllowed):
        settle_batch(cid, 0, [])  # nothing is awaiting settlement any more
    code, text = finished(chapar("settle", str(cid), "0"))
    assert code == 1 and "not awaiting settlement" in text and "Traceback" not in text


def test_a_process_that_lost_its_lease_writes_nothing(sim, write):
    cid = make_campaign(write, n=2_000)
    ref = begin_run(cid, Mode.START)
    with transaction() as con:  # as if its lease lapsed and another process took over
        con.execute(
            "UPDATE runs SET lease_owner = 'elsewhere:1:x' WHERE campaign_id = ? AND run_no = 1",
            [cid],
        )
    with pytest.raises(LeaseLost):
        send_batches(ref, [0])
    assert not finish_run(ref, RunStatus.UNFINISHED)
    with transaction() as con:
        row = con.execute("SELECT status FROM campaigns WHERE id = ?", [cid]).fetchone()
    assert row == ("sending",)  # the other process's campaign is left alone
    assert sim.outbox()["receptors"] == {}


@pytest.mark.slow
def test_no_second_sender_takes_over_while_a_slow_batch_outlasts_the_ttl(sim, write):
    """TTL 5 s; 0.4 s a request, one at a time: a batch of 6,000 takes ~12 s. The heartbeat
    keeps the lease, so every rebuild tried meanwhile is refused."""
    cid = make_campaign(write, n=6_000)
    sim.set_faults(latency_ms=400)
    slow = {**ONE_AT_A_TIME, "CHAPAR_LEASE_TTL_S": "5", "CHAPAR_BATCH_SIZE": "6000"}
    sender = chapar("send", str(cid), **slow)
    refused = 0
    time.sleep(1.0)
    while sender.poll() is None:
        code, text = finished(chapar("rebuild", str(cid), **slow))
        if sender.poll() is None or code != 0:
            assert code == 1 and ("sending now" in text or "only an unfinished" in text), text
            refused += 1
        time.sleep(1.5)
    assert sender.returncode == 0, sender.communicate()
    assert refused >= 2
    assert_exactly_once(sim, cid)


@pytest.mark.slow
def test_a_frozen_sender_is_taken_over_and_after_it_wakes_sends_and_records_nothing(sim, write):
    cid = make_campaign(write, n=4_000)
    sim.set_faults(latency_ms=200)
    slow = {**ONE_AT_A_TIME, "CHAPAR_BATCH_SIZE": "4000"}
    sender = chapar("send", str(cid), **slow)
    deadline = time.monotonic() + 30
    while sim.outbox()["total_accepted"] < 400:
        assert time.monotonic() < deadline and sender.poll() is None
        time.sleep(0.05)
    # Freeze while a request waits for its answer, as a sender mostly does, not in the
    # microseconds between the last lease check and a request's write: no provider can
    # fence a request already on its way (a repeated local id is no de-duplication), so
    # there no check can help. That the check comes after any wait is tests/test_deliver.py's.
    time.sleep(0.1)
    freeze_between_transactions(sender)
    try:
        time.sleep(4.0)  # past the TTL: the lease lapses
        sim.set_faults(latency_ms=0)
        code, text = finished(chapar("rebuild", str(cid)))
        assert code == 0, text
        taken_over = sim.outbox()["total_submissions"]
    finally:
        sender.send_signal(signal.SIGCONT)
    code, text = finished(sender)
    assert code == 1 and "another process took over" in text, text
    assert sim.outbox()["total_submissions"] == taken_over  # woke up and sent nothing
    assert repo.get_campaign(cid).status is CampaignStatus.COMPLETED
    assert_exactly_once(sim, cid)


def freeze_between_transactions(proc: subprocess.Popen[bytes]) -> None:
    """SIGSTOP the process at a moment it does not hold the DuckDB file: a process frozen
    while it holds the file blocks every other one until it wakes (DuckDB's lock is the
    file's); the lease protects what happens while it is frozen between transactions."""
    fds = Path(f"/proc/{proc.pid}/fd")
    for _ in range(200):
        proc.send_signal(signal.SIGSTOP)
        time.sleep(0.01)
        holding = False
        for fd in fds.iterdir():
            try:
                holding |= "chapar.duckdb" in os.readlink(fd)
            except OSError:
                continue
        if not holding:
            return
        proc.send_signal(signal.SIGCONT)
        time.sleep(0.02)
    raise AssertionError("the sender never let go of the database file")


def test_a_start_time_in_the_past_is_refused(write):
    from datetime import UTC, datetime

    repo.import_list("people", write("p.txt", "09120000000\n"))
    with pytest.raises(InputError, match="in the past") as refused:
        repo.create_campaign(
            "T", "hi", "30001234", ["people"], start_at=datetime(2020, 1, 1, tzinfo=UTC)
        )
    assert "the start time 2020-01-01 03:30 is in the past" in str(refused.value)  # Tehran
    assert "زمان شروع ۱۳۹۸/۱۰/۱۱ ۰۳:۳۰ گذشته است" in refused.value.text("fa")


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ("-100", "positive whole number"),
        ("0", "positive whole number"),
        ("1000000000000000000000000000000", "at most"),
        (str(2**63 - 10), "at most"),
        ("ten", "not a whole number"),
    ],
)
def test_a_bad_top_up_is_refused_with_what_is_wrong(amount, says):
    code, text = finished(chapar("credit", "topup", amount))
    assert code == 1 and says in text and "Traceback" not in text, text
    assert repo.balance() == 0


def test_a_top_up_in_persian_digits_is_read():
    code, text = finished(chapar("credit", "topup", "۱۰۰۰۰۰"))
    assert code == 0, text
    assert repo.balance() == 100_000


def test_the_balance_cannot_be_pushed_past_its_ceiling():
    from chapar.credit import MAX_BALANCE

    top = get_settings().max_topup
    for _ in range(MAX_BALANCE // top):
        repo.topup(top)
    with pytest.raises(InputError, match="above"):
        repo.topup(1)
    assert repo.balance() == MAX_BALANCE


def test_a_second_rebuild_while_one_runs_is_refused_by_the_lease(sim, write):
    cid = make_campaign(write, n=10)
    begin_run(cid, Mode.START)
    with pytest.raises(Busy, match="sending now"):
        send_run(cid, Mode.REBUILD)


def test_counters_follow_every_change_of_a_run(sim, write):
    from chapar.delivery import sync_statuses

    cid = make_campaign(write, n=1_500)
    send_run(cid, Mode.START)
    assert_counters_match(cid)
    time.sleep(0.1)
    sync_statuses()
    assert_counters_match(cid)
    summary = reports.campaign_summaries()[cid]
    assert summary["handed"] == 1_500 and summary["handed_all_runs"] == 1_500
