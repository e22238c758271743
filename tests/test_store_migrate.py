"""Moving an installation: ``chapar store migrate --to URL`` copies the DuckDB file's data
into an empty PostgreSQL database, verified, and the installation goes on there.

A real file with real sends on it (one campaign completed, one killed mid-batch), a real
PostgreSQL (tests/postgres_fixtures.py; skipped without it), the real CLI and simulator.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from chapar import reports, store
from chapar.campaigns import CampaignStatus, RunStatus
from chapar.errors import Busy, InputError, NotFound
from chapar.reasons import Code
from chapar.sending import Mode, begin_run, finish_run, send_run
from chapar.settings import get_settings
from chapar.store import repo
from chapar.store.migrate import migrate
from tests.postgres_fixtures import Postgres, create_database
from tests.test_sending import assert_exactly_once, numbers

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent
KILLED = -9
_databases = itertools.count(1)


@pytest.fixture
def on_the_file(simulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """This process on the embedded file (whatever CHAPAR_TEST_STORE says), the simulator
    as the provider."""
    monkeypatch.delenv("CHAPAR_STORE", raising=False)
    monkeypatch.setenv("CHAPAR_SIMULATOR_PORT", str(simulator.port))
    monkeypatch.setenv("CHAPAR_BATCH_SIZE", "500")
    get_settings.cache_clear()
    return simulator


@pytest.fixture
def empty_database(postgres: Postgres) -> str:
    return create_database(postgres, f"migrate_{os.getpid()}_{next(_databases)}")


def chapar(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chapar", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def fingerprint(path: Path) -> tuple[str, float, list[str]]:
    """The file's bytes, its mtime, and what lies beside it (a WAL would show)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest, path.stat().st_mtime, sorted(p.name for p in path.parent.iterdir())


