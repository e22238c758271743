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
    SENDER,
    app_fixture,
    campaign,
    click,
    go,
    menu,
    metric,
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
    assert menu(at, cid).button(key=f"resend_c{cid}").disabled
    assert "never sent" in texts(at)
    send_run(cid, Mode.START)
    sync_statuses()
    at = run_ok(app("en"))
    assert not menu(at, cid).button(key=f"resend_c{cid}").disabled
    click(menu(at, cid), f"resend_c{cid}")
    assert sends == [(cid, "resend")]
    assert "resend to undelivered" in texts(at)
    assert reports.run_report(cid).kind == "resend"


def test_a_test_send_from_the_menu_in_persian_and_its_refusal(app, people, simulator, monkeypatch):
    monkeypatch.setenv("CHAPAR_SIMULATOR_PORT", str(simulator.port))
    get_settings.cache_clear()
    repo.topup(10**6)
    cid = campaign()
    at = run_ok(app("fa"))
    menu(at, cid).text_input(key=f"test_numbers_c{cid}").set_value("09121234567، 09351234567")
    click(menu(at, cid), f"test_send_c{cid}")
    assert "ارسال آزمایشی به ۲ شماره انجام شد" in texts(at)
    assert repo.get_campaign(cid).current_run == 0
    menu(at, cid).text_input(key=f"test_numbers_c{cid}").set_value("123")
    click(menu(at, cid), f"test_send_c{cid}")
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


# --- journey12: the new-campaign preview on the sender line, defer capped, run kinds, ---------
# --- the program blacklist's reasons ------------------------------------------------------------

NAMED = [f"0912{i:07d}" for i in range(40)]
LONG_NAME = "ب" * 70  # makes its recipient's text two Persian pages


def named_list(write, name: str = "named") -> str:  # type: ignore[no-untyped-def]
    """A list whose file has a name column (نام): the first name long, every tenth empty."""
    rows = [
        f"{n},{LONG_NAME if i == 0 else '' if i % 10 == 5 else f'نام{i}'}"
        for i, n in enumerate(NAMED)
    ]
    repo.import_list(name, write(f"{name}.csv", "موبایل,نام\n" + "\n".join(rows) + "\n"))
    return name


def new_campaign_page(app, lang: str, message: str, source: str, sender: str = SENDER):  # type: ignore[no-untyped-def]
    at = go(run_ok(app(lang)), "new_campaign")
    at.text_input(key="new_title").set_value("Named")
    at.text_input(key="new_sender").set_value(sender)
    at.text_area(key="live_new_msg").set_value(message)
    at.multiselect(key="new_source").set_value([source])
    return run_ok(at)


def test_the_preview_prices_on_the_line_as_sending_charges(app, write, sends):
    """The line's footer, cap and per-recipient pages: the preview shows what repo.price
    (the CLI's price) says, and what the send then charges."""
    repo.topup(10**9)
    named = named_list(write)
    repo.set_line(SENDER, None, None, footer="لغو۱۱", cap=(1, 1))
    first = repo.create_campaign("First", "درود", SENDER, [named], send_count=10)
    send_run(first, Mode.START)  # its 10 numbers are at the line's cap now
    message = "سلام {نام|مشتری گرامی}"
    quote = repo.price(message, [named], sender=SENDER)
    # the first 10 are capped (or blacklisted: the provider blocked them when sent)
    assert (quote.capped + quote.blacklisted, quote.recipients) == (10, 30)
    assert (quote.min_pages, quote.max_pages) == (1, 1)  # the long name's number is capped
    at = new_campaign_page(app, "en", message, named)
    assert metric(at, "Recipients to send") == "30"
    assert metric(at, "Pages") == f"{quote.total_pages:,}"
    assert metric(at, "Money spent (Rial)") == f"{quote.cost:,}"
    assert metric(at, "At the frequency cap") == str(quote.capped)
    shown = texts(at)
    assert "Pages per recipient: fewest 1, most 1" in shown
    assert "The line's opt-out footer “لغو۱۱” ends every message" in shown
    assert "This line's cap: at most 1 messages in 1 Tehran day(s)" in shown
    assert f"{quote.capped} numbers are at the cap now and would be skipped." in shown
    samples = [t.value for t in at.text]
    assert samples == ["سلام نام10\nلغو۱۱", "سلام نام11\nلغو۱۱", "سلام نام12\nلغو۱۱"]
    at.checkbox(key="new_defer").check()
    run_ok(at)
    assert f"{quote.capped} numbers are at the cap now and are sent later" in texts(at)
    click(at, "new_create")
    cid = repo.list_campaigns()[0].id
    assert repo.get_campaign(cid).defer_capped is True
    balance = repo.balance()
    repo.set_defer_capped(cid, False)
    send_run(cid, Mode.START)
    sent = reports.recount(cid, 1)
    assert sum(pages for _, pages, _ in sent.values()) == quote.total_pages
    # what the preview priced is what was charged, less the messages the provider blocked
    # (never charged; each one page here)
    blocked = sent.get("blocked", (0, 0, 0))[0]
    assert balance - repo.balance() == quote.cost - blocked * 1_180


