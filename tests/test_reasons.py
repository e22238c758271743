"""Reasons are codes with parameters; words come only at the edge, in both languages."""

from __future__ import annotations

from chapar.errors import InputError, NotAllowed
from chapar.reasons import TEXTS, Code, Reason, audit_status, read_audit_status


def test_every_code_reads_in_persian_and_english():
    assert set(TEXTS) == set(Code)


def test_a_reason_round_trips_through_its_two_columns():
    r = Reason(Code.BUSY, {"campaign": 7, "run": 2})
    back = Reason.stored(r.code.value, r.details)
    assert back == r
    assert back is not None and "7" in back.text("en") and "۷" not in back.text("en")
    assert back.text("fa").startswith("کمپین ۷")  # Persian digits in Persian


def test_an_unknown_stored_code_reads_as_its_text():
    r = Reason.stored("something old")
    assert r is not None and r.text("fa") == "something old"


def test_errors_carry_a_code_and_say_where():
    exc = InputError(Code.TOPUP_NOT_POSITIVE, where="amount", amount=-100)
    assert exc.reason.code is Code.TOPUP_NOT_POSITIVE
    assert str(exc) == "amount: a top-up must be a positive whole number of Rials; got -100"
    assert exc.text("fa").startswith("مبلغ: مبلغ افزایش اعتبار")  # the field in Persian too
    assert NotAllowed("free text").text("fa") == "free text"


def test_a_reason_kept_without_a_parameter_reads_without_its_placeholder():
    text = Reason(Code.OUTSIDE_WINDOW).text("en")
    assert "{" not in text and text == "outside the sending window; continues …"
    assert "{" not in Reason(Code.OUTSIDE_WINDOW).text("fa")


def test_a_status_change_keeps_its_code_and_parameters_in_the_audit_trail():
    why = Reason(Code.OUTSIDE_WINDOW, {"resume_at": "2026-12-03T08:00:00+03:30"})
    kept = audit_status("scheduled", why)
    assert kept.startswith("scheduled:outside_window:")
    assert read_audit_status(kept) == ("scheduled", why)
    assert read_audit_status(audit_status("unfinished", Reason(Code.INSUFFICIENT_CREDIT))) == (
        "unfinished",
        Reason(Code.INSUFFICIENT_CREDIT),
    )
    assert read_audit_status("completed") == ("completed", None)
    assert read_audit_status("scheduled:outside_window:not json") == (
        "scheduled",
        Reason(Code.OUTSIDE_WINDOW),
    )


def test_numbers_in_a_persian_reason_are_persian_digits_with_their_format():
    big = Reason(Code.EXCEL_TOO_BIG, {"rows": 1_200_000, "maximum": 1_048_575})
    assert big.text("fa").startswith("۱٬۲۰۰٬۰۰۰ ردیف") and "(حداکثر ۱٬۰۴۸٬۵۷۵)" in big.text("fa")
    assert big.text("en").startswith("1,200,000 rows")


def test_a_time_in_a_reason_reads_in_tehran_time_and_in_jalali_in_persian():
    nowruz = Reason(Code.OUTSIDE_WINDOW, {"resume_at": "2025-03-21T04:30:00+00:00"})
    assert nowruz.text("en") == "outside the sending window; continues 2025-03-21 08:00"
    assert nowruz.text("fa") == "خارج از بازه مجاز ارسال؛ ادامه در ۱۴۰۴/۰۱/۰۱ ۰۸:۰۰"
    kept_before = Reason(Code.OUTSIDE_WINDOW, {"resume_at": "2025-03-21 08:00"})  # local
    assert kept_before.text("fa") == nowruz.text("fa")


def test_money_in_a_reason_reads_with_separators_from_1_to_10_to_the_12_and_beyond():
    for exponent in range(13):
        too_much = Reason(Code.TOPUP_TOO_LARGE, {"amount": 10**exponent, "maximum": 10**12})
        assert f"at most 1,000,000,000,000 Rials; got {10**exponent:,}" in too_much.text("en")
        assert "حداکثر ۱٬۰۰۰٬۰۰۰٬۰۰۰٬۰۰۰ ریال" in too_much.text("fa")
    typed = Reason(Code.TOPUP_TOO_LARGE, {"amount": "یک میلیون", "maximum": 10**12})
    assert typed.text("en").endswith("got یک میلیون")  # a value its format does not fit


def test_every_code_reads_without_its_parameters_and_with_text_for_its_numbers():
    import string

    for code, texts in TEXTS.items():
        for lang, template in zip(("fa", "en"), texts, strict=True):
            fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
            bare = Reason(code).text(lang)  # type: ignore[arg-type]
            assert not any("{" + f in bare for f in fields), (code, lang, bare)
    typed = Reason(Code.IMPORT_MOSTLY_INVALID, {"invalid": "4", "total": "7", "column": "c"})
    assert typed.text("en").startswith("4 of 7 rows in column 'c' are not")


def test_a_list_in_a_reason_reads_with_the_language_s_comma_and_digits():
    missing = Reason(Code.TEMPLATE_MISSING_VALUES, {"name": "نام", "count": 2, "lines": [3, 14]})
    assert "(e.g. lines 3, 14)" in missing.text("en")
    assert "(نمونه: سطرهای ۳، ۱۴)" in missing.text("fa")
