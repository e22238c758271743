"""Typed functions over the store: lists, blacklist, credit, campaigns and their audit.

Each public function is one transaction: it either happens whole or not at all, so a
failed import or edit leaves the database as it was.
"""

from __future__ import annotations

import getpass
import re
import shutil
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from chapar import campaigns as rules
from chapar.campaigns import Campaign, CampaignStatus
from chapar.errors import InputError, NotAllowed, NotFound
from chapar.imports import Source, classify, open_source
from chapar.numbers import normalize
from chapar.pricing import Quote, check_message, quote
from chapar.reasons import Code, Reason
from chapar.store import connect, fetch_one, register_stream, transaction
from chapar.store.queries import q

SAMPLE_INVALID = 5


def default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"


def _rows(
    con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    return _dicts(con.execute(q(name), params))


def _dicts(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """A result's rows as dicts by column name."""
    cols = [d[0] for d in cur.description or []]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def _scalar(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> Any:
    row = fetch_one(con.execute(q(name), params))
    return row[0] if row else None


# --- values without pandas (the import path) ----------------------------------------------------
#
# DuckDB 1.5's Python binding imports pandas (and with it pyarrow and numpy: ≈110 MB of RSS)
# the first time a query gets a parameter that is not None: GetPythonObjectType compares
# every value with ``pandas.NaT`` before it looks at its type (python_conversion.cpp), and
# prepared statements convert their values the same way. A registered Polars frame does it
# too: DuckDB converts it with ``to_arrow()`` (pyarrow) and scans it through
# ``pyarrow.dataset``, which imports pandas. A ``chapar lists import`` process has no other
# use for them, so the import path writes its values into its SQL as literals and hands
# DuckDB its frames as bare Arrow C streams (bench/README.md, import, turn 4). The dry-run
# price does the same: ``chapar price`` loads no pandas either.

_PARAM = re.compile(r"\$(\w+)")


def _literal(value: Any) -> str | None:
    """``value`` as a DuckDB SQL literal; None for a value better bound as a parameter (a
    type not written here, or a string with a control character: a newline could end a
    ``--`` comment around the literal, or a PostgreSQL entry's statement)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, str):
        if any(ord(c) < 32 or c == "\x7f" for c in value):
            return None
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime):
        kind = "TIMESTAMP" if value.tzinfo is None else "TIMESTAMPTZ"
        return f"'{value.isoformat()}'::{kind}"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = [_literal(v) for v in value]
        written = [i for i in items if i is not None]
        if len(written) < len(items):  # one string must be bound: bind them all
            return None
        return "[" + ", ".join(written) + "]::VARCHAR[]"
    if isinstance(value, list) and all(type(v) is int for v in value):
        return "[" + ", ".join(str(int(v)) for v in value) + "]"
    return None


def _run(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]
         ) -> duckdb.DuckDBPyConnection:  # fmt: skip
    """Run the named query with ``params`` written into it as literals (see above); if one
    has no plain literal, all are bound as parameters as usual."""
    sql = q(name)
    literals = {k: _literal(v) for k, v in params.items()}
    if any(v is None for v in literals.values()):
        return con.execute(sql, params)
    return con.execute(_PARAM.sub(lambda m: literals.get(m.group(1)) or m.group(0), sql))


def _literal_rows(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]
                  ) -> list[dict[str, Any]]:  # fmt: skip
    """:func:`_rows` through :func:`_run`: a dry-run price needs no pandas either."""
    return _dicts(_run(con, name, params))


# --- recipient lists -----------------------------------------------------------------------


@dataclass(frozen=True)
class ListInfo:
    id: int
    name: str
    source_file: str | None
    created_at: datetime
    total_rows: int
    valid: int
    invalid: int
    duplicates: int
    columns: list[str] = field(default_factory=list)  # the attribute columns, in order
    number_column: str | None = None
    source_sheet: str | None = None


@dataclass(frozen=True)
class ImportResult:
    name: str
    total: int
    valid: int
    invalid: int
    duplicates: int
    invalid_samples: list[tuple[int, str]]
    blacklisted: int = 0
    columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ListPreview:
    """What an import of a file would do, computed by the import itself (then rolled
    back): how the file is read, its first rows as read, the counts, and the refusal the
    import would raise (None: it would import)."""

    file: str
    kind: str  # "text" | "excel"
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    sheets: list[str]
    header_line: int | None
    columns: list[str]
    number_column: str
    attributes: list[str]
    first_rows: pl.DataFrame  # line_no, raw, number, then the attributes by name
    total: int
    valid: int  # distinct valid numbers
    invalid: int
    duplicates: int  # repeats of a valid number within the file
    blacklisted: int  # distinct valid numbers already on the blacklist
    invalid_samples: list[tuple[int, str]]
    refusal: InputError | None


FIRST_ROWS = 10
LIST_FIELDS = [f.name for f in fields(ListInfo)]
#: A file where more than this share of the rows is invalid is refused unless accepted: a
#: wrong column, a broken export.
MOSTLY_INVALID = 0.5


def _verdict(
    source: Source, total: int, numbers: int, samples: list[tuple[int, str]],
    accept_invalid: bool,
) -> InputError | None:  # fmt: skip
    """The refusal an import of these counts gets; None when it may go ahead."""
    if numbers == 0:
        if source.kind == "excel" and source.sheet is not None and len(source.sheets) > 1:
            return InputError(
                Code.IMPORT_NO_NUMBERS_SHEETS, where=source.path.name,
                sheets=", ".join(source.sheets),
            )  # fmt: skip
        return InputError(Code.IMPORT_NO_NUMBERS, where=source.where, rows=total,
                          columns=", ".join(source.columns))  # fmt: skip
    invalid = total - numbers
    if invalid > MOSTLY_INVALID * total and not accept_invalid:
        return InputError(
            Code.IMPORT_MOSTLY_INVALID, where=source.where, invalid=invalid,
            total=total, column=source.number_column,
            samples=", ".join(f"{line}: {raw!r}" for line, raw in samples),
        )  # fmt: skip
    return None


@dataclass(frozen=True)
class _Staged:
    """An import's rows, read and classified: in memory (``rows``) for a file held,
    in temporary Parquet files (``files``, in line order) for one streamed."""

    first_rows: pl.DataFrame
    rows: pl.DataFrame | None = None
    files: list[str] = field(default_factory=list)


EMPTY_BATCH = pl.Schema(
    [("line_no", pl.Int32), ("number", pl.Int64), ("operator", pl.String), ("raw", pl.String),
     ("attrs", pl.List(pl.String))]
)  # fmt: skip
#: Text files up to this size are held in memory once read: counted by Polars and inserted
#: from Arrow in one statement (1M numbers in mixed forms ≈ 16 MB of CSV, ≈ 20 MB held).
#: Larger ones are staged in Parquet and stream into DuckDB in bounded memory. Holding saves
#: ≈8% CPU and costs memory (1M rows: peak +100 MB over streaming; 2M: +200 MB), so only
#: files about the size of the 1 s goal's million are held (bench/README.md). A workbook is
#: always held: a sheet has at most 1,048,576 rows, and fastexcel loads it whole anyway.
HELD_FILE_BYTES = 24 * 1024 * 1024
#: The blocks a held file is read in: fewer, larger batches cost less per row (1M rows:
#: read and classified in ≈0.31 s against ≈0.42 s in 1 MB blocks) for ≈40 MB more at the
#: peak; a streamed file keeps ``text.BLOCK_BYTES`` (1 MB), its memory flat in the size.
HELD_BLOCK_BYTES = 4 * 1024 * 1024
#: DuckDB's memory while it counts a staged file (distinct numbers of 10M rows would take
#: ≈250 MB in a hash table; under this cap DuckDB spills to disk instead), on one thread:
#: two threads need more than this for their hash tables (at 32 MB: out of memory at 10M;
#: at 48 MB on two threads the count peaked +78 MB, at 32 MB on one +44 MB, no slower).
COUNT_MEMORY = "32MB"
#: ... and while it copies the rows into ``recipients`` (no index there: the cap only makes
#: DuckDB evict the blocks it wrote instead of caching them; without it a 10M-row copy
#: peaked 90 MB higher). Never for the blacklist, whose primary-key index must fit in
#: memory: a commit that cannot get memory invalidates the database.
COPY_MEMORY = "64MB"
#: ... which for a streamed file is also on one thread and lower (10M rows: +76 MB at 64 MB
#: on two threads, +40 MB at 32 MB on one): its memory, not its speed, is the point.
STREAMED_COPY_MEMORY = "32MB"
#: DuckDB's threads while it counts or copies a streamed file.
STREAMED_THREADS = 1


def _held(source: Source) -> bool:
    return source.kind == "excel" or source.size <= HELD_FILE_BYTES


def _kept(df: pl.DataFrame, source: Source) -> pl.DataFrame:
    """A classified batch as it is stored: the raw text only where the number is invalid,
    no ``attrs`` for a file without other columns (an all-null list column costs)."""
    return df.select(
        "line_no", "number", "operator",
        pl.when(pl.col("number").is_null()).then("raw").alias("raw"),
        *(["attrs"] if source.attributes else []),
    )  # fmt: skip


def _shown(first: pl.DataFrame | None, source: Source) -> pl.DataFrame:
    """The preview's first rows: the number as written and as read, then the attributes."""
    if first is None:
        first = pl.DataFrame(schema=EMPTY_BATCH)
    return first.select(
        "line_no", "raw", "number",
        *[pl.col("attrs").list.get(i, null_on_oob=True).alias(n)
          for i, n in enumerate(source.attributes)],
    )  # fmt: skip


#: Batches being classified while the next block is read: Polars normalises one batch on
#: one core, so a second batch and the reading use the other.
CLASSIFY_AHEAD = 2


def _classified(source: Source, block_bytes: int | None = None
                ) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:  # fmt: skip
    """Each batch of the file as read, with its rows classified and kept (:func:`_kept`),
    in line order; at most :data:`CLASSIFY_AHEAD` batches wait, so memory stays bounded."""
    with ThreadPoolExecutor(CLASSIFY_AHEAD, thread_name_prefix="chapar-classify") as pool:
        waiting: deque[tuple[pl.DataFrame, Future[pl.DataFrame]]] = deque()
        for batch in source.batches(block_bytes):
            waiting.append((batch, pool.submit(lambda b: _kept(classify(b), source), batch)))
            if len(waiting) > CLASSIFY_AHEAD:
                done, kept = waiting.popleft()
                yield done, kept.result()
        while waiting:
            done, kept = waiting.popleft()
            yield done, kept.result()


@contextmanager
def _staged(source: Source) -> Iterator[_Staged]:
    """Read and classify the whole file batch by batch (bounded blocks, whatever the way),
    keeping each classified batch in memory for a small file (:data:`HELD_FILE_BYTES`,
    any workbook), or in a temporary Parquet file (one a batch, in line order, removed on
    leaving) for a larger one. The database is not touched while the file is read, and a
    refusal, decided from the counts, never writes. Both ways give the same rows, counts
    and refusals (tests/test_imports_files.py).

    Why not append a large file straight into ``recipients`` in one transaction: DuckDB
    keeps a transaction's appended rows in memory (≈14 bytes a row measured: 10M rows,
    140 MB more), while ``INSERT … SELECT`` from Parquet streams in bounded memory. Why
    not read a small file in one block and normalise it at once: no faster in CPU, and
    Polars' temporaries doubled the memory (1M rows: +230 MB against +120 MB)."""
    hold = _held(source)
    folder = None if hold else Path(tempfile.mkdtemp(prefix="chapar-import-"))
    try:
        first: pl.DataFrame | None = None
        held: list[pl.DataFrame] = []
        files: list[str] = []
        for batch, df in _classified(source, HELD_BLOCK_BYTES if hold else None):
            if first is None or first.height < FIRST_ROWS:
                head = classify(batch.head(FIRST_ROWS))
                first = head if first is None else pl.concat([first, head]).head(FIRST_ROWS)
            if folder is None:
                held.append(df)
                continue
            files.append(str(folder / f"{len(files):08d}.parquet"))
            df.write_parquet(files[-1], compression="lz4", statistics=False)
        if folder is None:
            empty = _kept(pl.DataFrame(schema=EMPTY_BATCH), source)
            number = pl.col("number")
            rows = (  # lazily: Polars then spreads the hash over its threads (0.06 -> 0.04 s)
                (pl.concat(held) if held else empty).lazy()
                .with_columns(pl.when(number.is_not_null()).then(number.is_first_distinct())
                              .alias("first_in_list"))
                .collect()
            )  # fmt: skip
            del held
            yield _Staged(_shown(first, source), rows=rows)
            return
        if not files:
            files.append(str(folder / "empty.parquet"))
            _kept(pl.DataFrame(schema=EMPTY_BATCH), source).write_parquet(files[-1])
        yield _Staged(_shown(first, source), files=files)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _memory_capped(con: duckdb.DuckDBPyConnection, limit: str, threads: int | None = None
                   ) -> Iterator[None]:  # fmt: skip
    """DuckDB's memory capped at ``limit`` (and its threads at ``threads``, if given) while
    inside, then set back to what they were. Set back by value: DuckDB 1.5's ``RESET
    memory_limit`` shows the default again but leaves the buffer pool at the cap, so a later
    commit of the blacklist's index failed ("could not allocate block … 45.7 MiB used")."""
    before = con.sql("SELECT current_setting('memory_limit'), current_setting('threads')"
                     ).fetchone()  # fmt: skip
    con.execute(f"SET memory_limit = '{limit}'")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    try:
        yield
    finally:
        if before is not None:
            con.execute(f"SET memory_limit = '{before[0]}'")
            if threads is not None:
                con.execute(f"SET threads = {int(before[1])}")


def _frame_counts(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame) -> dict[str, Any]:
    """``staging_counts`` and the invalid sample of rows held in memory, counted by Polars
    (the distinct numbers are the rows first in the list), the blacklist overlap too: the
    blacklist's numbers come from DuckDB as an Arrow stream (no pyarrow), and Polars finds
    the distinct numbers among them on every core (1M × 1M: 0.04 s CPU, against 0.07-0.09
    s for DuckDB's join of the registered numbers, which builds its hash on one thread)."""
    distinct = rows.filter(pl.col("first_in_list")).get_column("number")
    blacklist = pl.DataFrame(con.sql(q("blacklist_numbers"))).get_column("number")
    blacklisted = distinct.is_in(blacklist.implode()).sum()
    sample = (
        rows.filter(pl.col("number").is_null())
        .head(SAMPLE_INVALID)
        .select("line_no", pl.col("raw").fill_null(""))
    )
    return {
        "total": rows.height,
        "numbers": rows.get_column("number").count(),
        "valid": distinct.len(),
        "blacklisted": int(blacklisted),
        "samples": [(int(n), str(r)) for n, r in sample.iter_rows()],
    }


#: Rows of a staged file a part of ``staging_repeats_insert`` groups, and a part of
#: ``recipients_insert_part`` copies, at most: 2.5M rows' numbers fit the 32 MB cap on one
#: thread (10M rows in one part ran out of it; in 4 parts they peaked +39 MB, as the count
#: of distinct numbers did). A file held in memory marks its rows in Polars instead.
REPEATS_PART_ROWS = 2_500_000


@contextmanager
def _attached(con: duckdb.DuckDBPyConnection, staged: _Staged) -> Iterator[dict[str, Any]]:
    """The staged rows as the view ``staging_rows`` of this connection, and their counts.
    Rows in memory are counted by Polars, and registered by :func:`_rows_ready` before each
    statement that reads them; staged files are counted by DuckDB (their repeats into the
    temporary table ``staging_repeats``), whose
    memory is capped while it counts (read-only queries, which spill under the cap) and
    only then: a write that cannot get memory at commit invalidates the database
    (measured: the blacklist's index under a 48 MB cap)."""
    if staged.rows is not None:
        try:
            yield _frame_counts(con, staged.rows)
        finally:
            con.unregister("staging_rows")
        return
    # a view takes no parameters: the files are our own temp paths, quoted
    files = ", ".join("'" + f.replace("'", "''") + "'" for f in staged.files)
    con.execute(q("staging_view").replace("$files", f"[{files}]"))
    try:
        with _memory_capped(con, COUNT_MEMORY, STREAMED_THREADS):
            total = int(fetch_one(_run(con, "staging_total", {}))[0])  # type: ignore[index]
            _run(con, "staging_repeats_create", {})
            parts = max(1, -(-total // REPEATS_PART_ROWS))
            for part in range(parts):
                _run(con, "staging_repeats_insert", {"parts": parts, "part": part})
            counts = _rows(con, "staging_counts", {})[0]
            cur = _run(con, "staging_invalid_sample", {"limit": SAMPLE_INVALID})
            sample = [dict(zip(("line_no", "raw"), r, strict=True)) for r in cur.fetchall()]
        counts["samples"] = [(int(r["line_no"]), str(r["raw"])) for r in sample]
        counts["parts"] = parts
        yield counts
    finally:
        con.execute("DROP VIEW IF EXISTS staging_rows")
        con.execute("DROP TABLE IF EXISTS temp.staging_repeats")


def _rows_ready(con: duckdb.DuckDBPyConnection, staged: _Staged) -> None:
    """Make ``staging_rows`` readable by the next statement: rows held in memory are
    registered again for each statement that reads them (their Arrow stream is read once)."""
    if staged.rows is not None:
        register_stream(con, "staging_rows", staged.rows)  # 1M rows: 0.21 s, not 0.70


def _preview(source: Source, staged: _Staged, counts: dict[str, Any], accept_invalid: bool
             ) -> ListPreview:  # fmt: skip
    total, numbers, samples = int(counts["total"]), int(counts["numbers"]), counts["samples"]
    return ListPreview(
        file=source.path.name,
        kind=source.kind,
        encoding=source.encoding,
        delimiter=source.delimiter,
        sheet=source.sheet,
        sheets=source.sheets,
        header_line=source.header_line,
        columns=source.columns,
        number_column=source.number_column,
        attributes=source.attributes,
        first_rows=staged.first_rows,
        total=total,
        valid=int(counts["valid"]),
        invalid=total - numbers,
        duplicates=numbers - int(counts["valid"]),
        blacklisted=int(counts["blacklisted"]),
        invalid_samples=samples,
        refusal=_verdict(source, total, numbers, samples, accept_invalid),
    )


def preview_list(
    path: Path, column: str | None = None, *, sheet: str | None = None,
    accept_invalid: bool = False,
) -> ListPreview:  # fmt: skip
    """What :func:`import_list` would read and do with this file, writing nothing: the
    same reading, staging and counting, without the copy."""
    source = open_source(path, column, sheet)
    with _staged(source) as staged, connect() as con, _attached(con, staged) as counts:
        return _preview(source, staged, counts, accept_invalid)


def import_list(
    name: str, path: Path, column: str | None = None, *, sheet: str | None = None,
    replace: bool = False, accept_invalid: bool = False,
) -> ImportResult:  # fmt: skip
    """Import a recipient list: its rows keep their order and line numbers; invalid rows and
    duplicates are kept and counted (planning filters them); the other columns are kept as
    the recipients' attributes. A file with no valid number, or mostly invalid rows (unless
    ``accept_invalid``), is refused and nothing is written."""
    name = name.strip()
    if not name:
        raise InputError(Code.IMPORT_NAME_EMPTY, where="name")
    source = open_source(path, column, sheet)
    with _staged(source) as staged, connect() as con, _attached(con, staged) as counts:
        con.execute("BEGIN TRANSACTION")
        try:
            existing = fetch_one(_run(con, "list_by_name", {"name": name}))
            if existing and not replace:
                raise InputError(Code.IMPORT_LIST_EXISTS, name=name)
            preview = _preview(source, staged, counts, accept_invalid)
            if preview.refusal is not None:
                raise preview.refusal
            if existing:
                list_id = int(existing[0])
                _run(con, "list_clear_rows", {"id": list_id})
            else:
                inserted = _run(con, "list_insert", {"name": name, "source_file": path.name})
                list_id = int(fetch_one(inserted)[0])  # type: ignore[index]
            streamed = staged.rows is None
            insert = "recipients_insert" if source.attributes else "recipients_insert_plain"
            if streamed:  # in parts, each row marked from staging_repeats
                insert = insert.replace("recipients_insert", "recipients_insert_part")
            # Rows are read by line_no everywhere (planning, previews), never by storage
            # order: letting DuckDB write them in any order made the copy ≈40% faster.
            con.execute("SET preserve_insertion_order = false")
            try:
                with _memory_capped(con, STREAMED_COPY_MEMORY if streamed else COPY_MEMORY,
                                    STREAMED_THREADS if streamed else None):  # fmt: skip
                    _rows_ready(con, staged)
                    if streamed:
                        for part in range(counts["parts"]):
                            _run(con, insert, {"list_id": list_id, "parts": counts["parts"],
                                               "part": part})  # fmt: skip
                    else:
                        _run(con, insert, {"list_id": list_id})
            finally:
                con.execute("RESET preserve_insertion_order")
            _run(
                con,
                "list_update_counts",
                {
                    "id": list_id,
                    "source_file": path.name,
                    "total_rows": preview.total,
                    "valid": preview.valid,
                    "invalid": preview.invalid,
                    "duplicates": preview.duplicates,
                    "columns": preview.attributes,
                    "number_column": None if source.header_line is None else source.number_column,
                    "source_sheet": preview.sheet,
                },
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return ImportResult(
        name=name,
        total=preview.total,
        valid=preview.valid,
        invalid=preview.invalid,
        duplicates=preview.duplicates,
        invalid_samples=preview.invalid_samples,
        blacklisted=preview.blacklisted,
        columns=preview.attributes,
    )


def lists() -> list[ListInfo]:
    with connect() as con:
        return [ListInfo(**r) for r in _rows(con, "lists_all", {})]


def list_attributes(name: str) -> pl.DataFrame:
    """A list's rows as ``line_no``, ``number`` and one String column per attribute, named
    as the file's header had it: what a personalised text (``{نام}``) reads. One
    ``list_extract`` per column and row, the position found once from ``lists.columns``."""
    with connect() as con:
        row = fetch_one(con.execute(q("list_by_name"), {"name": name}))
        if row is None:
            raise NotFound(Code.LIST_NOT_FOUND, name=name)
        info = ListInfo(**dict(zip(LIST_FIELDS, row, strict=True)))
        picks = ", ".join(
            f'attrs[{i + 1}] AS "{c.replace(chr(34), chr(34) * 2)}"'
            for i, c in enumerate(info.columns)
        )
        sql = q("list_attributes").replace("$attributes", f", {picks}" if picks else "")
        return con.execute(sql, {"list_id": info.id}).pl()


def _list_ids(con: duckdb.DuckDBPyConnection, names: list[str] | tuple[str, ...]) -> list[int]:
    if not names:
        raise InputError(Code.SOURCE_EMPTY, where="source")
    ids = []
    for name in names:
        row = fetch_one(_run(con, "list_by_name", {"name": name}))
        if row is None:
            raise NotFound(Code.LIST_NOT_FOUND, name=name)
        ids.append(int(row[0]))
    if len(set(ids)) != len(ids):
        raise InputError(Code.SOURCE_TWICE, where="source")
    return ids


# --- blacklist -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BlacklistImport:
    added: int
    already: int
    invalid: int
    invalid_samples: list[tuple[int, str]]


def import_blacklist(
    path: Path, column: str | None = None, *, sheet: str | None = None,
    accept_invalid: bool = False,
) -> BlacklistImport:  # fmt: skip
    """Add a file's numbers to the telecom blacklist, read, staged and refused as a
    recipient list is; numbers already there keep their first source."""
    source = open_source(path, column, sheet)
    with _staged(source) as staged, connect() as con, _attached(con, staged) as counts:
        total, numbers, samples = int(counts["total"]), int(counts["numbers"]), counts["samples"]
        refusal = _verdict(source, total, numbers, samples, accept_invalid)
        if refusal is not None:
            raise refusal
        if True:
            con.execute("BEGIN TRANSACTION")
            try:
                before = _scalar(con, "blacklist_count", {})
                _rows_ready(con, staged)
                _run(con, "blacklist_ledger_insert_staged", {"source": path.name})
                _rows_ready(con, staged)
                _run(con, "blacklist_insert_staged", {"source": "import"})
                added = int(_scalar(con, "blacklist_count", {}) - before)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
    return BlacklistImport(
        added=added,
        already=int(counts["valid"]) - added,
        invalid=total - numbers,
        invalid_samples=samples,
    )


@dataclass(frozen=True)
class BlacklistEntry:
    number: int
    source: str
    campaign_id: int | None
    added_at: datetime


def blacklist_check(raw: str) -> tuple[int, BlacklistEntry | None]:
    number = normalize(raw)
    if number is None:
        raise InputError(Code.INVALID_NUMBER, where="number", value=raw)
    with connect() as con:
        rows = _rows(con, "blacklist_lookup", {"number": number})
    return number, (BlacklistEntry(**rows[0]) if rows else None)


def blacklist_size() -> int:
    with connect() as con:
        return int(_scalar(con, "blacklist_count", {}))


# --- credit --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    at: datetime
    kind: str
    amount: int
    campaign_id: int | None
    run_no: int | None
    batch_no: int | None
    note: str | None


def topup(amount: int, note: str | None = None) -> int:
    """Add credit; returns the new balance."""
    from chapar import credit

    credit.check_topup(amount)
    with transaction() as con:
        return credit.topup(con, amount, note)


def balance() -> int:
    with connect() as con:
        return int(_scalar(con, "balance", {}))


def ledger(limit: int = 10) -> list[LedgerEntry]:
    with connect() as con:
        return [LedgerEntry(**r) for r in _rows(con, "ledger_recent", {"limit": limit})]


# --- pricing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Audience:
    """Who a campaign over these lists would reach — independent of the message, so a
    live preview can count it once and price every keystroke from it."""

    by_operator: dict[str, int]
    invalid: int
    duplicates: int
    blacklisted: int
    opted_out: int = 0  # opted out of the line, or suppressed by hand
    capped: int = 0  # at the frequency cap
    footer: str | None = None  # the line's opt-out footer, added to the text


def audience(
    list_names: list[str] | tuple[str, ...],
    send_count: int | None = None,
    sender: str | None = None,
) -> Audience:
    """Who a campaign over these lists reaches, as planning takes them: with a send count,
    the first ``send_count`` recipients and the filtered rows met before them; on
    ``sender``'s line, its opt-outs, frequency cap and footer apply too (without a line only
    the ledger's 'everywhere' rows do)."""
    from chapar.frequency import window_start
    from chapar.settings import get_settings

    if not list_names:
        return Audience({}, 0, 0, 0)
    with connect() as con:
        ids = _list_ids(con, list_names)
        line = line_for(con, sender) if sender else None
        cap = None
        if line is not None:
            from chapar.sending.run import cap_for  # loads the senders and httpx (≈0.2 s)

            cap = cap_for(line, get_settings())
        params = {
            "list_ids": ids,
            "sender": sender,
            "cap_n": cap[0] if cap else None,
            "cap_since": window_start(datetime.now(UTC), cap[1]) if cap else None,
        }
        if send_count is None and len(ids) == 1:  # one list: its rows' first_in_list
            one = {**params, "list_id": ids[0]}
            del one["list_ids"]
            rows = _literal_rows(con, "audience_price_one_list", one)
        elif send_count is None:  # everyone: counted per number, no ordering needed
            rows = _literal_rows(con, "audience_price_all", params)
        else:  # the first send_count recipients: in order, as planning takes them
            from chapar.sending.audience import reached

            rows = (
                reached(con, ids, sender, cap, send_count=send_count)
                .group_by("status", "operator")
                .len("n")
                .to_dicts()
            )
    by_status: dict[str, int] = {}
    by_op: dict[str, int] = {}
    for r in rows:
        by_status[r["status"]] = by_status.get(r["status"], 0) + r["n"]
        if r["status"] == "pending":
            by_op[r["operator"]] = r["n"]
    return Audience(
        by_op,
        by_status.get("invalid", 0),
        by_status.get("duplicate", 0),
        by_status.get("blacklisted", 0),
        by_status.get("opted_out", 0) + by_status.get("suppressed", 0),
        by_status.get("capped", 0),
        line.footer if line else None,
    )


def price(
    message: str,
    list_names: list[str] | tuple[str, ...] = (),
    send_count: int | None = None,
    sender: str | None = None,
) -> Quote:
    """Price a message over recipient lists (the dry run): nothing is written. With a send
    count, only the recipients a run would take. On a line with an opt-out footer, the
    footer is part of the text priced. A personalised message is rendered and priced per
    recipient: the total, the fewest and most pages, samples."""
    from dataclasses import replace

    from chapar import personalise

    check_message(message)
    base = price_for(message, audience(list_names, send_count, sender))
    template = personalise.template_of(message)
    if template is None or not list_names:
        return base
    from chapar.sending.run import cap_for
    from chapar.settings import get_settings

    with connect() as con:
        ids = _list_ids(con, list_names)
        personalise.check(con, message, ids)
        cap = cap_for(line_for(con, sender), get_settings()) if sender else None
        shown = personalise.preview(
            con, template, ids, sender, base.footer, send_count=send_count, cap=cap
        )
    return replace(
        base,
        cost=shown.cost,
        pages=shown.max_pages,
        min_pages=shown.min_pages,
        max_pages=shown.max_pages,
        samples=tuple(shown.samples),
        pages_total=shown.pages,
    )


def price_for(message: str, who: Audience) -> Quote:
    from chapar.footer import with_footer

    return quote(
        with_footer(message, who.footer),
        who.by_operator,
        invalid=who.invalid,
        duplicates=who.duplicates,
        blacklisted=who.blacklisted,
        opted_out=who.opted_out,
        capped=who.capped,
        footer=who.footer,
    )


# --- campaigns -----------------------------------------------------------------------------


def _campaign(row: dict[str, Any], now: datetime) -> Campaign:
    expires = row.pop("lease_expires")
    owner = row.pop("lease_owner")
    from chapar.lease import lease_is_live  # the lease rules live beside the sender

    row["status_reason"] = Reason.stored(row["status_reason"], row.pop("status_details"))
    row["status"] = CampaignStatus(row["status"])
    row["source"] = tuple(row["source"])
    row["lease_live"] = lease_is_live(owner, expires, now)
    campaign = Campaign(**row)
    if campaign.status is CampaignStatus.SENDING and not campaign.lease_live:
        # Its sending process died: show it as it is, unfinished and rebuildable.
        return Campaign(
            **{
                **campaign.__dict__,
                "status": CampaignStatus.UNFINISHED,
                "status_reason": Reason(Code.INTERRUPTED),
            }
        )
    return campaign


def _select(
    con: duckdb.DuckDBPyConnection, id: int | None, archived: bool | None
) -> list[Campaign]:
    now = datetime.now(UTC)
    return [
        _campaign(r, now) for r in _rows(con, "campaigns_select", {"id": id, "archived": archived})
    ]


def get_campaign(campaign_id: int, con: duckdb.DuckDBPyConnection | None = None) -> Campaign:
    if con is None:
        with connect() as own:
            return get_campaign(campaign_id, own)
    found = _select(con, campaign_id, None)
    if not found:
        raise NotFound(Code.CAMPAIGN_NOT_FOUND, campaign=campaign_id)
    return found[0]


def list_campaigns(archived: bool | None = False) -> list[Campaign]:
    """Campaigns, newest first; active ones by default, ``archived=True`` for the archive,
    ``None`` for all."""
    with connect() as con:
        return _select(con, None, archived)


def record_audit(
    con: duckdb.DuckDBPyConnection,
    actor: str,
    campaign_id: int,
    action: str,
    field: str | None = None,
    old: object = None,
    new: object = None,
) -> None:
    con.execute(
        q("audit_insert"),
        {
            "actor": actor,
            "campaign_id": campaign_id,
            "action": action,
            "field": field,
            "old_value": None if old is None else str(old),
            "new_value": None if new is None else str(new),
        },
    )


def _set_source(con: duckdb.DuckDBPyConnection, campaign_id: int, list_ids: list[int]) -> None:
    con.execute(q("campaign_lists_clear"), {"campaign_id": campaign_id})
    for position, list_id in enumerate(list_ids, start=1):
        con.execute(
            q("campaign_list_insert"),
            {"campaign_id": campaign_id, "position": position, "list_id": list_id},
        )


def create_campaign(
    title: str,
    message: str,
    sender: str,
    source: list[str] | tuple[str, ...],
    send_count: int | None = None,
    start_at: datetime | None = None,
    actor: str | None = None,
    defer_capped: bool = False,
) -> int:
    actor = actor or default_actor()
    title = rules.check_title(title)
    sender = rules.check_sender(sender)
    rules.check_send_count(send_count)
    rules.check_start(start_at)
    check_message(message)
    status = CampaignStatus.SCHEDULED if start_at else CampaignStatus.DRAFT
    with transaction() as con:
        list_ids = _list_ids(con, source)
        from chapar import personalise

        personalise.check(con, message, list_ids)
        campaign_id = int(
            _scalar(
                con,
                "campaign_insert",
                {
                    "title": title,
                    "message": message,
                    "sender": sender,
                    "send_count": send_count,
                    "start_at": start_at,
                    "status": status.value,
                },
            )
        )
        _set_source(con, campaign_id, list_ids)
        if defer_capped:
            con.execute(q("campaign_set_defer_capped"), {"id": campaign_id, "defer": True})
        record_audit(con, actor, campaign_id, "create", None, None, title)
    return campaign_id


@dataclass(frozen=True)
class Change:
    field: str
    old: object
    new: object


def edit_campaign(
    campaign_id: int, changes: dict[str, Any], actor: str | None = None
) -> list[Change]:
    """Edit program: only title, send count, message, source and start time, never while
    sending. Returns what changed (an edit to the same values changes nothing)."""
    actor = actor or default_actor()
    with transaction() as con:
        campaign = get_campaign(campaign_id, con)
        rules.check_editable(changes, campaign)
        new = {
            "title": campaign.title,
            "message": campaign.message,
            "send_count": campaign.send_count,
            "start_at": campaign.start_at,
        }
        done: list[Change] = []
        for field, value in changes.items():
            if field == "title":
                value = rules.check_title(value)
            elif field == "message":
                check_message(value)
            elif field == "send_count":
                value = rules.check_send_count(value)
            elif field == "start_at" and value != campaign.start_at:
                value = rules.check_start(value)
            elif field == "source":
                value = tuple(value)
                if value != campaign.source:
                    _set_source(con, campaign_id, _list_ids(con, value))
                    done.append(Change("source", ", ".join(campaign.source), ", ".join(value)))
                continue
            if value != new[field]:
                done.append(Change(field, new[field], value))
                new[field] = value
        if any(c.field in ("message", "source") for c in done):
            from chapar import personalise

            sources = tuple(changes["source"]) if "source" in changes else campaign.source
            personalise.check(con, str(new["message"]), _list_ids(con, sources))
        con.execute(q("campaign_set"), {"id": campaign_id, **new})
        for change in done:
            record_audit(con, actor, campaign_id, "edit", change.field, change.old, change.new)
        if any(c.field == "start_at" for c in done) and campaign.current_run == 0:
            # A start time schedules a campaign not yet sent; removing it makes it a draft.
            status = CampaignStatus.SCHEDULED if new["start_at"] else CampaignStatus.DRAFT
            if status is not campaign.status:
                con.execute(
                    q("campaign_set_status"),
                    {"id": campaign_id, "status": status.value, "reason": None, "details": None},
                )
                record_audit(
                    con, actor, campaign_id, "status", "status", campaign.status.value, status.value
                )
    return done


def set_defer_capped(campaign_id: int, defer: bool, actor: str | None = None) -> bool:
    """Send the numbers at the frequency cap later (when it frees) rather than cap them;
    applies from the next run planned. Returns False when it already was so."""
    actor = actor or default_actor()
    with transaction() as con:
        campaign = get_campaign(campaign_id, con)
        if campaign.defer_capped == defer:
            return False
        con.execute(q("campaign_set_defer_capped"), {"id": campaign_id, "defer": defer})
        record_audit(con, actor, campaign_id, "edit", "defer_capped", campaign.defer_capped, defer)
    return True


def set_archived(campaign_id: int, archived: bool, actor: str | None = None) -> bool:
    """Archive or bring back; returns False when it already was (a repeat is harmless)."""
    actor = actor or default_actor()
    with transaction() as con:
        campaign = get_campaign(campaign_id, con)
        if campaign.archived == archived:
            return False
        if archived and campaign.is_sending:
            raise NotAllowed(Code.SENDING_NOW)
        con.execute(q("campaign_set_archived"), {"id": campaign_id, "archived": archived})
        record_audit(
            con,
            actor,
            campaign_id,
            "archive" if archived else "unarchive",
            "archived",
            campaign.archived,
            archived,
        )
    return True


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    campaign_id: int | None
    action: str
    field: str | None
    old_value: str | None
    new_value: str | None


def audit_trail(campaign_id: int) -> list[AuditEntry]:
    with connect() as con:
        return [AuditEntry(**r) for r in _rows(con, "audit_for", {"campaign_id": campaign_id})]


def set_scheduled_flow_run(campaign_id: int, flow_run: str | None) -> None:
    """Remember the Prefect flow run that will start (or continue) the campaign."""
    with transaction() as con:
        con.execute(q("campaign_set_flow_run"), {"id": campaign_id, "flow_run": flow_run})


def scheduled_flow_run(campaign_id: int) -> str | None:
    with connect() as con:
        row = fetch_one(con.execute(q("campaign_flow_run"), {"id": campaign_id}))
    return None if row is None else row[0]


# --- sender lines --------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """A sender line's sending window and rate (None: the settings' default), its opt-out
    footer (None: none) and its own frequency cap (None: the settings'; 0 messages: none)."""

    sender: str
    send_window: str | None
    rate_per_minute: int | None
    footer: str | None = None
    cap_messages: int | None = None
    cap_days: int | None = None


#: "Leave this as it is" for :func:`set_line`'s footer and cap.
KEEP: Any = object()


def set_line(
    sender: str,
    send_window: str | None,
    rate_per_minute: int | None,
    *,
    footer: str | None = KEEP,
    cap: tuple[int, int] | None = KEEP,
) -> Line:
    """Set a line's window and rate (None: the default); its footer and cap only when given
    (``footer`` None removes it; ``cap`` None goes back to the settings', (0, 1) is no cap
    on this line)."""
    from chapar.window import parse_window

    sender = rules.check_sender(sender)
    if send_window is not None:
        try:
            parse_window(send_window)
        except ValueError:
            raise InputError(Code.BAD_WINDOW, where="window", value=send_window) from None
    if rate_per_minute is not None and rate_per_minute < 1:
        raise InputError(Code.BAD_RATE, where="rate")
    if footer is not KEEP and footer is not None:
        footer = footer.strip() or None
    if cap is not KEEP and cap is not None:
        n, days = cap
        if n < 0 or days < 1 or (n == 0 and days != 1):
            raise InputError(Code.BAD_CAP, where="cap")
    with transaction() as con:
        old = line_for(con, sender)
        line = Line(
            sender,
            send_window,
            rate_per_minute,
            old.footer if footer is KEEP else footer,
            old.cap_messages if cap is KEEP else (None if cap is None else cap[0]),
            old.cap_days if cap is KEEP else (None if cap is None else cap[1]),
        )
        con.execute(
            q("line_put"),
            {
                "sender": sender,
                "send_window": send_window,
                "rate": rate_per_minute,
                "footer": line.footer,
                "cap_messages": line.cap_messages,
                "cap_days": line.cap_days,
            },
        )
    return line


def lines() -> list[Line]:
    with connect() as con:
        return [Line(*row) for row in con.execute(q("lines_all")).fetchall()]


def line_for(con: duckdb.DuckDBPyConnection, sender: str) -> Line:
    row = fetch_one(_run(con, "line_get", {"sender": sender}))
    return Line(*row) if row else Line(sender, None, None)
