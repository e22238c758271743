"""Iranian mobile numbers: every usual way of writing one becomes 989XXXXXXXXX, or invalid."""

from __future__ import annotations

import phonenumbers
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chapar.numbers import (
    OPERATOR_NAMES_FA,
    PREFIXES,
    format_number,
    is_valid,
    normalize,
    normalize_expr,
    normalize_frame,
    operator_expr,
    operator_of,
)

CANONICAL = 989121234567
PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"


def vectorised(raws: list[str | None]) -> list[int | None]:
    df = pl.DataFrame({"raw": raws}, schema={"raw": pl.String})
    return df.select(normalize_expr(pl.col("raw"))).to_series().to_list()


@pytest.mark.parametrize(
    "raw",
    [
        "09121234567",
        "+989121234567",
        "00989121234567",
        "989121234567",
        "9121234567",
        "+98 912 123 4567",
        "0912 123 4567",
        "0912-123-4567",
        "0912.123.4567",
        "(0912) 123-4567",
        "+98 (912) 123-45-67",
        "  09121234567\t",
        "\n+989121234567 ",
        "۰۹۱۲۱۲۳۴۵۶۷",
        "٠٩١٢١٢٣٤٥٦٧",
        "+۹۸۹۱۲۱۲۳۴۵۶۷",
        "۰۰۹۸ ۹۱۲ ۱۲۳ ۴۵۶۷",
        "۰۹۱۲-1234567",  # mixed scripts, as pasted from two sources
        "\u200f09121234567\u200e",  # RTL/LTR marks from a Persian document
        "0912\u200c123\u00a04567",  # ZWNJ and a no-break space
        "0912–123–4567",  # en dashes
    ],
)
def test_every_usual_form_becomes_the_canonical_number(raw: str) -> None:
    assert normalize(raw) == CANONICAL
    assert vectorised([raw]) == [CANONICAL]


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "abc",
        "0912123456",  # one digit short
        "091212345678",  # one digit long
        "98912123456789",
        "02112345678",  # a Tehran landline
        "+982112345678",
        "+19121234567",  # another country
        "+449121234567",
        "0912123456a",
        "09121234567x",
        "۰۹۱۲۱۲۳۴۵۶۷ ext",
        "+09121234567",  # a plus must be followed by 98
        "98+9121234567",
        "++989121234567",
        "+9809121234567",  # a national 0 after the country code
        "0989121234567",
        "0098 0912 123 4567",
        "09121234567/8",
        "+9121234567",  # a plus leads only 98: read by its length and value, so these
        "+0989121234567",  # forms of the right length or value are checked one by one
        "+00989121234567",
        "000989121234567",
        "9121234567+",
        "99999999999999999999",  # more digits than an integer holds
        "0912,123,4567",
        "09971234567",  # 0997: not an allocated prefix
        "09421234567",
        "08121234567",
        "9121234567.0",  # a float as some spreadsheets write it
        "٩١٢١٢٣٤٥٦٧٨٩٠",
        "０９１２１２３４５６７",  # full-width digits are not accepted
        "\u0969\u0967\u0968\u0967\u0968\u0969\u096a\u096b\u096c\u096d",  # Devanagari digits
    ],
)
def test_anything_else_is_invalid(raw: str) -> None:
    assert normalize(raw) is None
    assert not is_valid(raw)
    assert vectorised([raw]) == [None]


def test_null_is_invalid_and_an_integer_is_read_as_its_digits() -> None:
    assert normalize(None) is None
    assert normalize(9121234567) == CANONICAL
    assert normalize(989121234567) == CANONICAL
    assert vectorised([None]) == [None]


def test_format_number_writes_the_canonical_form_providers_expect() -> None:
    assert format_number(CANONICAL) == "989121234567"
    assert normalize(format_number(CANONICAL)) == CANONICAL


@pytest.mark.parametrize(
    ("raw", "operator"),
    [
        ("09101234567", "MCI"),
        ("09121234567", "MCI"),
        ("09191234567", "MCI"),
        ("09901234567", "MCI"),
        ("09961234567", "MCI"),
        ("09001234567", "Irancell"),
        ("09051234567", "Irancell"),
        ("09301234567", "Irancell"),
        ("09331234567", "Irancell"),
        ("09351234567", "Irancell"),
        ("09391234567", "Irancell"),
        ("09411234567", "Irancell"),
        ("09201234567", "Rightel"),
        ("09231234567", "Rightel"),
        ("09981234567", "Shatel"),
        ("09321234567", "Taliya"),
        ("09311234567", "MTCE"),
        ("09341234567", "KishTCI"),
        ("09991234567", "Samantel/ApTel"),
    ],
)
def test_the_operator_comes_from_the_prefix(raw: str, operator: str) -> None:
    number = normalize(raw)
    assert number is not None
    assert operator_of(number) == operator
    assert pl.select(operator_expr(pl.lit(number, dtype=pl.Int64))).item() == operator


def test_0941_is_an_irancell_mobile_though_phonenumbers_disagrees() -> None:
    assert normalize("09411234567") == 989411234567
    assert operator_of(989411234567) == "Irancell"
    reference = phonenumbers.parse("09411234567", "IR")
    assert not phonenumbers.is_valid_number(reference)


