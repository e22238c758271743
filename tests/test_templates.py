"""Message variables: one text, a message per recipient; and the opt-out footer."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chapar.errors import InputError
from chapar.footer import DEFAULT_FOOTER, footer_expr, footer_template, with_footer
from chapar.pages import count_pages
from chapar.reasons import Code
from chapar.templates import (
    Missing,
    Template,
    Variable,
    check,
    name_key,
    parse,
    render_expr,
    render_frame,
    render_one,
    resolve,
)

# --- parsing --------------------------------------------------------------------------------


def test_a_template_is_literal_parts_and_variables_in_order() -> None:
    t = parse("سلام {نام|مشتری گرامی}، کد شما {کد} است")
    assert t.parts == (
        "سلام ",
        Variable("نام", "مشتری گرامی"),
        "، کد شما ",
        Variable("کد", None),
        " است",
    )
    assert t.variables == ("نام", "کد")
    assert t.required == ("کد",)
    assert not t.is_plain


@pytest.mark.parametrize(
    ("source", "parts"),
    [
        pytest.param("{{کد}}", ("{کد}",), id="doubled braces are literal braces"),
        pytest.param("a}}b{{c", ("a}b{c",), id="doubled braces anywhere"),
        pytest.param("{{{x}}}", ("{", Variable("x"), "}"), id="a variable inside literal braces"),
        pytest.param("{ نام خانوادگی }", (Variable("نام خانوادگی"),), id="spaces inside a name"),
        pytest.param(
            "{ name | Dear customer }",
            (Variable("name", "Dear customer"),),
            id="spaces around name and fallback are ignored",
        ),
        pytest.param("{name|}", (Variable("name", ""),), id="an empty fallback prints nothing"),
        pytest.param("{a|x|y}", (Variable("a", "x|y"),), id="the first bar separates"),
        pytest.param("{a}{a|b}", (Variable("a"), Variable("a", "b")), id="a name used twice"),
        pytest.param("", (), id="the empty text"),
    ],
)
def test_parsing(source: str, parts: tuple[str | Variable, ...]) -> None:
    assert parse(source).parts == parts


def test_a_plain_template_has_one_text_with_braces_unescaped() -> None:
    t = parse("50% off {{today}} only")
    assert t.is_plain and t.variables == ()
    assert t.text == "50% off {today} only"
    with pytest.raises(ValueError):
        _ = parse("{x}").text


def test_a_name_used_once_without_fallback_is_required() -> None:
    assert parse("{a|x} {a} {b|y}").required == ("a",)
    assert parse("{a|x} {a} {b|y}").variables == ("a", "b")


@pytest.mark.parametrize(
    ("source", "code", "position"),
    [
        ("سلام {نام", Code.TEMPLATE_UNCLOSED_BRACE, 6),
        ("{", Code.TEMPLATE_UNCLOSED_BRACE, 1),
        ("a {name\n} b", Code.TEMPLATE_UNCLOSED_BRACE, 3),
        ("a } b", Code.TEMPLATE_STRAY_BRACE, 3),
        ("{x}}", Code.TEMPLATE_STRAY_BRACE, 4),
        ("{}", Code.TEMPLATE_EMPTY_NAME, 1),
        ("ok {  |fallback}", Code.TEMPLATE_EMPTY_NAME, 4),
        ("{a {b}}", Code.TEMPLATE_NESTED_BRACE, 1),
        ("{a|{{b}", Code.TEMPLATE_NESTED_BRACE, 1),
    ],
)
def test_malformed_templates_are_refused_saying_where(
    source: str, code: Code, position: int
) -> None:
    with pytest.raises(InputError) as caught:
        parse(source)
    assert caught.value.code is code
    assert caught.value.reason.params["position"] == position
    assert caught.value.where == "message"
    assert f"character {position}" in caught.value.text("en")
    persian = str(position).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert f"نویسه {persian}" in caught.value.text("fa")  # Persian digits in Persian


# --- names and columns ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "column"),
    [
        ("نام", "نام"),
        ("نام‌خانوادگی", "نام خانوادگی"),  # ZWNJ in the text, a space in the file
        ("نام  خانوادگی", "نام خانوادگی"),
        ("شهر", "شـهر"),  # tatweel in the file
        ("کد ملی", "كد ملي"),  # Arabic kaf and yeh in the file (Windows-1256 exports)
        ("Name", "name"),
    ],
)
def test_a_name_finds_its_column_across_keyboards(name: str, column: str) -> None:
    assert name_key(name) == name_key(column)
    assert resolve(parse("{" + name + "}"), ["number", column]).variables == (column,)


def test_an_exact_column_wins_and_two_that_fold_alike_match_only_exactly() -> None:
    assert resolve(parse("{Name}"), ["name", "Name"]).variables == ("Name",)
    with pytest.raises(InputError) as caught:
        resolve(parse("{NAME}"), ["name", "Name"])
    assert caught.value.code is Code.TEMPLATE_UNKNOWN_VARIABLES


def test_unknown_variables_are_refused_with_the_known_columns() -> None:
    with pytest.raises(InputError) as caught:
        resolve(parse("{نام} {شهر} {کد}"), ["نام", "کد تخفیف"])
    exc = caught.value
    assert exc.code is Code.TEMPLATE_UNKNOWN_VARIABLES
    assert exc.text("en") == (
        "message: no column of the recipient file is called {شهر}, {کد}; "
        "the columns are: نام, کد تخفیف"
    )
    assert "ستون‌ها: نام, کد تخفیف" in exc.text("fa")


def test_variables_without_any_column_are_refused_as_such() -> None:
    with pytest.raises(InputError) as caught:
        resolve(parse("{نام}"), [])
    assert caught.value.code is Code.TEMPLATE_NO_COLUMNS
    assert "{نام}" in caught.value.text("fa")


# --- checking an audience -------------------------------------------------------------------


def audience() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "line_no": [2, 3, 4, 5, 6, 7, 8, 9, 10],
            "نام": ["علی", None, "", "  ", "مریم", None, None, None, None],
            "کد": ["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"],
            "شهر": ["تهران"] * 9,
        }
    )


def test_recipients_missing_a_required_value_are_refused_with_count_and_five_lines() -> None:
    with pytest.raises(InputError) as caught:
        check("سلام {نام}، کد {کد}", audience(), line_column="line_no")
    exc = caught.value
    assert exc.code is Code.TEMPLATE_MISSING_VALUES
    assert exc.reason.params == {"name": "نام", "count": 7, "lines": [3, 4, 5, 7, 8]}
    assert exc.text("en") == (
        "message: 7 recipients have no value for {نام} (e.g. lines 3, 4, 5, 7, 8); "
        "give a fallback: {نام|…}"
    )
    assert exc.text("fa").startswith("متن پیام: ۷ گیرنده برای {نام} مقداری ندارند")


def test_without_a_line_column_samples_are_positions_in_the_audience() -> None:
    with pytest.raises(InputError) as caught:
        check("{نام}", audience().drop("line_no"))
    assert caught.value.reason.params["lines"] == [2, 3, 4, 6, 7]


def test_a_fallback_makes_missing_values_fine_and_they_are_counted() -> None:
    checked = check("سلام {نام|مشتری گرامی}، کد {کد}", audience(), line_column="line_no")
    assert checked.recipients == 9
    assert checked.missing == {
        "نام": Missing(7, (3, 4, 5, 7, 8)),
        "کد": Missing(0, ()),
    }


def test_check_resolves_names_and_takes_a_lazy_frame() -> None:
    checked = check("{نام‌|دوست} از {شـهر}", audience().lazy(), line_column="line_no")
    assert checked.template.variables == ("نام", "شهر")
    assert checked.recipients == 9


def test_the_line_column_is_not_a_variable() -> None:
    with pytest.raises(InputError) as caught:
        check("{line_no}", audience(), line_column="line_no")
    assert caught.value.code is Code.TEMPLATE_UNKNOWN_VARIABLES


def test_a_plain_template_fits_any_audience() -> None:
    checked = check("سلام", audience().select("line_no"), line_column="line_no")
    assert (checked.recipients, checked.missing, checked.template.is_plain) == (9, {}, True)


def test_checking_a_million_recipients_is_one_quick_pass() -> None:
    n = 1_000_000
    attrs = pl.DataFrame({"نام": pl.Series(["x", None]).sample(n, with_replacement=True, seed=1)})
    checked = check("{نام|دوست}", attrs)
    assert checked.missing["نام"].count == attrs["نام"].null_count()


# --- rendering ------------------------------------------------------------------------------


def test_rendering_a_frame_fills_values_and_fallbacks_row_by_row() -> None:
    texts = render_frame("سلام {نام|مشتری گرامی}، کد {{{کد}}}", audience())
    assert texts.name == "text" and texts.dtype == pl.String
    assert texts.to_list()[:5] == [
        "سلام علی، کد {a1}",
        "سلام مشتری گرامی، کد {a2}",
        "سلام مشتری گرامی، کد {a3}",
        "سلام مشتری گرامی، کد {a4}",
        "سلام مریم، کد {a5}",
    ]


def test_a_missing_required_value_renders_as_null_in_a_frame_and_refuses_one() -> None:
    assert render_frame("{نام}!", audience()).to_list()[:2] == ["علی!", None]
    with pytest.raises(InputError) as caught:
        render_one("{نام}!", {"نام": "  "})
    assert caught.value.code is Code.TEMPLATE_MISSING_VALUE
    assert caught.value.text("fa") == "متن پیام: مقداری برای {نام} داده نشده و جایگزینی ندارد"


def test_a_plain_template_renders_once_per_recipient() -> None:
    assert render_frame("50% {{off}}", audience()).to_list() == ["50% {off}"] * 9
    assert render_one("50% {{off}}", {}) == "50% {off}"


def test_values_lose_their_edges_and_other_types_read_as_text() -> None:
    attrs = pl.DataFrame({"n": ["\u200c رضا\u200f ", "x"], "amount": [1200, None]})
    assert render_frame("{n}: {amount|0}", attrs).to_list() == ["رضا: 1200", "x: 0"]


def test_render_one_matches_keys_as_columns_and_absent_keys_take_the_fallback() -> None:
    assert render_one("{نام‌خانوادگی|} {City|?}", {"نام خانوادگی": "احمدی"}) == "احمدی ?"


def test_render_expr_works_in_a_lazy_plan() -> None:
    t = resolve(parse("{a}-{b|?}"), ["a", "b"])
    out = pl.LazyFrame({"a": ["1", "2"], "b": ["x", None]}).select(render_expr(t)).collect()
    assert out["text"].to_list() == ["1-x", "2-?"]


_value = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["", " ", "\u200c", "علی", " مریم ", "😀", "€[x]", "a|b", "{}"]),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["lit", "a", "b", "c"]), st.text(max_size=8), st.booleans()),
        max_size=8,
    ),
    st.lists(st.tuples(_value, _value, _value), min_size=1, max_size=20),
)
def test_rendering_a_frame_equals_rendering_each_recipient(
    pieces: list[tuple[str, str, bool]], rows: list[tuple[str | None, ...]]
) -> None:
    parts: list[str | Variable] = []
    for kind, text, has_fallback in pieces:
        if kind == "lit":
            parts.append(text)
        else:
            fallback = text.strip().replace("{", "").replace("}", "") if has_fallback else None
            parts.append(Variable(kind, fallback))
    template = Template(tuple(parts))
    attrs = pl.DataFrame(rows, schema={"a": pl.String, "b": pl.String, "c": pl.String},
                         orient="row")  # fmt: skip
    rendered = render_frame(template, attrs).to_list()
    for row, text in zip(attrs.iter_rows(named=True), rendered, strict=True):
        try:
            expected: str | None = render_one(template, row)
        except InputError:
            expected = None
        assert text == expected


# --- the opt-out footer ---------------------------------------------------------------------


def test_the_footer_goes_on_its_own_line_and_is_paid_for() -> None:
    text = "س" * 65
    assert with_footer(text) == text + "\nلغو۱۱"
    assert DEFAULT_FOOTER == "لغو۱۱"
    assert count_pages(text).pages == 1
    assert count_pages(with_footer(text)).pages == 2  # 65 + 1 + 5 = 71 units


def test_a_text_already_ending_with_the_footer_is_not_given_it_twice() -> None:
    assert with_footer("تخفیف ویژه\nلغو۱۱ ") == "تخفیف ویژه\nلغو۱۱ "
    assert with_footer("stop words", footer="") == "stop words"
    assert with_footer("Hi", footer="STOP=11") == "Hi\nSTOP=11"


def test_the_footer_over_a_column_equals_the_footer_of_each_text() -> None:
    texts = ["سلام", "سلام لغو۱۱", "x لغو۱۱\u200c ", "", None]
    out = pl.DataFrame({"t": texts}).select(footer_expr(pl.col("t"))).to_series().to_list()
    assert out == [None if t is None else with_footer(t) for t in texts]
    assert pl.DataFrame({"t": ["a"]}).select(footer_expr(pl.col("t"), "")).item() == "a"


@pytest.mark.parametrize(
    "source",
    ["سلام {نام|دوست}", "{نام|دوست}", "سلام {نام|دوست}\nلغو۱۱", "سلام", "", "{کد} لغو۱۱ "],
)
def test_a_footer_in_the_template_renders_as_the_footer_of_each_text(source: str) -> None:
    attrs = pl.DataFrame({"نام": ["علی", None], "کد": ["1", "2"]})
    template = footer_template(parse(source))
    expected = [with_footer(t) for t in render_frame(source, attrs).to_list()]
    assert render_frame(template, attrs).to_list() == expected
    assert footer_template(template) == template  # never twice
    assert footer_template(parse(source), "") == parse(source)
