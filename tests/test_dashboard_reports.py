"""Send reports (گزارشات ارسال) and the program blacklist through AppTest: figures,
charts, the run picker, the status flag filter, paging and the exports."""

from __future__ import annotations

import io
import re
import time

import polars as pl
import pytest

from chapar import reports
from chapar.delivery import sync_statuses
from chapar.store import repo
from dashboards import data, exports
from tests.dashboard_fixtures import (  # noqa: F401  (fixtures: app, people, sends)
    app_fixture,
    campaign,
    click,
    figures,
    go,
    menu,
    metric,
    people_fixture,
    run_ok,
    sends_fixture,
    texts,
)


@pytest.fixture
def sent(app, people, sends, write) -> int:  # type: ignore[no-untyped-def]
    """A campaign sent once through the dashboard, delivery statuses synced."""
    repo.import_blacklist(write("bl.txt", "09120000005\n"))
    repo.topup(10**9)
    cid = campaign()
    click(menu(run_ok(app()), cid), f"send_c{cid}")
    deadline = time.monotonic() + 10
    while reports.run_report(cid).n("sent") and time.monotonic() < deadline:
        sync_statuses()
        time.sleep(0.1)
    return cid


def open_report(app, cid: int, lang: str = "en"):  # type: ignore[no-untyped-def]
    return click(menu(run_ok(app(lang)), cid), f"reports_c{cid}")


def open_numbers(at):  # type: ignore[no-untyped-def]
    """Open the report's table of numbers (drawn only when opened)."""
    at.session_state["rep_table"] = True
    return run_ok(at)


def test_the_figures_of_the_latest_run(app, sent):
    at = open_report(app, sent)
    assert at.title[0].value == "Send reports"
    rep = reports.run_report(sent)
    assert metric(at, "Planned") == "119"  # 120 valid, one of them blacklisted
    assert metric(at, "Blacklisted") == "1"
    assert metric(at, "Invalid numbers") == "1"
    assert metric(at, "Duplicates removed") == "1"
    assert metric(at, "Sent") == "119"
    assert metric(at, "Still pending") == "0"
    assert metric(at, "Delivered") == f"{rep.n('delivered'):,}"
    assert metric(at, "Blocked") == f"{rep.n('blocked'):,}"
    assert metric(at, "Undelivered / failed") == f"{rep.n('undelivered') + rep.n('failed'):,}"
    assert metric(at, "Pages") == f"{rep.pages:,}"
    assert metric(at, "Money spent (Rial)") == f"{rep.cost:,}"
    assert rep.n("delivered") > 0 and rep.n("sent") == 0
    assert [t.label for t in at.tabs] == ["By status", "By operator", "Sends over time (a minute)"]
    # Only the open tab's chart is built and drawn; the first (by status) is HTML bars, the
    # most first, so the first paint draws no Vega chart.
    assert not at.get("vega_lite_chart")
    bars = [str(h.proto.body) for h in at.get("html") if "chaparStatusBars" in str(h.proto.body)]
    assert len(bars) == 1
    delivered = "<div>delivered</div>"  # message states are lower case in English
    assert delivered in bars[0] and bars[0].index(delivered) < bars[0].index("<div>blocked</div>")
    assert f"{rep.n('delivered'):,} (" in bars[0]
    at.session_state["rep_chart_tab"] = "Sends over time (a minute)"
    charts = run_ok(at).get("vega_lite_chart")
    assert len(charts) == 1 and "utcyearmonthdatehoursminutes" in charts[0].proto.spec


def test_the_numbers_table_is_drawn_when_opened(app, sent):
    at = open_report(app, sent)
    assert not at.dataframe and "Rows 1–50" not in texts(at)
    assert [e.label for e in at.expander] == ["Table of numbers"]
    at = open_numbers(at)
    assert "Rows 1–50 of 122" in texts(at)
    assert len(at.dataframe[0].value) == 50


