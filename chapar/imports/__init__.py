"""Reading recipient lists and blacklists from the files people bring.

:func:`open_source` looks at a bounded head of the file and decides how to read it — the
format (a workbook by its suffix or its first bytes, otherwise delimited text), the encoding,
the delimiter and quote, the sheet, the header row and the number column — and returns a
:class:`Source`. Its :meth:`Source.batches` then reads the whole file in bounded blocks as
frames of:

* ``line_no``: the line a person sees (an editor's line, an Excel row), header included;
* ``raw``: the number as written (trimmed);
* ``attrs``: the other columns' values (List[String], null where empty), in the order of
  :attr:`Source.attributes`.

Blank rows are skipped, not counted. :func:`classify` adds the canonical ``number`` and its
``operator``. What is read is decided here; what is refused (no valid number, mostly
invalid) is decided by the store from the counts (``chapar.store.repo``). Submodules:
``text`` (encoding, dialect, blocks), ``excel`` (sheets), ``layout`` (header and column).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from chapar.errors import InputError
from chapar.imports import excel, text
from chapar.imports.layout import PHONE_COLUMNS, Layout, clean_expr, find_layout
from chapar.numbers import OPERATORS, operator_expr, with_number
from chapar.reasons import Code

__all__ = ["PHONE_COLUMNS", "Source", "classify", "open_source"]

#: A number cell longer than this is no phone number (junk, a pasted paragraph): it is kept,
#: cut to this length with "…", as the invalid row's text — normalising or storing 10 MB of
#: it would help nobody.
MAX_RAW = 100


@dataclass(frozen=True)
class Source:
    """How a file is read: what the preview shows, and what the import streams."""

    path: Path
    kind: str  # "text" | "excel"
    layout: Layout
    dialect: text.Dialect | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.path.name}, sheet {self.sheet!r}" if self.sheet else self.path.name

    @property
    def encoding(self) -> str | None:
        if self.dialect is None:
            return None
        return text.ENCODING_NAMES.get(self.dialect.encoding, self.dialect.encoding)

    @property
    def delimiter(self) -> str | None:
        return self.dialect.delimiter if self.dialect else None

    @property
    def header_line(self) -> int | None:
        """The header's line (1-based), None when the file has none."""
        return None if self.layout.header is None else self.layout.header + 1

    @property
    def columns(self) -> list[str]:
        return self.layout.columns

    @property
    def number_column(self) -> str:
        return self.layout.number_column

    @property
    def attributes(self) -> list[str]:
        return self.layout.attributes

    @property
    def size(self) -> int:
        """The file's size in bytes."""
        return self.path.stat().st_size

    def batches(self, block_bytes: int | None = None) -> Iterator[pl.DataFrame]:
        """The file's rows as ``line_no``, ``raw``, ``attrs`` (see the module), in order; a
        text file in blocks of about ``block_bytes`` (``text.BLOCK_BYTES`` unless given)."""
        width = len(self.layout.columns)
        if self.kind == "excel":
            assert self.sheet is not None
            frames = excel.read_sheet(self.path, self.sheet, width, self.layout.first_data,
                                      self.where)  # fmt: skip
        else:
            assert self.dialect is not None
            frames = text.read_rows(self.path, self.dialect, width, self.layout.first_data,
                                    self.where, block_bytes)  # fmt: skip
        number = f"c{self.layout.number_index}"
        others = [f"c{i}" for i in self.layout.attribute_indexes]
        cells = [pl.col(c).str.strip_chars() for c in (number, *others)]
        attrs = pl.concat_list(others) if others else pl.lit(None, pl.List(pl.String))
        raw = pl.col(number)
        raw = pl.when(raw.str.len_chars() > MAX_RAW).then(raw.str.slice(0, MAX_RAW) + "…")
        values = [pl.when(c != "").then(c).alias(n) for c, n in zip(cells, (number, *others),
                                                                     strict=True)]  # fmt: skip
        output = [raw.otherwise(pl.col(number)).alias("raw"), attrs.alias("attrs")]
        for df in frames:
            # one lazy query: Polars runs its steps on every core (≈40% less wall time)
            yield (
                df.lazy()
                .select("line_no", *values)
                .filter(pl.any_horizontal(pl.col(number, *others).is_not_null()))
                .select("line_no", *output)
                .collect()
            )


def open_source(path: Path, column: str | None = None, sheet: str | None = None) -> Source:
    """Decide how to read ``path`` from its head; raises InputError naming the file."""
    where = path.name
    if path.is_dir():
        raise InputError(Code.IMPORT_IS_FOLDER, where=str(path))
    if not path.is_file():
        raise InputError(Code.IMPORT_NO_FILE, where=str(path))
    with path.open("rb") as f:
        head = f.read(8)
    if not head:
        raise InputError(Code.IMPORT_EMPTY, where=where)
    if excel.is_workbook(path, head):
        name, names, rows = excel.choose_sheet(path, sheet, where)
        layout = find_layout(rows, column, f"{where}, sheet {name!r}")
        return Source(path, "excel", layout, sheet=name, sheets=names)
    dialect, rows = text.sniff(path, where)
    if not any(any(v is not None and v.strip() for v in r) for r in rows):
        raise InputError(Code.IMPORT_EMPTY, where=where)
    return Source(path, "text", find_layout(rows, column, where), dialect=dialect)


def classify(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``number`` (canonical Int64, null if invalid) and ``operator`` (the Enum
    :data:`~chapar.numbers.OPERATORS`) to a batch. A value that is invalid as written and
    reads as a number a spreadsheet stored as a number (``9121234567.0``,
    ``9.121234567E+09``) is read again as its digits — only those rows pay for the second
    look."""
    out = with_number(df.lazy(), "raw").collect()
    number = out.get_column("number")
    invalid = number.is_null()
    if invalid.any():
        rows = invalid.arg_true()
        again = out[rows].select(clean_expr(pl.col("raw").fill_null("")).alias("raw"))
        number = number.scatter(rows, with_number(again.lazy(), "raw").collect()["number"])
    return out.with_columns(number).with_columns(
        operator_expr(pl.col("number"), OPERATORS).alias("operator")
    )
