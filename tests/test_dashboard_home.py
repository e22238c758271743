"""The dashboard's home page (پیشخوان) and its Features menu, through AppTest."""

from __future__ import annotations

import html
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from chapar import reports
from chapar.campaigns import CampaignStatus
from chapar.reasons import Code, Reason
from chapar.sending import Mode, begin_run, send_run
from chapar.store import repo
from dashboards import data
from tests.dashboard_fixtures import (  # noqa: F401  (fixtures: app, people, sends)
    app_fixture,
    buttons,
    campaign,
    click,
    go,
    menu,
    metric,
    people_fixture,
    progress_texts,
    run_ok,
    sends_fixture,
    texts,
    title,
)

INSUFFICIENT_CREDIT = Reason(Code.INSUFFICIENT_CREDIT)


def language_switch(at: AppTest) -> tuple[str, dict[str, str]]:
    """The sidebar's language switch: the current language's name, and the other
    languages' names -> their links."""
    body = next(str(h.proto.body) for h in at.sidebar.get("html")
                if 'data-testid="chaparLanguage"' in str(h.proto.body))  # fmt: skip
    current = re.findall(r'aria-current="true"[^>]*>([^<]+)<', body)
    links = re.findall(r'<a [^>]*href="([^"]+)"[^>]*>([^<]+)</a>', body)
    assert len(current) == 1, body
    return current[0], {name: html.unescape(href) for href, name in links}


def test_home_is_persian_first_and_the_switch_changes_every_label(app):
    at = run_ok(app("fa"))
    assert title(at) == "پیشخوان"
    assert metric(at, "اعتبار حساب") == "۰ ریال"
    assert "هنوز کمپینی نیست" in texts(at)
    assert language_switch(at) == ("فارسی", {"English": "?lang=en"})

    at.query_params["lang"] = "en"  # what a click on "English" does (in the same session)
    run_ok(at)
    assert title(at) == "Dashboard"
    assert metric(at, "Credit balance") == "0 Rial"
    assert language_switch(at) == ("English", {"فارسی": "?lang=fa"})

    at.query_params["lang"] = "fa"
    run_ok(at)
    assert title(at) == "پیشخوان"


def test_the_switch_keeps_the_other_parameters_of_the_url(app, people):
    cid = campaign()
    at = app("fa")
    at.query_params["campaign"] = str(cid)
    at.switch_page("views/reports.py")
    run_ok(at)
    assert language_switch(at)[1] == {"English": f"?campaign={cid}&lang=en"}


def test_persian_numbers_and_labels_on_a_campaign_card(app, people):
    repo.topup(1_234_567)
    cid = campaign()
    at = menu(run_ok(app("fa")), cid)
    assert metric(at, "اعتبار حساب") == "۱٬۲۳۴٬۵۶۷ ریال"
    shown = texts(at)
    assert "#۱ — \u2068Yalda\u2069" in shown  # a Latin title isolated in the Persian page
    assert "پیش‌نویس" in shown  # draft
    keys = buttons(at)
    assert keys[f"send_c{cid}"].label == "ارسال"
    assert keys[f"reset_c{cid}"].label == "ریست شود"
    assert keys[f"rebuild_c{cid}"].label == "بازسازی برنامه نا تمام"
    assert "هنوز ارسال نشده؛ ابتدا ارسال کنید" in shown  # why Reset is not offered


def test_a_closed_features_menu_sends_no_entries_and_opening_it_builds_them(app, people):
    cid = campaign()
    at = run_ok(app())
    assert f"send_c{cid}" not in buttons(at)  # closed: nothing of it sent to the browser
    assert buttons(menu(at, cid))[f"send_c{cid}"].label == "Send"


