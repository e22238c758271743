"""Sending on the shared store: ``python -m bench.bench_scale_out [--rows N] [--latency-ms L]``.

Starts its own PostgreSQL 15 (Debian's, a temp cluster as the tests do, ``fsync`` off) and
the simulator, then measures in the same run:

1. **embedded vs PostgreSQL**: one campaign of N numbers sent by one worker process
   (``chapar.sending.send_run``, as ``chapar send`` runs it) on the DuckDB file, then on
   PostgreSQL (``CHAPAR_STORE``). Goal: the PostgreSQL figure ≥ 0.5 of the embedded one.
2. **two workers vs one** on PostgreSQL: two campaigns of N/2 each, sent one after the
   other by one worker process, then at once by two worker processes (each with its own
   data dir, as on two machines). Goal: two workers ≥ 1.5× one.

With ``--latency-ms`` the simulator answers each request after that delay, as a provider
across the internet does (~100 ms): a worker then waits on the provider rather than on the
CPU, which is when a second machine adds capacity. At 0 ms every process here (both
workers, PostgreSQL, the simulator) shares the same 2 cores, and a second worker can only
take CPU from the first.

Each worker is a child process (``--worker``): it opens the store (on PostgreSQL: attach),
says it is ready, waits for the go, and times ``send_run`` alone; planning is part of it
(``begin_run`` plans the run), the list import and campaign creation are not. Figures
only; nothing asserts on time (the machine is shared: read the load average printed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOAL_RATIO = 0.5
GOAL_SPEEDUP = 1.5


@dataclass
class Timing:
    started: float  # time.time() at the go
    ended: float
    sent: int
    status: str

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def worker(campaign_ids: list[int], ready: Path, go: Path) -> None:
    """A worker process: open the store, then send its campaigns one after the other."""
    from chapar.sending import Mode, send_run
    from chapar.store import repo

    repo.balance()  # the store is open (and, on PostgreSQL, attached) before the clock
    ready.touch()
    while not go.exists():
        time.sleep(0.005)
    started = time.time()
    sent, status = 0, "completed"
    for cid in campaign_ids:
        result = send_run(cid, Mode.START)
        sent += result.sent
        if result.status.value != "completed":
            status = result.status.value
    print(json.dumps({"started": started, "ended": time.time(), "sent": sent, "status": status}))


def _env(store: str | None, data_dir: Path, sim_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAPAR_")}
    env.update(
        CHAPAR_DATA_DIR=str(data_dir),
        CHAPAR_SIMULATOR_PORT=str(sim_port),
        CHAPAR_SEND_WINDOW="always",
    )
    if store:
        env["CHAPAR_STORE"] = store
    return env


def _use(env: dict[str, str]) -> None:
    """This (the driver's) process on the same store as the workers, for the set-up."""
    from chapar.settings import get_settings

    for key in [k for k in os.environ if k.startswith("CHAPAR_")]:
        del os.environ[key]
    os.environ.update({k: v for k, v in env.items() if k.startswith("CHAPAR_")})
    get_settings.cache_clear()


def set_up(env: dict[str, str], csv: Path, lists: int) -> list[int]:
    """Import the recipients as ``lists`` lists of equal size; one campaign on each."""
    import polars as pl

    from bench.bench_provider import PERSIAN as MESSAGE
    from chapar.store import repo

    _use(env)
    repo.topup(10**12, note="bench")
    rows = pl.read_csv(csv, infer_schema=False)
    size = rows.height // lists
    ids = []
    for i in range(lists):
        part = csv.with_name(f"{csv.stem}-{lists}-{i}.csv")
        rows.slice(i * size, size).write_csv(part)
        repo.import_list(f"bench-{i}", part)
        ids.append(repo.create_campaign(f"bench {i}", MESSAGE, "30001234", [f"bench-{i}"]))
    return ids


def run_workers(
    plans: list[tuple[dict[str, str], list[int]]], work: Path, label: str
) -> list[Timing]:
    """Start one worker per plan; go when all are ready; their timings."""
    ready = [work / f"{label}-ready-{i}" for i in range(len(plans))]
    go = work / f"{label}-go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.bench_scale_out",
                "--worker",
                ",".join(map(str, ids)),
                "--ready",
                str(ready[i]),
                "--go",
                str(go),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, (env, ids) in enumerate(plans)
    ]
    while not all(r.exists() for r in ready):
        for p in procs:
            if p.poll() is not None:
                raise RuntimeError(f"a worker died before the go: {p.communicate()[1][-3000:]}")
        time.sleep(0.05)
    go.touch()
    timings = []
    for p in procs:
        out, err = p.communicate()
        if p.returncode != 0:
            raise RuntimeError(f"a worker failed ({p.returncode}): {err[-3000:]}")
        timings.append(Timing(**json.loads(out.strip().splitlines()[-1])))
    return timings


