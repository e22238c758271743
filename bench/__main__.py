"""Every benchmark in sequence: ``python -m bench [--rows N] [--only a,b]``.

Each runs as ``python -m bench.<name>`` in its own child process (a fresh interpreter, so
one benchmark's imports, heap and threads do not weigh on the next), under a short header.
``--rows`` goes to the benchmarks that take it (numbers, import, pipeline); the provider
benchmark sends ``--rows // 25`` messages per concurrency level (40,000 at the default).
Figures only: nothing asserts on time, and a failing benchmark does not stop the rest.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: name, what it measures
BENCHMARKS: list[tuple[str, str]] = [
    ("bench_numbers", "numbers and pages in Polars: normalise, de-duplicate, anti-join, count"),
    ("bench_import", "import through the store: blacklist, recipient list, dry-run price"),
    ("bench_provider", "the provider ceiling: Kavenegar adapter -> simulator"),
    ("bench_pipeline", "the send pipeline end to end: send_run vs the ceiling, Prefect"),
    ("bench_reports", "reports at scale: home summaries from counters vs a scan, a run report"),
    ("bench_templates", "personalised texts: render and count pages of 1M messages"),
    ("bench_personalised", "planning + sending personalised vs same-text messages"),
]


def argv_for(name: str, rows: int) -> list[str]:
    if name == "bench_provider":
        return ["--messages", str(max(2_000, rows // 25))]
    if name == "bench_reports":
        return ["--rows", str(rows * 50)]  # history: 50M messages at the default
    return ["--rows", str(rows)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="rows / messages (default 1,000,000)")  # fmt: skip
    parser.add_argument("--only", help="comma-separated names, e.g. import,pipeline")
    args = parser.parse_args(argv)
    wanted = {f"bench_{w.strip().removeprefix('bench_')}" for w in (args.only or "").split(",")
              if w.strip()}  # fmt: skip
    unknown = wanted - {name for name, _ in BENCHMARKS}
    if unknown:
        parser.error(f"no benchmark {', '.join(sorted(unknown))}")
    failed = []
    for name, what in BENCHMARKS:
        if wanted and name not in wanted:
            continue
        command = [sys.executable, "-m", f"bench.{name}", *argv_for(name, args.rows)]
        print(f"\n{'=' * 88}\n{name}: {what}\n$ python -m bench.{name} "
              f"{' '.join(command[3:])}\n{'=' * 88}", flush=True)  # fmt: skip
        start = time.perf_counter()
        code = subprocess.call(command, cwd=ROOT)
        print(f"--- {name}: {time.perf_counter() - start:.0f} s"
              f"{'' if code == 0 else f', FAILED (exit {code})'}", flush=True)  # fmt: skip
        if code != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