def test_a_closed_menu_is_a_link_in_its_card_that_opens_it_once(app, people):
    cid = campaign()
    at = run_ok(app())
    assert not at.get("popover")  # closed: a button in the card's HTML, no popover
    tags = [tag for h in at.get("html") for tag in re.findall(r"<a [^>]*>", str(h.proto.body))
            if 'data-testid="chaparMenuButton"' in tag]  # fmt: skip
    assert len(tags) == 1
    href = html.unescape(re.search(r'href="([^"]+)"', tags[0])[1])
    assert href == f"?lang=en&features={cid}"  # what a click puts in the URL (in place)
    at.query_params["features"] = str(cid)
    run_ok(at)
    assert buttons(at)[f"send_c{cid}"].label == "Send"  # drawn open, with its entries
    assert "features" not in at.query_params  # read once: a reload does not open it again
    assert at.session_state[f"features_c{cid}"] is True
    at.query_params["features"] = "999"  # a campaign not on the page: dropped all the same
    assert "features" not in run_ok(at).query_params


def test_features_menu_offers_each_action_only_where_allowed_with_the_reason(app, people):
    cid = campaign()
    at = menu(run_ok(app()), cid)
    keys = buttons(at)
    allowed = {k.removesuffix(f"_c{cid}") for k, b in keys.items()
               if k.endswith(f"_c{cid}") and not b.disabled}  # fmt: skip
    assert allowed == {"edit", "reports", "blacklist", "send", "archive", "test_send"}
    shown = texts(at)
    assert "Not available: never sent: send it first" in shown  # reset
    assert "Not available: only an unfinished run can be rebuilt" in shown
    assert "Not available: only a scheduled or sending campaign has a schedule to cut" in shown
    assert not [b for b in at.button if "delete" in b.label.lower() or "حذف" in b.label]


def test_send_from_the_menu_shows_progress_and_a_second_click_is_harmless(
    app, people, sends, simulator
):
    repo.topup(10**9)
    cid = campaign()
    # two browser tabs on the same campaign, each with its Features menu open
    tab1, tab2 = menu(run_ok(app()), cid), menu(run_ok(app()), cid)

    click(tab1, f"send_c{cid}")
    assert "Sending “Yalda” (send) started." in texts(tab1)
    assert repo.get_campaign(cid).status is CampaignStatus.COMPLETED
    assert "120 of 120 sent | Run 1" in progress_texts(tab1)
    assert metric(tab1, "Pages") == "120"
    assert buttons(menu(tab1, cid))[f"send_c{cid}"].disabled  # sent: now Reset is the way

    click(tab2, f"send_c{cid}")  # the stale tab still shows Send
    assert "already sent: use reset to send it again" in texts(tab2)
    assert sends == [(cid, "start")]
    outbox = simulator.outbox()["receptors"]
    assert len(outbox) == 120
    assert {v["accepted"] for v in outbox.values()} == {1}


def test_a_send_while_another_process_sends_is_refused_with_a_message(app, people, sends):
    repo.topup(10**9)
    cid = campaign()
    at = menu(run_ok(app()), cid)  # the menu open, drawn before the other process began
    begin_run(cid, Mode.START)  # a sending flow holds the lease now
    click(at, f"send_c{cid}")
    assert f"campaign {cid} is sending now" in texts(at)
    assert sends == []
    assert buttons(menu(at, cid))[f"archive_c{cid}"].disabled  # nor archive while sending
    assert buttons(menu(at, cid))[f"edit_c{cid}"].disabled


def test_archive_moves_a_campaign_to_archived_and_unarchive_brings_it_back(app, people):
    cid = campaign()
    other = campaign(title="Nowruz")
    at = run_ok(app())
    click(menu(at, cid), f"archive_c{cid}")
    assert "“Yalda” was archived." in texts(at)
    assert f"archive_c{cid}" not in buttons(menu(at, cid))  # no card, no menu
    assert f"archive_c{other}" in buttons(menu(at, other))

    go(at, "archived")
    assert "#1 — Yalda (archived)" in texts(at)
    assert "Nothing deletes a campaign" in texts(at)
    assert not [b for b in at.button if "delete" in b.label.lower()]
    click(at, f"unarchive_c{cid}")
    assert "“Yalda” is back on the dashboard." in texts(at)
    assert "No campaign is archived." in texts(at)

    go(at, "home")
    assert f"archive_c{cid}" in buttons(menu(at, cid))
    trail = [(a.action, a.field) for a in repo.audit_trail(cid)]
    assert ("archive", "archived") in trail and ("unarchive", "archived") in trail


