"""SMS pages (parts): how many a text needs, exactly as phones and providers split it.

DESIGN §3. A text made only of GSM 03.38 default-alphabet characters, plus the extension
table (``^{}\\[~]|€`` and form feed, two septets each: escape + character), is sent as
GSM-7: up to 160 septets in one page, otherwise pages of 153 septets (7 go to the
concatenation header). Any other character makes the whole text UCS-2: up to 70 UTF-16
code units in one page, otherwise pages of 67. A two-septet extension character, and a
surrogate pair (emoji, any character above U+FFFF), is never split across two pages: a
page that would end in its first half ends one unit early, so a long text can need one
page more than ``ceil(units / 153)`` says. The empty text is 0 pages (callers reject it).

Two forms of one rule:

* :func:`count_pages` for one text (the live preview, the pricing of a campaign);
* :func:`pages_expr` (and :func:`page_counts` on a Series; :func:`count_pages_frame` for
  just the encoding and pages) for a column (reports, dry runs over a million messages,
  personalised texts): a struct with the fields of :class:`PageCount`. Native
  Polars does the work; only rows whose page count the straddle rule can change (long
  texts with wide characters, in a narrow band of lengths) are split exactly in Python by
  :func:`count_pages`, and only those rows reach Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

import polars as pl

Encoding = Literal["gsm7", "ucs2"]

#: GSM 03.38 default alphabet (the escape 0x1B is not a character and is left out).
GSM7_BASIC: Final = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: GSM 03.38 extension table: each is sent as escape + character, two septets.
GSM7_EXTENSION: Final = "\f^{}\\[~]|€"

#: (single-page limit, per-page limit of a multi-page text) in units of the encoding.
LIMITS: Final[dict[str, tuple[int, int]]] = {"gsm7": (160, 153), "ucs2": (70, 67)}


@dataclass(frozen=True)
class PageCount:
    """The pages of one text. ``characters`` counts code points (what the user typed);
    ``units`` counts septets (gsm7) or UTF-16 code units (ucs2), which is what is paid."""

    encoding: Encoding
    characters: int
    units: int
    pages: int


def _char_class(chars: str, *, negate: bool = False, rust: bool) -> str:
    """A regex class of exactly ``chars``, every character escaped by code point, for
    Python's ``re`` or (``rust=True``) the Rust ``regex`` crate that Polars uses."""
    escape = "\\x{{{:X}}}" if rust else "\\U{:08X}"
    return "[" + ("^" if negate else "") + "".join(escape.format(ord(c)) for c in chars) + "]"


_GSM7_ALL: Final = GSM7_BASIC + GSM7_EXTENSION
_NOT_GSM_RE: Final = re.compile(_char_class(_GSM7_ALL, negate=True, rust=False))
_EXTENSION_RE: Final = re.compile(_char_class(GSM7_EXTENSION, rust=False))
_ASTRAL_RE: Final = re.compile("[\U00010000-\U0010ffff]")
_NOT_GSM_RUST: Final = _char_class(_GSM7_ALL, negate=True, rust=True)
_EXTENSION_RUST: Final = _char_class(GSM7_EXTENSION, rust=True)
_ASTRAL_RUST: Final = r"[\x{10000}-\x{10FFFF}]"
_ASTRAL_LEADS: Final = [bytes([lead]) for lead in range(0xF0, 0xF5)]  # their UTF-8 lead bytes


