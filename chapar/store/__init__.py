"""The one place that opens the store: the DuckDB file, or PostgreSQL through DuckDB.

``CHAPAR_STORE`` unset: the embedded DuckDB file. DuckDB lets one process at a time hold the
file, so nobody keeps a connection across a wait: :func:`transaction` opens, runs, commits
and closes, retrying briefly while another process (a sending flow, the dashboard) holds the
lock.

``CHAPAR_STORE=postgresql://user:password@host:port/db``: the shared store for many machines
(docs/scale-out.md, "Choosing the distributed store"). Each process keeps one in-memory
DuckDB with the database attached (``ATTACH … AS store (TYPE postgres)``, then ``USE store``;
the extension is LOADed from its PyPI package, as INSTALL needs the network); every
:func:`connect` is a cursor of it, so the same named queries and Polars frames work: DuckDB
evaluates the SQL, PostgreSQL stores the rows and runs the transactions (REPEATABLE READ).
The few queries the postgres extension refuses as written have an entry of the same name in
``queries/postgres/*.sql`` (:mod:`chapar.store.queries` picks it); a migration may have one
in ``migrations/postgres/`` (same file name). Two transactions that change the same row
conflict there: the later one fails with :class:`Conflict` and is to be run again whole
(:func:`retrying`).

Migrations run on first open, in both.
"""

from __future__ import annotations

import importlib
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import duckdb
import polars as pl

from chapar.errors import Busy
from chapar.reasons import Code
from chapar.settings import get_settings

Dialect = Literal["duckdb", "postgres"]
T = TypeVar("T")

_migrated: set[Path | str] = set()
_lock = threading.Lock()
# DuckDB 1.5 races when one thread opens a file while another closes the file's last
# connection ("Unique file handle conflict", duckdb-python#392): opening and closing a file
# connection take turns within the process.
_file_handles = threading.Lock()


class Conflict(Busy):
    """A concurrent transaction on the shared store changed the same rows first (a
    serialisation failure): nothing of this one was kept; run the unit again."""


def dialect() -> Dialect:
    """Which SQL dialect the configured store needs: ``postgres`` when ``CHAPAR_STORE`` is set."""
    return "postgres" if get_settings().store else "duckdb"


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def _is_handle_race(exc: duckdb.Error) -> bool:
    return "Unique file handle conflict" in str(exc)


def _is_serialisation_failure(exc: duckdb.Error) -> bool:
    """PostgreSQL refused this transaction because a concurrent one came first: it changed
    the same row, or committed the same key (two starts of one campaign insert one run)."""
    text = str(exc).lower()
    return any(
        mark in text
        for mark in ("could not serialize", "deadlock detected", "duplicate key value violates")
    )


def _open(path: Path, deadline_s: float) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + deadline_s
    pause = 0.005
    while True:
        try:
            with _file_handles:
                return duckdb.connect(str(path))
        except (duckdb.IOException, duckdb.BinderException) as exc:
            passing = _is_lock_conflict(exc) or _is_handle_race(exc)
            if not passing or time.monotonic() >= deadline:
                if passing:
                    raise Busy(
                        Code.DATABASE_LOCKED, where=str(path), seconds=round(deadline_s)
                    ) from exc
                raise
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 0.1)


def migrations(for_dialect: Dialect = "duckdb") -> list[tuple[int, str]]:
    """The schema's versioned migrations, in order: (version, SQL). For PostgreSQL a file of
    the same name in ``migrations/postgres/`` replaces the common one."""
    folder = resources.files("chapar.store") / "migrations"
    override = folder / for_dialect
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            chosen = override / entry.name
            text = (chosen if chosen.is_file() else entry).read_text(encoding="utf-8")
            found.append((int(entry.name.split("_", 1)[0]), text))
    return sorted(found)


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ DEFAULT now())"
    )
    applied = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    for version, sql in migrations():
        if version in applied:
            continue
        con.execute("BEGIN")
        try:
            con.execute(sql)
            # a literal: a bound value makes DuckDB import pandas (chapar.store.repo, _literal)
            con.execute(f"INSERT INTO schema_migrations (version) VALUES ({int(version)})")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


