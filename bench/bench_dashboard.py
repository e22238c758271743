"""First full render of the dashboard in a real browser:
``python -m bench.bench_dashboard [--rows N] [--campaigns C] [--repeat R]``.

Seeds a fresh DuckDB file (temp folder) with one campaign whose run holds N messages
(default 1M) and C-1 small ones (1,000 messages each), serves the dashboard with
``streamlit run`` and opens it in Debian's Chromium (Playwright), each time in a new browser
context (a new Streamlit session), timing from navigation to a *full* render: the script
run finished (Streamlit's status widget gone) and the page's content drawn — the home
page's balance and every campaign card's four figures; the report's fifteen figures, its
funnel and its first chart (by status).

Printed: the first (cold: empty caches) and the median of the next R renders, per page, in
Persian; then a returning browser (Streamlit's static files in its cache, a new tab and
session each time) with the renderer processes' CPU seconds per render (what the page
costs the browser, less moved by other load than the wall time); the script runs on the
server; the same for the floor (an empty Streamlit page with one metric); and the
server-side reads behind the pages (``chapar.reports`` at this size). Goals (issue 11):
home ≤ 1 s, a 1M campaign's report ≤ 1.5 s, on a quiet machine. Figures only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_export import seed_sent_run
from bench.bench_import import use_temp_store

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.browser.helpers import (  # noqa: E402
    APP,
    CHROMIUM,
    FIGURE_VALUE,
    chromium,
    settle,
    streamlit,
)

#: What a full render shows: every (CSS selector, at least this many elements) is drawn.
Ready = list[tuple[str, int]]
ALL_DRAWN = "(ready) => ready.every(([sel, n]) => document.querySelectorAll(sel).length >= n)"


def full_render(page: Any, url: str, ready: Ready) -> float:
    """Seconds from navigation until the run is done and everything in ``ready`` is drawn."""
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_function(ALL_DRAWN, arg=ready, timeout=60_000, polling=20)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)
    return time.perf_counter() - start


def renderer_cpu(browser_cdp: Any) -> float:
    """CPU seconds the browser's renderer processes have used so far."""
    info = browser_cdp.send("SystemInfo.getProcessInfo")["processInfo"]
    return sum(p["cpuTime"] for p in info if p["type"] == "renderer")


#: What a drawn page holds: Streamlit elements, DOM elements, JavaScript files it loaded.
SIZE = """() => ({
  elements: document.querySelectorAll('[data-testid="stElementContainer"]').length,
  dom: document.getElementsByTagName("*").length,
  scripts: performance.getEntriesByType("resource").filter((r) => r.name.endsWith(".js")).length,
})"""


Size = dict[str, int]


def returning(url: str, ready: Ready, repeat: int) -> tuple[list[float], list[float], Size]:
    """A returning browser: a first visit fills its cache; then ``repeat`` renders, each in a
    new tab (a new Streamlit session). Returns their seconds and renderer CPU seconds, and
    the page's size (:data:`SIZE`)."""
    with chromium() as first:
        full_render(first, url, ready)
        settle(first)
        size = first.evaluate(SIZE)
        cdp = first.context.browser.new_browser_cdp_session()
        seconds, cpu = [], []
        for _ in range(repeat):
            tab = first.context.new_page()
            before = renderer_cpu(cdp)
            seconds.append(full_render(tab, url, ready))
            cpu.append(renderer_cpu(cdp) - before)
            settle(tab)
            tab.close()
    return seconds, cpu, size


def size_text(size: Size) -> str:
    return (f"{size['elements']} Streamlit elements, {size['dom']} DOM elements, "
            f"{size['scripts']} JS files")  # fmt: skip


def reads(campaign_id: int) -> dict[str, float]:
    """Server-side reads the pages make, timed in this process."""
    from chapar import reports

    out = {}
    for name, fn in (
        ("campaign_overview (home)", reports.campaign_overview),
        ("run_report 1M (report)", lambda: reports.run_report(campaign_id)),
        ("numbers page of 50 (report)", lambda: reports.numbers(campaign_id, limit=50)),
    ):
        start = time.perf_counter()
        fn()
        out[name] = time.perf_counter() - start
    return out