def test_exactly_the_prefixes_in_the_table_are_valid() -> None:
    valid = {p for p in range(900, 1000) if normalize(f"0{p}1234567") is not None}
    assert valid == set(PREFIXES)
    assert set(PREFIXES.values()) == set(OPERATOR_NAMES_FA)


def test_an_unknown_prefix_has_no_operator() -> None:
    assert operator_of(989971234567) is None
    assert pl.select(operator_expr(pl.lit(989971234567))).item() is None


def test_normalize_frame_adds_number_operator_and_validity() -> None:
    df = pl.DataFrame(
        {"line_no": [1, 2, 3, 4], "raw": ["۰۹۳۵۱۲۳۴۵۶۷", "021 1234 5678", None, "9201234567"]}
    )
    out = normalize_frame(df, "raw")
    assert out.columns == ["line_no", "raw", "number", "operator", "is_valid"]
    assert out.schema["number"] == pl.Int64
    assert out.schema["operator"] == pl.String
    assert out.schema["is_valid"] == pl.Boolean
    assert out.select("number", "operator", "is_valid").rows() == [
        (989351234567, "Irancell", True),
        (None, None, False),
        (None, None, False),
        (989201234567, "Rightel", True),
    ]


def test_normalize_frame_reads_a_column_of_integers() -> None:
    out = normalize_frame(pl.DataFrame({"raw": [9121234567, 21]}), "raw")
    assert out["number"].to_list() == [CANONICAL, None]


# --- properties ------------------------------------------------------------------------------

_DIGIT_FORMS = [str(d) for d in range(10)]
DECORATIONS = [" ", "-", ".", "(", ")", "\t", "\u200c", "\u200f", "\u00a0", "–", "  "]
NOISE = ["+", "/", ",", "x", "_", "#", "*", "٫", "\u202a", "０"]


DEVANAGARI_DIGITS = "०१२३४५६७८९"  # digits, but not accepted ones


def _script_digit(d: str, script: int) -> str:
    scripts = ("0123456789", PERSIAN_DIGITS, ARABIC_DIGITS, DEVANAGARI_DIGITS)
    return scripts[min(script // 10, 3)][int(d)]


@st.composite
def written_numbers(draw: st.DrawFn) -> str:
    """A number as a person might write it: mostly a known prefix in one of the five forms,
    sometimes an unknown prefix, a wrong lead or missing digits; digits in any script,
    decorations anywhere, now and then noise."""
    known = st.sampled_from(sorted(PREFIXES))
    prefix = draw(st.one_of(known, known, known, st.integers(0, 999)))
    national = f"{prefix:03d}{draw(st.integers(0, 9_999_999)):07d}"
    good_lead = st.sampled_from(["0", "+98", "0098", "98", ""])
    bad_lead = st.sampled_from(["+", "00", "+980", "0098 0", "1", "+1"])
    body = draw(st.one_of(good_lead, good_lead, good_lead, bad_lead)) + national
    if draw(st.integers(0, 5)) == 0:
        cut = draw(st.integers(0, len(body) - 1))
        body = body[:cut] + body[cut + draw(st.integers(1, 3)) :]
    out = []
    for ch in body:
        out.append(_script_digit(ch, draw(st.integers(0, 30))) if ch.isdigit() else ch)
        if draw(st.integers(0, 4)) == 0:
            out.append(draw(st.sampled_from(DECORATIONS)))
        if draw(st.integers(0, 60)) == 0:
            out.append(draw(st.sampled_from(NOISE)))
    return "".join(out)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(written_numbers(), st.text(max_size=20), st.none()), max_size=50))
def test_scalar_and_vectorised_normalize_agree(raws: list[str | None]) -> None:
    assert vectorised(raws) == [normalize(r) for r in raws]


@settings(max_examples=300, deadline=None)
@given(written_numbers())
def test_decorations_and_digit_scripts_never_change_the_number(raw: str) -> None:
    plain = "".join(
        str(PERSIAN_DIGITS.index(c)) if c in PERSIAN_DIGITS
        else str(ARABIC_DIGITS.index(c)) if c in ARABIC_DIGITS
        else c
        for c in raw
        if c not in DECORATIONS
    )  # fmt: skip
    assert normalize(raw) == normalize(plain)


_PHONENUMBERS_KNOWS = sorted(p for p in PREFIXES if p not in {941, 995, 998, 999})


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from(sorted(p for p in PREFIXES if p != 941)),
    subscriber=st.integers(0, 9_999_999),
    form=st.sampled_from(["0{}", "+98{}", "0098{}", "98{}", "{}", "+98 {} "]),
)
def test_phonenumbers_agrees_on_the_canonical_form(prefix: int, subscriber: int, form: str) -> None:
    raw = form.format(f"{prefix}{subscriber:07d}")
    reference = phonenumbers.parse(raw, "IR")
    ours = normalize(raw)
    assert ours is not None
    assert phonenumbers.format_number(reference, phonenumbers.PhoneNumberFormat.E164) == (
        "+" + format_number(ours)
    )
    if prefix in _PHONENUMBERS_KNOWS:
        assert phonenumbers.number_type(reference) == phonenumbers.PhoneNumberType.MOBILE
