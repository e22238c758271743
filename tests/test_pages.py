"""SMS pages: encoding, units and page counts as phones split a text (DESIGN §3)."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chapar.pages import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    PAGES_DTYPE,
    PageCount,
    count_pages,
    count_pages_frame,
    max_chars_hint,
    page_counts,
    pages_expr,
)

PERSIAN = "سلام دوست عزیز، تخفیف ویژهٔ یلدا‌ها ۱۲۳۴"  # includes a ZWNJ
EMOJI = "😀🎉🇮🇷👍🏽\U0001f9d1\U000e0067"  # astral code points, incl. a tag character


def oracle(text: str) -> PageCount:
    """The rule written as plainly as possible, one character at a time: the reference."""
    gsm = all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)
    if gsm:
        widths = [2 if c in GSM7_EXTENSION else 1 for c in text]
        single, per_page = 160, 153
    else:
        widths = [2 if ord(c) > 0xFFFF else 1 for c in text]
        single, per_page = 70, 67
    units = sum(widths)
    if units == 0:
        pages = 0
    elif units <= single:
        pages = 1
    else:
        pages, used = 1, 0
        for width in widths:
            if used + width > per_page:
                pages, used = pages + 1, 0
            used += width
    return PageCount("gsm7" if gsm else "ucs2", len(text), units, pages)


def vectorised(texts: list[str | None]) -> list[PageCount | None]:
    rows = (
        pl.DataFrame({"text": texts}, schema={"text": pl.String})
        .select(pages_expr(pl.col("text")).alias("p"))
        .to_series()
        .to_list()
    )
    return [None if r is None else PageCount(**r) for r in rows]


# --- hand-checked cases ----------------------------------------------------------------------


def case(text: str, expected: PageCount, why: str) -> object:
    return pytest.param(text, expected, id=why)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        case("", PageCount("gsm7", 0, 0, 0), "empty text is 0 pages"),
        case("a" * 160, PageCount("gsm7", 160, 160, 1), "160 Latin is 1 page"),
        case("a" * 161, PageCount("gsm7", 161, 161, 2), "161 Latin is 2 pages"),
        case("a" * 306, PageCount("gsm7", 306, 306, 2), "306 septets is 2 pages"),
        case("a" * 307, PageCount("gsm7", 307, 307, 3), "307 septets is 3 pages"),
        case("a" * 459, PageCount("gsm7", 459, 459, 3), "459 septets is 3 pages"),
        case("س" * 70, PageCount("ucs2", 70, 70, 1), "70 Persian is 1 page"),
        case("س" * 71, PageCount("ucs2", 71, 71, 2), "71 Persian is 2 pages"),
        case("س" * 134, PageCount("ucs2", 134, 134, 2), "134 Persian is 2 pages"),
        case("س" * 135, PageCount("ucs2", 135, 135, 3), "135 Persian is 3 pages"),
        case("a" * 158 + "€", PageCount("gsm7", 159, 160, 1), "euro is 2 septets, 160 fit"),
        case("a" * 159 + "€", PageCount("gsm7", 160, 161, 2), "euro is 2 septets, 161 split"),
        case(
            "a" * 152 + "€" + "a" * 152,
            PageCount("gsm7", 305, 306, 3),
            "euro at septet 153 opens page 2, so 306 septets need 3 pages",
        ),
        case(
            "a" * 151 + "€" + "a" * 153,
            PageCount("gsm7", 305, 306, 2),
            "euro ending at septet 153 fits page 1, so 306 septets are 2 pages",
        ),
        case("€" + "a" * 304, PageCount("gsm7", 305, 306, 2), "euro first, 306 septets, 2 pages"),
        case(
            "a" * 305 + "[" + "a" * 152,
            PageCount("gsm7", 458, 459, 4),
            "bracket at septet 306 opens page 3, so 459 septets need 4 pages",
        ),
        case(
            "a" * 152 + "[" + "a" * 150 + "]" + "a" * 152,
            PageCount("gsm7", 456, 458, 4),
            "straddles at two boundaries: pages of 152, 152, 153 and 1",
        ),
        case(
            "a" * 152 + "[" + "a" * 150 + "]" + "a" * 151,
            PageCount("gsm7", 455, 457, 3),
            "straddles at two boundaries: pages of 152, 152, 153",
        ),
        case(
            "س" * 66 + "😀" + "س" * 66,
            PageCount("ucs2", 133, 134, 3),
            "emoji at unit 67 opens page 2, so 134 units need 3 pages",
        ),
        case(
            "س" * 65 + "😀" + "س" * 67,
            PageCount("ucs2", 133, 134, 2),
            "emoji ending at unit 67 fits page 1, so 134 units are 2 pages",
        ),
        case("😀" * 35, PageCount("ucs2", 35, 70, 1), "35 emoji are 70 units, 1 page"),
        case("😀" * 36, PageCount("ucs2", 36, 72, 2), "36 emoji split 33 + 3"),
        case("😀" * 67, PageCount("ucs2", 67, 134, 3), "67 emoji split 33 + 33 + 1"),
    ],
)
def test_hand_checked_page_counts(text: str, expected: PageCount) -> None:
    assert count_pages(text) == expected
    assert vectorised([text]) == [expected]
    assert oracle(text) == expected


def test_the_whole_gsm_basic_alphabet_is_one_septet_a_character() -> None:
    count = count_pages(GSM7_BASIC)
    assert len(GSM7_BASIC) == 127  # 128 codes, less the escape
    assert (count.encoding, count.units) == ("gsm7", len(GSM7_BASIC))


@pytest.mark.parametrize("char", list(GSM7_EXTENSION))
def test_each_extension_character_takes_two_septets(char: str) -> None:
    assert count_pages(char) == PageCount("gsm7", 1, 2, 1)


@pytest.mark.parametrize("char", ["ç", "á", "`", "\t", "ی", "“", "\u200c", "€" + "ş"])
def test_one_character_outside_gsm_makes_the_whole_text_ucs2(char: str) -> None:
    assert count_pages("Hello [world] " + char).encoding == "ucs2"


def test_ucs2_units_count_utf16_code_units_and_characters_count_code_points() -> None:
    count = count_pages("سلام 🇮🇷")
    assert (count.characters, count.units) == (7, 9)
    assert count.units == len("سلام 🇮🇷".encode("utf-16-le")) // 2


def test_extension_characters_in_a_ucs2_text_are_one_unit() -> None:
    assert count_pages("س€").units == 2


def test_vectorised_form_keeps_nulls_and_gives_a_typed_struct() -> None:
    df = pl.DataFrame({"text": ["hi", None, ""]}, schema={"text": pl.String})
    out = df.select(pages_expr(pl.col("text")).alias("p"))
    assert out.schema["p"] == PAGES_DTYPE
    assert vectorised(["hi", None, ""]) == [
        PageCount("gsm7", 2, 2, 1),
        None,
        PageCount("gsm7", 0, 0, 0),
    ]


def test_vectorised_form_works_lazily_and_on_an_empty_column() -> None:
    lf = pl.LazyFrame({"text": ["a" * 152 + "€" + "a" * 152]})
    assert lf.select(pages_expr(pl.col("text")).struct.field("pages")).collect().item() == 3
    assert page_counts(pl.Series([], dtype=pl.String)).height == 0


def test_max_chars_hint_is_the_capacity_in_one_unit_characters() -> None:
    assert [max_chars_hint("gsm7", n) for n in (0, 1, 2, 3)] == [0, 160, 306, 459]
    assert [max_chars_hint("ucs2", n) for n in (1, 2, 4)] == [70, 134, 268]


# --- properties ------------------------------------------------------------------------------

_pieces = st.sampled_from([GSM7_BASIC, GSM7_EXTENSION, PERSIAN, EMOJI])
_mixed_alphabet = _pieces.flatmap(lambda a: st.sampled_from(a))
mixed_texts = st.one_of(
    st.text(alphabet=st.sampled_from(GSM7_BASIC + GSM7_EXTENSION), max_size=1000),
    st.text(alphabet=st.sampled_from(GSM7_BASIC + "€{}"), min_size=140, max_size=1000),
    st.text(alphabet=st.sampled_from(PERSIAN + EMOJI), max_size=1000),
    st.text(alphabet=_mixed_alphabet, max_size=1000),
    st.text(max_size=300),
)


@st.composite
def near_boundaries(draw: st.DrawFn) -> str:
    """A long text built page by page: runs of narrow characters about a page long, each
    perhaps followed by a wide one, so wide characters often land on a page boundary, which
    random texts rarely do."""
    gsm = draw(st.booleans())
    narrow = draw(st.sampled_from("a @é" if gsm else "سلا "))
    wide = draw(st.sampled_from(GSM7_EXTENSION if gsm else EMOJI))
    per_page = 153 if gsm else 67
    text = ""
    for _ in range(draw(st.integers(1, 6))):
        text += narrow * draw(st.integers(per_page - 3, per_page))
        text += wide * draw(st.integers(0, 2))
    return text + narrow * draw(st.integers(0, 3))


@settings(max_examples=300, deadline=None)
@given(st.one_of(mixed_texts, near_boundaries()))
def test_count_pages_follows_the_one_character_at_a_time_rule(text: str) -> None:
    assert count_pages(text) == oracle(text)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(mixed_texts, near_boundaries(), st.none()), max_size=40))
def test_vectorised_pages_equal_count_pages(texts: list[str | None]) -> None:
    assert vectorised(texts) == [None if t is None else count_pages(t) for t in texts]


# --- count_pages_frame: the per-recipient form, exact at every page boundary ----------------

#: (narrow character, wide characters, single-page limit, per-page limit)
ENCODINGS = [
    ("a", ["€", "{", "\\", "\f"], 160, 153),  # GSM-7: extension characters are 2 septets
    ("س", ["😀", "\U0010ffff", "👍🏽"], 70, 67),  # UCS-2: astral characters are 2 units
]


def boundary_texts() -> list[str]:
    """Texts of every length next to every page boundary up to 6 pages (the single-page
    limit, then each multiple of the per-page limit), plain and with one or two wide
    characters placed on, just before and just after each boundary."""
    texts: list[str] = []
    for narrow, wides, single, per_page in ENCODINGS:
        boundaries = [single] + [per_page * k for k in range(1, 7)]
        for units in {b + d for b in boundaries for d in range(-2, 3)}:
            texts.append(narrow * units)
            for wide in wides:
                width = len(wide.encode("utf-16-le")) // 2 if narrow == "س" else 2
                for at in {b + d for b in boundaries for d in range(-2, 2) if 0 <= b + d < units}:
                    if at + width > units:
                        continue
                    texts.append(narrow * at + wide + narrow * (units - at - width))
                    second = at + per_page
                    if second + 2 * width <= units:  # a second wide character a page later
                        texts.append(
                            narrow * at + wide + narrow * (second - at - width) + wide
                            + narrow * (units - second - 2 * width)
                        )  # fmt: skip
    return texts


def frame_rows(texts: list[str | None]) -> list[tuple[str, int] | None]:
    frame = count_pages_frame(pl.Series(texts, dtype=pl.String))
    assert frame.columns == ["encoding", "pages"]
    return [None if r[0] is None else r for r in frame.iter_rows()]


def scalar_rows(texts: list[str | None]) -> list[tuple[str, int] | None]:
    return [None if t is None else (count_pages(t).encoding, count_pages(t).pages) for t in texts]


def test_count_pages_frame_equals_count_pages_at_every_page_boundary() -> None:
    texts = boundary_texts()
    assert len(texts) > 2000
    rows = frame_rows(list(texts))
    assert rows == scalar_rows(list(texts))
    assert rows == [(oracle(t).encoding, oracle(t).pages) for t in texts]
    # the boundaries are really crossed: from 1 page up to 7
    assert {row[1] for row in rows if row} == set(range(1, 8))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, ("gsm7", 1)),
        ("a" * 161, ("gsm7", 2)),
        ("a" * 153 * 3, ("gsm7", 3)),
        ("a" * (153 * 3 + 1), ("gsm7", 4)),
        ("a" * 152 + "€" + "a" * 153, ("gsm7", 3)),
        ("س" * 70, ("ucs2", 1)),
        ("س" * 71, ("ucs2", 2)),
        ("س" * 67 * 4, ("ucs2", 4)),
        ("س" * (67 * 4 + 1), ("ucs2", 5)),
        ("س" * 66 + "😀" + "س" * 66, ("ucs2", 3)),
        ("a" * 69 + "😀", ("ucs2", 2)),  # one emoji makes a Latin text UCS-2: 71 units
        (None, None),
    ],
)
def test_count_pages_frame_hand_checked(text: str | None, expected: tuple[str, int]) -> None:
    assert frame_rows([text]) == [expected]


@st.composite
def at_a_boundary(draw: st.DrawFn) -> str:
    """A text whose length sits on a page boundary (±2), with wide characters drawn from
    both tables scattered through it — often on a boundary too."""
    narrow, wides, single, per_page = draw(st.sampled_from(ENCODINGS))
    units = draw(st.sampled_from([single, *(per_page * k for k in range(1, 6))]))
    units += draw(st.integers(-2, 2))
    chars = [narrow] * units
    for _ in range(draw(st.integers(0, 4))):
        chars[draw(st.integers(0, units - 1))] = draw(st.sampled_from(wides))
    return "".join(chars)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(at_a_boundary(), near_boundaries(), mixed_texts, st.none()),
                max_size=30))  # fmt: skip
def test_count_pages_frame_equals_count_pages(texts: list[str | None]) -> None:
    assert frame_rows(texts) == scalar_rows(texts)
