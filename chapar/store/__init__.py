"""The one place that opens the DuckDB file.

DuckDB lets one process at a time hold the file, so nobody keeps a connection across a
wait: :func:`transaction` opens, runs, commits and closes, retrying briefly while another
process (a sending flow, the dashboard) holds the lock. Migrations run on first open.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from chapar.errors import Busy
from chapar.reasons import Code
from chapar.settings import get_settings

_migrated: set[Path] = set()


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def _open(path: Path, deadline_s: float) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + deadline_s
    pause = 0.005
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if not _is_lock_conflict(exc) or time.monotonic() >= deadline:
                if _is_lock_conflict(exc):
                    raise Busy(
                        Code.DATABASE_LOCKED, where=str(path), seconds=round(deadline_s)
                    ) from exc
                raise
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 0.1)


def migrations() -> list[tuple[int, str]]:
    """The schema's versioned migrations, in order: (version, SQL)."""
    folder = resources.files("chapar.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
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
            con.execute("INSERT INTO schema_migrations (version) VALUES (?)", [version])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


@contextmanager
def connect(path: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection (autocommit). Prefer :func:`transaction` for writes."""
    settings = get_settings()
    db = Path(path) if path is not None else settings.database_path
    con = _open(db, settings.lock_retry_seconds)
    try:
        if db not in _migrated:
            _migrate(con)
            _migrated.add(db)
        yield con
    finally:
        con.close()


@contextmanager
def transaction(path: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open, BEGIN, yield, COMMIT and close; any exception rolls everything back."""
    with connect(path) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")


def fetch_one(cursor: duckdb.DuckDBPyConnection) -> tuple[Any, ...] | None:
    """The first row, reading the result to its end: DuckDB 2.0 refuses new work on a
    connection whose previous result was left half-read."""
    rows = cursor.fetchall()
    return rows[0] if rows else None
