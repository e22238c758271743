"""Personalised vs same-text sending end to end: ``python -m bench.bench_personalised
[--rows N]``.

A fresh store in a temp folder and the simulator as a child process. One list of N
distinct numbers whose rows carry two columns (``نام``, ``کد``), kept by the import as the
list's attributes (migration 003). Two campaigns
over it, each planned and sent with ``send_run(campaign, Mode.START)``:

- same text: ``"سلام، تخفیف یلدا برای شما"`` (one text frozen per batch);
- personalised: ``"سلام {نام|دوست}، کد تخفیف شما {کد}"`` (a text, pages and cost per message,
  rendered in Polars when its batch goes in flight and frozen on the message rows).

Goal (issue 12): the personalised rate at least 0.7 of the same-text rate. Figures only.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import polars as pl

from bench.bench_import import use_temp_store
from bench.bench_pipeline import SENDER, write_distinct_recipients
from bench.bench_provider import _simulator_cpu
from chapar.simulator.process import SimulatorProcess

GOAL = 0.7
SAME = "سلام، تخفیف یلدا برای شما"
PERSONAL = "سلام {نام|دوست}، کد تخفیف شما {کد}"


def add_columns(path: Path) -> None:
    """Give every row of the recipient file a name (every tenth none) and a code: the
    import keeps them as the list's attributes (migration 003)."""
    frame = pl.read_csv(path)
    n = frame.height
    frame.with_columns(
        pl.Series("نام", [None if i % 10 == 9 else f"مشتری{i}" for i in range(n)]),
        pl.Series("کد", [f"Y{i:07d}" for i in range(n)]),
    ).write_csv(path)


def timed_send(campaign_id: int, sim: SimulatorProcess) -> tuple[float, int, float, float]:
    """Wall seconds, messages sent, and the CPU seconds of this process (every thread) and
    of the simulator meanwhile: on a shared machine the CPU is the steadier figure."""
    from chapar.sending import Mode, send_run

    sim_cpu, cpu, start = _simulator_cpu(sim.root_url), time.process_time(), time.perf_counter()
    result = send_run(campaign_id, Mode.START)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return wall, result.sent, cpu, _simulator_cpu(sim.root_url) - sim_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="chapar-bench-personal-") as tmp,
        SimulatorProcess(credit=10**15, delivery_delay_s=2.0, reply_rate=0.0) as sim,
    ):
        root = Path(tmp)
        use_temp_store(root / "data", provider="simulator", simulator_host=sim.host,
                       simulator_port=str(sim.port))  # fmt: skip
        from chapar.store import repo

        path = root / "people.csv"
        write_distinct_recipients(path, args.rows)
        add_columns(path)
        repo.import_list("people", path)
        repo.topup(10**13)
        figures: dict[str, dict[str, float]] = {}
        for name, message in (("same text", SAME), ("personalised", PERSONAL)):
            campaign = repo.create_campaign(name, message, SENDER, ["people"])
            sim.reset()
            wall, sent, cpu, sim_cpu = timed_send(campaign, sim)
            figures[name] = {"messages": sent, "wall_s": round(wall, 2),
                             "per_s": round(sent / wall), "cpu_s": round(cpu, 2),
                             "simulator_cpu_s": round(sim_cpu, 2)}  # fmt: skip
            print(f"{name:13} {sent:>10,} messages  {wall:7.2f} s  {sent / wall:>10,.0f}/s"
                  f"  CPU {cpu:6.2f} s + simulator {sim_cpu:5.2f} s")  # fmt: skip
        from chapar.store import connect

        with connect() as con:
            distinct = con.execute(
                "SELECT count(DISTINCT text), sum(pages) FROM messages WHERE text IS NOT NULL"
            ).fetchall()[0]
        print(f"personalised texts frozen on the messages: {distinct[0]:,} distinct, "
              f"{distinct[1]:,} pages")  # fmt: skip
        ratio = figures["personalised"]["per_s"] / figures["same text"]["per_s"]
        verdict = "meets" if ratio >= GOAL else "misses"
        print(f"personalised / same text = {ratio:.2f} ({verdict} the goal {GOAL})")
        same, personal = (f["cpu_s"] + f["simulator_cpu_s"] for f in figures.values())
        print(f"CPU (this process + simulator) same text / personalised = {same / personal:.2f}")
        print(json.dumps({"rows": args.rows, **figures, "ratio": round(ratio, 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
