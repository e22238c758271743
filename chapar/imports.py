"""Reading recipient lists and blacklists from files: CSV, Excel (.xlsx) or plain text.

A file becomes a frame of ``line_no`` (the line a person sees in an editor or Excel,
header included) and ``raw`` (the number as written). Blank lines are skipped, not counted
as invalid. Decisions a user should know:

* Plain text (.txt or any other extension): one number per line.
* CSV: with ``column`` given, that column; otherwise a header naming a phone column
  (mobile, phone, number, receptor, شماره, موبایل, …) is used, and failing that the first
  column. A first row that is itself a number means the file has no header.
* Excel: the first sheet, by the same rules.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from chapar.errors import InputError
from chapar.numbers import normalize_frame

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
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}


def _looks_like_number(value: str | None) -> bool:
    if value is None:
        return False
    digits = sum(ch.isdigit() for ch in value)
    return digits >= 7 and digits >= len(value.strip()) // 2


def _pick_column(columns: list[str], wanted: str | None, where: str) -> str:
    if wanted is not None:
        if wanted not in columns:
            raise InputError(
                f"no column {wanted!r}; the columns are: {', '.join(columns)}", where=where
            )
        return wanted
    lowered = {c.strip().lower(): c for c in columns}
    for name in PHONE_COLUMNS:
        if name in lowered:
            return lowered[name]
    return columns[0]


def _frame(raw: pl.Series, first_line: int) -> pl.DataFrame:
    df = pl.DataFrame({"raw": raw.cast(pl.String)}).with_row_index("line_no", offset=first_line)
    return df.with_columns(pl.col("line_no").cast(pl.Int32), pl.col("raw").str.strip_chars())


def read_numbers(path: Path, column: str | None = None) -> pl.DataFrame:
    """The numbers of a file as ``line_no``, ``raw``; raises InputError naming the file."""
    where = str(path)
    if not path.is_file():
        raise InputError("no such file", where=where)
    suffix = path.suffix.lower()
    try:
        if suffix in EXCEL_SUFFIXES:
            df = _read_table(
                pl.read_excel(
                    path,
                    infer_schema_length=0,
                    has_header=False,
                    drop_empty_rows=False,
                    raise_if_empty=False,
                ),
                column,
                where,
            )
        elif suffix in {".csv", ".tsv"}:
            df = _read_table(
                pl.read_csv(
                    path,
                    has_header=False,
                    infer_schema=False,
                    truncate_ragged_lines=True,
                    separator="\t" if suffix == ".tsv" else ",",
                ),
                column,
                where,
            )
        else:
            if column is not None:
                raise InputError("a plain-text file has no columns; drop --column", where=where)
            text = pl.read_csv(
                path,
                has_header=False,
                infer_schema=False,
                separator="\x1f",
                quote_char=None,
                new_columns=["raw"],
            )
            df = _frame(text["raw"], 1)
    except InputError:
        raise
    except Exception as exc:  # readers raise their own types (CalamineError, …)
        kind = "Excel" if suffix in EXCEL_SUFFIXES else "text"
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"cannot read this {kind} file: {detail}", where=where) from exc
    df = df.filter(pl.col("raw").is_not_null() & (pl.col("raw") != ""))
    if df.is_empty():
        raise InputError("the file holds no numbers", where=where)
    return df


def _read_table(table: pl.DataFrame, column: str | None, where: str) -> pl.DataFrame:
    if table.height == 0 or table.width == 0:
        raise InputError("the file holds no numbers", where=where)
    first = [None if v is None else str(v) for v in table.row(0)]
    has_header = not any(_looks_like_number(v) for v in first)
    if not has_header:
        if column is not None:
            raise InputError(
                f"no header row, so no column {column!r}; the first row is {first}", where=where
            )
        return _frame(table[:, 0], 1)
    names = [str(v).strip() if v is not None else f"column_{i + 1}" for i, v in enumerate(first)]
    chosen = names.index(_pick_column(names, column, where))
    return _frame(table[1:, chosen], 2)


def classify(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``number`` (null if invalid), ``operator`` and ``duplicate`` (a repeat of an
    earlier line) to a frame of ``line_no``, ``raw``."""
    out = normalize_frame(df, "raw")
    return out.with_columns(
        (pl.col("number").is_not_null() & ~pl.col("number").is_first_distinct()).alias("duplicate")
    )