def use_store(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("CHAPAR_STORE", url)
    get_settings.cache_clear()


def test_an_installation_moves_to_postgresql_and_goes_on_there(
    on_the_file: Any, empty_database: str, write: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    sim = on_the_file
    # A life on the file: lists, a blacklist, a line, credit, a completed campaign and one
    # whose sender was killed with a batch in flight (requests answered, nothing recorded).
    repo.import_list("first", write("first.txt", "\n".join(numbers(1_500))))
    repo.import_list("second", write("second.txt", "\n".join(numbers(2_000, 500_000))))
    repo.import_blacklist(write("bl.txt", "\n".join(numbers(40, 500_000))))
    repo.topup(10**9, note="opening")
    done = repo.create_campaign("Done on the file", "سلام", "30001234", ["first"])
    assert send_run(done, Mode.START).status.value == "completed"
    halfway = repo.create_campaign("Killed on the file", "درود", "30001234", ["second"])
    killed = chapar("send", str(halfway), CHAPAR_CRASH_AT="requested:2")
    assert killed.returncode == KILLED, killed.stderr[-2000:]
    assert repo.get_campaign(halfway).status is CampaignStatus.UNFINISHED
    before = {cid: reports.run_report(cid).figures() for cid in (done, halfway)}
    balance, outbox = repo.balance(), sim.outbox()["total_accepted"]
    path = get_settings().database_path
    untouched = fingerprint(path)

    result = chapar("store", "migrate", "--to", empty_database)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "counts and sums match" in result.stdout
    assert "chapar-test" not in result.stdout  # the password is not shown
    # The killed sender's lease: lapsed on the file (its pid is dead here), so lapsed in
    # the copy too — on the shared store no pid could lapse it.
    assert f"campaign {halfway} run 1" in result.stdout
    assert fingerprint(path) == untouched  # only read

    # On PostgreSQL now: the same figures, the same money, the same schema version.
    use_store(monkeypatch, empty_database)
    assert {cid: reports.run_report(cid).figures() for cid in (done, halfway)} == before
    assert repo.balance() == balance
    with store.connect() as con:
        versions = [r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()]
    assert versions == [v for v, _ in store.migrations()]

    # Another machine (no file at all) rebuilds the killed run: the in-flight batch is
    # reconciled with the provider, nothing goes twice.
    elsewhere = {"CHAPAR_STORE": empty_database, "CHAPAR_DATA_DIR": str(tmp_path / "other")}
    rebuilt = chapar("rebuild", str(halfway), **elsewhere)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert repo.get_campaign(halfway).status is CampaignStatus.COMPLETED
    assert sim.outbox()["total_accepted"] > outbox
    # New ids continue after the copied ones: a new campaign, ledger rows, audit rows.
    later = repo.create_campaign("Made on PostgreSQL", "سلام", "30001234", ["first"])
    assert later > halfway
    reset = chapar("reset", "--yes", str(done), **elsewhere)
    assert reset.returncode == 0, reset.stdout + reset.stderr
    report = chapar("report", str(done), **elsewhere)
    assert report.returncode == 0 and "run 2 (reset): completed" in report.stdout, report.stdout
    assert not list((tmp_path / "other").rglob("*.duckdb"))
    assert fingerprint(path) == untouched

    # Both lists' numbers reached the provider exactly once per run that planned them.
    class Outbox:
        def __init__(self, keep: set[str]) -> None:
            self.keep = keep

        def outbox(self) -> dict[str, Any]:
            box = sim.outbox()
            return {**box, "receptors": {n: v for n, v in box["receptors"].items()
                                         if n in self.keep}}  # fmt: skip

    first = {"98" + n[1:] for n in numbers(1_500)}
    assert_exactly_once(Outbox(first), done, runs=2)
    assert_exactly_once(Outbox(set(sim.outbox()["receptors"]) - first), halfway)


def test_a_table_a_later_migration_adds_is_copied_too(
    on_the_file: Any, empty_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = (
        99,
        "CREATE SEQUENCE thing_ids START 1;\n"
        "CREATE TABLE things (id INTEGER PRIMARY KEY DEFAULT nextval('thing_ids'), "
        "weight BIGINT NOT NULL, label VARCHAR);\n",
    )
    real = store.migrations
    monkeypatch.setattr(
        store, "migrations", lambda for_dialect="duckdb": [*real(for_dialect), extra]
    )
    monkeypatch.setattr("chapar.store.migrate.migrations", store.migrations)
    with store.transaction() as con:
        con.execute(
            "INSERT INTO things (weight, label) SELECT i, 'w' || i FROM range(1, 1001) t(i)"
        )
    repo.topup(12_345)

    done = migrate(empty_database)

    copied = {t.name: t for t in done.tables}
    assert copied["things"].rows == 1_000 and copied["things"].sums["weight"] == 500_500
    assert copied["ledger"].sums["amount"] == 12_345
    # past every copied id, and past what the file's own sequence gave
    assert done.sequences["thing_ids"] >= 1_000
    use_store(monkeypatch, empty_database)
    with store.transaction() as con:
        con.execute("INSERT INTO things (weight) VALUES (1)")
        new_id = con.execute("SELECT max(id) FROM things").fetchall()[0][0]
    assert new_id == done.sequences["thing_ids"] + 1


def test_a_target_that_holds_data_or_is_not_postgresql_or_a_missing_file_is_refused(
    on_the_file: Any, empty_database: str, tmp_path: Path
) -> None:
    repo.topup(100)
    migrate(empty_database)
    again = chapar("store", "migrate", "--to", empty_database)
    assert again.returncode == 1
    assert "already holds data" in again.stderr and "Traceback" not in again.stderr
    with pytest.raises(InputError) as wrong:
        migrate("mysql://someone@127.0.0.1/db")
    assert wrong.value.code is Code.STORE_URL_NOT_POSTGRES
    with pytest.raises(NotFound):
        migrate(empty_database, tmp_path / "nowhere.duckdb")


def test_a_file_behind_this_version_is_refused_and_left_as_it_was(
    on_the_file: Any, empty_database: str, tmp_path: Path
) -> None:
    old = tmp_path / "old.duckdb"
    with duckdb.connect(str(old)) as con:
        version, sql = store.migrations()[0]
        con.execute(sql)
        con.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ)"
        )
        con.execute("INSERT INTO schema_migrations VALUES (?, now())", [version])
    untouched = fingerprint(old)
    with pytest.raises(InputError) as behind:
        migrate(empty_database, old)
    assert behind.value.code is Code.STORE_SOURCE_VERSION
    assert fingerprint(old) == untouched


def test_a_run_whose_sender_is_alive_refuses_the_move(
    on_the_file: Any, empty_database: str, write: Any
) -> None:
    repo.import_list("people", write("people.txt", "\n".join(numbers(10))))
    repo.topup(10**6)
    cid = repo.create_campaign("Sending", "سلام", "30001234", ["people"])
    ref = begin_run(cid, Mode.START)  # this very process holds the lease: alive
    with pytest.raises(Busy) as alive:
        migrate(empty_database)
    assert alive.value.code is Code.BUSY
    assert finish_run(ref, RunStatus.UNFINISHED)
    assert migrate(empty_database).lapsed == []  # finished: no lease left to lapse
