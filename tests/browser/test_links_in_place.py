"""The two links the dashboard draws in HTML instead of Streamlit widgets (a first render of
the home page loads and builds less): the language switch and a closed Features menu. In
Chromium, a click on either changes the URL in place and the page reruns in the same
session (the page's script and Streamlit's ``popstate``), so what was typed stays; the
browser's Back returns to the language before."""

from __future__ import annotations

from typing import Any

import pytest

from chapar.store import repo
from dashboards.i18n import LABELS
from tests.browser.helpers import (  # noqa: F401  (fixtures: dashboard, its settings)
    chromium,
    dashboard_fixture,
    dashboard_settings_fixture,
    settle,
)

pytestmark = pytest.mark.browser


def fa(key: str) -> str:
    return LABELS[key][0]


def en(key: str) -> str:
    return LABELS[key][1]


def test_the_language_switch_keeps_the_session_and_back_returns(dashboard: str) -> None:
    with chromium() as page:
        page.goto(f"{dashboard}/new?lang=fa")
        page.get_by_role("heading", name=fa("new.title")).first.wait_for()
        settle(page)
        box = page.get_by_label(fa("title"), exact=True)
        box.fill("جشنواره پاییز")
        box.press("Enter")
        settle(page)

        page.evaluate("() => { window.chaparSameDocument = true; }")
        page.locator('[data-testid="stSidebar"]').get_by_role("link", name="English").click()
        page.get_by_role("heading", name=en("new.title")).first.wait_for()
        settle(page)
        assert "lang=en" in page.url
        assert page.get_by_label(en("title"), exact=True).input_value() == "جشنواره پاییز"
        assert page.evaluate("() => window.chaparSameDocument === true")  # no reload

        page.go_back()
        page.get_by_role("heading", name=fa("new.title")).first.wait_for()
        settle(page)
        assert "lang=fa" in page.url
        assert page.get_by_label(fa("title"), exact=True).input_value() == "جشنواره پاییز"


def test_a_closed_menu_opens_in_place_and_closes_back_to_its_button(
    dashboard: str, write: Any
) -> None:
    repo.import_list("people", write("people.txt", "09120000001\n"))
    cid = repo.create_campaign("یلدا", "شب یلدا مبارک", "30001234", ["people"])
    with chromium() as page:
        page.goto(dashboard)
        page.get_by_role("heading", name=fa("home.title")).wait_for()
        settle(page)
        button = page.locator('[data-testid="chaparMenuButton"]')
        assert button.count() == 1
        assert page.locator('[data-testid="stPopover"]').count() == 0

        page.get_by_role("button", name=fa("features")).click()
        body = page.locator('[data-testid="stPopoverBody"]')
        body.get_by_role("button", name=fa("f.send"), exact=True).wait_for()
        settle(page)
        assert f"features={cid}" not in page.url  # read once: a reload does not reopen it

        page.keyboard.press("Escape")
        settle(page)
        button.wait_for()
        assert page.locator('[data-testid="stPopover"]').count() == 0
