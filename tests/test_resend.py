"""Resend to the undelivered (issue 12): a new run of the latest run's undelivered and
failed numbers only, against the simulator over its real socket; exactly once a run, the
money invariant and the counters hold, and the reset counter stays."""

from __future__ import annotations

import pytest

from chapar import reports
from chapar.campaigns import CampaignStatus, RunStatus
from chapar.delivery import sync_statuses
from chapar.errors import NotAllowed
from chapar.reasons import Code
from chapar.sending import Mode, send_run
from chapar.settings import get_settings
from chapar.store import repo
from chapar.suppressions import add_suppression
from tests.test_engine import chapar, finished
from tests.test_sending import assert_exactly_once, make_campaign, planned_numbers

pytestmark = pytest.mark.integration


@pytest.fixture
def sim(simulator, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHAPAR_SIMULATOR_PORT", str(simulator.port))
    monkeypatch.setenv("CHAPAR_BATCH_SIZE", "500")
    get_settings.cache_clear()
    return simulator


def statuses(cid: int, run_no: int) -> dict[str, str]:
    page, _ = reports.numbers(cid, run_no, limit=10**9)
    return dict(zip(page["number"], page["status"], strict=True))


def test_a_resend_sends_only_the_undelivered_and_failed_numbers_once(sim, write):
    cid = make_campaign(write, n=2_000)
    assert send_run(cid, Mode.START).status is RunStatus.COMPLETED
    sync_statuses()
    first = statuses(cid, 1)
    again = {n for n, s in first.items() if s in ("undelivered", "failed")}
    assert 100 < len(again) < 400  # ≈11 % in the simulator
    opted = sorted(again)[0]
    add_suppression(opted, "opted_out", line="30001234", source="test")

    result = send_run(cid, Mode.RESEND)

    assert result.status is RunStatus.COMPLETED
    assert (result.run_no, result.planned) == (2, len(again) - 1)
    second = statuses(cid, 2)
    assert set(second) == again  # nobody else: delivered, blocked, blacklisted not taken up
    assert second[opted] == "opted_out"
    assert planned_numbers(cid, 2) == again - {opted}
    campaign = repo.get_campaign(cid)
    assert (campaign.current_run, campaign.reset_count) == (2, 0)
    assert campaign.status is CampaignStatus.COMPLETED
    assert reports.run_report(cid, 2).kind == "resend"
    assert reports.runs(cid)["kind"].to_list() == ["send", "resend"]
    assert_exactly_once(sim, cid, runs=2)


def test_a_resend_is_refused_with_its_reason_and_changes_nothing(sim, write):
    cid = make_campaign(write, n=300)
    with pytest.raises(NotAllowed) as never:
        send_run(cid, Mode.RESEND)
    assert never.value.reason.code is Code.NEVER_SENT
    sim.set_faults(delivery_delay_s=600)  # every status stays "sent": nothing undelivered
    send_run(cid, Mode.START)
    with pytest.raises(NotAllowed) as nothing:
        send_run(cid, Mode.RESEND)
    assert nothing.value.reason.code is Code.NOTHING_TO_RESEND
    assert repo.get_campaign(cid).current_run == 1
    code, text = finished(chapar("resend", str(cid), "--yes"))
    assert code == 1 and "no undelivered or failed message" in text, text


def test_an_unfinished_campaign_is_rebuilt_not_resent(sim, write):
    cid = make_campaign(write, n=1_000, credit=300 * 1_180)  # credit for 300 only
    assert send_run(cid, Mode.START).status is RunStatus.UNFINISHED
    sync_statuses()
    with pytest.raises(NotAllowed) as refused:
        send_run(cid, Mode.RESEND)
    assert refused.value.reason.code is Code.RESEND_NOT_COMPLETED
    assert "rebuild" in refused.value.text("en")


def test_the_cli_resends_and_reports_the_run(sim, write):
    cid = make_campaign(write, n=1_000)
    code, text = finished(chapar("send", str(cid)))
    assert code == 0, text
    sync_statuses()
    code, text = finished(chapar("resend", str(cid), "--yes"))
    assert code == 0 and "run 2: completed" in text, text
    code, text = finished(chapar("report", str(cid)))
    assert "run 2" in text and "resend" in text, text
    assert_exactly_once(sim, cid, runs=2)
