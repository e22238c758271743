"""Reasons are codes with parameters; words come only at the edge, in both languages."""

from __future__ import annotations

from chapar.errors import InputError, NotAllowed
from chapar.reasons import TEXTS, Code, Reason


def test_every_code_reads_in_persian_and_english():
    assert set(TEXTS) == set(Code)


def test_a_reason_round_trips_through_its_two_columns():
    r = Reason(Code.BUSY, {"campaign": 7, "run": 2})
    back = Reason.stored(r.code.value, r.details)
    assert back == r
    assert back is not None and "7" in back.text("en") and "۷" not in back.text("en")
    assert back.text("fa").startswith("کمپین 7")


def test_an_unknown_stored_code_reads_as_its_text():
    r = Reason.stored("something old")
    assert r is not None and r.text("fa") == "something old"


def test_errors_carry_a_code_and_say_where():
    exc = InputError(Code.TOPUP_NOT_POSITIVE, where="amount", amount=-100)
    assert exc.reason.code is Code.TOPUP_NOT_POSITIVE
    assert str(exc) == "amount: a top-up must be a positive whole number of Rials; got -100"
    assert exc.text("fa").startswith("amount: مبلغ")
    assert NotAllowed("free text").text("fa") == "free text"
