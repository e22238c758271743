"""How fast can Chapar hand messages to a provider? The Kavenegar adapter against the
simulator (a child process) over loopback, 200 receptors a request.

    python -m bench.bench_provider [--messages 40000] [--concurrency 1,4,8,16,32] [--latin]

Prints messages/s and the CPU each side spends per request (client: ``time.process_time``
of this process; simulator: the ``cpu_s`` of ``/_simulator/state``). Figures only — nothing
here asserts on time. :func:`measure_ceiling` is reusable from other benchmarks.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from dataclasses import dataclass

import httpx

from chapar.providers import KavenegarProvider, OutgoingMessage
from chapar.simulator.process import SimulatorProcess

PERSIAN = "سلام! تخفیف ویژه فروشگاه ما تا پایان هفته؛ برای دیدن محصولات به سایت سر بزنید"
LATIN = "Big sale this week only: 30% off everything in store and online. Reply STOP to opt out"
_runs = itertools.count()


@dataclass(frozen=True)
class Measurement:
    concurrency: int
    messages: int
    requests: int
    wall_s: float
    client_cpu_s: float

    @property
    def rate(self) -> float:
        return self.messages / self.wall_s

    @property
    def client_ms_per_request(self) -> float:
        return 1000 * self.client_cpu_s / self.requests


async def _measure(
    base_url: str, messages: int, concurrency: int, per_request: int, text: str, api_key: str
) -> Measurement:
    provider = KavenegarProvider(
        base_url, api_key, concurrency=concurrency, timeout=60.0, trust_env=False
    )
    run = next(_runs)
    # Numbers and local ids no earlier run used, so the simulator never de-duplicates.
    base = (run % 50) * 10_000_000 + (time.time_ns() // 1000) % 10_000 * 100_000_000
    starts = iter(range(0, messages, per_request))

    async def worker() -> int:
        sent = 0
        for start in starts:
            n = min(per_request, messages - start)
            batch = [
                OutgoingMessage(
                    base + start + i, f"98912{(base + start + i) % 10**7:07d}", "10004346", text
                )
                for i in range(n)
            ]
            sent += len(await provider.send(batch))
        return sent

    try:
        await provider.credit()  # open a connection before the clock starts
        cpu, wall = time.process_time(), time.perf_counter()
        total = sum(await asyncio.gather(*(worker() for _ in range(concurrency))))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        await provider.aclose()
    return Measurement(concurrency, total, -(-total // per_request), wall, cpu)


def measure(
    base_url: str,
    messages: int = 40_000,
    concurrency: int = 8,
    *,
    per_request: int = 200,
    text: str = PERSIAN,
    api_key: str = "simulator",
) -> Measurement:
    """One run: ``messages`` sent in requests of ``per_request``, ``concurrency`` at a time,
    through one adapter whose pool has ``concurrency`` connections."""
    return asyncio.run(_measure(base_url, messages, concurrency, per_request, text, api_key))


def measure_ceiling(base_url: str, messages: int = 40_000, concurrency: int = 8) -> float:
    """Messages/s the Kavenegar adapter reaches against ``base_url`` (``…/v1``): the ceiling
    no pipeline on top of it can beat."""
    return measure(base_url, messages, concurrency).rate


def _simulator_cpu(root_url: str) -> float:
    response = httpx.get(f"{root_url}/_simulator/state", timeout=10, trust_env=False)
    return float(response.json()["cpu_s"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_provider")
    parser.add_argument("--messages", type=int, default=40_000)
    parser.add_argument("--concurrency", default="1,4,8,16,32")
    parser.add_argument("--latin", action="store_true", help="GSM-7 text instead of Persian")
    args = parser.parse_args(argv)
    text = LATIN if args.latin else PERSIAN
    levels = [int(c) for c in args.concurrency.split(",")]

    with SimulatorProcess(credit=10**15, delivery_delay_s=2.0) as sim:
        measure(sim.base_url, 2_000, 2, text=text)  # warm up both processes
        print(
            f"Kavenegar adapter -> simulator (pid {sim.pid}) on loopback, "
            f"{args.messages} messages a row, 200 receptors a request, "
            f"{'Latin (GSM-7)' if args.latin else 'Persian (UCS-2)'} text\n"
        )
        print(
            f"{'concurrency':>11} {'messages/s':>11} {'requests/s':>11} "
            f"{'client CPU ms/req':>18} {'simulator CPU ms/req':>21} {'wall s':>7}"
        )
        for level in levels:
            sim.reset()
            before = _simulator_cpu(sim.root_url)
            m = measure(sim.base_url, args.messages, level, text=text)
            sim_ms = 1000 * (_simulator_cpu(sim.root_url) - before) / m.requests
            assert (
                sim.outbox()["total_accepted"] == m.messages
            )  # a benchmark that lost some is void
            print(
                f"{level:>11} {m.rate:>11,.0f} {m.requests / m.wall_s:>11,.0f} "
                f"{m.client_ms_per_request:>18.2f} {sim_ms:>21.3f} {m.wall_s:>7.2f}"
            )


if __name__ == "__main__":
    main()
