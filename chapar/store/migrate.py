"""Move an existing installation: copy a DuckDB file's data into the shared store.

``chapar store migrate --to postgresql://…`` (docs/scale-out.md, the runbook). The file is
the one the current settings name (``CHAPAR_DATA_DIR``/``CHAPAR_DATABASE``) or ``--from``;
it is attached READ_ONLY, so it is left exactly as it was and stays usable as before.

The target is migrated first, as any process would on its first open (same migrations,
same store bootstrap), and must then be empty. Every table of the file's catalog is copied
— not a fixed list, so tables that later migrations add come along — by column name, all
in one transaction; before COMMIT each table's row count and the sum of each of its integer
columns (ledger amounts, message costs, ids, counters) are compared between the file and
the target inside that transaction, so a copy that does not match keeps nothing. The
schema version rows are copied as they are; after COMMIT each sequence that feeds an id
column is set past the largest id copied (and past the file's own sequence), so new rows
never reuse an id.

Leases move as the file's rules read them: a run whose sender still lives on this host
refuses the move (stop it first: sends after the copy would be lost to the target); a
lease whose sender is dead — unfinished on the file, rebuildable at once — is copied as
lapsed, since on the shared store only an expiry could lapse it.

The file must be at this Chapar's schema version: an older file is upgraded by running any
``chapar`` command on it first (that writes to it, which this command never does).
"""

from __future__ import annotations

import re
import time
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import duckdb

from chapar.errors import Busy, InputError, NotFound
from chapar.lease import lease_is_live
from chapar.reasons import Code
from chapar.settings import get_settings
from chapar.store import _Postgres, migrations

#: Tables of the store's own bookkeeping: made by the migration step, not copied as data.
_BOOKKEEPING = {"schema_migrations"}
_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                  "USMALLINT", "UINTEGER", "UBIGINT"}  # fmt: skip
_NEXTVAL = re.compile(r"nextval\('(?:public\.)?\"?([A-Za-z_][A-Za-z0-9_]*)\"?'")


@dataclass(frozen=True)
class TableCopy:
    """One table as copied: its rows, and the sum of each integer column (same both sides)."""

    name: str
    rows: int
    sums: dict[str, int]


@dataclass
class Migration:
    source: Path
    target: str  # the URL without its password
    version: int
    tables: list[TableCopy] = field(default_factory=list)
    sequences: dict[str, int] = field(default_factory=dict)  # name -> the last id it gave
    lapsed: list[tuple[int, int]] = field(default_factory=list)  # runs of dead senders

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def safe_url(url: str) -> str:
    """The URL as it may be shown: without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def migrate(to: str, source: Path | None = None) -> Migration:
    """Copy the DuckDB file ``source`` (default: the current settings' file) into the empty
    PostgreSQL database ``to``; verify; set the sequences. See the module's docstring."""
    if urlsplit(to).scheme not in ("postgresql", "postgres"):
        raise InputError(Code.STORE_URL_NOT_POSTGRES, url=safe_url(to))
    path = Path(source) if source is not None else get_settings().database_path
    if not path.is_file():
        raise NotFound(Code.STORE_NO_SOURCE, path=str(path))
    try:
        target = _Postgres(to)
    except duckdb.Error as exc:
        raise InputError(
            Code.STORE_TARGET_UNREACHABLE, url=safe_url(to), detail=_first_line(exc)
        ) from exc
    con = target.db
    try:
        _attach_read_only(con, path)
        version = _check_version(con, path)
        lapsed = _dead_leases(con)
        target.migrate()
        con.execute("CALL pg_clear_cache()")
        tables = _tables(con)
        _refuse_data(con, tables)
        report = Migration(path, safe_url(to), version)
        report.tables = _copy(con, tables, lapsed)
        report.lapsed = lapsed
        report.sequences = _set_sequences(con)
        return report
    finally:
        with suppress(duckdb.Error):
            con.close()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


def _attach_read_only(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Attach the file READ_ONLY, waiting (as the store does) while another process has it
    open for a moment; Busy if it stays locked."""
    literal = str(path).replace("'", "''")
    seconds = get_settings().lock_retry_seconds
    deadline = time.monotonic() + seconds
    while True:
        try:
            con.execute(f"ATTACH '{literal}' AS source (READ_ONLY)")
            return
        except duckdb.Error as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise Busy(Code.DATABASE_LOCKED, where=str(path), seconds=round(seconds)) from exc
            time.sleep(0.05)


def _check_version(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    expected = [v for v, _ in migrations()]
    try:
        found = [r[0] for r in con.execute(
            "SELECT version FROM source.main.schema_migrations ORDER BY version"
        ).fetchall()]  # fmt: skip
    except duckdb.CatalogException:
        found = []
    if found != expected:
        raise InputError(
            Code.STORE_SOURCE_VERSION,
            path=str(path),
            found=max(found, default=0),
            expected=max(expected, default=0),
        )
    return max(expected, default=0)


def _dead_leases(con: duckdb.DuckDBPyConnection) -> list[tuple[int, int]]:
    """Runs whose lease the file still names; Busy if one's sender is alive here."""
    now = datetime.now(UTC)
    dead = []
    for campaign_id, run_no, owner, expires in con.execute(
        "SELECT campaign_id, run_no, lease_owner, lease_expires FROM source.main.runs "
        "WHERE lease_owner IS NOT NULL OR lease_expires IS NOT NULL"
    ).fetchall():
        if lease_is_live(owner, expires, now, shared=False):
            raise Busy(Code.BUSY, campaign=campaign_id, run=run_no)
        dead.append((int(campaign_id), int(run_no)))
    return dead


def _columns(con: duckdb.DuckDBPyConnection, database: str, table: str) -> dict[str, str]:
    """name -> type, in the table's order (PostgreSQL's types as DuckDB reads them)."""
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND table_name = ? ORDER BY column_index",
        [database, table],
    ).fetchall()
    return {name: kind for name, kind in rows}


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The file's tables and the columns to copy; each must exist alike in the target."""
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'source' "
        "AND schema_name = 'main' ORDER BY table_name"
    ).fetchall()]  # fmt: skip
    found: dict[str, list[str]] = {}
    for name in names:
        if name in _BOOKKEEPING:
            continue
        theirs = _columns(con, "store", name)
        if not theirs:
            raise InputError(Code.STORE_SCHEMA_DIFFERS, table=name, detail="not in the target")
        ours = _columns(con, "source", name)
        if set(ours) != set(theirs):
            detail = f"columns {sorted(set(ours) ^ set(theirs))}"
            raise InputError(Code.STORE_SCHEMA_DIFFERS, table=name, detail=detail)
        found[name] = list(ours)
    return found