def script_runs(log: Path) -> list[float]:
    """Seconds of each script run the dashboard logged (CHAPAR_DASHBOARD_TIMING)."""
    return [float(line.split()[-1]) for line in log.read_text(errors="replace").splitlines()
            if line.startswith("chapar-timing ")]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_dashboard", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--campaigns", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        sys.exit("Debian's chromium is not installed (apt-get install chromium)")
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    with tempfile.TemporaryDirectory(prefix="chapar-bench-dashboard-") as folder:
        use_temp_store(Path(folder))
        start = time.perf_counter()
        for i in range(args.campaigns - 1):
            seed_sent_run(1_000, title=f"کمپین کوچک {i + 1}")
        big = seed_sent_run(args.rows, title="جشنواره بزرگ")
        print(f"seeded {args.rows:,} + {args.campaigns - 1} × 1,000 messages "
              f"in {time.perf_counter() - start:.1f} s")  # fmt: skip
        for name, seconds in reads(big).items():
            print(f"  read {name}: {seconds * 1000:.0f} ms")
        env = {"CHAPAR_DATA_DIR": folder, "CHAPAR_SEND_INPROCESS": "1",
               "CHAPAR_DASHBOARD_TIMING": "1"}  # fmt: skip
        cards = min(args.campaigns, 20)
        pages: dict[str, tuple[str, Ready]] = {
            "home": ("/?lang=fa", [(FIGURE_VALUE, 4 * cards + 1)]),
            "report 1M": (f"/reports?lang=fa&campaign={big}", [
                (FIGURE_VALUE, 15), ('[data-testid="chaparFunnel"]', 1),
                ('[data-testid="chaparStatusBars"], .vega-embed canvas, .vega-embed svg', 1),
            ]),
        }  # fmt: skip
        floor = Path(folder) / "floor.py"
        floor.write_text('import streamlit as st\nst.title("floor")\nst.metric("x", "1")\n')
        one_metric: Ready = [('[data-testid="stMetricValue"]', 1)]
        with streamlit(floor, env, Path(folder) / "floor.log") as url:
            times = []
            for _ in range(args.repeat + 1):
                with chromium() as page:
                    times.append(full_render(page, url, one_metric))
            print(f"{'floor':>10}: an empty Streamlit page with one metric, median "
                  f"{statistics.median(times[1:]):.2f} s (what this machine's browser and "
                  "Streamlit cost before any of the dashboard)")  # fmt: skip
            back, cpu, size = returning(url, one_metric, args.repeat)
            print(f"{'':>10}  (a returning browser: median {statistics.median(back):.2f} s, "
                  f"renderer CPU {statistics.median(cpu):.2f} s; {size_text(size)})")  # fmt: skip
        with streamlit(APP, env, Path(folder) / "streamlit.log") as url:
            seen = 0
            for name, (path, ready) in pages.items():
                times = []
                for _ in range(args.repeat + 1):
                    with chromium() as page:
                        times.append(full_render(page, url + path, ready))
                        settle(page)
                cold, warm = times[0], statistics.median(times[1:])
                print(f"{name:>10}: first render {cold:.2f} s (cold caches), then median "
                      f"{warm:.2f} s over {args.repeat} new sessions "
                      f"(min {min(times[1:]):.2f}, max {max(times[1:]):.2f})")  # fmt: skip
                # A returning visitor: the browser's cache holds Streamlit's static files (as
                # after any earlier visit); every tab is still a new Streamlit session.
                back, cpu, size = returning(url + path, ready, args.repeat)
                print(f"{'':>10}  a returning browser (static files cached), a new session "
                      f"each time: median {statistics.median(back):.2f} s "
                      f"(min {min(back):.2f}, max {max(back):.2f}); renderer CPU median "
                      f"{statistics.median(cpu):.2f} s; {size_text(size)}")  # fmt: skip
                runs = script_runs(Path(folder) / "streamlit.log")[seen:]
                seen += len(runs)
                print(f"{'':>10}  the script runs on the server: "
                      + ", ".join(f"{s:.2f}" for s in runs) + " s")  # fmt: skip
    print("load average at end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
