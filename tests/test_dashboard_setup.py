"""Recipient lists, the telecom blacklist, credit and New campaign through AppTest."""

from __future__ import annotations

from datetime import UTC, datetime

from chapar.campaigns import CampaignStatus
from chapar.store import repo
from tests.dashboard_fixtures import (  # noqa: F401  (fixtures: app, people, sends)
    app_fixture,
    buttons,
    click,
    go,
    metric,
    people_fixture,
    run_ok,
    texts,
    title,
)

CSV = "name,mobile\nAli,09121234567\nSara,۰۹۳۵۱۲۳۴۵۶۷\nBad,12345\nDup,+989121234567\n"


def upload(at, key: str, name: str, text: str) -> None:  # type: ignore[no-untyped-def]
    at.file_uploader(key=key).set_value((name, text.encode(), "text/csv"))
    run_ok(at)


def frame_with(at, column: str):  # type: ignore[no-untyped-def]
    """The first table on the page with this column header."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def test_importing_a_recipient_list_shows_counts_and_invalid_lines(app):
    at = go(run_ok(app()), "lists")
    assert at.title[0].value == "Recipient lists"
    upload(at, "list_file", "customers.csv", CSV)
    assert at.text_input(key="list_name").value == "customers"
    click(at, "list_import")
    assert "List “customers”: 4 rows, 2 valid numbers, 1 invalid, 1 duplicates." in texts(at)
    assert [info.name for info in repo.lists()] == ["customers"]
    assert "customers.csv" in set(frame_with(at, "File")["File"])

    click(at, "list_import")  # the same name again, without Replace
    assert "a list named 'customers' exists" in texts(at)
    at.checkbox(key="list_replace").check()
    run_ok(at)
    click(at, "list_import")
    assert "List “customers”: 4 rows" in texts(at)


def test_a_typed_list_name_is_kept_when_a_file_is_chosen(app):
    at = go(run_ok(app()), "lists")
    at.text_input(key="list_name").set_value("مشتریان پاییز")
    run_ok(at)
    upload(at, "list_file", "customers.csv", CSV)
    assert at.text_input(key="list_name").value == "مشتریان پاییز"
    click(at, "list_import")
    assert [info.name for info in repo.lists()] == ["مشتریان پاییز"]


EXCEL_CSV = (
    "\ufeffTitle of the export;;\r\n;;\r\nMobile;Name;City\r\n"
    + "".join(f"0912123456{i};{name};تهران\r\n" for i, name in enumerate(["علی", "سارا", "رضا"]))
    + "bad;نرگس;قم\r\n"
)


def test_the_preview_shows_how_the_file_is_read_then_confirm_imports_it(app):
    at = go(run_ok(app()), "lists")
    upload(at, "list_file", "export.csv", EXCEL_CSV)
    shown = texts(at)
    assert "**Preview** — `export.csv`" in shown
    assert ("text file, encoding UTF-8 (BOM), delimiter « ; »; header row: line 3; number "
            "column: “Mobile”; recipient attributes: Name, City") in shown  # fmt: skip
    assert (metric(at, "Rows"), metric(at, "Valid numbers"), metric(at, "Invalid")) == (
        "4", "3", "1",
    )  # fmt: skip
    first = frame_with(at, "As written")
    assert list(first.columns) == ["Line", "As written", "Number", "Name", "City"]
    assert list(first.iloc[0]) == ["4", "09121234560", "989121234560", "علی", "تهران"]
    assert repo.lists() == []  # the preview wrote nothing
    click(at, "list_import")
    assert "List “export”: 4 rows, 3 valid numbers, 1 invalid, 0 duplicates." in texts(at)
    [info] = repo.lists()
    assert info.columns == ["Name", "City"]


def test_a_file_without_numbers_is_refused_in_persian_and_confirm_is_disabled(app):
    at = go(run_ok(app("fa")), "lists")
    upload(at, "list_file", "people.csv", "name,email\nAli,ali@example.com\n")
    assert (
        "people.csv: هیچ سطری شماره موبایل معتبر ندارد (۱ سطر خوانده شد)؛ ستون‌ها: name, email"
        in texts(at)
    )
    assert at.button(key="list_import").disabled
    assert metric(at, "سطرها") == "۱" and metric(at, "شماره معتبر") == "۰"
    assert repo.lists() == []


def test_a_mostly_invalid_file_is_imported_once_accepted_in_persian(app):
    at = go(run_ok(app("fa")), "lists")
    upload(at, "list_file", "bad.txt", "09121234567\nabc\nxyz\n")
    assert "bad.txt: ۲ از ۳ سطر ستون «column_1» شماره موبایل معتبر نیست" in texts(at)
    assert at.button(key="list_import").disabled
    at.checkbox(key="list_accept_invalid").check()
    run_ok(at)
    assert not at.button(key="list_import").disabled
    click(at, "list_import")
    assert "لیست «bad»: ۳ سطر، ۱ شماره معتبر، ۲ نامعتبر، ۰ تکراری." in texts(at)


def test_import_without_a_file_asks_for_one(app):
    at = go(run_ok(app()), "lists")
    click(at, "list_import")
    assert "Choose a file first." in texts(at)


def test_importing_the_blacklist_and_checking_a_number(app):
    at = go(run_ok(app()), "lists")
    assert metric(at, "Numbers on the blacklist") == "0"
    upload(at, "bl_file", "blacklist.txt", "09121234567\n0912 123 4567\nnope\n")
    click(at, "bl_import")
    assert "1 numbers added, 0 were already there, 1 invalid." in texts(at)
    assert metric(at, "Numbers on the blacklist") == "1"
    at.text_input(key="bl_check").set_value("+98 912 123 4567")
    at.button[-1].click()  # the form's Check button
    run_ok(at)
    assert "989121234567 is on the blacklist (from import" in texts(at)
    at.text_input(key="bl_check").set_value("09350000000")
    at.button[-1].click()
    run_ok(at)
    assert "989350000000 is not on the blacklist." in texts(at)


def test_credit_top_up_and_ledger(app):
    at = go(run_ok(app()), "credit")
    assert metric(at, "Balance") == "0 Rial"
    assert "No rows." in texts(at)
    at.text_input(key="topup_amount").set_value("500,000")
    at.text_input(key="topup_note").set_value("invoice 12")
    at.button[-1].click()
    run_ok(at)
    assert "Credit added; new balance: 500,000 Rial" in texts(at)
    assert metric(at, "Balance") == "500,000 Rial"
    ledger = at.dataframe[0].value
    assert (ledger.iloc[0]["Kind"], ledger.iloc[0]["Amount (Rial)"], ledger.iloc[0]["Note"]) == (
        "top-up", "500,000", "invoice 12")  # fmt: skip
    at.button[-1].click()  # zero is refused by the core
    run_ok(at)
    assert "amount: a top-up must be a positive whole number" in texts(at)
    assert repo.balance() == 500_000


def test_credit_in_persian(app):
    repo.topup(2_500_000)
    at = go(run_ok(app("fa")), "credit")
    assert at.title[0].value == "اعتبار"
    assert metric(at, "موجودی") == "۲٬۵۰۰٬۰۰۰ ریال"
    assert at.dataframe[0].value.iloc[0]["نوع"] == "افزایش اعتبار"


def test_new_campaign_with_live_price_preview(app, people):
    repo.topup(10**9)
    at = go(run_ok(app()), "new_campaign")
    assert at.title[0].value == "New campaign"
    at.text_input(key="new_title").set_value("Yalda")
    at.text_input(key="new_sender").set_value("30001234")
    at.text_area(key="live_new_msg").set_value("شب یلدا مبارک")
    run_ok(at)
    assert "13 characters | 1 pages | Persian / Unicode (UCS-2)" in texts(at)
    assert "Choose at least one recipient list." in texts(at)
    at.multiselect(key="new_source").set_value(["people"])
    run_ok(at)
    assert metric(at, "Recipients to send") == "120"
    assert metric(at, "Money spent (Rial)") == "141,600"
    assert metric(at, "Invalid numbers") == "1"
    assert metric(at, "Duplicates removed") == "1"
    assert metric(at, "Credit balance (Rial)") == "1,000,000,000"
    assert "A message: 1 pages, 1,180 Rial" in texts(at)
    at.text_input(key="new_count").set_value("50")  # the send count prices the first 50
    run_ok(at)
    assert metric(at, "Recipients to send") == "50"
    assert metric(at, "Money spent (Rial)") == "59,000"
    assert "With a send count of 50: the first 50 of 120 recipients" in texts(at)
    click(at, "new_create")
    assert title(at) == "Dashboard"
    assert "Campaign “Yalda” created (#1)." in texts(at)
    c = repo.get_campaign(1)
    assert (c.title, c.sender, c.source, c.status, c.send_count) == (
        "Yalda", "30001234", ("people",), CampaignStatus.DRAFT, 50)  # fmt: skip


def test_the_price_preview_warns_when_the_credit_does_not_cover_it(app, people):
    repo.topup(100_000)
    at = go(run_ok(app()), "new_campaign")
    at.text_area(key="live_new_msg").set_value("شب یلدا مبارک")
    at.multiselect(key="new_source").set_value(["people"])
    run_ok(at)
    assert metric(at, "Credit balance (Rial)") == "100,000"
    shown = texts(at)
    assert "This send costs 141,600 Rial, more than the credit (100,000 Rial)" in shown
    assert "the credit covers about 84 of 120 messages" in shown
    assert "Top up the credit" in [link.label for link in at.get("page_link")]
    at.text_input(key="new_count").set_value("۸۰")  # Persian digits are a number too
    run_ok(at)
    assert metric(at, "Money spent (Rial)") == "94,400"
    assert "more than the credit" not in texts(at)


def test_new_campaign_refuses_bad_input_with_the_field(app, people):
    at = go(run_ok(app()), "new_campaign")
    at.text_input(key="new_title").set_value("Yalda")
    at.text_input(key="new_sender").set_value("line-1")
    at.text_area(key="live_new_msg").set_value("hello")
    at.multiselect(key="new_source").set_value(["people"])
    run_ok(at)
    click(at, "new_create")
    assert "sender: 'line-1' is not a sender line number" in texts(at)
    assert repo.list_campaigns(archived=None) == []


def test_new_scheduled_campaign(app, people):
    repo.set_line("30001234", "08:00-21:00", None)  # advertising hours of this line
    at = go(run_ok(app()), "new_campaign")
    at.text_input(key="new_title").set_value("Nowruz")
    at.text_input(key="new_sender").set_value("30001234")
    at.text_area(key="live_new_msg").set_value("Happy Nowruz")
    at.multiselect(key="new_source").set_value(["people"])
    at.radio(key="new_sched").set_value("at")
    run_ok(at)
    year = datetime.now().year + 1
    for part, value in (("en_y", year), ("en_m", 3), ("en_d", 20), ("h", 22), ("min", 0)):
        at.selectbox(key=f"new_start_{part}").set_value(value)
    run_ok(at)
    assert "outside line 30001234's sending window (08:00-21:00)" in texts(at)
    at.selectbox(key="new_start_h").set_value(9)
    run_ok(at)
    assert "sending window" not in texts(at)
    assert f"Sends at {year}-03-20 09:00 (Tehran time)" in texts(at)
    click(at, "new_create")
    assert "No Prefect server answers: the schedule is saved in the database only" in texts(at)
    c = repo.get_campaign(1)
    assert c.status is CampaignStatus.SCHEDULED
    assert c.start_at is not None
    assert c.start_at.astimezone(UTC) == datetime(year, 3, 20, 5, 30, tzinfo=UTC)


def test_a_schedule_is_entered_in_the_jalali_calendar_in_persian(app, people):
    at = go(run_ok(app("fa")), "new_campaign")
    at.text_input(key="new_title").set_value("نوروز")
    at.text_input(key="new_sender").set_value("30001234")
    at.text_area(key="live_new_msg").set_value("نوروز مبارک")
    at.multiselect(key="new_source").set_value(["people"])
    at.radio(key="new_sched").set_value("at")
    run_ok(at)
    for part, value in (("fa_y", 1406), ("fa_m", 1), ("fa_d", 1), ("h", 9), ("min", 0)):
        at.selectbox(key=f"new_start_{part}").set_value(value)
    run_ok(at)
    assert at.selectbox(key="new_start_fa_m").format_func(1) == "فروردین"
    assert at.selectbox(key="new_start_h").format_func(9) == "۰۹"
    assert "ارسال در ۱۴۰۶/۰۱/۰۱ ۰۹:۰۰ (به وقت تهران)" in texts(at)
    click(at, "new_create")
    c = repo.get_campaign(1)
    assert c.start_at is not None  # 1 Farvardin 1406 is 21 March 2027; 09:00 is 05:30 UTC
    assert c.start_at.astimezone(UTC) == datetime(2027, 3, 21, 5, 30, tzinfo=UTC)


def test_new_campaign_without_lists_points_to_the_import(app):
    at = go(run_ok(app("fa")), "new_campaign")
    assert "هنوز لیست مخاطبی وارد نشده است" in texts(at)


def test_every_page_renders_in_both_languages(app, people):
    for lang in ("fa", "en"):
        at = run_ok(app(lang))
        for view in ("home", "new_campaign", "edit", "reports", "program_blacklist",
                     "archived", "lists", "credit"):  # fmt: skip
            go(at, view)
            assert title(at), view
