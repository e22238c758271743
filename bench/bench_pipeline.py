"""The send pipeline end to end: ``python -m bench.bench_pipeline [--rows N]``.

Starts its own simulator (a child process) and a fresh DuckDB store in a temp folder,
imports N distinct valid numbers (mixed written forms) with ``repo.import_list``, tops up
credit, and then measures, resetting the simulator between phases so its outbox stays small:

1. the ceiling: the Kavenegar adapter alone against the simulator
   (``bench.bench_provider.measure``, as ``measure_ceiling``), N messages at the same
   concurrency as the pipeline;
2. ``chapar.sending.send_run(campaign, Mode.START)`` — plan, send through the simulator,
   record — with its time split into planning (``begin_run``), the batch transactions
   (``open_batch``, ``record_batch``, and opening/committing the file), the provider phase
   (``_deliver``) and the rest; the client's
   CPU (``time.process_time``, all threads, DuckDB's included) and the simulator's;
3. the Prefect flow ``flows.send.send_campaign`` on a campaign of the same size, against a
   real local Prefect server this benchmark starts (SQLite in a temp folder) — the flow runs
   in a child process, as a deployment's would;
4. a small table over provider concurrency (``--table 2,4,8``; ``--table ''`` skips it).

With ``--latency-ms L`` the simulator answers every request after L ms, in the ceiling and
in ``send_run`` alike, as a provider across a network does: the engine's own work then
overlaps the waits instead of sharing two cores with the simulator and the client.

Goals (issue 9): at least 0.9 of the ceiling, and 1M messages in well under 20 s. Figures
only; nothing asserts on time (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import polars as pl

from bench.bench_import import Timer, patched, use_temp_store
from bench.bench_numbers import ARABIC, PERSIAN
from bench.bench_provider import PERSIAN as MESSAGE
from bench.bench_provider import Measurement, measure
from bench.bench_scale_out import fresh
from chapar.numbers import PREFIXES
from chapar.settings import get_settings
from chapar.simulator.process import SimulatorProcess

ROOT = Path(__file__).resolve().parent.parent
SENDER = "30001234"
GOAL_RATIO = 0.9
GOAL_1M_S = 20.0


# --- input ------------------------------------------------------------------------------------


def write_distinct_recipients(path: Path, n: int, seed: int = 1406) -> None:
    """A CSV (header ``mobile``) of ``n`` distinct valid numbers in mixed written forms, so
    every row becomes one message."""
    rng = np.random.default_rng(seed)
    prefixes = np.array(sorted(PREFIXES), dtype=np.int64)
    drawn = np.unique(rng.integers(0, len(prefixes) * 10**7, int(n * 1.02) + 100))
    rng.shuffle(drawn)
    drawn = drawn[:n]
    nationals = (prefixes[drawn // 10**7] * 10**7 + drawn % 10**7).tolist()
    forms = rng.integers(0, 8, n).tolist()
    rows = []
    for national, form in zip(nationals, forms, strict=True):
        s = str(national)
        rows.append(
            (
                "0" + s,
                "+98" + s,
                "0098" + s,
                "98" + s,
                s,
                ("0" + s).translate(PERSIAN),
                ("0" + s).translate(ARABIC),
                f"+98 {s[:3]}-{s[3:6]}-{s[6:]}",
            )[form]
        )
    pl.DataFrame({"mobile": rows}).write_csv(path)


# --- measuring send_run -----------------------------------------------------------------------


@dataclass
class SendFigures:
    concurrency: int
    planned: int
    sent: int
    status: str
    wall_s: float
    client_cpu_s: float
    sim_cpu_s: float
    parts: dict[str, tuple[float, float]]  # wall s, CPU s
    batches: list[float]  # wall per batch, from the on_batch callback

    @property
    def rate(self) -> float:
        return self.sent / self.wall_s


class _Nesting(Timer):
    """A Timer that also keeps CPU time (``time.process_time``: every thread of this
    process, DuckDB's included) and knows which wrapped function a call happens inside."""

    def __init__(self) -> None:
        super().__init__()
        self.cpu: dict[str, float] = {}
        self.stack: list[str] = []

    def _add(self, label: str, wall: float, cpu: float) -> None:
        self.add(label, wall)
        self.cpu[label] = self.cpu.get(label, 0.0) + cpu

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.stack.append(label)
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self._add(label, time.perf_counter() - start, time.process_time() - cpu)
                self.stack.pop()

        return timed

    def wrap_cm(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Time a context manager (``transaction``) from enter to exit, by its caller."""

        @contextmanager
        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            where = self.stack[-1] if self.stack else "elsewhere"
            start, cpu = time.perf_counter(), time.process_time()
            try:
                with fn(*args, **kwargs) as value:
                    yield value
            finally:
                self._add(f"transaction in {where}", time.perf_counter() - start,
                          time.process_time() - cpu)  # fmt: skip

        return timed


def new_campaign(title: str, send_count: int | None = None) -> int:
    from chapar.store import repo

    return repo.create_campaign(title, MESSAGE, sender=SENDER, source=["bench"],
                                send_count=send_count)  # fmt: skip


def timed_send_run(campaign_id: int, sim: SimulatorProcess) -> SendFigures:
    """One ``send_run`` with its time split by phase (patches live only inside)."""
    from chapar import sending

    timer = _Nesting()
    batches: list[float] = []
    last = [0.0]

    def on_batch(ref: sending.RunRef, outcome: sending.BatchOutcome) -> None:
        now = time.perf_counter()
        batches.append(now - last[0])
        last[0] = now

    from chapar.sending import engine

    sim_cpu = sim.cpu_seconds()
    with (
        patched(sending, timer, begin_run="begin_run", send_batches="send_batches"),
        patched(
            engine, timer, _write="_write", open_batch="open_batch",
            record_batch="record_batch", _deliver="_deliver",
        ),
    ):  # fmt: skip
        cpu, start = time.process_time(), time.perf_counter()
        last[0] = start
        result = sending.send_run(campaign_id, sending.Mode.START, on_batch=on_batch)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    sim_cpu = sim.cpu_seconds() - sim_cpu
    # The first batch's time includes planning: measure it from the end of begin_run.
    if batches:
        batches[0] -= timer.get("begin_run")
    # Recording runs in a worker thread while the next batch's requests are out, so these
    # parts overlap: their shares add up to more than the whole.
    labels = {
        "plan (begin_run)": ["begin_run"],
        "batch transactions (overlap)": ["_write"],
        "  open (transaction 1)": ["open_batch"],
        "  record (transaction 2)": ["record_batch"],
        "  open, commit, close": ["_write", "-open_batch", "-record_batch"],
        "provider phase (_deliver)": ["_deliver"],
    }

    def total(table: dict[str, float], names: list[str]) -> float:
        return sum(-table.get(n[1:], 0.0) if n[0] == "-" else table.get(n, 0.0) for n in names)

    parts = {k: (total(timer.seconds, v), total(timer.cpu, v)) for k, v in labels.items()}
    parts["the rest"] = (
        wall - parts["plan (begin_run)"][0] - parts["provider phase (_deliver)"][0],
        cpu - parts["plan (begin_run)"][1] - parts["provider phase (_deliver)"][1],
    )
    return SendFigures(
        concurrency=get_settings().provider_concurrency,
        planned=result.planned,
        sent=result.sent,
        status=str(result.status),
        wall_s=wall,
        client_cpu_s=cpu,
        sim_cpu_s=sim_cpu,
        parts=parts,
        batches=batches,
    )


def set_concurrency(level: int) -> None:
    os.environ["CHAPAR_PROVIDER_CONCURRENCY"] = str(level)
    get_settings.cache_clear()


# --- Prefect ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrefectServer:
    """``python -m prefect server start`` on a free port, SQLite under ``home``."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = _free_port()
        api = f"http://127.0.0.1:{self.port}/api"
        self.env = {
            "PREFECT_HOME": str(home),
            "PREFECT_API_URL": api,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "200",
            "PREFECT_SERVER_UI_ENABLED": "false",
            "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 120.0) -> float:
        """Start and wait for ``/api/health``; returns the seconds it took."""
        started = time.perf_counter()
        self.home.mkdir(parents=True, exist_ok=True)
        self.log = open(self.home / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
             "--port", str(self.port)],
            env={**os.environ, **self.env}, stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=ROOT, start_new_session=True,
        )  # fmt: skip
        while time.perf_counter() - started < timeout_s:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prefect server exited: {self._tail()}")
            try:
                if httpx.get(f"{self.env['PREFECT_API_URL']}/health", timeout=1,
                             trust_env=False).status_code == 200:  # fmt: skip
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"prefect server did not answer in {timeout_s:.0f} s")

    def _tail(self) -> str:
        return (self.home / "server.log").read_text(errors="replace")[-1500:]

    def stop(self) -> None:
        """SIGTERM to the server's own process group (it was started in a new session),
        twice, then SIGKILL."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(5)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if getattr(self, "log", None) is not None:
            self.log.close()


def run_flow_child(campaign_id: int) -> None:
    """In the child: run the flow once and print its figures as the last line (JSON)."""
    start = time.perf_counter()
    from flows.send import send_campaign

    imported = time.perf_counter() - start
    cpu, start = time.process_time(), time.perf_counter()
    result = send_campaign(campaign_id)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"import_s": imported, "wall_s": wall, "cpu_s": cpu, "result": result}))


def timed_flow(campaign_id: int, server: PrefectServer, sim: SimulatorProcess) -> dict[str, Any]:
    sim_cpu = sim.cpu_seconds()
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_pipeline", "--flow-child", str(campaign_id)],
        env={**os.environ, **server.env}, cwd=ROOT, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    process_s = time.perf_counter() - start
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"flow child failed ({proc.returncode}): {proc.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    figures["process_s"] = process_s
    figures["sim_cpu_s"] = sim.cpu_seconds() - sim_cpu
    return figures


# --- report -----------------------------------------------------------------------------------


def _print_send(f: SendFigures, ceiling: float) -> None:
    print(
        f"send_run: {f.sent:,} of {f.planned:,} planned sent ({f.status}) in {f.wall_s:.2f} s "
        f"= {f.rate:,.0f} messages/s = {f.rate / ceiling:.2f} of the ceiling"
    )
    print(
        f"  CPU: client {f.client_cpu_s:.2f} s ({1e6 * f.client_cpu_s / max(f.sent, 1):.1f} µs "
        f"a message, all threads), simulator {f.sim_cpu_s:.2f} s; wall {f.wall_s:.2f} s on "
        f"{os.cpu_count()} cores"
    )
    print(f"  {'where the time goes':<30} {'wall s':>7} {'share':>6} {'CPU s':>7}")
    for name, (seconds, cpu) in f.parts.items():
        print(f"  {name:<30} {seconds:>7.2f} {100 * seconds / f.wall_s:>5.0f}% {cpu:>7.2f}")
    if f.batches:
        b = sorted(f.batches)
        print(
            f"  {len(b)} batches: median {b[len(b) // 2]:.2f} s, min {b[0]:.2f} s, "
            f"max {b[-1]:.2f} s each"
        )


def _print_ceiling(m: Measurement, sim_cpu: float, again: bool = False) -> None:
    print(
        f"ceiling{' again' if again else ''} (adapter -> simulator, concurrency "
        f"{m.concurrency}): {m.messages:,} in {m.wall_s:.2f} s = {m.rate:,.0f} messages/s; "
        f"CPU: client {m.client_cpu_s:.2f} s, simulator {sim_cpu:.2f} s"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_pipeline")
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="recipients = messages (default 1,000,000)")  # fmt: skip
    parser.add_argument("--batch-size", type=int, help="CHAPAR_BATCH_SIZE (default 20000)")
    parser.add_argument("--batches-per-task", type=int,
                        help="CHAPAR_BATCHES_PER_TASK (default 10)")  # fmt: skip
    parser.add_argument("--concurrency", type=int,
                        help="CHAPAR_PROVIDER_CONCURRENCY of the main run (default 4)")  # fmt: skip
    parser.add_argument("--table", default="2,4,8",
                        help="concurrency levels for the table; '' skips it")  # fmt: skip
    parser.add_argument("--table-rows", type=int, help="messages per table row (default --rows)")
    parser.add_argument("--ceiling-messages", type=int,
                        help="messages of each ceiling run (default --rows)")  # fmt: skip
    parser.add_argument("--one-ceiling", action="store_true",
                        help="measure the ceiling once, not before and after send_run")  # fmt: skip
    parser.add_argument("--no-prefect", action="store_true", help="skip the Prefect flow")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="the simulator answers each request after this delay")  # fmt: skip
    parser.add_argument("--flow-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.flow_child is not None:
        run_flow_child(args.flow_child)
        return
    n = args.rows

    with (
        tempfile.TemporaryDirectory(prefix="chapar-bench-pipeline-") as tmp,
        SimulatorProcess(credit=10**15, delivery_delay_s=2.0) as sim,
    ):
        root = Path(tmp)
        knobs = {"provider": "simulator", "simulator_host": sim.host,
                 "simulator_port": str(sim.port)}  # fmt: skip
        for name in ("batch_size", "batches_per_task"):
            if getattr(args, name) is not None:
                knobs[name] = str(getattr(args, name))
        use_temp_store(root / "data", **knobs)
        if args.concurrency is not None:
            set_concurrency(args.concurrency)
        settings = get_settings()
        from chapar.store import repo

        start = time.perf_counter()
        write_distinct_recipients(root / "recipients.csv", n)
        written = time.perf_counter() - start
        start = time.perf_counter()
        imported = repo.import_list("bench", root / "recipients.csv")
        imported_s = time.perf_counter() - start
        repo.topup(10**13, note="benchmark")
        print(
            f"{n:,} distinct recipients written in {written:.1f} s, imported in "
            f"{imported_s:.2f} s ({imported.valid:,} valid); simulator pid {sim.pid} at "
            f"{sim.base_url}\nbatch_size {settings.batch_size:,}, batches_per_task "
            f"{settings.batches_per_task}, provider_concurrency "
            f"{settings.provider_concurrency}, request_size {settings.request_size}; "
            f"text: {len(MESSAGE)} Persian characters (2 pages); provider latency "
            f"{args.latency_ms:g} ms a request\n"
        )
        measure(sim.base_url, 2_000, 2)  # warm both processes up

        # 1. the ceiling, on a fresh outbox (again after send_run: the better one counts)
        def ceiling_run() -> tuple[Measurement, float]:
            fresh(sim, args.latency_ms)
            before = sim.cpu_seconds()
            m = measure(sim.base_url, args.ceiling_messages or n, settings.provider_concurrency)
            return m, sim.cpu_seconds() - before

        ceilings = [ceiling_run()]
        _print_ceiling(*ceilings[0])

        # 2. send_run, on a fresh outbox
        fresh(sim, args.latency_ms)
        figures = timed_send_run(new_campaign("bench send_run"), sim)
        if not args.one_ceiling:
            ceilings.append(ceiling_run())
            _print_ceiling(*ceilings[1], again=True)
        ceiling = max(m.rate for m, _ in ceilings)
        _print_send(figures, ceiling)
        verdict = "meets" if figures.rate >= GOAL_RATIO * ceiling else "misses"
        per_1m = 1e6 / figures.rate
        print(
            f"  goal >= {GOAL_RATIO} of the ceiling ({ceiling:,.0f}/s, the better of "
            f"{len(ceilings)}): {verdict}; at this rate 1M messages take {per_1m:.1f} s "
            f"(goal: well under {GOAL_1M_S:g} s)\n"
        )

        # 3. the Prefect flow, same size
        if not args.no_prefect:
            server = PrefectServer(root / "prefect")
            try:
                up = server.start()
                print(f"Prefect server (pid {server.proc.pid if server.proc else '?'}) "
                      f"healthy after {up:.1f} s")  # fmt: skip
                time.sleep(2.0)  # let its start-up services settle before timing
                fresh(sim, args.latency_ms)
                flow = timed_flow(new_campaign("bench prefect"), server, sim)
            finally:
                server.stop()
            sent = figures.sent  # same list, same size
            print(
                f"Prefect flow send_campaign: {flow['wall_s']:.2f} s "
                f"({sent / flow['wall_s']:,.0f} messages/s, {flow['result']['status']}) vs "
                f"send_run {figures.wall_s:.2f} s: Prefect adds "
                f"{flow['wall_s'] - figures.wall_s:+.2f} s "
                f"({100 * (flow['wall_s'] / figures.wall_s - 1):+.0f}%)"
            )
            print(
                f"  flow process: import of flows.send {flow['import_s']:.2f} s, whole child "
                f"process {flow['process_s']:.2f} s; CPU: client {flow['cpu_s']:.2f} s, "
                f"simulator {flow['sim_cpu_s']:.2f} s\n"
            )

        # 4. concurrency table
        levels = [int(c) for c in args.table.split(",") if c.strip()]
        if levels:
            rows = min(args.table_rows or n, n)
            if rows != n:
                print(f"(table: {rows:,} messages a run, the campaign's send count)")
            print(
                f"{'concurrency':>11} {'ceiling msg/s':>14} {'send_run msg/s':>15} "
                f"{'ratio':>6} {'send_run s':>11} {'provider s':>11} {'client CPU s':>13} "
                f"{'sim CPU s':>10}"
            )
            for level in levels:
                set_concurrency(level)
                sim.reset()
                c = measure(sim.base_url, rows, level)
                sim.reset()
                f = timed_send_run(new_campaign(f"bench c={level}", rows if rows != n else None),
                                   sim)  # fmt: skip
                print(
                    f"{level:>11} {c.rate:>14,.0f} {f.rate:>15,.0f} {f.rate / c.rate:>6.2f} "
                    f"{f.wall_s:>11.2f} {f.parts['provider phase (run_async)'][0]:>11.2f} "
                    f"{f.client_cpu_s:>13.2f} {f.sim_cpu_s:>10.2f}"
                )


if __name__ == "__main__":
    main()
