"""Excel workbooks (.xlsx, .xlsm, .xlsb, legacy .xls, .ods) through ``fastexcel`` (calamine).

Every visible sheet's first rows are read; without ``--sheet``, the sheet holding the most
valid mobile numbers is the one imported (a cover page or a notes sheet first is common), and
the preview says which. Cells are read as text: a number cell ``9121234567`` comes as
``"9121234567"`` (its leading 0 lost, restored by normalisation). Row numbers are the
sheet's own (empty rows at the top are kept, so line 3 is row 3 in Excel).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from chapar.errors import InputError
from chapar.imports.layout import SAMPLE_ROWS, valid_count
from chapar.reasons import Code

SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}
_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # zip (xlsx, ods), OLE (xls)
CHUNK_ROWS = 200_000


def is_workbook(path: Path, head: bytes) -> bool:
    return path.suffix.lower() in SUFFIXES or head.startswith(_MAGIC)


def _unreadable(exc: Exception, where: str) -> InputError:
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return InputError(Code.IMPORT_UNREADABLE, where=where, kind="Excel", detail=detail)


def _reader(path: Path, where: str) -> Any:
    import fastexcel

    try:
        return fastexcel.read_excel(path)
    except Exception as exc:  # CalamineError and friends
        raise _unreadable(exc, where) from exc


def _frame(reader: Any, name: str, n_rows: int | None, where: str) -> pl.DataFrame:
    try:
        sheet = reader.load_sheet(name, header_row=None, dtypes="string", skip_rows=0,
                                  n_rows=n_rows)  # fmt: skip
        df = sheet.to_polars()
    except Exception as exc:
        raise _unreadable(exc, f"{where}, sheet {name!r}") from exc
    return df.rename({c: f"c{i}" for i, c in enumerate(df.columns)})


def _rows(df: pl.DataFrame) -> list[list[str | None]]:
    return [list(r) for r in df.iter_rows()]


def choose_sheet(
    path: Path, sheet: str | None, where: str
) -> tuple[str, list[str], list[list[str | None]]]:
    """(the sheet to import, every visible sheet, its first rows)."""
    reader = _reader(path, where)
    names = list(reader.sheet_names)
    if not names:
        raise InputError(Code.IMPORT_EMPTY, where=where)
    if sheet is not None:
        match = [n for n in names if n == sheet.strip()] or [
            n for n in names if n.strip().casefold() == sheet.strip().casefold()
        ]
        if not match:
            raise InputError(Code.IMPORT_NO_SHEET, where=where, sheet=sheet,
                             sheets=", ".join(names))  # fmt: skip
        return match[0], names, _rows(_frame(reader, match[0], SAMPLE_ROWS, where))
    samples = {n: _rows(_frame(reader, n, SAMPLE_ROWS, where)) for n in names}
    best = max(names, key=lambda n: (valid_count(samples[n]), -names.index(n)))
    if valid_count(samples[best]) == 0:  # no numbers anywhere: the first sheet with rows
        best = next((n for n in names if samples[n]), names[0])
    return best, names, samples[best]


def read_sheet(path: Path, name: str, width: int, skip_rows: int, where: str
               ) -> Iterator[pl.DataFrame]:  # fmt: skip
    """The sheet's rows after the first ``skip_rows``, as frames of ``line_no`` (the Excel
    row) and ``c0``…``c{width-1}``."""
    df = _frame(_reader(path, where), name, None, where)
    for i in range(df.width, width):
        df = df.with_columns(pl.lit(None, pl.String).alias(f"c{i}"))
    df = df.select([f"c{i}" for i in range(width)])
    df = df.with_row_index("line_no", offset=1).with_columns(pl.col("line_no").cast(pl.Int32))
    df = df.slice(skip_rows)
    for start in range(0, df.height, CHUNK_ROWS):
        yield df.slice(start, CHUNK_ROWS)
