"""Fixtures and helpers of the dashboard tests (AppTest and the browser test).

Import the fixtures a test module uses (each is registered under its short name: ``app``,
``people``, ``sends``)::

    from tests.dashboard_fixtures import app_fixture, people_fixture  # noqa: F401

``sends`` replaces :func:`dashboards.data.start_send` with an in-process, synchronous
``send_run`` against the provider simulator (the ``simulator`` fixture), so no Prefect
server is needed and a click on Send has finished when ``AppTest.run()`` returns.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from chapar.sending import Mode, send_run
from chapar.settings import get_settings
from chapar.store import repo
from dashboards import data

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboards" / "app.py"
SENDER = "30001234"
#: 120 valid numbers, then one invalid line and one duplicate.
PEOPLE = [f"0912{i:07d}" for i in range(120)] + ["not a number", "09120000000"]


def make_app(lang: str = "en", *, timeout: float = 30) -> AppTest:
    """The dashboard, not yet run, in the given language."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.session_state["lang"] = lang
    return at


#: Nothing listens here: a test that does not set up Prefect never reaches a real one.
NO_PREFECT = "http://127.0.0.1:9/api"


@pytest.fixture(name="app")
def app_fixture(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """The dashboard factory; Prefect points at a closed port unless a test set it."""
    if not os.environ.get("PREFECT_API_URL"):
        monkeypatch.setenv("PREFECT_API_URL", NO_PREFECT)
    return make_app


@pytest.fixture(name="people")
def people_fixture(write: Callable[[str, str], Path]) -> str:
    """A recipient list named "people" (120 valid, 1 invalid, 1 duplicate)."""
    repo.import_list("people", write("people.txt", "\n".join(PEOPLE) + "\n"))
    return "people"


@pytest.fixture(name="sends")
def sends_fixture(simulator: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """Sending in-process against the simulator; returns the (campaign, mode) calls."""
    monkeypatch.setenv("CHAPAR_SIMULATOR_PORT", str(simulator.port))
    get_settings.cache_clear()
    calls: list[tuple[int, str]] = []

    def start_send(campaign_id: int, mode: str) -> str | None:
        calls.append((campaign_id, mode))
        send_run(campaign_id, Mode(mode))
        return None

    monkeypatch.setattr(data, "start_send", start_send)
    return calls


def campaign(
    source: str = "people", title: str = "Yalda", message: str = "شب یلدا مبارک", **kw: Any
) -> int:
    return repo.create_campaign(title, message, SENDER, [source], **kw)


def run_ok(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click()
    return run_ok(at)


def menu(at: AppTest, campaign_id: int) -> AppTest:
    """Open the campaign's Features menu, as a click on it does: its entries are built only
    while it is open (the page reruns when it opens; an action closes it again)."""
    at.session_state[f"features_c{campaign_id}"] = True
    return run_ok(at)


def go(at: AppTest, view: str) -> AppTest:
    at.switch_page(f"views/{view}.py")
    return run_ok(at)


def texts(at: AppTest) -> str:
    """Every visible text of the page (markdown, captions, alerts, titles, metrics, button
    and widget labels), one a line: what a test asserts on."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "success", "info",
                 "warning", "error"):  # fmt: skip
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label}: {m.value}" for m in at.metric]
    parts += [f"{label}: {value}" for label, value in figures(at)]
    parts += html_texts(at)
    parts += [b.label for b in at.button]
    parts += [w.label for w in (*at.selectbox, *at.text_input, *at.text_area, *at.radio)]
    return "\n".join(parts)


def progress_texts(at: AppTest) -> list[str]:
    """The texts of the dashboard's progress bars (drawn as HTML, right to left in Persian)."""
    found = []
    for element in at.get("html"):
        body = str(element.proto.body)
        if 'data-testid="chaparProgress"' in body:
            match = re.search(r'class="chapar-bar-text">(.*?)</div>', body)
            if match:
                found.append(html.unescape(match.group(1)))
    return found


FIGURE = re.compile(
    r'data-testid="chaparFigureLabel">(.*?)</div>'
    r'<div class="chapar-figure-value" data-testid="chaparFigureValue">(.*?)</div>'
)
TAG = re.compile(r"<[^>]+>")


def figures(at: AppTest) -> list[tuple[str, str]]:
    """(label, value) of the figures the dashboard draws as HTML (dashboards.ui.figures)."""
    found = []
    for element in at.get("html"):
        for label, value in FIGURE.findall(str(element.proto.body)):
            found.append((html.unescape(label), html.unescape(value)))
    return found


def html_texts(at: AppTest) -> list[str]:
    """The words of the dashboard's HTML blocks (a card's status, captions), one a block;
    styles and scripts left out."""
    found = []
    for element in at.get("html"):
        body = str(element.proto.body)
        if body.lstrip().startswith(("<style", "<script")):
            continue
        found.append(html.unescape(TAG.sub(" ", body)))
    return found


H1 = re.compile(r"<h1[^>]*>(.*?)</h1>")


def title(at: AppTest) -> str:
    """The page's title: an st.title, or the heading the dashboard draws in HTML (the home
    page's header is one HTML block)."""
    found = [str(e.value) for e in at.title]
    for element in at.get("html"):
        found += [html.unescape(h) for h in H1.findall(str(element.proto.body))]
    assert found, "no title"
    return found[0]


def metric(at: AppTest, label: str) -> str:
    """The value of the metric (st.metric, or a figure drawn as HTML) with this label."""
    found = [str(m.value) for m in at.metric if m.label == label]
    found += [value for name, value in figures(at) if name == label]
    labels = [m.label for m in at.metric] + [name for name, _ in figures(at)]
    assert found, f"no metric {label!r}: {labels}"
    return found[0]


def buttons(at: AppTest) -> dict[str, Any]:
    return {str(b.key): b for b in at.button if b.key}
