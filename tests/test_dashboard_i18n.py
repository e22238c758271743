"""Every label of the dashboard exists in Persian and English; Persian digits, Jalali
dates and the translation of the core's reasons."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chapar.campaigns import CampaignStatus, MessageState, RunStatus
from chapar.reasons import Code, Reason, audit_status
from chapar.reports import RunReport
from dashboards import i18n

DASHBOARDS = Path(__file__).resolve().parent.parent / "dashboards"


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_label_has_persian_and_english_with_the_same_placeholders():
    for key, (fa, en) in i18n.LABELS.items():
        assert fa.strip() and en.strip(), key
        assert fields(fa) == fields(en), key


def test_every_label_the_code_asks_for_exists():
    used: set[str] = set()
    for path in DASHBOARDS.rglob("*.py"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_.]+)["']""", path.read_text()))
    missing = used - set(i18n.LABELS)
    assert not missing


def test_every_status_figure_and_ledger_kind_has_a_label():
    keys = set(i18n.LABELS)
    assert {f"cstatus.{s.value}" for s in CampaignStatus} <= keys
    assert {f"cstatus.{s.value}" for s in RunStatus} <= keys
    assert {f"mstate.{s.value}" for s in MessageState} <= keys
    figures = RunReport(1, 1, "completed", None, {}, 0, 0).figures()
    assert {f"fig.{name}" for name in figures} <= keys
    assert {f"kind.{k}" for k in ("topup", "charge", "refund", "hold", "released")} <= keys


