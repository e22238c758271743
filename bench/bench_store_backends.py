"""A design-time record, not maintained: it runs at commit 4b90c18 (see docs/scale-out.md);
today's store is measured by ``bench.bench_scale_out``.

Chapar's checkpoint workload on the candidate stores:
``python -m bench.bench_store_backends [--messages N] [--writers 1,2,4] [--backends ...]``.

Backends (issue 13):

* ``duckdb``   — the embedded file, as today (the baseline): every transaction opens the
  file, commits and closes it, retrying while another process holds the lock;
* ``pg``       — an in-memory DuckDB with PostgreSQL attached (``ATTACH … (TYPE postgres)``):
  DuckDB evaluates the SQL, PostgreSQL stores the rows and runs the transactions;
* ``ducklake`` — DuckLake: its catalog in PostgreSQL, its Parquet files in a data folder
  that every machine would mount.

The two extensions come from the PyPI packages pinned in pyproject.toml and are LOADed from
their files (``INSTALL`` needs the network). PostgreSQL is Debian's, started here in a temp
folder on a free port (``tests/postgres_fixtures.py``), with ``fsync`` off like the tests.

The workload is the real schema (``migrations/001_initial.sql``) and the real named queries
(``queries/*.sql``, with ``queries/postgres/`` for what the postgres extension refuses): with
W writers, W campaigns of N / W recipients each (N in total, 1% blacklisted), each writer a
process of its own that plans its campaign and takes the lease (one transaction), then for
every batch of ``--batch`` (100,000): transaction 1 (renew the lease, drop newly blacklisted,
read the pending messages into Polars, read the balance, hold the credit, mark in flight),
transaction 2 (``UPDATE messages … FROM`` a registered Polars frame, provider-blocked numbers
to the blacklist, charge, settle the hold, refunds, batch status), and a delivery-status
round (``messages_awaiting_status`` + ``UPDATE … FROM`` a frame — the query is not per
campaign, so concurrent writers meet on the same rows, as two sync flows would); then the
home page's ``campaign_summaries`` and a run report. Any transaction that fails on a
conflict (a serialisation failure, a DuckLake commit conflict, the file lock) is rolled back
and retried whole; conflicts and retries are counted. Afterwards every campaign is checked:
no message left pending, none twice, no hold left, ledger = top-up − charges + refunds.

A separate probe tries what each backend refuses (sequences, keys, ON CONFLICT, RETURNING,
UPDATE … FROM a local frame, a transaction writing two attached databases) and whether two
concurrent transactions that both read the balance and both hold it are both allowed to
commit (write skew: the money invariant across machines).

Figures only; nothing asserts on time (the machine is shared).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import multiprocessing as mp
import random
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

STORE = ROOT / "chapar" / "store"
MIGRATION = (STORE / "migrations" / "001_initial.sql").read_text(encoding="utf-8")
PRICE = 1_180  # one Persian page on any operator
TOPUP = 10**15
OWNER = "bench-writer-{}"


def _named(folder: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(folder.glob("*.sql")):
        name: str | None = None
        lines: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("-- name:"):
                if name:
                    found[name] = "\n".join(lines).strip()
                name, lines = line.removeprefix("-- name:").strip(), []
            elif name:
                lines.append(line)
        if name:
            found[name] = "\n".join(lines).strip()
    return found


BASE = _named(STORE / "queries")
OVERRIDES = {"pg": _named(STORE / "queries" / "postgres"), "duckdb": {}}
# DuckLake refuses RETURNING too: the same UPDATE-then-SELECT entries as PostgreSQL.
# And the credit guard of holds, the same as on PostgreSQL (see ledger_insert there).
OVERRIDES["ducklake"] = {k: v for k, v in OVERRIDES["pg"].items()
                         if "RETURNING" in BASE[k] or k == "ledger_insert"}  # fmt: skip
# DuckLake has no keys, hence no ON CONFLICT: an anti-join (safe only with one writer).
OVERRIDES["ducklake"]["blacklist_from_provider"] = """
INSERT INTO blacklist (number, source, campaign_id)
SELECT number, 'provider', any_value(campaign_id) FROM incoming
WHERE status = 'blocked' AND number IS NOT NULL
  AND number NOT IN (SELECT number FROM blacklist) GROUP BY number"""


def extension(package: str) -> str:
    folder = Path(importlib.import_module(package).__file__ or "").parent
    return str(next(folder.glob("extensions/*/*.duckdb_extension")))


@dataclass(frozen=True)
class Target:
    backend: str  # duckdb | pg | ducklake
    path: str = ""  # the DuckDB file
    dsn: str = ""  # libpq key=value
    data_path: str = ""  # DuckLake's Parquet folder


PG_TUNING = {"ctid_scan": True}


def open_db(t: Target) -> duckdb.DuckDBPyConnection:
    if t.backend == "duckdb":
        con = duckdb.connect(t.path)
        con.execute("SET enable_progress_bar = false")
        return con
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"LOAD '{extension('duckdb_extension_postgres_scanner')}'")
    if t.backend == "pg":
        if not PG_TUNING["ctid_scan"]:
            con.execute("SET pg_use_ctid_scan = false")
        con.execute(f"ATTACH '{t.dsn}' AS store (TYPE postgres)")
    else:
        con.execute(f"LOAD '{extension('duckdb_extension_ducklake')}'")
        con.execute(f"ATTACH 'ducklake:postgres:{t.dsn}' AS store (DATA_PATH '{t.data_path}')")
    con.execute("USE store")
    return con


def statements(sql: str) -> list[str]:
    return [s.strip() for s in re.split(r";\s*\n", sql.strip().rstrip(";")) if s.strip()]


def run(con: duckdb.DuckDBPyConnection, t: Target, name: str, params: dict[str, Any] | None = None
        ) -> duckdb.DuckDBPyConnection:  # fmt: skip
    """A named query in the backend's dialect; each statement gets the parameters it names."""
    sql = OVERRIDES[t.backend].get(name, BASE[name])
    cur = con
    mark = time.perf_counter()
    for part in statements(sql):
        used = set(re.findall(r"\$(\w+)", part))
        cur = con.execute(part, {k: v for k, v in (params or {}).items() if k in used})
    QUERY_TIMES[name] += time.perf_counter() - mark
    return cur