def test_the_preview_shows_per_recipient_pages_and_the_cores_refusal_in_persian(app, write):
    repo.topup(10**9)
    named = named_list(write)
    repo.set_line(SENDER, None, None, footer="لغو۱۱")
    at = new_campaign_page(app, "fa", "سلام {نام|مشتری گرامی}", named)
    quote = repo.price("سلام {نام|مشتری گرامی}", [named], sender=SENDER)
    assert (quote.min_pages, quote.max_pages, quote.recipients) == (1, 2, 40)
    assert metric(at, "مخاطبان قابل ارسال") == "۴۰"
    assert metric(at, "تعداد صفحات") == "۴۱"
    assert "صفحه‌های هر گیرنده: کمینه ۱، بیشینه ۲" in texts(at)
    assert [t.value for t in at.text][1:] == ["سلام نام1\nلغو۱۱", "سلام نام2\nلغو۱۱"]
    at.text_area(key="live_new_msg").set_value("سلام {نام}")
    run_ok(at)
    refusal = [e.value for e in at.error]
    assert any("گیرنده برای {نام} مقداری ندارند" in e for e in refusal), refusal
    assert any("۴ گیرنده" in e or "4 گیرنده" in e for e in refusal), refusal
    at.text_area(key="live_new_msg").set_value("سلام {شهر}")
    run_ok(at)
    assert any("شهر" in e and "ستون" in e for e in (e.value for e in at.error))
    click(at, "new_create")
    assert repo.list_campaigns() == []


def test_the_line_footer_and_cap_are_set_beside_the_campaign(app, people):
    at = new_campaign_page(app, "en", "شب یلدا مبارک", "people")
    at.checkbox(key=f"bq_footer_on_{SENDER}").check()
    at.radio(key=f"bq_cap_mode_{SENDER}").set_value("own")
    run_ok(at)
    at.text_input(key=f"bq_cap_n_{SENDER}").set_value("2")
    at.text_input(key=f"bq_cap_d_{SENDER}").set_value("۷")
    click(at, f"bq_line_save_{SENDER}")
    line = {x.sender: x for x in repo.lines()}[SENDER]
    assert (line.footer, line.cap_messages, line.cap_days) == ("لغو۱۱", 2, 7)
    shown = texts(at)
    assert "Line 30001234 saved." in shown
    assert "The line's opt-out footer “لغو۱۱” ends every message" in shown
    assert at.text[0].value == "شب یلدا مبارک\nلغو۱۱"