def test_the_status_flag_filters_the_numbers(app, sent):
    at = open_numbers(open_report(app, sent))
    assert "Rows 1–50 of 122" in texts(at)
    at.selectbox(key=f"rep_flag_{sent}").set_value("invalid")
    run_ok(at)
    assert "Rows 1–1 of 1" in texts(at)
    table = at.dataframe[0].value
    assert list(table["Number"]) == ["not a number"]
    assert list(table["Status"]) == ["invalid"]
    at.selectbox(key=f"rep_flag_{sent}").set_value("blacklisted")
    run_ok(at)
    assert list(at.dataframe[0].value["Number"]) == ["09120000005"]  # as people write it
    at.selectbox(key=f"rep_flag_{sent}").set_value("pending")
    run_ok(at)
    assert "No rows." in texts(at)


def test_the_numbers_are_paged(app, sent):
    at = open_numbers(open_report(app, sent))
    pager = f"rep_page_{sent}_1_None_50"
    assert "Page 1 of 3" in texts(at)
    click(at, f"{pager}_next")
    assert "Rows 51–100 of 122" in texts(at)
    at.text_input(key=f"{pager}_box").set_value("3")
    run_ok(at)
    assert "Rows 101–122 of 122" in texts(at)
    assert at.dataframe[0].value["Seq"].tolist() == list(range(101, 123))
    assert at.button(key=f"{pager}_next").disabled
    at.selectbox(key="rep_size").set_value(500)
    run_ok(at)
    assert "Rows 1–122 of 122" in texts(at)
    assert not [b for b in at.button if str(b.key).startswith("rep_page_")]