def _refuse_data(con: duckdb.DuckDBPyConnection, tables: dict[str, list[str]]) -> None:
    for name in tables:
        rows = con.execute(f'SELECT count(*) FROM store.public."{name}"').fetchall()[0][0]
        if rows:
            raise InputError(Code.STORE_TARGET_NOT_EMPTY, table=name, rows=int(rows))


def _figures(
    con: duckdb.DuckDBPyConnection, database: str, name: str, integers: list[str]
) -> tuple[int, dict[str, int]]:
    schema = "main" if database == "source" else "public"
    sums = "".join(f', coalesce(sum("{c}"), 0)::HUGEINT' for c in integers)
    row = con.execute(f'SELECT count(*){sums} FROM {database}.{schema}."{name}"').fetchall()[0]
    return int(row[0]), {c: int(v) for c, v in zip(integers, row[1:], strict=True)}


def _copy(
    con: duckdb.DuckDBPyConnection, tables: dict[str, list[str]], lapsed: list[tuple[int, int]]
) -> list[TableCopy]:
    """All tables in one transaction, verified before COMMIT; a mismatch keeps nothing."""
    copied = []
    con.execute("BEGIN TRANSACTION")
    try:
        for name, columns in tables.items():
            listed = ", ".join(f'"{c}"' for c in columns)
            con.execute(
                f'INSERT INTO store.public."{name}" ({listed}) '
                f'SELECT {listed} FROM source.main."{name}"'
            )
        for campaign_id, run_no in lapsed:
            con.execute(
                "UPDATE store.public.runs SET lease_owner = NULL, lease_expires = NULL "
                "WHERE campaign_id = ? AND run_no = ?",
                [campaign_id, run_no],
            )
        con.execute("DELETE FROM store.public.schema_migrations")
        con.execute(
            "INSERT INTO store.public.schema_migrations (version, applied_at) "
            "SELECT version, applied_at FROM source.main.schema_migrations"
        )
        for name, columns in tables.items():
            kinds = _columns(con, "source", name)
            integers = [c for c in columns if kinds[c] in _INTEGER_TYPES]
            rows, sums = _figures(con, "source", name, integers)
            got_rows, got_sums = _figures(con, "store", name, integers)
            if got_rows != rows:
                raise InputError(
                    Code.STORE_COPY_MISMATCH, table=name, what="rows", source=rows, target=got_rows
                )
            for column, total in sums.items():
                if got_sums[column] != total:
                    raise InputError(
                        Code.STORE_COPY_MISMATCH,
                        table=name,
                        what=f"sum of {column}",
                        source=total,
                        target=got_sums[column],
                    )
            copied.append(TableCopy(name, rows, sums))
        con.execute("COMMIT")
    except BaseException:
        with suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    return copied


def _set_sequences(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Each sequence behind a column default, set to the largest id copied (or the file's
    own sequence, if further): the next id is past every copied one."""
    feeds = con.execute(
        "SELECT * FROM postgres_query('store', 'SELECT table_name::text, column_name::text, "
        "column_default::text FROM information_schema.columns WHERE table_schema = ''public'' "
        "AND column_default LIKE ''nextval(%''')"
    ).fetchall()
    in_file = dict(
        con.execute(
            "SELECT sequence_name, last_value FROM duckdb_sequences() "
            "WHERE database_name = 'source'"
        ).fetchall()
    )
    done: dict[str, int] = {}
    for table, column, default in feeds:
        match = _NEXTVAL.search(default)
        if match is None:
            continue
        sequence = match.group(1)
        top = con.execute(f'SELECT max("{column}") FROM store.public."{table}"').fetchall()[0][0]
        last = max(int(top or 0), int(in_file.get(sequence) or 0), done.get(sequence, 0))
        if last > 0:
            con.execute(
                "CALL postgres_execute('store', ?)", [f"SELECT setval('{sequence}', {last})"]
            )
            done[sequence] = last
    return done
