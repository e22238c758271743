"""The language switch the dashboard draws as links in HTML instead of a radio (a first
render loads and builds less). In Chromium, a click changes the URL in place and the page
reruns in the same session (the page's script and Streamlit's ``popstate``), so what was
typed stays; the browser's Back returns to the language before."""

from __future__ import annotations

import pytest

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