def test_reset_asks_first_then_starts_a_new_run_and_counts_it(app, people, sends):
    repo.topup(10**9)
    cid = campaign()
    at = run_ok(app())
    click(menu(at, cid), f"send_c{cid}")
    assert metric(at, "Resets") == "0"

    click(menu(at, cid), f"reset_c{cid}")
    assert "Reset “Yalda”?" in texts(at)
    click(at, f"reset_no_c{cid}")  # cancel: nothing happens
    assert "Reset “Yalda”?" not in texts(at)
    assert repo.get_campaign(cid).reset_count == 0

    click(menu(at, cid), f"reset_c{cid}")
    click(at, f"reset_yes_c{cid}")
    assert sends == [(cid, "start"), (cid, "reset")]
    assert metric(at, "Resets") == "1"
    # Numbers the provider reported blocked in run 1 joined the blacklist: run 2 skips them.
    planned = reports.run_report(cid, 2).planned
    assert 0 < planned <= 120
    assert f"{planned} of {planned} sent | Run 2" in progress_texts(at)
    c = repo.get_campaign(cid)
    assert (c.reset_count, c.current_run, c.status) == (1, 2, CampaignStatus.COMPLETED)


def test_rebuild_is_offered_only_for_an_unfinished_run_and_finishes_it(
    app, people, sends, simulator
):
    repo.topup(60 * 1_180)  # credit for 60 of the 120 Persian one-page messages
    cid = campaign()
    at = run_ok(app())
    assert buttons(menu(at, cid))[f"rebuild_c{cid}"].disabled
    click(menu(at, cid), f"send_c{cid}")  # the credit does not cover it: the page asks first
    assert repo.get_campaign(cid).status is CampaignStatus.DRAFT
    shown = texts(at)
    assert "This send costs 141,600 Rial, more than the credit (70,800 Rial)" in shown
    assert "the credit covers about 60 of 120 messages" in shown
    assert "Top up first" in [link.label for link in at.get("page_link")]
    click(at, f"start_yes_c{cid}")  # "Send what the credit covers"
    c = repo.get_campaign(cid)
    assert (c.status, c.status_reason) == (CampaignStatus.UNFINISHED, INSUFFICIENT_CREDIT)
    assert "unfinished — insufficient credit" in texts(at)
    assert "60 of 120 sent | Run 1" in progress_texts(at)
    assert not buttons(menu(at, cid))[f"rebuild_c{cid}"].disabled

    repo.topup(10**9)
    click(menu(at, cid), f"rebuild_c{cid}")
    assert repo.get_campaign(cid).status is CampaignStatus.COMPLETED
    assert buttons(menu(at, cid))[f"rebuild_c{cid}"].disabled
    assert "120 of 120 sent | Run 1" in progress_texts(at)
    outbox = simulator.outbox()["receptors"]
    assert len(outbox) == 120 and {v["accepted"] for v in outbox.values()} == {1}


def test_cut_schedule_cancels_a_scheduled_campaign(app, people):
    cid = campaign(start_at=datetime.now(UTC) + timedelta(days=1))
    at = run_ok(app())
    assert "scheduled" in texts(at)
    click(menu(at, cid), f"cut_c{cid}")
    assert (
        "The schedule of “Yalda” was cut before anything was sent: set a new time, or "
        "choose Send in its Features menu." in texts(at)
    )
    assert repo.get_campaign(cid).status is CampaignStatus.CANCELLED
    assert buttons(menu(at, cid))[f"cut_c{cid}"].disabled


