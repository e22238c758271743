"""The frequency cap (issue 12): at planning, a number that already received N messages in
the last D Tehran calendar days, across campaigns, gets status ``capped`` (counted, in the
report and the preview), against the simulator over its real socket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chapar import reports
from chapar.campaigns import CampaignStatus, RunStatus
from chapar.frequency import window_start
from chapar.reasons import Code
from chapar.sending import Mode, send_run
from chapar.settings import get_settings
from chapar.store import repo, transaction
from tests.test_engine import chapar, finished
from tests.test_sending import numbers

pytestmark = pytest.mark.integration

LINE = "30001234"


@pytest.fixture
def sim(simulator, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHAPAR_SIMULATOR_PORT", str(simulator.port))
    monkeypatch.setenv("CHAPAR_CAP_MESSAGES", "1")
    monkeypatch.setenv("CHAPAR_CAP_DAYS", "1")
    get_settings.cache_clear()
    return simulator


def two_campaigns(write, first: int = 100, second: int = 300) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    repo.import_list("first", write("a.txt", "\n".join(numbers(first))))
    repo.import_list("second", write("b.txt", "\n".join(numbers(second))))
    repo.topup(10**8)
    a = repo.create_campaign("A", "سلام", LINE, ["first"])
    b = repo.create_campaign("B", "درود", LINE, ["second"])
    return a, b


def test_numbers_at_their_cap_are_capped_across_campaigns(sim, write):
    a, b = two_campaigns(write)
    send_run(a, Mode.START)
    blocked = reports.run_report(a).figures()["blocked"]  # blacklisted from now on: not capped
    assert repo.price("درود", ["second"], sender=LINE).capped == 100 - blocked
    result = send_run(b, Mode.START)
    assert (result.planned, result.sent) == (200, 200)
    figures = reports.run_report(b).figures()
    assert (figures["capped"], figures["blacklisted"], figures["sent"]) == (
        100 - blocked,
        blocked,
        200,
    )
    page, total = reports.numbers(b, status="capped", limit=1_000)
    assert total == 100 - blocked and set(page["number"]) < {"98" + n[1:] for n in numbers(100)}
    # every number reached the provider once: A's hundred, and B's other two hundred
    box = sim.outbox()["receptors"]
    assert len(box) == 300 and {v["accepted"] for v in box.values()} == {1}
    assert_exactly_once_per_campaign(sim, b)


def assert_exactly_once_per_campaign(sim, cid):  # type: ignore[no-untyped-def]
    from tests.invariants import assert_counters_match, assert_money_holds

    assert_money_holds(sim)
    assert_counters_match(cid)


def test_the_days_are_tehran_calendar_days(sim, write):
    a, b = two_campaigns(write)
    send_run(a, Mode.START)
    just_before = window_start(datetime.now(UTC), 1) - timedelta(seconds=1)  # yesterday, Tehran
    with transaction() as con:
        con.execute("UPDATE messages SET sent_at = ? WHERE campaign_id = ?", [just_before, a])
    send_run(b, Mode.START)
    assert reports.run_report(b).figures()["capped"] == 0


def test_a_line_sets_its_own_cap_or_none(sim, write):
    a, b = two_campaigns(write)
    send_run(a, Mode.START)
    repo.set_line(LINE, None, None, cap=(2, 7))  # two a week: the hundred may have one more
    assert repo.price("درود", ["second"], sender=LINE).capped == 0
    repo.set_line(LINE, None, None, cap=(1, 7))
    blocked = reports.run_report(a).figures()["blocked"]
    assert repo.price("درود", ["second"], sender=LINE).capped == 100 - blocked
    repo.set_line(LINE, None, None, cap=(0, 1))  # no cap on this line
    send_run(b, Mode.START)
    assert reports.run_report(b).figures()["capped"] == 0
    box = sim.outbox()["receptors"]
    assert sum(v["accepted"] for v in box.values()) == 100 + reports.run_report(b).handed
    assert_exactly_once_per_campaign(sim, b)


def test_the_cli_sets_a_line_cap_and_refuses_a_bad_one(sim, write):
    code, text = finished(chapar("line", "set", LINE, "--cap", "3", "--cap-days", "7"))
    assert code == 0 and "cap 3 in 7 day(s)" in text, text
    code, text = finished(chapar("line", "set", LINE, "--cap", "-1"))
    assert code == 1 and "frequency cap" in text and "Traceback" not in text, text
    assert repo.lines()[0].cap_messages == 3


def deferred_setup(write, sim) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    a, b = two_campaigns(write)
    send_run(a, Mode.START)
    blocked = reports.run_report(a).figures()["blocked"]
    repo.set_defer_capped(b, True)
    return a, b, 100 - blocked


def test_deferred_numbers_wait_in_the_same_run_and_go_once_when_their_cap_frees(
    sim, write, monkeypatch
):
    monkeypatch.setenv("CHAPAR_BATCH_SIZE", "40")
    get_settings.cache_clear()
    a, b, at_cap = deferred_setup(write, sim)
    first = send_run(b, Mode.START)
    assert first.status is RunStatus.WAITING
    assert first.reason is not None and first.reason.code is Code.CAP_WAIT
    midnight = window_start(datetime.now(UTC) + timedelta(days=1), 1)  # next Tehran midnight
    assert first.resume_at == midnight
    assert (first.planned, first.sent) == (200 + at_cap, 200)
    assert repo.get_campaign(b).status is CampaignStatus.SCHEDULED
    assert reports.run_report(b).n("pending") == at_cap
    again = send_run(b, Mode.RESUME)  # too early: still waiting, nothing sent
    assert (again.status, again.sent) == (RunStatus.WAITING, 0)

    with transaction() as con:  # the clock passes midnight: A's messages were yesterday's
        con.execute(
            "UPDATE messages SET sent_at = sent_at - INTERVAL 1 DAY WHERE campaign_id = ?", [a]
        )
        con.execute(
            "UPDATE batches SET not_before = now() - INTERVAL 1 SECOND WHERE campaign_id = ?", [b]
        )
    done = send_run(b, Mode.RESUME)

    assert (done.status, done.run_no, done.sent) == (RunStatus.COMPLETED, 1, at_cap)
    figures = reports.run_report(b).figures()
    assert (figures["sent"], figures["capped"], figures["pending"]) == (200 + at_cap, 0, 0)
    box = sim.outbox()["receptors"]
    twice = {n for n, v in box.items() if v["accepted"] == 2}
    assert len(twice) == at_cap and all(v["submissions"] == v["accepted"] for v in box.values())
    assert_exactly_once_per_campaign(sim, b)


def test_a_deferred_number_capped_again_meanwhile_is_capped_not_sent(sim, write):
    _a, b, at_cap = deferred_setup(write, sim)
    assert send_run(b, Mode.START).status is RunStatus.WAITING
    with transaction() as con:  # its time came, but today's message still fills the cap
        con.execute(
            "UPDATE batches SET not_before = now() - INTERVAL 1 SECOND WHERE campaign_id = ?", [b]
        )
    done = send_run(b, Mode.RESUME)
    assert (done.status, done.sent) == (RunStatus.COMPLETED, 0)
    assert reports.run_report(b).figures()["capped"] == at_cap
    assert_exactly_once_per_campaign(sim, b)


def test_the_cli_defers_capped_numbers_and_says_how_to_resume(sim, write):
    a, b = two_campaigns(write)
    send_run(a, Mode.START)
    code, text = finished(chapar("send", str(b), "--defer-capped"))
    assert code == 0 and "waiting" in text and "frequency cap" in text, text
    assert f"chapar resume {b}" in text
    assert repo.get_campaign(b).defer_capped
