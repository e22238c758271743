"""Exports of a large run: ``python -m bench.bench_export [--rows N] [--lang fa|en]``.

Seeds a fresh DuckDB file (in a temp folder; the user's ``data/`` is never touched) with one
campaign whose run 1 holds N messages as a finished send leaves them (statuses, pages,
cost, times), then exports the run to CSV and to Excel as the dashboard's export jobs do
(:func:`chapar.exports.run_export`: :func:`chapar.reports.export` into a job folder, the
progress file written beside it), each in a child process, and prints the seconds and
the child's peak RSS. The goal (issue 11): Excel of 1M rows in ≤ 20 s and ≤ 500 MB. Figures only.

:func:`seed_sent_run` is shared with ``bench.bench_dashboard``: it writes the rows
directly (INSERT … SELECT over ``range``), the fastest way to a run of any size.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_import import use_temp_store

ROOT = Path(__file__).resolve().parent.parent
MESSAGE = "سلام! تخفیف ویژه فروشگاه ما تا پایان هفته؛ برای دیدن محصولات به سایت سر بزنید"


def seed_sent_run(n: int, title: str = "جشنواره پاییز", sender: str = "30001234") -> int:
    """A campaign with one completed run of ``n`` messages; returns its id.

    Statuses follow a fixed mix (about 90% delivered, 4% undelivered, 2% failed, 2% blocked,
    1% awaiting delivery, plus a few filtered rows), spread over a few hours of sending.
    """
    from chapar.store import transaction
    from chapar.store.repo import create_campaign, import_list

    folder = Path(tempfile.mkdtemp(prefix="chapar-seed-"))
    (folder / "one.txt").write_text("09120000000\n", encoding="utf-8")
    import_list(f"seed-{time.monotonic_ns()}", folder / "one.txt")
    from chapar.store.repo import lists

    campaign_id = create_campaign(title, MESSAGE, sender, [lists()[-1].name])
    with transaction() as con:
        con.execute(
            """
            INSERT INTO messages (campaign_id, run_no, seq, local_id, number, raw, operator,
                                  batch_no, status, provider_id, pages, cost, refunded,
                                  sent_at, status_at)
            SELECT $cid, 1, i, ($cid * 10000 + 1)::BIGINT * 100000000 + i,
                   CASE WHEN i % 997 = 0 THEN NULL ELSE 989120000000 + i END,
                   CASE WHEN i % 997 = 0 THEN 'bad line ' || i END,
                   CASE WHEN i % 997 = 0 THEN NULL
                        WHEN i % 3 = 0 THEN 'MCI' WHEN i % 3 = 1 THEN 'Irancell'
                        ELSE 'Rightel' END,
                   CASE WHEN i % 997 = 0 THEN NULL ELSE i // 5000 END,
                   CASE WHEN i % 997 = 0 THEN 'invalid'
                        WHEN i % 100 < 90 THEN 'delivered'
                        WHEN i % 100 < 94 THEN 'undelivered'
                        WHEN i % 100 < 96 THEN 'failed'
                        WHEN i % 100 < 98 THEN 'blocked'
                        WHEN i % 100 < 99 THEN 'sent'
                        ELSE 'delivered' END,
                   CASE WHEN i % 997 = 0 THEN NULL ELSE CAST(700000000 + i AS VARCHAR) END,
                   CASE WHEN i % 997 = 0 THEN NULL ELSE 2 END,
                   CASE WHEN i % 997 = 0 THEN NULL ELSE 2360 END,
                   false,
                   CASE WHEN i % 997 = 0 THEN NULL
                        ELSE TIMESTAMPTZ '2026-11-20 05:00:00+00' + to_seconds(i // 100) END,
                   CASE WHEN i % 997 = 0 THEN NULL
                        ELSE TIMESTAMPTZ '2026-11-20 05:00:30.123456+00' + to_seconds(i // 100)
                   END
            FROM range(1, $n + 1) t(i)
            """,
            {"cid": campaign_id, "n": n},
        )
        con.execute(
            """
            INSERT INTO runs (campaign_id, run_no, status, planned_at, started_at, finished_at,
                              planned, batches)
            VALUES ($cid, 1, 'completed', TIMESTAMPTZ '2026-11-20 04:59:00+00',
                    TIMESTAMPTZ '2026-11-20 05:00:00+00',
                    TIMESTAMPTZ '2026-11-20 05:00:00+00' + to_seconds($n // 100),
                    $n - $n // 997, $n // 5000 + 1)
            """,
            {"cid": campaign_id, "n": n},
        )
        con.execute(
            "UPDATE campaigns SET current_run = 1, status = 'completed' WHERE id = $cid",
            {"cid": campaign_id},
        )
        # The run's counters and minutes, as the engine keeps them in its transactions.
        from chapar.sending.run import refresh_counts

        refresh_counts(con, campaign_id, 1)
        con.execute(
            "INSERT INTO run_minutes SELECT campaign_id, run_no, date_trunc('minute', sent_at), "
            "count(*) FROM messages WHERE campaign_id = $cid AND sent_at IS NOT NULL "
            "GROUP BY ALL",
            {"cid": campaign_id},
        )
    return campaign_id


def child(db_dir: str, campaign_id: int, fmt: str, lang: str) -> None:
    """One export in this (child) process; prints seconds, rows, size and peak RSS as JSON."""
    use_temp_store(Path(db_dir))
    from chapar.exports import new_request, run_export
    from dashboards.exports import labels_for

    request = new_request(campaign_id, 1, None, fmt, f"export.{fmt}", labels_for(lang))  # type: ignore[arg-type]
    start = time.perf_counter()
    done = run_export(request)
    seconds = time.perf_counter() - start
    if done.state != "done":
        sys.exit(f"the export failed: {done.error}")
    out = request.folder / request.name
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"fmt": fmt, "rows": done.done, "seconds": seconds, "peak_mb": peak_mb,
                      "size_mb": out.stat().st_size / 1e6}))  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_export", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lang", choices=("fa", "en"), default="fa")
    parser.add_argument("--child", nargs=3, metavar=("DB_DIR", "CAMPAIGN", "FMT"))
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]), args.child[2], args.lang)
        return
    with tempfile.TemporaryDirectory(prefix="chapar-bench-export-") as folder:
        use_temp_store(Path(folder))
        start = time.perf_counter()
        campaign_id = seed_sent_run(args.rows)
        print(f"seeded {args.rows:,} messages in {time.perf_counter() - start:.1f} s")
        for fmt in ("csv", "xlsx"):
            done = subprocess.run(
                [sys.executable, "-m", "bench.bench_export", "--lang", args.lang,
                 "--child", folder, str(campaign_id), fmt],
                cwd=ROOT, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                print(f"{fmt}: FAILED\n{done.stderr[-2000:]}")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{fmt:>4} ({args.lang}): {r['rows']:,} rows in {r['seconds']:.1f} s, "
                  f"peak RSS {r['peak_mb']:.0f} MB, file {r['size_mb']:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