def test_an_unreachable_prefect_is_a_clear_message_not_a_traceback(app, people, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # nothing listens
    repo.topup(10**9)
    cid = campaign()
    at = run_ok(app())
    click(menu(at, cid), f"send_c{cid}")
    assert "the Prefect server at http://127.0.0.1:9/api does not answer" in texts(at)
    assert "CHAPAR_SEND_INPROCESS=1" in texts(at)
    assert repo.get_campaign(cid).status is CampaignStatus.DRAFT


def test_in_process_mode_sends_in_a_background_thread(people, simulator, monkeypatch):
    monkeypatch.setenv("CHAPAR_SIMULATOR_PORT", str(simulator.port))
    monkeypatch.setenv("CHAPAR_SEND_INPROCESS", "1")
    from chapar.settings import get_settings

    get_settings.cache_clear()
    repo.topup(10**9)
    cid = campaign()
    assert data.trigger(cid, "start") is None
    deadline = time.monotonic() + 20
    while repo.get_campaign(cid).status is not CampaignStatus.COMPLETED:
        assert time.monotonic() < deadline, repo.get_campaign(cid)
        time.sleep(0.05)
    assert len(simulator.outbox()["receptors"]) == 120
    with pytest.raises(Exception, match="already sent"):
        data.trigger(cid, "start")


def test_a_double_click_before_the_prefect_flow_begins_starts_one_send(app, people, monkeypatch):
    calls: list[tuple[int, str]] = []

    def handed_to_prefect(campaign_id: int, mode: str) -> str:
        calls.append((campaign_id, mode))
        return "http://127.0.0.1:4200/runs/flow-run/0b5e"

    monkeypatch.setattr(data, "start_send", handed_to_prefect)
    repo.topup(10**9)
    cid = campaign()
    at = run_ok(app())
    click(menu(at, cid), f"send_c{cid}")
    shown = texts(at)
    assert "(http://127.0.0.1:4200/runs/flow-run/0b5e)" in shown  # the Prefect link
    # the card refreshes itself until the flow begins
    assert "Sending or delivery statuses in progress" in shown
    click(menu(at, cid), f"send_c{cid}")  # still a draft: the flow has not begun yet
    assert re.search(r"this was started \d+ s ago and is still queued", texts(at))
    assert calls == [(cid, "start")]


def test_the_card_shows_the_delivered_rate_and_totals_across_all_runs(app, people, sends):
    from chapar.delivery import sync_statuses

    repo.topup(10**9)
    cid = campaign()
    at = run_ok(app())
    click(menu(at, cid), f"send_c{cid}")
    sync_statuses()
    click(menu(at, cid), f"reset_c{cid}")
    click(at, f"reset_yes_c{cid}")
    sync_statuses()
    at.run()
    one, two = reports.run_report(cid, 1), reports.run_report(cid, 2)
    handed, delivered = one.handed + two.handed, one.n("delivered") + two.n("delivered")
    rate = f"{100 * delivered / handed:.1f}".rstrip("0").rstrip(".")
    shown = texts(at)
    assert (f"All runs (2): {handed:,} sent, {delivered:,} delivered ({rate}%), "
            f"{one.pages + two.pages:,} pages, {one.cost + two.cost:,} Rial") in shown  # fmt: skip
    now = f"{100 * two.n('delivered') / two.handed:.1f}".rstrip("0").rstrip(".")
    assert metric(at, "Delivered") == f"{now}%"  # the current run's rate
    assert metric(at, "Money spent (Rial)") == f"{two.cost:,}"  # the current run's money


def test_the_language_is_kept_in_the_url(app):
    from tests.dashboard_fixtures import APP

    at = run_ok(app("en"))
    assert at.query_params["lang"] in ("en", ["en"])
    fresh = AppTest.from_file(str(APP), default_timeout=30)  # a reload: a new session
    fresh.query_params["lang"] = "en"
    run_ok(fresh)
    assert title(fresh) == "Dashboard"
    assert title(run_ok(AppTest.from_file(str(APP), default_timeout=30))) == "پیشخوان"
    # the URL decides: a session that was in English follows a link (or Back) to Persian
    at.query_params["lang"] = "fa"
    assert title(run_ok(at)) == "پیشخوان"


def test_a_send_count_is_priced_as_it_is_sent(app, people, sends):
    repo.topup(10**9)
    cid = campaign(send_count=50)
    quoted = repo.price("شب یلدا مبارک", ["people"], send_count=50)
    at = run_ok(app())
    click(menu(at, cid), f"send_c{cid}")
    rep = reports.run_report(cid)
    charged = -sum(e.amount for e in repo.ledger(100) if e.kind == "charge")
    assert (quoted.recipients, quoted.cost) == (rep.handed, charged) == (50, 50 * 1_180)


def test_reset_says_what_it_will_cost_and_offers_a_top_up_when_short(app, people, sends):
    repo.topup(120 * 1_180)  # exactly one run
    cid = campaign()
    at = run_ok(app())
    click(menu(at, cid), f"send_c{cid}")
    click(menu(at, cid), f"reset_c{cid}")
    shown = texts(at)
    est = data.estimate(repo.get_campaign(cid), "reset")  # numbers blocked in run 1 now skipped
    assert 0 < est.balance < est.cost == est.messages * 1_180
    assert "Reset “Yalda”?" in shown
    assert (f"Estimate: {est.messages} messages, {est.pages} pages, {est.cost:,} Rial; "
            f"credit: {est.balance:,} Rial.") in shown  # fmt: skip
    assert f"the credit covers about {est.covered} of {est.messages} messages" in shown
    assert buttons(at)[f"reset_yes_c{cid}"].label == "Send what the credit covers"
    assert "Top up first" in [link.label for link in at.get("page_link")]
    click(at, f"reset_no_c{cid}")
    assert repo.get_campaign(cid).current_run == 1


def test_a_scheduled_card_says_when_it_sends_and_warns_outside_the_window(app, people):
    from datetime import time as clock
    from zoneinfo import ZoneInfo

    repo.set_line("30001234", "08:00-21:00", None)
    tehran = ZoneInfo("Asia/Tehran")
    night = datetime.combine(datetime.now(tehran).date() + timedelta(days=2), clock(23, 30),
                             tzinfo=tehran)  # fmt: skip
    cid = campaign(start_at=night)
    at = run_ok(app())
    shown = texts(at)
    assert f"Sends at {night:%Y-%m-%d} 23:30 (Tehran time)" in shown
    assert "outside line 30001234's sending window (08:00-21:00)" in shown
    at = run_ok(app("fa"))
    jalali = i18n_when(night)
    assert f"ارسال در {jalali} (به وقت تهران)" in texts(at)
    assert cid == 1


def i18n_when(moment: datetime) -> str:
    from dashboards import i18n

    return i18n.when(moment)  # outside a session: Persian, Jalali, Tehran


def test_a_run_waiting_for_its_window_says_when_it_continues_in_jalali(app, people, sends):
    from zoneinfo import ZoneInfo

    from dashboards import i18n

    repo.topup(10**7)
    opens = datetime.now(ZoneInfo("Asia/Tehran")) + timedelta(hours=6)  # closed until then
    closes = opens + timedelta(minutes=1)
    repo.set_line("30001234", f"{opens:%H:%M}-{closes:%H:%M}", None)
    cid = campaign()
    send_run(cid, Mode.START)
    assert repo.get_campaign(cid).status is CampaignStatus.SCHEDULED
    hour = i18n.digits(f"{opens:%H:%M}")  # outside a session: Persian digits
    shown = texts(run_ok(app("fa")))
    assert re.search(rf"ادامه در [۰-۹]{{4}}/[۰-۹]{{2}}/[۰-۹]{{2}} {hour}", shown), shown
    shown = texts(run_ok(app("en")))
    assert re.search(rf"continues \d{{4}}-\d{{2}}-\d{{2}} {opens:%H:%M}", shown), shown