def test_the_numbers_page_is_fetched_with_limit_and_offset(sent, monkeypatch):
    seen: list[tuple[int, int]] = []
    real = reports.numbers

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((kwargs["offset"], kwargs["limit"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(reports, "numbers", spy)
    frame, total = data.numbers_page(sent, 1, None, 100, 50)
    assert (frame.height, total, seen) == (22, 122, [(100, 50)])


def test_the_run_picker_shows_the_latest_run_and_any_earlier_one(app, sent):
    at = run_ok(app())
    click(menu(at, sent), f"reset_c{sent}")
    click(at, f"reset_yes_c{sent}")
    click(menu(at, sent), f"reports_c{sent}")
    picker = at.selectbox(key=f"rep_run_{sent}")
    assert picker.value == 2
    assert picker.options == ["Run 2 (latest) — reset (everyone again)", "Run 1 — first send"]
    planned_2 = reports.run_report(sent, 2).planned
    assert metric(at, "Planned") == str(planned_2)
    picker.set_value(1)
    run_ok(at)
    assert metric(at, "Planned") == "119"


def wait_for_export(fmt: str, lang: str, cid: int, status: str | None = None) -> None:
    key = (data.db_key(), cid, 1, status, fmt, lang)
    deadline = time.monotonic() + 30
    while not (job := exports.job(key)) or not job.finished:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_csv_and_excel_exports(app, sent):
    at = open_report(app, sent)
    labels = [b.label for b in at.button if str(b.key).startswith("rep_prepare_")]
    assert labels == ["Prepare CSV", "Prepare Excel"]
    click(at, "rep_prepare_csv")
    wait_for_export("csv", "en", sent)
    run_ok(at)
    assert [b.label for b in at.download_button] == [f"Download chapar-campaign-{sent}-run-1.csv"]

    raw = data.export_bytes(sent, 1, None, "csv")
    assert raw.startswith(b"\xef\xbb\xbfTitle,Yalda\nMessage text,")  # BOM, then the campaign
    frame = pl.read_csv(io.BytesIO(raw), skip_rows=3, infer_schema=False)
    assert frame.height == 122
    assert frame.columns == ["Seq", "Number", "Operator", "Status", "Message id", "Pages",
                             "Cost", "Sent at", "Status at"]  # fmt: skip
    sent_at = frame.filter(pl.col("Status") == "delivered")["Sent at"][0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", sent_at)  # Tehran, to the second
    assert frame["Number"][0].startswith("09")
    delivered = pl.read_csv(io.BytesIO(data.export_bytes(sent, 1, "delivered", "csv")),
                            skip_rows=3)  # fmt: skip
    assert set(delivered["Status"]) == {"delivered"}
    xlsx = data.export_bytes(sent, 1, "invalid", "xlsx")
    assert xlsx[:2] == b"PK"
    sheet = pl.read_excel(io.BytesIO(xlsx), read_options={"header_row": 3})
    assert sheet["Number"].to_list() == ["not a number"]
    head = pl.read_excel(io.BytesIO(xlsx), read_options={"header_row": None, "n_rows": 2})
    assert head.row(0)[:2] == ("Title", "Yalda")


def test_a_persian_export_has_persian_words_and_jalali_dates(sent):
    raw = data.export_bytes(sent, 1, "delivered", "csv", lang="fa")
    frame = pl.read_csv(io.BytesIO(raw), skip_rows=3, infer_schema=False)
    assert frame.columns[:4] == ["ردیف", "شماره", "اپراتور", "وضعیت"]
    assert set(frame["وضعیت"]) == {"دلیور شده"}
    assert re.fullmatch(r"14\d\d/\d\d/\d\d \d\d:\d\d:\d\d", frame["زمان ارسال"][0])
    assert raw.decode("utf-8-sig").startswith("عنوان برنامه,Yalda\nمتن پیام,شب یلدا مبارک")
    name = data.export_name(sent, 1, "invalid", "xlsx")
    assert name == f"chapar-campaign-{sent}-run-1-invalid.xlsx"


def test_a_campaign_never_sent_has_no_report_yet(app, people):
    cid = campaign()
    at = open_report(app, cid)
    assert "This campaign has not been sent yet." in texts(at)


def test_the_program_blacklist_lists_filtered_and_blocked_numbers(app, sent):
    at = click(menu(run_ok(app()), sent), f"blacklist_c{sent}")
    assert at.title[0].value == "Program blacklist"
    rep = reports.run_report(sent)
    assert metric(at, "Telecom blacklist") == "1"
    assert metric(at, "Blocked by the provider") == f"{rep.n('blocked'):,}"
    table = at.dataframe[0].value
    assert len(table) == 1 + rep.n("blocked")
    assert {"filtered before sending", "reported blocked by the provider"} == set(table["How"])


def test_reports_in_persian(app, sent):
    at = open_report(app, sent, lang="fa")
    assert at.title[0].value == "گزارشات ارسال"
    assert metric(at, "برنامه‌ریزی شده") == "۱۱۹"
    assert metric(at, "شماره نامعتبر") == "۱"
    assert "ردیف ۱ تا ۵۰ از ۱۲۲" in texts(open_numbers(at))


def test_a_report_refreshes_by_itself_while_statuses_arrive_with_rates_and_funnel(
    app, people, sends, simulator
):
    simulator.set_faults(delivery_delay_s=1.0)  # statuses pass through "sent" first
    repo.topup(10**9)
    cid = campaign()
    at = run_ok(app())
    click(menu(at, cid), f"send_c{cid}")  # sent: every message awaits its delivery status
    click(menu(at, cid), f"reports_c{cid}")
    assert "This report refreshes by itself while the run sends" in texts(at)
    assert metric(at, "Delivered") == "0"
    assert metric(at, "Awaiting delivery") == "120"
    funnel = [str(h.proto.body) for h in at.get("html") if "chaparFunnel" in str(h.proto.body)]
    assert funnel and "Planned" in funnel[0] and "Handed to the provider" in funnel[0]

    deadline = time.monotonic() + 20
    while reports.run_report(cid).n("sent") and time.monotonic() < deadline:
        sync_statuses()
        time.sleep(0.2)
    time.sleep(data.TTL)  # the live part's cached read expires
    run_ok(at)
    rep = reports.run_report(cid)
    assert "refreshes by itself" not in texts(at)  # nothing more to come: it stops
    rate = f"{100 * rep.n('delivered') / rep.handed:.1f}".rstrip("0").rstrip(".")
    assert metric(at, "Delivered") == f"{rep.n('delivered'):,}"
    rates = {label: value for label, value in figures(at)
             if label.startswith(("Delivered", "Blocked"))}  # fmt: skip
    assert f"{rate}%" in rates.values()


def test_a_report_awaiting_statuses_for_days_is_not_polled(app):
    """1% of this run still awaits its delivery status, but its last status came days ago:
    the report is drawn once, not refreshed every few seconds (as on the home page)."""
    from bench.bench_export import seed_sent_run

    cid = seed_sent_run(1_000)
    assert reports.run_report(cid).n("sent") > 0
    at = open_report(app, cid)
    assert metric(at, "Awaiting delivery") == f"{reports.run_report(cid).n('sent'):,}"
    assert "refreshes by itself" not in texts(at)
