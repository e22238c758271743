"""Test send (issue 12): the campaign's text to 1-5 of one's own numbers through the
simulator over its real socket; charged, in the audit and the ledger, never a run; refusals
change nothing."""

from __future__ import annotations

import pytest

from chapar import credit, testsend
from chapar.errors import InputError
from chapar.reasons import Code
from chapar.settings import get_settings
from chapar.store import connect, repo
from tests.invariants import assert_money_holds
from tests.test_engine import chapar, finished
from tests.test_sending import make_campaign

pytestmark = pytest.mark.integration


@pytest.fixture
def sim(simulator, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHAPAR_SIMULATOR_PORT", str(simulator.port))
    get_settings.cache_clear()
    return simulator


def ledger_rows() -> int:
    with connect() as con:
        return int(con.execute("SELECT count(*) FROM ledger").fetchone()[0])  # type: ignore[index]


def test_a_test_send_reaches_the_numbers_is_charged_and_is_no_run(sim, write):
    cid = make_campaign(write, n=10, credit=100_000, message="سلام")
    repo.set_line("30001234", None, None, footer="لغو۱۱")

    result = testsend.test_send(cid, ["09350000001", "+989120000099", "09350000001"])

    assert result.text == "سلام\nلغو۱۱"  # the line's footer, as the campaign will send it
    assert result.sent == {"989350000001": "sent", "989120000099": "sent"}
    assert result.cost == 2 * 1_180
    assert repo.balance() == 100_000 - 2 * 1_180
    box = sim.outbox()
    assert set(box["receptors"]) == {"989350000001", "989120000099"}
    campaign = repo.get_campaign(cid)
    assert (campaign.current_run, campaign.status.value) == (0, "draft")  # never a run
    audit = [a for a in repo.audit_trail(cid) if a.action == "test_send"]
    assert len(audit) == 1 and "989350000001:sent" in (audit[0].new_value or "")
    notes = [e.note for e in repo.ledger(5) if e.kind == "charge"]
    assert notes == ["test send, 2 messages"]
    assert_money_holds(sim)
    with connect() as con:
        assert credit.check_money(con).held == 0


def test_variables_take_the_first_recipients_values_or_the_given_ones(sim, write):
    from tests.test_personalised import LONG, people_with_names

    people_with_names(write, n=10)
    cid = repo.create_campaign("T", "سلام {نام|دوست} از {شهر}", "30001234", ["people"])
    first = testsend.test_send(cid, ["09350000001"])
    named = testsend.test_send(cid, ["09350000001"], testsend.parse_values(["نام=مریم"]))
    assert first.text == f"سلام {LONG} از تهران" and first.pages == 2
    assert named.text == "سلام مریم از تهران"  # a variable not given takes its fallback


@pytest.mark.parametrize(
    ("numbers", "code"),
    [
        ([], Code.TEST_SEND_COUNT),
        ([f"0912000000{i}" for i in range(6)], Code.TEST_SEND_COUNT),
        (["09120000001", "12345"], Code.TEST_SEND_INVALID_NUMBER),
    ],
)
def test_bad_numbers_are_refused_and_nothing_is_written(sim, write, numbers, code):
    cid = make_campaign(write, n=10)
    before = ledger_rows()
    with pytest.raises(InputError) as refused:
        testsend.test_send(cid, numbers)
    assert refused.value.code is code
    assert ledger_rows() == before and sim.outbox()["receptors"] == {}


def test_a_test_send_the_credit_does_not_cover_is_refused(sim, write):
    cid = make_campaign(write, n=10, credit=1_000)  # one Persian page costs 1,180
    with pytest.raises(InputError) as refused:
        testsend.test_send(cid, ["09120000001"])
    assert refused.value.code is Code.TEST_SEND_CREDIT
    assert "1,180" in refused.value.text("en") and "1,000" in refused.value.text("en")
    assert repo.balance() == 1_000 and sim.outbox()["receptors"] == {}


def test_the_cli_test_sends_and_refuses_with_a_reason(sim, write):
    cid = make_campaign(write, n=10)
    code, text = finished(chapar("test-send", str(cid), "09120000001"))
    assert code == 0 and "989120000001: sent" in text, text
    code, text = finished(chapar("test-send", str(cid), *[f"0912000000{i}" for i in range(6)]))
    assert code == 1 and "1 to 5 numbers, not 6" in text and "Traceback" not in text, text
    assert_money_holds(sim)