def fresh(sim: Any, latency_ms: float) -> None:
    """An empty simulator answering after ``latency_ms``. (``reset`` clears every fault
    setting, the latency included: until turn 4, ``--latency-ms`` held only until the
    first reset, i.e. never while measuring.)"""
    sim.reset()
    if latency_ms:
        sim.set_faults(latency_ms=latency_ms)


def wall(timings: list[Timing]) -> float:
    return max(t.ended for t in timings) - min(t.started for t in timings)


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>10,.0f} msg/s ({seconds:6.1f} s)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="messages a comparison")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0,
        help="the simulator's delay before each answer (a real provider's is ~100 ms): "
        "with it a worker waits on the provider, not on the CPU",
    )  # fmt: skip
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--ready", help=argparse.SUPPRESS)
    parser.add_argument("--go", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker([int(c) for c in args.worker.split(",")], Path(args.ready), Path(args.go))
        return 0

    from bench.bench_pipeline import write_distinct_recipients
    from chapar.simulator.process import SimulatorProcess
    from tests.postgres_fixtures import PASSWORD, USER, _Cluster, _free_port, postgres_bin

    bin_dir = postgres_bin()
    if bin_dir is None:
        print("PostgreSQL not installed (apt-get install -y postgresql)")
        return 1
    n = args.rows
    work = Path(tempfile.mkdtemp(prefix="chapar-scale-bench-"))
    work.chmod(0o755)
    cluster = _Cluster(bin_dir, work / "pg")
    (work / "pg").mkdir()
    try:
        cluster.prepare()
        port = _free_port()
        cluster.start(port)

        def database(name: str) -> str:
            cluster.run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", USER, name,
                        env={"PGPASSWORD": PASSWORD})  # fmt: skip
            return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/{name}"

        csv = work / "recipients.csv"
        write_distinct_recipients(csv, n)
        print(f"{n:,} messages a comparison; provider latency {args.latency_ms:g} ms a request; "
              f"load average {os.getloadavg()[0]:.1f} at start\n")  # fmt: skip
        latency = ("--latency-ms", str(args.latency_ms))
        with SimulatorProcess(credit=10**13, delivery_delay_s=0.0, args=latency) as sim:
            figures: dict[str | int, Any] = {}

            # 1. one worker, N messages: the DuckDB file, then PostgreSQL
            for label, store in (("embedded DuckDB file", None), ("PostgreSQL", database("one"))):
                env = _env(store, work / f"data-{label[:3]}", sim.port)
                ids = set_up(env, csv, 1)
                fresh(sim, args.latency_ms)
                [t] = run_workers([(env, ids)], work, label[:3])
                assert t.sent == n and t.status == "completed", t
                figures[label] = t.seconds
                print(f"  1 worker, {label:22} {rate(n, t.seconds)}", flush=True)
            ratio = figures["embedded DuckDB file"] / figures["PostgreSQL"]
            verdict = "met" if ratio >= GOAL_RATIO else "NOT met"
            print(f"  PostgreSQL / embedded: {ratio:.3f} (goal ≥ {GOAL_RATIO}: {verdict})\n")

            # 2. PostgreSQL: two campaigns of N/2, one worker after the other vs two at once
            for workers in (1, 2):
                store = database(f"two_{workers}")
                env = _env(store, work / f"data-pg-{workers}", sim.port)
                ids = set_up(env, csv, 2)
                fresh(sim, args.latency_ms)
                if workers == 1:
                    plans = [(env, ids)]
                else:  # each worker its own data dir: two machines, one store
                    plans = [
                        (_env(store, work / f"data-pg-w{i}", sim.port), [cid])
                        for i, cid in enumerate(ids)
                    ]
                timings = run_workers(plans, work, f"pg{workers}")
                sent = sum(t.sent for t in timings)
                assert sent == (n // 2) * 2, timings
                figures[workers] = wall(timings)
                each = ", ".join(f"{t.seconds:.1f} s" for t in timings)
                print(f"  {workers} worker{'s' if workers > 1 else ' '}, two campaigns "
                      f"{rate(sent, figures[workers])}  [each: {each}]", flush=True)  # fmt: skip
            speedup = figures[1] / figures[2]
            verdict = "met" if speedup >= GOAL_SPEEDUP else "NOT met"
            print(f"  two workers / one: {speedup:.3f}× (goal ≥ {GOAL_SPEEDUP}×: {verdict})")
            print(f"\nload average {os.getloadavg()[0]:.1f} at the end ({os.cpu_count()} cores)")
    finally:
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