# --- PostgreSQL through DuckDB -----------------------------------------------------------------

#: Store infrastructure, not schema: the migration record, and the guard row that orders
#: credit holds (see ``ledger_insert`` in queries/postgres/overrides.sql).
_PG_BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS schema_migrations
    (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ DEFAULT now());
CREATE TABLE IF NOT EXISTS store_guards (name VARCHAR PRIMARY KEY, n BIGINT NOT NULL);
INSERT INTO store_guards VALUES ('credit', 0) ON CONFLICT (name) DO NOTHING;
"""
_STATEMENT_END = re.compile(r";[ \t]*(?:--[^\n]*)?\n")
_PARAM = re.compile(r"\$(\w+)")


def _extension(package: str) -> str:
    """The extension file a ``duckdb-extension-*`` package ships (pinned in pyproject)."""
    folder = Path(cast(str, importlib.import_module(package).__file__)).parent
    found = sorted(folder.glob(f"extensions/v{duckdb.__version__}/*.duckdb_extension"))
    if not found:
        raise RuntimeError(
            f"{package} has no extension for DuckDB {duckdb.__version__}: install the "
            "versions pyproject.toml pins"
        )
    return str(found[0])


def _statements(sql: str) -> list[str]:
    return [part.strip() for part in _STATEMENT_END.split(sql.strip() + "\n") if part.strip()]


class _PostgresCursor:
    """A DuckDB cursor on the attached PostgreSQL database whose ``execute`` and ``sql``
    also take a dialect entry of several statements (each gets the parameters it names;
    the result is the last one's). Everything else is the DuckDB cursor's."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def _leading(self, sql: str, params: object) -> tuple[str, object]:
        parts = _statements(sql)
        if len(parts) == 1:
            return sql, params
        for part in parts[:-1]:
            self._con.execute(part, _params_for(part, params))
        return parts[-1], _params_for(parts[-1], params)

    def execute(self, sql: str, params: object = None) -> duckdb.DuckDBPyConnection:
        last, last_params = self._leading(sql, params)
        return self._con.execute(last, last_params)

    def sql(self, sql: str, params: object = None, **kwargs: Any) -> duckdb.DuckDBPyRelation:
        last, last_params = self._leading(sql, params)
        return self._con.sql(last, params=last_params, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _params_for(sql: str, params: object) -> object:
    if not isinstance(params, dict):
        return params
    used = set(_PARAM.findall(sql))
    return {k: v for k, v in params.items() if k in used}


#: Migration 004's table macro, which PostgreSQL cannot hold: defined in each process's
#: in-memory catalog, on the search path of every cursor after the store itself.
SUPPRESSED_ON = """
CREATE OR REPLACE MACRO memory.main.suppressed_on(line) AS TABLE
SELECT number, 'blacklisted' AS status FROM store.public.blacklist
UNION ALL
SELECT number, status FROM (
    SELECT number, CASE arg_max(kind, (recorded_at, id))
                       WHEN 'opted_out' THEN 'opted_out' WHEN 'manual' THEN 'suppressed' END
                   AS status
    FROM store.public.suppressions
    WHERE kind IN ('opted_out', 'manual', 'opted_in')
      AND (scope = 'everywhere' OR scope = 'line:' || line)
    GROUP BY number
) consent
WHERE status IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM store.public.blacklist b WHERE b.number = consent.number)
"""
_SEARCH_PATH = "SET search_path = 'store.public,memory.main'"


class _Postgres:
    """One process's in-memory DuckDB with the store attached (attaching costs ~0.3 s)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pid = os.getpid()
        self.db = duckdb.connect(":memory:")
        self.db.execute("SET enable_progress_bar = false")
        self.db.execute(f"LOAD '{_extension('duckdb_extension_postgres_scanner')}'")
        literal = url.replace("'", "''")  # ATTACH takes no parameter
        self.db.execute(f"ATTACH '{literal}' AS store (TYPE postgres)")
        self.db.execute("USE store")
        self.macros = False  # defined once the tables they read exist

    def migrate(self) -> None:
        """Run the migrations PostgreSQL lacks, natively (DuckDB's binder refuses CREATE
        SEQUENCE there); each with its record in one PostgreSQL transaction. A process that
        loses the race to another finds the version recorded and goes on."""
        for attempt in range(10):
            try:  # processes starting at once race to create the bookkeeping tables
                self.db.execute("CALL postgres_execute('store', ?)", [_PG_BOOTSTRAP])
                break
            except duckdb.Error:
                if attempt == 9:
                    raise
                time.sleep(0.05 * (1 + attempt) * (0.5 + random.random()))
        self.db.execute("CALL pg_clear_cache()")
        for version, sql in migrations("postgres"):
            if version in self._applied():
                continue
            try:
                self.db.execute(
                    "CALL postgres_execute('store', ?)",
                    [f"{sql}\n;\nINSERT INTO schema_migrations (version) VALUES ({version});"],
                )
            except duckdb.Error:
                if version not in self._applied():
                    raise
            self.db.execute("CALL pg_clear_cache()")

    def _applied(self) -> set[int]:
        rows = self.db.execute(
            "SELECT * FROM postgres_query('store', 'SELECT version FROM schema_migrations')"
        ).fetchall()
        return {row[0] for row in rows}


_postgres: _Postgres | None = None


def _postgres_for(url: str) -> _Postgres:
    global _postgres
    with _lock:
        if _postgres is None or _postgres.url != url or _postgres.pid != os.getpid():
            _postgres = _Postgres(url)
        if url not in _migrated:
            _postgres.migrate()
            _migrated.add(url)
        if not _postgres.macros:
            _postgres.db.execute(SUPPRESSED_ON)
            _postgres.macros = True
        return _postgres


# --- the seam ------------------------------------------------------------------------------------


@contextmanager
def connect(path: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection (autocommit). Prefer :func:`transaction` for writes."""
    settings = get_settings()
    if settings.store and path is None:
        cursor = _postgres_for(settings.store).db.cursor()
        cursor.execute("USE store")  # a cursor starts in the in-memory catalog
        cursor.execute(_SEARCH_PATH)
        try:
            yield cast(duckdb.DuckDBPyConnection, _PostgresCursor(cursor))
        finally:
            cursor.close()
        return
    db = Path(path) if path is not None else settings.database_path
    con = _open(db, settings.lock_retry_seconds)
    try:
        if db not in _migrated:
            _migrate(con)
            _migrated.add(db)
        yield con
    finally:
        with _file_handles:
            con.close()


@contextmanager
def transaction(path: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open, BEGIN, yield, COMMIT and close; any exception rolls everything back. On the
    shared store a serialisation failure (here or at COMMIT) raises :class:`Conflict`."""
    with connect(path) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
            con.execute("COMMIT")
        except duckdb.Error as exc:
            with suppress(duckdb.Error):
                con.execute("ROLLBACK")
            if _is_serialisation_failure(exc):
                raise Conflict(Code.STORE_CONFLICT) from exc
            raise
        except BaseException:
            with suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise


@contextmanager
def one_thread(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """``con``, its DuckDB working on one thread until the block ends: for work that needs
    the cores less than something beside it does (the engine's transactions beside the
    requests) or that takes less memory so (an export's snapshot). The setting is the
    database instance's, shared by the process's connections open at the time, so it is
    reset at the end."""
    con.execute("SET threads = 1")
    try:
        yield con
    finally:
        with suppress(duckdb.Error):
            con.execute("RESET threads")


def retrying(body: Callable[[duckdb.DuckDBPyConnection], T], attempts: int = 20) -> T:
    """``body`` in a :func:`transaction`, run again (after a short random pause) while the
    shared store refuses it with :class:`Conflict`. ``body`` must do nothing but SQL: it
    may run several times, and only the last run is kept."""
    pause = 0.01
    for attempt in range(attempts):
        try:
            with transaction() as con:
                return body(con)
        except Conflict:
            if attempt == attempts - 1:
                raise
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 0.5)
    raise AssertionError("unreachable")


def register_stream(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """``frame`` as the view ``name``, readable by ONE statement: its bare Arrow C stream (a
    PyCapsule), which DuckDB scans without pyarrow (so without pandas, which pyarrow's
    dataset loads), in about half the CPU of the frame registered as it is."""
    con.register(name, frame.__arrow_c_stream__())


@contextmanager
def reading(con: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> Iterator[None]:
    """Each frame readable as the view of its keyword's name by ONE statement, whose result
    is fetched inside the block. On the DuckDB file a view is the frame's Arrow C stream
    (:func:`register_stream`; 1M planned rows inserted in 0.44 s of CPU against 0.87 s), read
    once. A PostgreSQL dialect entry may read a view in several of its statements: there the
    frame itself is registered."""
    shared = isinstance(con, _PostgresCursor)
    for name, frame in frames.items():
        if shared:
            con.register(name, frame)
        else:
            register_stream(con, name, frame)
    try:
        yield
    finally:
        for name in frames:
            con.unregister(name)


def execute_reading(
    con: duckdb.DuckDBPyConnection, sql: str, params: object = None, **frames: pl.DataFrame
) -> None:
    """Run a statement that returns nothing (an INSERT, an UPDATE) reading these frames, as
    :func:`reading` says."""
    with reading(con, **frames):
        con.execute(sql, params)


#: a frame column's PostgreSQL array type, by the Polars type's name
_PG_ARRAY = {"Int16": "smallint", "Int32": "integer", "Int64": "bigint", "String": "text"}


#: marks a PostgreSQL dialect entry that runs in PostgreSQL itself (see execute_in_store)
IN_POSTGRES = "-- runs in PostgreSQL itself"


def execute_in_store(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: dict[str, int],
    frame: pl.DataFrame | None = None,
) -> None:
    """Run ``sql`` (with ``frame``, if any, as its input rows). On the DuckDB file, and for
    a plain entry, the frame is the registered table ``incoming`` and the SQL runs as usual.
    A PostgreSQL entry marked :data:`IN_POSTGRES` runs in PostgreSQL itself, inside the same
    transaction (``postgres_execute`` uses the transaction's connection): the frame's
    columns go as typed arrays, in order, where it reads ``unnest($incoming)``, and
    ``params`` (integers) as literals. Through the extension, an ``UPDATE … FROM`` a local
    frame reads the rows out and writes them back (≈1 s a 100k batch), and an ``INSERT …
    SELECT`` brings the rows to DuckDB and back; PostgreSQL does either in place."""
    if IN_POSTGRES not in sql:
        used = {k: v for k, v in params.items() if f"${k}" in sql}
        execute_reading(con, sql, used, **({} if frame is None else {"incoming": frame}))
        return
    native = sql
    if frame is not None:
        arrays = []
        for name, dtype in frame.schema.items():
            column = frame[name]
            if dtype == pl.String:
                items = ('"' + column.str.replace_all("\\", "\\\\", literal=True)
                         .str.replace_all('"', '\\"', literal=True) + '"')  # fmt: skip
            else:
                items = column.cast(pl.String)
            body = items.fill_null("NULL").str.join(",").item()
            literal = "{" + (body or "") + "}"
            arrays.append("'" + literal.replace("'", "''") + f"'::{_PG_ARRAY[str(dtype)]}[]")
        native = native.replace("$incoming", ", ".join(arrays))
    for name in sorted(params, key=len, reverse=True):  # $run_no before a $run…
        native = native.replace(f"${name}", str(int(params[name])))
    con.execute("CALL postgres_execute('store', ?)", [native])


def fetch_one(cursor: duckdb.DuckDBPyConnection) -> tuple[Any, ...] | None:
    """The first row, reading the result to its end: DuckDB 2.0 refuses new work on a
    connection whose previous result was left half-read."""
    rows = cursor.fetchall()
    return rows[0] if rows else None