QUERY_TIMES: Counter[str] = Counter()  # per writer process: seconds in each named query


def one(cur: duckdb.DuckDBPyConnection) -> Any:
    rows = cur.fetchall()
    return rows[0][0] if rows else None


# --- transactions with retries ---------------------------------------------------------------

CONFLICT_MARKS = {  # first match wins
    "file-lock": ("could not set lock", "conflicting lock"),
    "serialization": ("could not serialize", "serialization failure"),
    "deadlock": ("deadlock detected",),
    "ducklake-conflict": ("conflict",),
}


def conflict_kind(exc: BaseException) -> str | None:
    text = str(exc).lower()
    for kind, marks in CONFLICT_MARKS.items():
        if any(m in text for m in marks):
            return kind
    return None


@dataclass
class Session:
    """One writer's way into the store: per transaction for the file (as chapar.store does),
    one attached in-memory DuckDB kept for the process otherwise (attaching costs ~0.3 s)."""

    target: Target
    conflicts: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)
    lock_wait_s: float = 0.0
    _con: duckdb.DuckDBPyConnection | None = None

    def _open(self) -> duckdb.DuckDBPyConnection:
        if self.target.backend != "duckdb":
            if self._con is None:
                self._con = open_db(self.target)
            return self._con
        start, pause = time.perf_counter(), 0.005
        while True:
            try:
                con = duckdb.connect(self.target.path)
                self.lock_wait_s += time.perf_counter() - start
                return con
            except duckdb.IOException as exc:
                if conflict_kind(exc) != "file-lock":
                    raise
                time.sleep(pause * (0.5 + random.random()))
                pause = min(pause * 2, 0.1)

    def transaction(self, body: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
        pause = 0.01
        for _attempt in range(200):
            con = self._open()
            try:
                con.execute("BEGIN TRANSACTION")
                result = body(con)
                con.execute("COMMIT")
                return result
            except duckdb.Error as exc:
                with contextlib.suppress(duckdb.Error):  # nothing to roll back
                    con.execute("ROLLBACK")
                kind = conflict_kind(exc)
                if kind is None:
                    raise
                self.conflicts[kind] += 1
                self.samples.setdefault(kind, str(exc).splitlines()[0][:160])
                time.sleep(pause * (0.5 + random.random()))
                pause = min(pause * 2, 0.5)
            finally:
                if self.target.backend == "duckdb":
                    con.close()
        raise RuntimeError("200 conflicts in a row")

    def close(self) -> None:
        if self._con is not None:
            self._con.close()


# --- the schema and the seed -----------------------------------------------------------------


def ducklake_schema(sql: str) -> str:
    """001 as DuckLake takes it: no sequences, no PRIMARY KEY / UNIQUE (it refuses both)."""
    sql = re.sub(r"--.*", "", sql)
    sql = re.sub(r"(?m)^CREATE SEQUENCE .*$", "", sql)
    sql = re.sub(r"PRIMARY KEY DEFAULT nextval\('\w+'\)", "", sql)
    sql = re.sub(r",\s*PRIMARY KEY \([^)]*\)", "", sql)
    return sql.replace(" PRIMARY KEY", "").replace(" UNIQUE", "")


def create_schema(t: Target) -> None:
    con = open_db(t)
    try:
        if t.backend == "duckdb":
            con.execute(MIGRATION)
        elif t.backend == "pg":
            # PostgreSQL runs 001 as it is; DuckDB's binder refuses CREATE SEQUENCE there.
            from chapar.store import _PG_BOOTSTRAP

            con.execute("CALL postgres_execute('store', ?)", [_PG_BOOTSTRAP + MIGRATION])
        else:
            con.execute(ducklake_schema(MIGRATION))
            con.execute("CREATE TABLE store_guards (name VARCHAR, n BIGINT)")
            con.execute("INSERT INTO store_guards VALUES ('credit', 0)")
    finally:
        con.close()


def seed(t: Target, campaigns: int, per_campaign: int) -> None:
    """W lists of distinct numbers (1% also on the blacklist), W campaigns, a large top-up."""
    rng = np.random.default_rng(7)
    con = open_db(t)
    try:
        con.execute("BEGIN TRANSACTION")
        for c in range(1, campaigns + 1):
            numbers = 989_120_000_000 + c * 10_000_000 + np.arange(per_campaign, dtype=np.int64)
            frame = pl.DataFrame({
                "list_id": np.full(per_campaign, c, dtype=np.int32),
                "line_no": np.arange(1, per_campaign + 1, dtype=np.int32),
                "number": numbers,
                "operator": np.where(rng.random(per_campaign) < 0.5, "MCI", "Irancell"),
                "raw": pl.Series([None] * per_campaign, dtype=pl.String),
            })  # fmt: skip
            con.register("incoming", frame)
            con.execute("INSERT INTO recipients SELECT * FROM incoming")
            con.execute(
                "INSERT INTO blacklist (number, source, added_at) "
                "SELECT number, 'import', now() FROM incoming WHERE line_no % 100 = 0"
            )
            con.unregister("incoming")
            con.execute(
                "INSERT INTO lists (id, name, total_rows, valid, invalid, duplicates, created_at)"
                " VALUES (?, ?, ?, ?, 0, 0, now())",
                [c, f"list {c}", per_campaign, per_campaign],
            )
            con.execute(
                "INSERT INTO campaigns (id, title, message, sender, status, archived, "
                "reset_count, current_run, created_at, updated_at) "
                "VALUES (?, ?, 'سلام', '30001234', 'draft', false, 0, 0, now(), now())",
                [c, f"campaign {c}"],
            )
            con.execute("INSERT INTO campaign_lists VALUES (?, 1, ?)", [c, c])
        con.execute(
            "INSERT INTO ledger (id, kind, amount, recorded_at) VALUES (1000000000, 'topup', ?, "
            "now())",
            [TOPUP],
        )
        con.execute("COMMIT")
    finally:
        con.close()


# --- one writer ------------------------------------------------------------------------------


def writer(t: Target, campaign_id: int, batch_size: int, start_at: float, out: Any,
           tuning: dict[str, bool]) -> None:  # fmt: skip
    PG_TUNING.update(tuning)  # a spawned process starts from the defaults
    try:
        out.put(_writer(t, campaign_id, batch_size, start_at))
    except BaseException:
        out.put({"campaign_id": campaign_id, "error": traceback.format_exc()})


def _writer(t: Target, campaign_id: int, batch_size: int, start_at: float) -> dict[str, Any]:
    session = Session(t)
    owner = OWNER.format(campaign_id)
    run_no = 1
    key = {"campaign_id": campaign_id, "run_no": run_no}
    times: Counter[str] = Counter()
    rng = random.Random(campaign_id)
    connect_start = time.perf_counter()
    if t.backend != "duckdb":
        session._open()
    times["connect"] = time.perf_counter() - connect_start
    time.sleep(max(0.0, start_at - time.time()))
    began = time.perf_counter()

    def plan(con: duckdb.DuckDBPyConnection) -> None:
        run(con, t, "run_insert", key)
        run(con, t, "plan_messages", {**key, "batch_size": batch_size, "send_count": None})
        run(con, t, "plan_batches", key)
        run(con, t, "run_set_planned", key)
        run(con, t, "campaign_new_run", {**key, "reset": 0})
        run(con, t, "run_take_lease", {**key, "owner": owner, "ttl": 300.0})
        run(con, t, "campaign_set_status", {"id": campaign_id, "status": "sending",
                                             "reason": None})  # fmt: skip
        run(con, t, "audit_insert", {"actor": "bench", "campaign_id": campaign_id,
                                      "action": "status", "field": "status",
                                      "old_value": "draft", "new_value": "sending"})  # fmt: skip

    mark = time.perf_counter()
    session.transaction(plan)
    times["plan"] += time.perf_counter() - mark
    batch_nos = [row[0] for row in session.transaction(
        lambda con: run(con, t, "batches_open", key).fetchall())]  # fmt: skip

    for batch_no in batch_nos:
        bkey = {**key, "batch_no": batch_no}

        def prepare(
            con: duckdb.DuckDBPyConnection, bkey: dict[str, int] = bkey, batch_no: int = batch_no
        ) -> pl.DataFrame:
            stop = run(con, t, "run_renew_lease", {**key, "owner": owner, "ttl": 300.0})
            if stop.fetchall() == []:
                raise RuntimeError("lease lost")
            run(con, t, "batch_status", bkey).fetchall()
            run(con, t, "batch_drop_blacklisted", bkey)
            run(con, t, "holds_release", bkey)
            pending = run(con, t, "batch_pending_messages", bkey).pl()
            run(con, t, "campaign_text", {"campaign_id": campaign_id}).fetchall()
            balance = int(one(run(con, t, "balance")))
            held = PRICE * pending.height
            assert held <= balance
            run(con, t, "ledger_insert", {"kind": "hold", "amount": -held, **bkey,
                                          "note": f"batch {batch_no} in flight"})  # fmt: skip
            run(con, t, "batch_begin", bkey)
            return pending

        mark = time.perf_counter()
        pending = session.transaction(prepare)
        times["txn1 hold"] += time.perf_counter() - mark
        blocked = pl.Series([rng.random() < 0.001 for _ in range(pending.height)])
        frame = pl.DataFrame({
            "seq": pending["seq"].cast(pl.Int32),
            "number": pending["number"],
            "campaign_id": pl.Series([campaign_id] * pending.height, dtype=pl.Int32),
            "status": np.where(blocked.to_numpy(), "blocked", "sent"),
            "provider_id": (pending["local_id"] + 7).cast(pl.String),
            "pages": pl.Series([1] * pending.height, dtype=pl.Int16),
            "cost": pl.Series([PRICE] * pending.height, dtype=pl.Int64),
        })  # fmt: skip

        def record(
            con: duckdb.DuckDBPyConnection, bkey: dict[str, int] = bkey, frame: pl.DataFrame = frame
        ) -> str:
            con.register("incoming", frame)
            try:
                run(con, t, "messages_record", bkey)
                run(con, t, "blacklist_from_provider")
            finally:
                con.unregister("incoming")
            run(con, t, "holds_release", bkey)
            run(con, t, "ledger_insert", {"kind": "charge", "amount": -PRICE * frame.height,
                                          **bkey, "note": f"{frame.height} messages"})  # fmt: skip
            for cid, rno, amount, n in run(con, t, "refunds_due", {"campaign_id": campaign_id}
                                           ).fetchall():  # fmt: skip
                run(con, t, "ledger_insert", {"kind": "refund", "amount": amount,
                                              "campaign_id": cid, "run_no": rno,
                                              "batch_no": None,
                                              "note": f"{n} blocked"})  # fmt: skip
            run(con, t, "refunds_mark", {"campaign_id": campaign_id})
            return str(one(run(con, t, "batch_end", {**bkey, "unresolved": False})))

        mark = time.perf_counter()
        status = session.transaction(record)
        times["txn2 record"] += time.perf_counter() - mark
        assert status == "done", status

        def delivery(con: duckdb.DuckDBPyConnection) -> int:
            waiting = run(con, t, "messages_awaiting_status", {"limit": batch_size}).pl()
            changed = waiting.select("campaign_id", "run_no", "seq").with_columns(
                status=pl.lit("delivered")
            )
            con.register("incoming", changed)
            try:
                run(con, t, "messages_update_status")
            finally:
                con.unregister("incoming")
            return changed.height

        mark = time.perf_counter()
        session.transaction(delivery)
        times["delivery"] += time.perf_counter() - mark

    def finish(con: duckdb.DuckDBPyConnection) -> None:
        run(con, t, "run_finish", {**key, "status": "completed", "reason": None,
                                   "resume_at": None, "owner": owner})  # fmt: skip
        run(con, t, "campaign_set_status", {"id": campaign_id, "status": "completed",
                                             "reason": None})  # fmt: skip

    session.transaction(finish)
    sent_s = time.perf_counter() - began

    def reads(con: duckdb.DuckDBPyConnection) -> None:
        mark = time.perf_counter()
        run(con, t, "campaign_summaries").pl()
        times["home"] += time.perf_counter() - mark
        mark = time.perf_counter()
        run(con, t, "report_counts", key).pl()
        run(con, t, "report_by_operator", key).pl()
        run(con, t, "report_numbers", {**key, "status": None, "limit": 100, "offset": 0}).pl()
        times["report"] += time.perf_counter() - mark

    session.transaction(reads)
    session.close()
    return {"campaign_id": campaign_id, "sent_s": sent_s, "batches": len(batch_nos),
            "times": dict(times), "conflicts": dict(session.conflicts),
            "samples": session.samples,
            "queries": dict(QUERY_TIMES.most_common(6)),
            "lock_wait_s": session.lock_wait_s}  # fmt: skip


# --- checks ----------------------------------------------------------------------------------


def verify(t: Target, campaigns: int, per_campaign: int) -> list[str]:
    problems = []
    con = open_db(t)
    try:
        for c in range(1, campaigns + 1):
            total, distinct, pending, unsent = con.execute(
                "SELECT count(*), count(DISTINCT seq), count(*) FILTER (WHERE status = 'pending'),"
                " count(*) FILTER (WHERE batch_no IS NOT NULL AND sent_at IS NULL) "
                "FROM messages WHERE campaign_id = ?", [c]).fetchone() or (0, 0, 0, 0)  # fmt: skip
            if total != per_campaign or distinct != total or pending or unsent:
                problems.append(f"campaign {c}: {total} messages, {distinct} distinct, "
                                f"{pending} pending, {unsent} planned but never sent")  # fmt: skip
        holds, balance = con.execute(
            "SELECT count(*) FILTER (WHERE kind = 'hold'), sum(amount) FROM ledger").fetchone() or (0, 0)  # fmt: skip  # noqa: E501
        spent = con.execute("SELECT coalesce(sum(cost), 0) FROM messages WHERE cost > 0 AND NOT "
                            "refunded").fetchone()[0]  # type: ignore[index]  # fmt: skip
        if holds or balance != TOPUP - spent:
            problems.append(f"money: {holds} holds left, balance {balance} != {TOPUP - spent}")
    finally:
        con.close()
    return problems


# --- what each backend refuses ---------------------------------------------------------------


def capabilities(t: Target) -> dict[str, str]:
    """Each probe on a fresh table; 'ok' or the first line of the refusal."""
    con = open_db(t)
    found: dict[str, str] = {}

    def probe(label: str, *sql: str) -> None:
        try:
            for s in sql:
                con.execute(s)
            found[label] = "ok"
        except duckdb.Error as exc:
            found[label] = str(exc).splitlines()[0][:110]
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")

    try:
        con.register("frame", pl.DataFrame({"k": [1, 2], "v": [10, 20]}))
        probe("CREATE SEQUENCE", "CREATE SEQUENCE probe_ids")
        probe("PRIMARY KEY", "CREATE TABLE probe_pk (k INTEGER PRIMARY KEY, v INTEGER)")
        probe("plain table", "CREATE TABLE probe_t (k INTEGER, v INTEGER)",
              "INSERT INTO probe_t VALUES (1, 0), (2, 0)")  # fmt: skip
        probe("ON CONFLICT", "INSERT INTO probe_pk VALUES (1, 1) ON CONFLICT (k) DO NOTHING")
        probe("INSERT … RETURNING", "INSERT INTO probe_t VALUES (3, 0) RETURNING k")
        probe("UPDATE … RETURNING", "UPDATE probe_t SET v = 1 WHERE k = 1 RETURNING v")
        probe("UPDATE … FROM local frame",
              "UPDATE probe_t SET v = frame.v FROM frame WHERE probe_t.k = frame.k")  # fmt: skip
        con.execute("ATTACH ':memory:' AS local")
        con.execute("CREATE TABLE local.t (k INTEGER)")
        probe("one transaction writing two databases", "BEGIN TRANSACTION",
              "INSERT INTO probe_t VALUES (9, 9)", "INSERT INTO local.t VALUES (9)",
              "COMMIT")  # fmt: skip
    finally:
        con.close()
    return found


def write_skew(t: Target, guard: bool) -> str:
    """Two transactions each read the balance (100) and hold all of it: do both commit?
    With ``guard`` each also bumps one shared row before it holds (a credit guard)."""
    a, b = open_db(t), open_db(t)
    try:
        a.execute("CREATE TABLE skew (amount BIGINT)")
        a.execute("INSERT INTO skew VALUES (100)")
        a.execute("CREATE TABLE guard (n BIGINT)")
        a.execute("INSERT INTO guard VALUES (0)")
        if t.backend == "pg":
            b.execute("CALL pg_clear_cache()")
        balances = []
        for con in (a, b):  # both read before either writes
            con.execute("BEGIN TRANSACTION")
            balances.append(con.execute("SELECT sum(amount) FROM skew").fetchone()[0])  # type: ignore[index]
        outcome = []
        for con, balance in zip((a, b), balances, strict=True):
            try:
                if guard:
                    con.execute("UPDATE guard SET n = n + 1")
                con.execute("INSERT INTO skew VALUES (?)", [-balance])
                con.execute("COMMIT")
                outcome.append("committed")
            except duckdb.Error as exc:
                outcome.append("refused (" + (conflict_kind(exc) or str(exc)[:60]) + ")")
                with contextlib.suppress(duckdb.Error):  # nothing to roll back
                    con.execute("ROLLBACK")
        final = a.execute("SELECT sum(amount) FROM skew").fetchone()[0]  # type: ignore[index]
        return f"{' / '.join(outcome)}; balance after = {final}"
    finally:
        a.close()
        b.close()


# --- driver ----------------------------------------------------------------------------------


@dataclass
class Row:
    backend: str
    writers: int
    messages: int
    wall_s: float
    results: list[dict[str, Any]]
    problems: list[str]


def measure(t: Target, writers: int, messages: int, batch_size: int) -> Row:
    per = messages // writers
    create_schema(t)
    mark = time.perf_counter()
    seed(t, writers, per)
    print(f"  seeded {writers} x {per:,} in {time.perf_counter() - mark:.1f} s", flush=True)
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 3.0 + writers  # after every writer has attached
    procs = [ctx.Process(target=writer, args=(t, c, batch_size, start_at, out, PG_TUNING))
             for c in range(1, writers + 1)]  # fmt: skip
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        return Row(t.backend, writers, messages, float("nan"), results, errors)
    wall = max(r["sent_s"] for r in results)
    return Row(t.backend, writers, messages, wall, results, verify(t, writers, per))


def report(row: Row) -> str:
    if row.problems and any("Traceback" in p for p in row.problems):
        print(row.problems[0], file=sys.stderr)
        return (
            f"| {row.backend} | {row.writers} | FAILED: {row.problems[0].splitlines()[-1][:100]} |"
        )
    res = row.results
    conflicts: Counter[str] = Counter()
    for r in res:
        conflicts.update(r["conflicts"])
    n = sum(r["batches"] for r in res)

    def per_batch(step: str) -> str:
        return f"{sum(r['times'].get(step, 0) for r in res) / max(n, 1):.2f}"

    return (f"| {row.backend} | {row.writers} | {row.messages / row.wall_s:,.0f} "
            f"| {row.wall_s:.1f} "
            f"| {max(r['times']['plan'] for r in res):.1f} | {per_batch('txn1 hold')} "
            f"| {per_batch('txn2 record')} | {per_batch('delivery')} "
            f"| {max(r['times']['home'] for r in res):.2f} "
            f"| {max(r['times']['report'] for r in res):.2f} "
            f"| {sum(conflicts.values())} {dict(conflicts) or ''} "
            f"| {'ok' if not row.problems else '; '.join(row.problems)} |")  # fmt: skip


HEADER = ("| backend | writers | msg/s (all writers) | wall s | plan s (max) | txn 1 s/batch "
          "| txn 2 s/batch | delivery s/batch | home s | report s | conflicts retried "
          "| exactly-once + money |\n|" + "---|" * 12)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--writers", default="1,2,4")
    parser.add_argument("--backends", default="duckdb,pg,ducklake")
    parser.add_argument(
        "--pg-no-ctid-scan",
        action="store_true",
        help="pg: SET pg_use_ctid_scan = false (lets PostgreSQL use indexes)",
    )
    args = parser.parse_args(argv)
    PG_TUNING.update(ctid_scan=not args.pg_no_ctid_scan)
    from tests.postgres_fixtures import _Cluster, _free_port, postgres_bin

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    levels = [int(w) for w in args.writers.split(",") if w.strip()]
    work = Path(tempfile.mkdtemp(prefix="chapar-store-bench-"))
    cluster = None
    try:
        port = 0
        if any(b != "duckdb" for b in backends):
            bin_dir = postgres_bin()
            if bin_dir is None:
                print("PostgreSQL not installed (apt-get install -y postgresql)")
                return 1
            cluster = _Cluster(bin_dir, work / "pg")
            (work / "pg").mkdir()
            cluster.prepare()
            (work).chmod(0o755)
            port = _free_port()
            cluster.start(port)
        n_db = 0

        def target(backend: str) -> Target:
            nonlocal n_db
            n_db += 1
            if backend == "duckdb":
                return Target(backend, path=str(work / f"store{n_db}.duckdb"))
            from tests.postgres_fixtures import PASSWORD, USER

            assert cluster is not None
            name = f"bench{n_db}"
            cluster.run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", USER, name,
                        env={"PGPASSWORD": PASSWORD})  # fmt: skip
            data = work / f"lake{n_db}"
            data.mkdir()
            dsn = f"host=127.0.0.1 port={port} user={USER} password={PASSWORD} dbname={name}"
            return Target(backend, dsn=dsn, data_path=str(data) + "/")

        print("What each backend refuses:")
        for backend in backends:
            caps = capabilities(target(backend))
            print(f"  {backend}:")
            for label, outcome in caps.items():
                print(f"    {label:40} {outcome}")
            for guard in (False, True):
                label = "two holds of one balance" + (", guarded" if guard else "")
                skew = write_skew(target(backend), guard) if backend != "duckdb" else (
                    "n/a: one writer process at a time holds the file")  # fmt: skip
                print(f"    {label:40} {skew}")
        print(f"\n{args.messages:,} messages in all, batches of {args.batch:,}; W writers send "
              f"W campaigns of {args.messages:,}/W each\n")  # fmt: skip
        print(HEADER, flush=True)
        samples: dict[str, str] = {}
        for backend in backends:
            for writers in levels:
                row = measure(target(backend), writers, args.messages, args.batch)
                print(report(row), flush=True)
                if writers == 1 and row.results and "queries" in row.results[0]:
                    top = ", ".join(f"{k} {v:.1f}" for k, v in row.results[0]["queries"].items())
                    print(f"  slowest queries (s, all batches): {top}")
                for r in row.results:
                    for kind, text in r.get("samples", {}).items():
                        samples.setdefault(kind, text)
        for kind, text in samples.items():
            print(f"  a {kind} conflict: {text}")
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
