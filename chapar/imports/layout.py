"""Where a table's numbers are: the header row below any title rows, and the number column.

Decided on a bounded sample of rows (the first :data:`SAMPLE_ROWS`), the same way for CSV
and Excel:

* The header is the nearest row above the first row holding a valid mobile number that
  names something (a letter in a cell, no cell reading as a number); with none, the file
  has no header. Rows above the
  header (a title, a date, blank rows) are skipped, not counted.
* The number column, when none is named, is the one where most sample rows normalise to a
  valid mobile; on a tie, a header naming a phone column (mobile, شماره, …), then the
  leftmost. The other columns are the recipient's attributes, named by the header (trimmed,
  exactly as written, Persian included); a blank header cell is ``column_N``.
* Numbers a spreadsheet stored as numbers lost their leading 0 (``9121234567``) and may come
  as ``9121234567.0`` or in scientific notation (``9.121234567E+09``): :func:`clean_expr`
  gives back the digits when they are all there. ``9.12123E+09`` (what Excel writes into a
  CSV for a number column it shows in scientific notation) has lost digits for good and
  stays invalid: guessing would send to a stranger.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from chapar.errors import InputError
from chapar.numbers import normalize
from chapar.reasons import Code

SAMPLE_ROWS = 200
MAX_COLUMNS = 200  # more values than this on a line is not a table of recipients

PHONE_COLUMNS = (
    "mobile",
    "phone",
    "number",
    "numbers",
    "receptor",
    "msisdn",
    "cell",
    "tel",
    "شماره",
    "موبایل",
    "تلفن",
    "شماره موبایل",
    "شماره همراه",
    "همراه",
)

_FLOAT_TEXT = r"^([0-9]+)\.0*$"
_SCIENTIFIC = r"^([0-9])(?:\.([0-9]+))?[eE]\+?([0-9]{1,2})$"
_SCIENTIFIC_RE = re.compile(_SCIENTIFIC)
_FLOAT_RE = re.compile(_FLOAT_TEXT)


def clean_number(value: str | None) -> str | None:
    """Scalar :func:`clean_expr`, for the sample."""
    if value is None:
        return None
    value = value.strip()
    if m := _FLOAT_RE.match(value):
        return m.group(1)
    if (m := _SCIENTIFIC_RE.match(value)) and len(m.group(2) or "") >= int(m.group(3)):
        digits = m.group(1) + (m.group(2) or "")
        exponent = int(m.group(3))
        return digits[: exponent + 1] if set(digits[exponent + 1 :]) <= {"0"} else value
    return value


def clean_expr(col: pl.Expr) -> pl.Expr:
    """The digits of a number a spreadsheet stored as a number: ``9121234567.0`` ->
    ``9121234567``; ``9.121234567E+09`` -> ``9121234567`` when every digit is there;
    anything else unchanged (and normalised as written)."""
    sci = col.str.extract_groups(_SCIENTIFIC)
    lead, frac, exp = (
        sci.struct.field("1"),
        sci.struct.field("2").fill_null(""),
        sci.struct.field("3").cast(pl.Int32, strict=False),
    )
    digits = lead + frac
    exact = (frac.str.len_chars() >= exp) & (
        digits.str.slice(exp + 1).str.replace_all("0", "").str.len_chars() == 0
    )
    return (
        pl.when(col.str.contains(_FLOAT_TEXT))
        .then(col.str.extract(_FLOAT_TEXT, 1))
        .when(lead.is_not_null() & exact)
        .then(digits.str.slice(0, exp + 1))
        .otherwise(col)
    )


def is_valid(value: str | None) -> bool:
    return normalize(clean_number(value)) is not None


def looks_like_number(value: str | None) -> bool:
    if value is None:
        return False
    digits = sum(ch.isdigit() for ch in value)
    return digits >= 7 and digits >= len(value.strip()) // 2


def _blank(row: Sequence[str | None]) -> bool:
    return all(v is None or not v.strip() for v in row)


def _names_something(row: Sequence[str | None]) -> bool:
    """A header names its columns: some cell has a letter and none reads as a number (a
    first line of ``123`` is a short, invalid number, not a column name)."""
    cells = [v for v in row if v is not None]
    return any(ch.isalpha() for v in cells for ch in v) and not any(map(looks_like_number, cells))


@dataclass(frozen=True)
class Layout:
    """Where a table's numbers are. Indexes are 0-based into the rows read; ``header`` None
    means the file has no header row."""

    header: int | None
    first_data: int
    columns: list[str]
    number_index: int

    @property
    def number_column(self) -> str:
        return self.columns[self.number_index]

    @property
    def attribute_indexes(self) -> list[int]:
        return [i for i in range(len(self.columns)) if i != self.number_index]

    @property
    def attributes(self) -> list[str]:
        return [self.columns[i] for i in self.attribute_indexes]


def valid_count(rows: Sequence[Sequence[str | None]]) -> int:
    """How many cells of ``rows`` hold a valid mobile number (to choose a sheet)."""
    return sum(is_valid(v) for row in rows for v in row)


def _names(header: Sequence[str | None] | None, width: int) -> list[str]:
    names: list[str] = []
    for i in range(width):
        cell = header[i] if header is not None and i < len(header) else None
        name = cell.strip() if cell is not None and cell.strip() else f"column_{i + 1}"
        base, n = name, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def find_layout(rows: Sequence[Sequence[str | None]], column: str | None, where: str) -> Layout:
    """The header row and number column of a table from its first rows (see the module)."""
    width = max((len(r) for r in rows), default=1) or 1
    first_valid = next((i for i, r in enumerate(rows) if any(is_valid(v) for v in r)), None)
    nonblank = [i for i, r in enumerate(rows) if not _blank(r)]
    header: int | None = None
    if first_valid is None:
        # No number in the sample: a first row that reads as text is the header.
        if nonblank and _names_something(rows[nonblank[0]]):
            header = nonblank[0]
    else:
        above = [i for i in nonblank if i < first_valid]
        words = [i for i in above if _names_something(rows[i])]
        header = words[-1] if words else None
    first_data = header + 1 if header is not None else (nonblank[0] if nonblank else 0)
    names = _names(rows[header] if header is not None else None, width)
    if column is not None:
        wanted = column.strip()
        match = [i for i, n in enumerate(names) if n == wanted] or [
            i for i, n in enumerate(names) if n.casefold() == wanted.casefold()
        ]
        if not match:
            raise InputError(
                Code.IMPORT_NO_COLUMN, where=where, column=wanted, columns=", ".join(names)
            )
        return Layout(header, first_data, names, match[0])
    data = rows[first_data:]
    scores = [sum(is_valid(r[i]) for r in data if i < len(r)) for i in range(width)]
    named = [n.strip().casefold() in PHONE_COLUMNS for n in names]
    best = max(range(width), key=lambda i: (scores[i], named[i], -i))
    return Layout(header, first_data, names, best)
