"""Edit program (ویرایش برنامه) through AppTest: the fields it may change, the live page
count and price, refusals while sending, the schedule and the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime

from chapar.campaigns import CampaignStatus
from chapar.sending import Mode, begin_run, send_run
from chapar.store import repo
from tests.dashboard_fixtures import (  # noqa: F401  (fixtures: app, people, sends)
    app_fixture,
    buttons,
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


def open_edit(app, cid: int, lang: str = "en"):  # type: ignore[no-untyped-def]
    at = run_ok(app(lang))
    return click(menu(at, cid), f"edit_c{cid}")


def test_the_menu_opens_edit_program_on_that_campaign(app, people):
    campaign(title="First")
    cid = campaign(title="Second")
    at = open_edit(app, cid)
    assert at.title[0].value == "Edit program"
    assert at.query_params["campaign"] == [str(cid)] or at.query_params["campaign"] == str(cid)
    assert at.selectbox(key="edit_pick").value == cid
    assert at.text_input(key=f"edit_title_{cid}").value == "Second"
    labels = {w.label for w in (*at.text_input, *at.text_area, *at.multiselect)}
    assert labels == {"Title", "Send count", "Message text", "Send reference"}  # nothing else


def test_edit_saves_the_changed_fields_and_the_audit_trail_shows_them(app, people, write):
    repo.import_list("vip", write("vip.txt", "09121111111\n09351111111\n"))
    cid = campaign(title="Old")
    at = open_edit(app, cid)
    at.text_input(key=f"edit_title_{cid}").set_value("New title")
    at.text_input(key=f"edit_count_{cid}").set_value("50")
    at.text_area(key=f"live_edit_msg_{cid}").set_value("Happy Nowruz")
    at.multiselect(key=f"edit_src_{cid}").set_value(["people", "vip"])
    run_ok(at)
    click(at, f"edit_save_{cid}")
    assert "Saved: Title, Send count, Message text, Send reference" in texts(at)
    c = repo.get_campaign(cid)
    assert (c.title, c.send_count, c.message, c.source) == (
        "New title", 50, "Happy Nowruz", ("people", "vip"))  # fmt: skip
    audit = at.dataframe[-1].value
    assert {"Title", "Send count", "Message text", "Send reference"} <= set(audit["Field"])
    assert set(audit["Action"]) == {"edited", "created"}  # words, never the stored codes
    row = audit[audit["Field"] == "Title"].iloc[0]
    assert (row["Old"], row["New"]) == ("Old", "New title")
    row = audit[audit["Field"] == "Send count"].iloc[0]
    assert (row["Old"], row["New"]) == ("—", "50")
    assert row["Who"].endswith("(dashboard)")

    click(at, f"edit_save_{cid}")  # the same values again: nothing to save
    assert "Nothing changed." in texts(at)


def test_page_count_and_price_follow_the_text(app, people):
    cid = campaign(message="hi")
    at = open_edit(app, cid)
    assert "2 characters | 1 pages | Latin (GSM-7)" in texts(at)
    assert metric(at, "Money spent (Rial)") == "307,200"  # 120 × 1 page × 2,560
    box = at.text_area(key=f"live_edit_msg_{cid}")
    box.set_value("س" * 71)
    run_ok(at)
    assert "71 characters | 2 pages | Persian / Unicode (UCS-2)" in texts(at)
    assert metric(at, "Money spent (Rial)") == "283,200"  # 120 × 2 × 1,180
    at.text_area(key=f"live_edit_msg_{cid}").set_value("س" * 300)
    run_ok(at)
    assert "message: the message needs 5 pages" in texts(at)
    click(at, f"edit_save_{cid}")
    assert "message: the message needs 5 pages" in texts(at)
    assert repo.get_campaign(cid).message == "hi"


def test_the_page_says_source_and_count_changes_apply_from_the_next_run(app, people, sends):
    repo.topup(10**9)
    cid = campaign()
    at = run_ok(app())
    click(menu(at, cid), f"send_c{cid}")
    click(menu(at, cid), f"edit_c{cid}")
    assert "Send reference and send count changes apply from the next run" in texts(at)


def test_editing_while_sending_is_refused(app, people):
    cid = campaign()
    begin_run(cid, Mode.START)  # a sending flow holds the campaign's lease
    at = run_ok(app())
    assert buttons(menu(at, cid))[f"edit_c{cid}"].disabled  # the menu does not offer it
    assert "Not available: it is sending now" in texts(at)
    at.query_params["campaign"] = str(cid)  # a link straight to the page
    go(at, "edit")
    assert "Editing is not possible: it is sending now" in texts(at)
    assert at.text_input(key=f"edit_title_{cid}").disabled
    assert buttons(at)[f"edit_save_{cid}"].disabled


def test_a_send_that_starts_after_the_page_loaded_still_refuses_the_edit(app, people):
    cid = campaign(title="Before")
    at = open_edit(app, cid)
    at.text_input(key=f"edit_title_{cid}").set_value("After")
    run_ok(at)
    begin_run(cid, Mode.START)
    click(at, f"edit_save_{cid}")
    assert "it is sending now" in texts(at)
    assert repo.get_campaign(cid).title == "Before"


def test_bad_input_is_a_clear_error(app, people):
    cid = campaign()
    at = open_edit(app, cid)
    at.text_input(key=f"edit_title_{cid}").set_value("   ")
    run_ok(at)
    click(at, f"edit_save_{cid}")
    assert "title: the title is empty" in texts(at)
    at.text_input(key=f"edit_title_{cid}").set_value("Fine")
    at.multiselect(key=f"edit_src_{cid}").set_value([])
    run_ok(at)
    click(at, f"edit_save_{cid}")
    assert "source: choose at least one recipient list" in texts(at)
    assert repo.get_campaign(cid).title == "Yalda"


def test_the_schedule_can_be_set_in_tehran_time_then_cut(app, people):
    cid = campaign()
    at = open_edit(app, cid)
    at.radio(key=f"edit_sched_{cid}").set_value("change")
    run_ok(at)
    pick = f"edit_start_{cid}"
    year = datetime.now().year + 1
    for part, value in (("en_y", year), ("en_m", 3), ("en_d", 20), ("h", 10), ("min", 30)):
        at.selectbox(key=f"{pick}_{part}").set_value(value)
    run_ok(at)
    assert f"Sends at {year}-03-20 10:30 (Tehran time)" in texts(at)
    click(at, f"edit_save_{cid}")
    assert "Saved: Send schedule" in texts(at)
    assert "the schedule is saved in the database only" in texts(at)  # no Prefect here
    assert repo.get_campaign(cid).status is CampaignStatus.SCHEDULED  # was a draft
    start = repo.get_campaign(cid).start_at
    assert start is not None
    assert start.astimezone(UTC).isoformat().startswith(f"{year}-03-20T07:00")  # 10:30 +03:30
    assert f"Current start time: {year}-03-20 10:30" in texts(at)


def test_cut_on_the_edit_page_cancels_a_scheduled_campaign(app, people):
    from datetime import timedelta

    cid = campaign(start_at=datetime.now(UTC) + timedelta(hours=2))
    at = open_edit(app, cid)
    click(at, f"edit_cut_{cid}")
    assert repo.get_campaign(cid).status is CampaignStatus.CANCELLED
    assert "was cut before anything was sent: set a new time, or choose Send" in texts(at)


def test_edit_program_in_persian(app, people):
    cid = campaign()
    at = open_edit(app, cid, lang="fa")
    assert at.title[0].value == "ویرایش برنامه"
    assert "۱۳ نویسه، ۱ صفحه، فارسی / یونیکد (UCS-۲)" in texts(at)
    assert metric(at, "مبلغ هزینه شده (ریال)") == "۱۴۱٬۶۰۰"


def test_the_audit_trail_tells_why_a_run_stopped_in_the_page_language(app, people, sends):
    cid = campaign()  # no credit: the run stops unfinished before anything is sent
    send_run(cid, Mode.START)
    assert repo.get_campaign(cid).status is CampaignStatus.UNFINISHED
    for lang, status in (("fa", "نا تمام (اعتبار کافی نیست)"),
                         ("en", "unfinished (insufficient credit)")):  # fmt: skip
        audit = open_edit(app, cid, lang).dataframe[-1].value
        assert status in set(audit.iloc[:, -1]), audit  # words, never the code it keeps
