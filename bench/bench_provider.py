"""How fast can Chapar hand messages to a provider? The Kavenegar adapter against the
simulator (a child process) over loopback, 200 receptors a request.

    python -m bench.bench_provider [--messages 40000] [--concurrency 1,4,8,16,32] [--latin]
                                   [--repeat 3]

First both ceilings of a same-text campaign at concurrency 4, in the same run:
``sms/sendarray`` (the text once per receptor, requests built from one object per message)
and ``sms/send`` (the text once per request, built from columns by ``send_columns``); then
``sms/send`` by concurrency. Prints messages/s and the CPU each side spends per request
(client: ``time.process_time`` of this process; simulator: the ``cpu_s`` of
``/_simulator/state``). Figures only — nothing here asserts on time. :func:`measure` and
:func:`measure_ceiling` are reusable from other benchmarks.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from dataclasses import dataclass
from typing import Literal

import httpx

from chapar.providers import KavenegarProvider, OutgoingMessage
from chapar.simulator.process import SimulatorProcess

PERSIAN = "سلام! تخفیف ویژه فروشگاه ما تا پایان هفته؛ برای دیدن محصولات به سایت سر بزنید"
LATIN = "Big sale this week only: 30% off everything in store and online. Reply STOP to opt out"
_runs = itertools.count()
#: "send": ``send_columns`` with one text (``sms/send``); "sendarray": one object per
#: message, forced through ``sms/sendarray`` (what every send was before ``sms/send``)
Method = Literal["send", "sendarray"]


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
    base_url: str,
    messages: int,
    concurrency: int,
    per_request: int,
    text: str,
    api_key: str,
    method: Method,
) -> Measurement:
    provider = KavenegarProvider(
        base_url, api_key, concurrency=concurrency, timeout=60.0, trust_env=False
    )
    run = next(_runs)
    # Numbers and local ids no earlier run used, so the simulator never de-duplicates.
    base = (run % 50) * 10_000_000 + (time.time_ns() // 1000) % 10_000 * 100_000_000
    starts = iter(range(0, messages, per_request))
    sender = "10004346"

    async def worker() -> int:
        sent = 0
        for start in starts:
            ids = range(base + start, base + start + min(per_request, messages - start))
            if method == "send":
                receptors = [f"98912{i % 10**7:07d}" for i in ids]
                sent += len(await provider.send_columns(ids, receptors, sender, text))
            else:
                batch = [OutgoingMessage(i, f"98912{i % 10**7:07d}", sender, text) for i in ids]
                # The private path: one text would otherwise go by sms/send.
                sent += len(
                    await provider._send_array(
                        [m.local_id for m in batch],
                        [m.receptor for m in batch],
                        [m.sender for m in batch],
                        [m.text for m in batch],
                    )
                )
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
    method: Method = "send",
) -> Measurement:
    """One run: ``messages`` sent in requests of ``per_request``, ``concurrency`` at a time,
    through one adapter whose pool has ``concurrency`` connections, by ``method``."""
    return asyncio.run(
        _measure(base_url, messages, concurrency, per_request, text, api_key, method)
    )


def measure_ceiling(
    base_url: str, messages: int = 40_000, concurrency: int = 8, method: Method = "send"
) -> float:
    """Messages/s the Kavenegar adapter reaches against ``base_url`` (``…/v1``): the ceiling
    no pipeline on top of it can beat (``sms/send`` for a campaign's one text)."""
    return measure(base_url, messages, concurrency, method=method).rate


def request_bytes(text: str, per_request: int = 200) -> dict[Method, int]:
    """The body size of one request of ``per_request`` messages by each method (captured
    through a mock transport: what would cross a real network to the provider)."""
    sizes: dict[str, int] = {}
    receptors = [f"98912{i:07d}" for i in range(per_request)]

    def capture(request: httpx.Request) -> httpx.Response:
        sizes[request.url.path.rsplit("/", 1)[1]] = len(request.content)
        entries = [{"messageid": i, "receptor": r} for i, r in enumerate(receptors)]
        return httpx.Response(200, json={"return": {"status": 200}, "entries": entries})

    async def both() -> None:
        provider = KavenegarProvider(
            "http://bench/v1", "simulator", transport=httpx.MockTransport(capture)
        )
        try:
            ids = list(range(per_request))
            await provider.send_columns(ids, receptors, "10004346", text)
            await provider._send_array(
                ids, receptors, ["10004346"] * per_request, [text] * per_request
            )
        finally:
            await provider.aclose()

    asyncio.run(both())
    return {"send": sizes["send.json"], "sendarray": sizes["sendarray.json"]}


def _simulator_cpu(root_url: str) -> float:
    response = httpx.get(f"{root_url}/_simulator/state", timeout=10, trust_env=False)
    return float(response.json()["cpu_s"])


def _measured(
    sim: SimulatorProcess, messages: int, level: int, text: str, method: Method
) -> tuple[Measurement, float]:
    """One measurement on a reset simulator, and the simulator's CPU ms per request."""
    sim.reset()
    before = _simulator_cpu(sim.root_url)
    m = measure(sim.base_url, messages, level, text=text, method=method)
    sim_ms = 1000 * (_simulator_cpu(sim.root_url) - before) / m.requests
    assert sim.outbox()["total_accepted"] == m.messages  # a benchmark that lost some is void
    return m, sim_ms


def _row(label: str, m: Measurement, sim_ms: float) -> str:
    return (
        f"{label:>11} {m.rate:>11,.0f} {m.requests / m.wall_s:>11,.0f} "
        f"{m.client_ms_per_request:>18.2f} {sim_ms:>21.3f} {m.wall_s:>7.2f}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_provider")
    parser.add_argument("--messages", type=int, default=40_000)
    parser.add_argument("--concurrency", default="1,4,8,16,32")
    parser.add_argument("--latin", action="store_true", help="GSM-7 text instead of Persian")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="rounds of the two ceilings, alternating; the best of each is printed",
    )
    args = parser.parse_args(argv)
    text = LATIN if args.latin else PERSIAN
    levels = [int(c) for c in args.concurrency.split(",")]
    header = (
        f"{'':>11} {'messages/s':>11} {'requests/s':>11} "
        f"{'client CPU ms/req':>18} {'simulator CPU ms/req':>21} {'wall s':>7}"
    )

    with SimulatorProcess(credit=10**15, delivery_delay_s=2.0) as sim:
        for method in ("sendarray", "send"):  # warm up both processes and both paths
            measure(sim.base_url, 2_000, 2, text=text, method=method)
        print(
            f"Kavenegar adapter -> simulator (pid {sim.pid}) on loopback, "
            f"{args.messages} messages a row, 200 receptors a request, one "
            f"{'Latin (GSM-7)' if args.latin else 'Persian (UCS-2)'} text for all\n"
        )
        print(f"Both ceilings, concurrency 4, same run (best of {args.repeat}, alternating):")
        print(header.replace(" " * 11, f"{'method':>11}", 1))
        methods: tuple[Method, ...] = ("sendarray", "send")
        best: dict[str, tuple[Measurement, float]] = {}
        for _ in range(max(1, args.repeat)):
            for method in methods:
                m, sim_ms = _measured(sim, args.messages, 4, text, method)
                if method not in best or m.rate > best[method][0].rate:
                    best[method] = (m, sim_ms)
        for method in methods:
            print(_row(f"sms/{method}", *best[method]))
        rates = {method: best[method][0].rate for method in methods}
        sizes = request_bytes(text)
        print(
            f"sms/send / sms/sendarray = {rates['send'] / rates['sendarray']:.2f}; a request's "
            f"body: {sizes['send']:,} bytes by sms/send, {sizes['sendarray']:,} by sendarray\n"
        )
        print("sms/send (send_columns) by concurrency:")
        print(header.replace(" " * 11, f"{'concurrency':>11}", 1))
        for level in levels:
            m, sim_ms = _measured(sim, args.messages, level, text, "send")
            print(_row(str(level), m, sim_ms))


if __name__ == "__main__":
    main()
