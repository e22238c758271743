"""Reports at scale: ``python -m bench.bench_reports [--rows 50000000] [--campaigns 100]``.

Fills a fresh DuckDB store (the real schema, through the real migrations) with N messages
over C campaigns of two runs each, as history accumulates, then times what the dashboard
asks on every page load:

- the home page's ``campaign_summaries`` — from the runs' counters (``run_counts``), beside
  the same figures by a scan of every message of every current run (the baseline: how it
  was done before the counters, measured in the same run);
- one run's report (``reports.run_report``) and one page of its numbers.

Goals (issue 11): home summary ≤ 0.1 s and run report ≤ 0.1 s at 50M messages. Figures
only; nothing asserts on time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.bench_import import use_temp_store

SCAN_SUMMARIES = """
SELECT m.campaign_id,
       count(*) FILTER (WHERE m.batch_no IS NOT NULL) AS planned,
       count(*) FILTER (WHERE m.batch_no IS NOT NULL AND m.status <> 'pending') AS handed,
       coalesce(sum(m.pages), 0)::BIGINT AS pages,
       coalesce(sum(m.cost) FILTER (WHERE NOT m.refunded), 0)::BIGINT AS cost,
       max(m.status_at) AS last_activity
FROM messages m JOIN campaigns c ON c.id = m.campaign_id AND c.current_run = m.run_no
GROUP BY m.campaign_id
"""


def fill(rows: int, campaigns: int) -> None:
    """C campaigns × 2 runs, messages spread evenly, statuses as a finished campaign has."""
    from chapar.store import transaction

    per_run = rows // (campaigns * 2)
    with transaction() as con:
        con.execute(
            "INSERT INTO campaigns (title, message, sender, status, current_run, reset_count) "
            "SELECT 'bench ' || i, 'سلام', '30001234', 'completed', 2, 1 FROM range(?) t(i)",
            [campaigns],
        )
        con.execute(
            "INSERT INTO runs (campaign_id, run_no, status, planned, batches) "
            "SELECT c.id, r, 'completed', ?, ? FROM campaigns c, range(1, 3) t(r)",
            [per_run, max(1, per_run // 100_000)],
        )
        con.execute(
            """
            INSERT INTO messages (campaign_id, run_no, seq, local_id, number, operator,
                                  batch_no, status, provider_id, pages, cost, refunded,
                                  sent_at, status_at)
            SELECT c.id, r.r, s.seq, (c.id * 10000 + r.r)::BIGINT * 100000000 + s.seq,
                   989120000000 + s.seq, 'MCI', s.seq // 100000,
                   CASE WHEN s.seq % 20 = 0 THEN 'undelivered'
                        WHEN s.seq % 50 = 1 THEN 'blocked'
                        WHEN s.seq % 97 = 2 THEN 'invalid'
                        ELSE 'delivered' END,
                   CAST(s.seq AS VARCHAR), 1, 1180, s.seq % 50 = 1,
                   now(), now()
            FROM campaigns c, range(1, 3) r(r), range(1, ? + 1) s(seq)
            """,
            [per_run],
        )
        con.execute(
            """
            INSERT INTO run_counts
            SELECT campaign_id, run_no, status, coalesce(operator, ''), count(*),
                   coalesce(sum(pages), 0),
                   coalesce(sum(cost) FILTER (WHERE NOT refunded), 0),
                   coalesce(sum(cost) FILTER (WHERE refunded), 0),
                   max(coalesce(status_at, sent_at))
            FROM messages GROUP BY ALL
            """
        )
        con.execute(
            "INSERT INTO run_minutes SELECT campaign_id, run_no, date_trunc('minute', sent_at), "
            "count(*) FROM messages GROUP BY ALL"
        )


def timed(fn: Callable[[], object], repeat: int = 5) -> float:
    """The median of ``repeat`` timings, in seconds (the first call warms caches up)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_reports")
    parser.add_argument("--rows", type=int, default=50_000_000, help="messages in the store")
    parser.add_argument("--campaigns", type=int, default=100)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="chapar-bench-reports-") as tmp:
        use_temp_store(Path(tmp) / "data")
        from chapar import reports
        from chapar.store import connect

        start = time.perf_counter()
        fill(args.rows, args.campaigns)
        print(
            f"{args.rows:,} messages over {args.campaigns} campaigns × 2 runs written in "
            f"{time.perf_counter() - start:.1f} s"
        )

        def scan() -> object:
            with connect() as con:
                return con.execute(SCAN_SUMMARIES).fetchall()

        counters = timed(reports.campaign_summaries)
        baseline = timed(scan)
        report = timed(lambda: reports.run_report(args.campaigns // 2, 2))
        page = timed(lambda: reports.numbers(args.campaigns // 2, 2, "undelivered", 0, 100))
        print(f"home summaries from counters   {counters:8.3f} s   (goal ≤ 0.1 s)")
        print(
            f"home summaries by a full scan   {baseline:8.3f} s   "
            f"(baseline; ×{baseline / counters:.0f})"
        )
        print(f"one run's report                {report:8.3f} s   (goal ≤ 0.1 s)")
        print(f"a page of its numbers           {page:8.3f} s")


if __name__ == "__main__":
    main()
