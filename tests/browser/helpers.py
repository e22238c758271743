"""Running the dashboard (or a small Streamlit script) as ``streamlit run`` on a free port and
driving it in Debian's Chromium through Playwright; shared by the browser tests and
``bench/bench_dashboard.py``. Never ``playwright install``: ``executable_path`` points at
/usr/bin/chromium.

The browser tests' fixtures live here too; a test module imports the ones it uses (each is
registered under its short name)::

    from tests.browser.helpers import dashboard_fixture, page_fixture  # noqa: F401

``dashboard`` serves dashboards/app.py with the test process's data folder, the provider
simulator, sends in-process and no sending window, and the module's ``dashboard_settings``
(a fixture a module may override: more settings, or a step before the server starts);
``page`` is a fresh Chromium page on its home page. Both skip, saying why, where Chromium
or Playwright is missing."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboards" / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
FA_DIGITS = str.maketrans("0123456789,", "۰۱۲۳۴۵۶۷۸۹٬")


def fa_num(n: int) -> str:
    return f"{n:,}".translate(FA_DIGITS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def streamlit(script: Path, env: dict[str, str], log: Path, timeout_s: float = 60) -> Iterator[str]:
    """``streamlit run script`` on a free port of 127.0.0.1; yields its URL."""
    port = free_port()
    out = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal"],
        cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out.flush()
                raise RuntimeError("streamlit did not start:\n" + log.read_text())
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()


@contextmanager
def chromium(width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A fresh Chromium page (Playwright), Persian locale."""
    from playwright.sync_api import expect, sync_playwright

    # A page redraws after each rerun; on a busy 2-core machine that takes seconds, not the
    # 5 s Playwright's assertions wait by default.
    expect.set_options(timeout=20_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale="fa-IR")  # fmt: skip
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        try:
            yield tab
        finally:
            context.close()
            browser.close()


def needs_chromium() -> None:
    """Skip the calling test, with the reason, where the browser cannot run."""
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install "
                    "chromium; never `playwright install`)")  # fmt: skip
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@contextmanager
def serve_dashboard(tmp_path: Path, simulator_port: int, settings: dict[str, str]) -> Iterator[str]:
    """``streamlit run dashboards/app.py`` on the test process's own data folder (conftest's
    ``CHAPAR_DATA_DIR``), against the simulator, sending in a thread of the dashboard
    (``CHAPAR_SEND_INPROCESS``) at any hour; ``settings`` add to or replace these."""
    needs_chromium()
    env = {
        "CHAPAR_DATA_DIR": str(tmp_path / "data"),
        "CHAPAR_SEND_INPROCESS": "1",
        "CHAPAR_SIMULATOR_PORT": str(simulator_port),
        "CHAPAR_SEND_WINDOW": "always",
        **settings,
    }
    with streamlit(APP, env, tmp_path / "streamlit.log") as url:
        yield url


@pytest.fixture(name="dashboard_settings")
def dashboard_settings_fixture() -> dict[str, str]:
    """Settings of the served dashboard beyond :func:`serve_dashboard`'s (override it in a
    module to change them): sends in batches of 100, so a send of a few hundred numbers
    shows its progress."""
    return {"CHAPAR_BATCH_SIZE": "100"}


@pytest.fixture(name="dashboard")
def dashboard_fixture(
    tmp_path: Path, simulator: Any, dashboard_settings: dict[str, str]
) -> Iterator[str]:
    """The dashboard served by ``streamlit run`` on a free port; yields its URL."""
    with serve_dashboard(tmp_path, simulator.port, dashboard_settings) as url:
        yield url


@pytest.fixture(name="page")
def page_fixture(dashboard: str) -> Iterator[Any]:
    """A fresh Chromium page (Persian) on the dashboard's home page, drawn."""
    from dashboards.i18n import LABELS

    with chromium() as tab:
        tab.goto(dashboard)
        tab.get_by_role("heading", name=LABELS["home.title"][0]).wait_for()
        yield tab


FIGURE = '[data-testid="stMetric"], [data-testid="chaparFigure"]'
FIGURE_LABEL = '[data-testid="stMetricLabel"], [data-testid="chaparFigureLabel"]'
FIGURE_VALUE = '[data-testid="stMetricValue"], [data-testid="chaparFigureValue"]'


def expect_metric(page: Any, label: str, value: str) -> None:
    """The figure labelled ``label`` (an st.metric, or one the dashboard draws as HTML:
    dashboards.ui.Figure) shows ``value``, waiting for the script run that draws it."""
    from playwright.sync_api import expect

    card = page.locator(FIGURE).filter(has=page.locator(FIGURE_LABEL, has_text=label))
    expect(card.locator(FIGURE_VALUE).first).to_have_text(value)


def settle(page: Any) -> None:
    """Wait until the script run triggered by the last action has finished."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=30_000)


READ_TEXT = """() => {
  // Material icons are drawn from ligature names ("menu", "download"): not words to read.
  const hide = document.createElement("style");
  hide.textContent = '[data-testid="stIconMaterial"] { display: none !important; }';
  document.head.appendChild(hide);
  const parts = ['[data-testid="stSidebar"]', '[data-testid="stMain"]',
                 '[data-testid="stPopoverBody"]']
    .flatMap((s) => [...document.querySelectorAll(s)]).map((el) => el.innerText);
  const attrs = [...document.querySelectorAll("[placeholder], [aria-label], [title]")]
    .filter((el) => el.closest('[data-testid="stMain"], [data-testid="stSidebar"]'))
    .map((el) => el.getAttribute("placeholder") || "");
  hide.remove();
  return [...parts, ...attrs].join("\\n");
}"""


def page_text(page: Any) -> str:
    """What the user reads: the sidebar, the main area and an open popover as rendered
    (innerText, icons left out), and the placeholders of its fields."""
    return str(page.evaluate(READ_TEXT))


LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")


def latin_words(text: str, allowed: set[str]) -> list[str]:
    """Latin words in ``text`` not in ``allowed`` (case-insensitive), ignoring file names,
    URLs and e-mail-like tokens."""
    found = []
    for token in re.split(r"\s+", text):
        if re.search(r"\.(csv|tsv|txt|xlsx|xls|xlsm)\b", token, re.I) or "://" in token:
            continue
        for word in LATIN_WORD.findall(token):
            if word.lower() not in allowed:
                found.append(word)
    return found