def _split(units: int, wide_starts: list[int], single: int, per_page: int) -> int:
    """Pages of a text of ``units`` units whose two-unit characters start at the unit
    offsets ``wide_starts`` (ascending): the greedy split, where a page that would end
    between the two halves of a character ends one unit early."""
    if units == 0:
        return 0
    if units <= single:
        return 1
    if not wide_starts:
        return -(-units // per_page)
    straddling = set(wide_starts)
    pages, start = 0, 0
    while start < units:
        pages += 1
        end = start + per_page
        # The wide character starting at end - 1 would be cut in two: it opens the next page.
        start = end - 1 if end - 1 in straddling else end
    return pages


def _wide_starts(text: str, pattern: re.Pattern[str]) -> list[int]:
    """Unit offsets at which the two-unit characters matched by ``pattern`` start: the
    k-th one (0-based) at code point i starts at unit i + k."""
    return [m.start() + k for k, m in enumerate(pattern.finditer(text))]


def count_pages(text: str) -> PageCount:
    """The encoding, size and page count of one message text."""
    characters = len(text)
    if _NOT_GSM_RE.search(text) is None:
        encoding: Encoding = "gsm7"
        wide = _wide_starts(text, _EXTENSION_RE)
    else:
        encoding = "ucs2"
        wide = _wide_starts(text, _ASTRAL_RE)
    single, per_page = LIMITS[encoding]
    units = characters + len(wide)
    return PageCount(encoding, characters, units, _split(units, wide, single, per_page))


def max_chars_hint(encoding: Encoding, pages: int) -> int:
    """How many one-unit characters fit in ``pages`` pages (for the composer's counter);
    each extension character or emoji takes two of them."""
    if pages <= 0:
        return 0
    single, per_page = LIMITS[encoding]
    return single if pages == 1 else per_page * pages


#: The dtype of :func:`pages_expr`, field for field :class:`PageCount`.
PAGES_DTYPE: Final = pl.Struct(
    {"encoding": pl.String, "characters": pl.Int64, "units": pl.Int64, "pages": pl.Int64}
)


def pages_expr(text: pl.Expr) -> pl.Expr:
    """Vectorised :func:`count_pages`: a struct of :data:`PAGES_DTYPE` (the fields of
    :class:`PageCount`), null where the text is null.

    Take ``.struct.field("pages")`` for the pages only, or ``.struct.unnest()`` for all.
    The work is :func:`page_counts` over each batch of the column.
    """
    return text.map_batches(_page_struct, return_dtype=PAGES_DTYPE, is_elementwise=True)


def _page_struct(texts: pl.Series) -> pl.Series:
    counts = page_counts(texts)
    return counts.select(
        pl.when(pl.Series(texts.is_not_null())).then(pl.struct(pl.all())).alias(texts.name)
    ).to_series()


def page_counts(texts: pl.Series) -> pl.DataFrame:
    """:func:`count_pages` of every text, as a frame of ``encoding``, ``characters``,
    ``units`` and ``pages`` (null where the text is null). Stages over whole columns, each
    regex scan done once and only where it matters (Polars does not share repeated
    sub-expressions of one expression tree, so a single expression would rescan):

    1. Encoding (GSM-7 unless a regex finds a character outside both GSM tables) and
       length in code points.
    2. Wide (two-unit) characters: extension characters counted in GSM-7 rows only;
       characters above U+FFFF counted in UCS-2 rows whose bytes hold a 4-byte lead.
    3. Pages: ``ceil(units / per_page)``, plus what the straddle rule adds. Each page of a
       split loses at most one unit, and only to a wide character, so the exact answer
       also lies under ``ceil(units / (per_page - 1))`` and ``ceil((units + wide) /
       per_page)``. Where those bounds meet it is exact; the rows left (long texts with
       wide characters whose length falls in a narrow band, a few percent of such texts)
       are split exactly by :func:`count_pages`, and only they reach Python.
    """
    (gsm_single, gsm_page), (ucs_single, ucs_page) = LIMITS["gsm7"], LIMITS["ucs2"]
    text = pl.col("text")
    raw = text.cast(pl.Binary)
    first = (
        pl.DataFrame({"text": texts.cast(pl.String)})
        .lazy()
        .with_columns(
            gsm=~text.str.contains(_NOT_GSM_RUST),
            characters=text.str.len_chars().cast(pl.Int64),
            # Only a 4-byte UTF-8 sequence is above U+FFFF; a byte search finds its lead
            # (F0-F4) many times faster than a regex, so the regex counts only those rows.
            maybe_astral=pl.any_horizontal(raw.bin.contains(lead) for lead in _ASTRAL_LEADS),
        )
        .collect()
    )
    gsm = first["gsm"]
    gsm_rows = gsm.arg_true()
    astral_rows = (first["maybe_astral"] & ~gsm).fill_null(False).arg_true()
    extension, astral = pl.collect_all(
        [
            first.lazy().select(text.gather(gsm_rows).str.count_matches(_EXTENSION_RUST)),
            first.lazy().select(text.gather(astral_rows).str.count_matches(_ASTRAL_RUST)),
        ]
    )
    wide = (
        pl.zeros(first.height, pl.Int64, eager=True)
        .scatter(gsm_rows, extension.to_series())
        .scatter(astral_rows, astral.to_series())
    )

    units, per_page, single = pl.col("units"), pl.col("per_page"), pl.col("single")
    frame = (
        first.lazy()
        .with_columns(
            units=pl.col("characters") + wide,
            wide=wide,
            single=pl.when("gsm").then(gsm_single).otherwise(ucs_single),
            per_page=pl.when("gsm").then(gsm_page).otherwise(ucs_page),
        )
        .with_columns(
            low=(units + per_page - 1) // per_page,
            high=pl.min_horizontal(
                (units + per_page - 2) // (per_page - 1),
                (units + pl.col("wide") + per_page - 1) // per_page,
            ),
        )
        .with_columns(
            uncertain=((units > single) & (pl.col("low") < pl.col("high"))).fill_null(False),
            pages=pl.when(units == 0).then(0).when(units <= single).then(1).otherwise("low"),
        )
        .collect()
    )
    pages = frame["pages"].cast(pl.Int64)
    uncertain = frame["uncertain"]
    if uncertain.any():
        rows = uncertain.arg_true()
        pages = pages.scatter(rows, [count_pages(t).pages for t in frame["text"].gather(rows)])
    return frame.select(
        encoding=pl.when("gsm").then(pl.lit("gsm7")).when(~pl.col("gsm")).then(pl.lit("ucs2")),
        characters="characters",
        units="units",
        pages=pages,
    )


def count_pages_frame(texts: pl.Series) -> pl.DataFrame:
    """The ``encoding`` and ``pages`` of each text, row for row equal to
    :func:`count_pages` (null where the text is null): the per-recipient pages of rendered
    personalised messages. :func:`page_counts` does the work (its units and characters are
    left out here; call it for those)."""
    return page_counts(texts).select("encoding", "pages")