@pytest.fixture
def english(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(i18n, "lang", lambda: "en")


def test_persian_digits_money_and_jalali_dates():
    assert i18n.lang() == "fa"  # the default, also outside a session
    assert i18n.num(1234567) == "۱٬۲۳۴٬۵۶۷"
    assert i18n.money(141_600) == "۱۴۱٬۶۰۰ ریال"
    nowruz = datetime(2025, 3, 20, 20, 30, tzinfo=UTC)  # 00:00 in Tehran, 1 Farvardin 1404
    assert i18n.when(nowruz) == "۱۴۰۴/۰۱/۰۱ ۰۰:۰۰"
    assert i18n.when(None) == "—"
    assert i18n.t("progress.text", handed=i18n.num(5), planned=i18n.num(10)) == "۵ از ۱۰ ارسال شده"


def test_english_formats(english):
    assert i18n.num(1234567) == "1,234,567"
    assert i18n.money(141_600) == "141,600 Rial"
    assert i18n.when(datetime(2025, 3, 20, 20, 30, tzinfo=UTC)) == "2025-03-21 00:00"
    assert i18n.reason(Reason(Code.INSUFFICIENT_CREDIT)) == "insufficient credit"


def test_the_core_reasons_in_persian():
    assert i18n.reason(Reason(Code.INSUFFICIENT_CREDIT)) == "اعتبار کافی نیست"
    assert i18n.reason(Reason(Code.NEVER_SENT)) == "هنوز ارسال نشده؛ ابتدا ارسال کنید"
    waits = Reason(Code.OUTSIDE_WINDOW, {"resume_at": "2025-03-21T08:00:00+03:30"})
    assert i18n.reason(waits) == "خارج از بازه مجاز ارسال؛ ادامه در ۱۴۰۴/۰۱/۰۱ ۰۸:۰۰"
    assert i18n.reason(Reason(Code.ERROR, {"detail": "boom"})) == "خطا: boom"
    assert i18n.reason(Reason.stored("something old")) == "something old"  # shown as it is
    assert i18n.reason(None) == ""
    assert i18n.campaign_status("unfinished") == "نا تمام"
    assert i18n.message_state("delivered") == "دلیور شده"


def test_every_reason_code_has_both_texts():
    from chapar.reasons import TEXTS, Code

    assert set(TEXTS) == set(Code)
    for fa, en in TEXTS.values():
        assert fa.strip() and en.strip()


# --- issue 11: words and digits an analyst can trust -------------------------------------------


def test_rates_have_one_decimal_in_the_session_digits(english):
    assert i18n.rate(975, 1000) == "97.5%"
    assert i18n.rate(1, 3) == "33.3%"
    assert i18n.rate(0, 0) == "0%"


def test_persian_rates_use_the_persian_decimal_and_percent_signs():
    assert i18n.rate(975, 1000) == "۹۷٫۵٪"
    assert i18n.rate(10, 10) == "۱۰۰٪"


def test_whole_numbers_are_read_in_any_digits():
    assert i18n.parse_int("۱۲٬۳۴۵") == 12345
    assert i18n.parse_int("١٢٣") == 123
    assert i18n.parse_int(" 1,000,000 ") == 1_000_000
    assert i18n.parse_int("") is None
    with pytest.raises(ValueError):
        i18n.parse_int("12a")


def test_a_title_against_the_page_direction_is_isolated(english):
    assert i18n.isolate("یلدا") == "\u2068یلدا\u2069"  # Persian in the English page
    assert i18n.isolate("Yalda") == "Yalda"
    assert i18n.isolate("2024") == "2024"


def test_a_latin_title_is_isolated_in_the_persian_page():
    assert i18n.isolate("Black Friday") == "\u2068Black Friday\u2069"
    assert i18n.isolate("یلدا") == "یلدا"


def test_numbers_read_as_people_write_them():
    assert i18n.local_number(989121234567) == "09121234567"
    assert i18n.local_number("not a number") == "not a number"
    assert i18n.local_number(None) == ""


def test_the_audit_trail_reads_in_persian():
    assert i18n.audit_action("edit") == "ویرایش"
    assert i18n.audit_field("send_count") == "تعداد ارسال"
    assert i18n.audit_field("status") == "وضعیت"
    assert i18n.audit_value("status", "draft") == "پیش‌نویس"
    assert i18n.audit_value("status", "unfinished:insufficient_credit") == (
        "نا تمام (اعتبار کافی نیست)"
    )
    at = {"resume_at": "2025-03-21T04:30:00+00:00"}
    waited = audit_status("scheduled", Reason(Code.OUTSIDE_WINDOW, at))
    assert i18n.audit_value("status", waited) == (
        "زمانبندی شده (خارج از بازه مجاز ارسال؛ ادامه در ۱۴۰۴/۰۱/۰۱ ۰۸:۰۰)"
    )
    assert i18n.audit_value("send_count", "None") == "—"  # never Python's None
    assert i18n.audit_value("send_count", "50") == "۵۰"
    assert i18n.audit_value("archived", "True") == "بله"
    # a start time kept as text, read back in Jalali and Tehran time
    assert i18n.audit_value("start_at", "2025-03-20 20:30:00+00:00") == "۱۴۰۴/۰۱/۰۱ ۰۰:۰۰"
    assert i18n.actor("root (dashboard)") == "root (پیشخوان)"


def test_ledger_notes_and_blacklist_sources_are_words():
    assert i18n.ledger_note("charge", "500 messages", 1, 3) == "هزینه دسته ۳"
    assert i18n.ledger_note("charge", "test send, 2 messages", None, None) == "ارسال آزمایشی"
    assert i18n.ledger_note("topup", "فاکتور ۱۲", None, None) == "فاکتور ۱۲"
    assert i18n.blacklist_source("import") == "ورود فایل"
    assert i18n.blacklist_source("provider") == "گزارش سرویس‌دهنده"


def test_a_summary_separator_cannot_be_read_as_a_persian_zero(english):
    assert "·" not in i18n.join(["a", "b"])
    assert "·" not in i18n.t("composer.count", characters=1, pages=1, encoding="x")


def test_no_persian_label_uses_the_middle_dot():
    assert not [key for key, (fa, _) in i18n.LABELS.items() if "·" in fa]
