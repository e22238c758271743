"""The dashboard's issue-12 parts through AppTest, in Persian and English: resend to the
undelivered and test send in the Features menu, and the opt-outs and replies page."""

from __future__ import annotations

import pytest

from chapar import reports, suppressions
from chapar.delivery import sync_statuses
from chapar.sending import Mode, send_run
from chapar.settings import get_settings
from chapar.store import repo
from tests.dashboard_fixtures import (  # noqa: F401  (fixtures: app, people, sends)
    app_fixture,
    campaign,
    click,
    go,
    people_fixture,
    run_ok,
    sends_fixture,
    texts,
)

pytestmark = pytest.mark.integration


def test_resend_is_offered_only_where_allowed_and_starts_a_resend_run(app, people, sends):
    repo.topup(10**8)
    cid = campaign()
    at = run_ok(app("en"))
    assert at.button(key=f"resend_c{cid}").disabled
    assert "never sent" in texts(at)
    send_run(cid, Mode.START)
    sync_statuses()
    at = run_ok(app("en"))
    assert not at.button(key=f"resend_c{cid}").disabled
    click(at, f"resend_c{cid}")
    assert sends == [(cid, "resend")]
    assert "resend to undelivered" in texts(at)
    assert reports.run_report(cid).kind == "resend"


def test_a_test_send_from_the_menu_in_persian_and_its_refusal(app, people, simulator, monkeypatch):
    monkeypatch.setenv("CHAPAR_SIMULATOR_PORT", str(simulator.port))
    get_settings.cache_clear()
    repo.topup(10**6)
    cid = campaign()
    at = run_ok(app("fa"))
    at.text_input(key=f"test_numbers_c{cid}").set_value("09121234567، 09351234567")
    click(at, f"test_send_c{cid}")
    assert "ارسال آزمایشی به ۲ شماره انجام شد" in texts(at)
    assert repo.get_campaign(cid).current_run == 0
    at.text_input(key=f"test_numbers_c{cid}").set_value("123")
    click(at, f"test_send_c{cid}")
    assert "شماره‌ی موبایل ایرانی نیست" in texts(at)


@pytest.mark.parametrize(("lang", "title", "added"), [
    ("en", "Opt-outs and replies", "added: Opted out (line:30001234)"),
    ("fa", "لغو و پاسخ‌ها", "ثبت شد: لغو عضویت (line:30001234)"),
])  # fmt: skip
def test_the_ledger_page_adds_checks_and_lists(app, lang, title, added):
    suppressions.add_suppression("09120000009", "manual")
    at = go(run_ok(app(lang)), "optout")
    assert at.title[0].value == title
    at.text_input(key="ox_add_number").set_value("09120000001")
    at.text_input(key="ox_add_line").set_value("30001234")
    click(at, "ox_do_add")
    assert added in texts(at)
    assert [r.kind for r in suppressions.suppressions("09120000001")] == ["opted_out"]
    at.text_input(key="ox_check_number").set_value("09120000001")
    at.text_input(key="ox_check_line").set_value("30001234")
    click(at, "ox_do_check")
    assert ("opted out" if lang == "en" else "لغو عضویت") in texts(at)
    assert at.dataframe[0].value.shape[0] == 2


def test_the_ledger_page_reads_replies(app, people, simulator, monkeypatch):
    monkeypatch.setenv("CHAPAR_SIMULATOR_PORT", str(simulator.port))
    get_settings.cache_clear()
    repo.topup(10**8)
    simulator.set_faults(reply_rate=0.0)  # only the reply injected here
    cid = campaign()
    send_run(cid, Mode.START)
    simulator.inject("989120000003", "لغو ۱۱")
    at = go(run_ok(app("en")), "optout")
    click(at, "ox_sync")
    assert "1 new replies: 1 opted out, 0 opted in, 0 other" in texts(at)
    assert suppressions.effective("09120000003", "30001234")[1] == "opted_out"