def test_defer_capped_is_set_on_the_edit_page_and_audited(app, people):
    cid = campaign()
    at = go(run_ok(app("fa")), "edit")
    box = at.checkbox(key=f"edit_defer_{cid}")
    assert box.value is False
    box.check()
    click(at, f"edit_save_{cid}")
    assert repo.get_campaign(cid).defer_capped is True
    assert "ارسال بعدی به شماره‌های در سقف" in texts(at)
    trail = [(a.field, a.old_value, a.new_value) for a in repo.audit_trail(cid)]
    assert ("defer_capped", "False", "True") in trail


@pytest.mark.parametrize(("lang", "latest", "first", "header"), [
    ("en", "Run 2 (latest) — resend to undelivered", "Run 1 — first send",
     "Run kind: resend to undelivered"),
    ("fa", "دور ۲ (آخرین) — ارسال مجدد به نرسیده‌ها", "دور ۱ — ارسال نخست",
     "نوع دور: ارسال مجدد به نرسیده‌ها"),
])  # fmt: skip
def test_the_reports_page_shows_each_runs_kind(app, people, sends, lang, latest, first, header):
    repo.topup(10**8)
    cid = campaign()
    send_run(cid, Mode.START)
    sync_statuses()
    send_run(cid, Mode.RESEND)
    at = go(run_ok(app(lang)), "reports")
    picker = at.selectbox(key=f"rep_run_{cid}")
    assert picker.options == [latest, first]
    assert header in texts(at)


def test_the_program_blacklist_counts_every_reason(app, people, sends, write):
    repo.topup(10**8)
    repo.import_blacklist(write("blacklist.txt", "09120000006\n"))
    suppressions.add_suppression("09120000001", "opted_out", line=SENDER)
    suppressions.add_suppression("09120000002", "manual")
    repo.set_line(SENDER, None, None, cap=(1, 1))
    earlier = campaign(title="Earlier", send_count=3)  # 09120000000..4: three sent
    send_run(earlier, Mode.START)
    cid = campaign()
    send_run(cid, Mode.START)
    sync_statuses()
    rep = reports.run_report(cid)
    at = go(run_ok(app("en")), "program_blacklist")
    assert metric(at, "Opted out") == "1"
    assert metric(at, "Added by hand") == "1"
    assert metric(at, "Frequency cap") == "3"
    assert metric(at, "Blocked by the provider") == f"{rep.n('blocked'):,}"
    assert metric(at, "Telecom blacklist") == f"{rep.n('blacklisted'):,}" != "0"
    table = at.dataframe[0].value
    assert len(table) == 5 + rep.n("blocked") + rep.n("blacklisted")
    at = go(run_ok(app("fa")), "program_blacklist")
    assert metric(at, "لغو عضویت") == "۱"
    assert metric(at, "سقف ارسال") == "۳"


def test_a_batch_of_unknown_fate_is_settled_from_the_menu_by_the_pack_report(
    app, people, simulator, monkeypatch
):
    from chapar.reasons import Code
    from tests.test_engine import NoLocalIds

    monkeypatch.setenv("CHAPAR_SIMULATOR_PORT", str(simulator.port))
    monkeypatch.setenv("CHAPAR_PROVIDER_TIMEOUT_S", "2")
    get_settings.cache_clear()
    repo.topup(10**8)
    cid = campaign()
    simulator.set_faults(drop_rate=1.0)  # accepted, then the connection drops: fate unknown
    try:
        send_run(cid, Mode.START, factory=NoLocalIds)
    finally:
        simulator.set_faults(drop_rate=0.0)
    held = [n for n, v in simulator.outbox()["receptors"].items() if v["accepted"]]
    at = run_ok(app("fa"))
    menu(at, cid).text_area(key=f"settle_numbers_c{cid}").set_value(
        "\n".join("0" + n[2:] for n in held)
    )
    click(menu(at, cid), f"settle_c{cid}")
    assert "پیام ارسال‌شده ثبت شد" in texts(at)
    reason = repo.get_campaign(cid).status_reason
    assert reason is not None and reason.code is Code.SETTLED
    assert reason.params["sent"] == len(held)
