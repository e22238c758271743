"""CHAPAR_STORE=postgresql://… : the store on PostgreSQL through DuckDB's postgres extension.

A real PostgreSQL (Debian's, started by tests/postgres_fixtures.py; skipped without it), a new
database per test. The rest of the suite runs on it too with ``CHAPAR_TEST_STORE=pg``.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from chapar import store
from chapar.settings import get_settings
from chapar.store import Conflict, connect, repo, transaction
from chapar.store.queries import _all, q
from tests.postgres_fixtures import Postgres, create_database

ROOT = Path(__file__).resolve().parent.parent
_numbers = itertools.count(1)


@pytest.fixture
def shared_store(postgres: Postgres, monkeypatch: pytest.MonkeyPatch) -> str:
    url = create_database(postgres, f"store_test_{os.getpid()}_{next(_numbers)}")
    monkeypatch.setenv("CHAPAR_STORE", url)
    get_settings.cache_clear()
    return url


def _versions() -> list[int]:
    with store.connect() as con:
        return [r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()]


def test_every_dialect_entry_replaces_a_query_that_exists() -> None:
    base = _all()
    for dialect in ("postgres",):
        assert set(_all(dialect)) <= set(base), "a dialect entry names no common query"


def test_the_dialect_entry_is_used_only_when_the_store_is_postgresql(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CHAPAR_STORE", raising=False)
    get_settings.cache_clear()
    assert "RETURNING" in q("run_renew_lease")
    monkeypatch.setenv("CHAPAR_STORE", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    assert store.dialect() == "postgres"
    assert "RETURNING" not in q("run_renew_lease")
    assert q("campaign_text") == _all()["campaign_text"]


def test_the_setting_puts_the_data_in_postgresql_migrated_once_for_all_processes(
    shared_store: str, tmp_path: Path
) -> None:
    repo.topup(5_000, note="first")
    assert repo.balance() == 5_000
    assert _versions() == [v for v, _ in store.migrations("postgres")]
    assert not (tmp_path / "data" / "chapar.duckdb").exists()
    # Another process (another machine, as far as the store can tell) sees the same rows
    # and finds the schema migrated.
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "from chapar.store import repo; repo.topup(7); print(repo.balance())",
        ],
        env={**os.environ, "CHAPAR_STORE": shared_store, "CHAPAR_DATA_DIR": str(tmp_path / "o")},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert other.returncode == 0, other.stderr
    assert other.stdout.strip() == "5007"
    assert _versions() == [v for v, _ in store.migrations("postgres")]


def _hold(con: object, amount: int) -> None:
    store_con = con  # a cursor of the store
    store_con.execute(  # type: ignore[attr-defined]
        q("ledger_insert"),
        {"kind": "hold", "amount": -amount, "campaign_id": 1, "run_no": 1, "batch_no": 0,
         "note": "test"},
    )  # fmt: skip


def _balance(con: object) -> int:
    return int(con.execute(q("balance")).fetchall()[0][0])  # type: ignore[attr-defined]


def test_two_holds_of_the_same_credit_cannot_both_commit(shared_store: str) -> None:
    repo.topup(100, note="credit")
    first_ctx, second_ctx = store.transaction(), store.transaction()
    first, second = first_ctx.__enter__(), second_ctx.__enter__()
    # Both read the balance before either holds (two senders on two machines).
    assert _balance(first) == 100
    assert _balance(second) == 100
    _hold(first, 100)
    first_ctx.__exit__(None, None, None)  # commits
    with pytest.raises(Conflict):
        try:
            _hold(second, 100)
        except BaseException as exc:
            second_ctx.__exit__(type(exc), exc, exc.__traceback__)
            raise
    assert repo.balance() == 0


def test_a_refused_transaction_runs_again_and_sees_the_other_hold(shared_store: str) -> None:
    repo.topup(100, note="credit")
    rival_ctx = store.transaction()
    rival = rival_ctx.__enter__()
    _balance(rival)
    attempts = []

    def hold_what_is_left(con: object) -> int:
        attempts.append(1)
        left = _balance(con)
        if len(attempts) == 1:  # the rival commits its hold after this snapshot
            _hold(rival, 60)
            rival_ctx.__exit__(None, None, None)
        _hold(con, left)
        return left

    assert store.retrying(hold_what_is_left) == 40
    assert len(attempts) == 2
    assert repo.balance() == 0


def test_a_frame_joined_in_postgresql_itself_keeps_every_value_as_it_was(shared_store: str) -> None:
    # The native path sends the frame as typed array literals: quotes, backslashes, commas,
    # braces, Persian text and nulls come back exactly, and nothing outside the
    # transaction sees the rows until it commits.
    from chapar.store import IN_POSTGRES, execute_in_store

    texts = ["ok", "it's", 'a "quoted", {braced} \\ slash', "سلام، دنیا", None]
    frame = pl.DataFrame(
        {"seq": [1, 2, 3, 4, 5], "text": texts},
        schema={"seq": pl.Int32, "text": pl.String},
    )
    with transaction() as con:
        con.execute("CALL postgres_execute('store', 'CREATE TABLE echo (seq int, text text)')")
        execute_in_store(
            con,
            f"{IN_POSTGRES}\nINSERT INTO echo SELECT * FROM unnest($incoming) AS i(seq, text)"
            " WHERE seq <= $most",
            {"most": 5},
            frame,
        )
    with connect() as con:
        assert con.execute("SELECT seq, text FROM echo ORDER BY seq").fetchall() == list(
            zip(range(1, 6), texts, strict=True)
        )


def test_no_query_returns_rows_from_a_write_on_postgresql_without_its_dialect_entry() -> None:
    # The postgres extension refuses RETURNING on a PostgreSQL table: every such query has an
    # entry in queries/postgres/ that writes, then selects what it wrote.
    import re

    entries = _all("postgres")
    missing = [
        name
        for name, sql in _all().items()
        if re.search(r"^\s*RETURNING\b", sql, re.M | re.I) and name not in entries
    ]
    assert missing == []


def test_an_in_flight_batch_drops_numbers_barred_since_planning_on_postgresql(
    shared_store: str, tmp_path: Path
) -> None:
    from chapar.sending import Mode, begin_run

    people = tmp_path / "people.txt"
    people.write_text("\n".join(f"0912{i:07d}" for i in range(20)))
    repo.import_list("people", people)
    cid = repo.create_campaign("late blacklist", "سلام", "30001234", ["people"])
    ref = begin_run(cid, Mode.START)
    late = tmp_path / "late.txt"
    late.write_text("09120000003\n09120000007\n")
    repo.import_blacklist(late)
    key = {**ref.key, "batch_no": 0, "sender": "30001234"}
    with transaction() as con:
        barred = con.execute(q("batch_barred_pending"), key).fetchall()
        kept = min(local_id for (local_id,) in barred)  # one the provider turned out to have
        drop = sorted(local_id for (local_id,) in barred if local_id != kept)
        con.execute(q("batch_drop_barred"), {**key, "local_ids": drop})
    with connect() as con:
        statuses = con.execute(
            "SELECT local_id, status FROM messages WHERE status <> 'pending'"
        ).fetchall()
    assert len(barred) == 2
    assert statuses == [(drop[0], "blacklisted")]
