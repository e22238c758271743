"""The page's frame in Persian (right to left), in Chromium: on a wide screen the sidebar
stands open on the right; on a phone it is an overlay that slides in and out, and closed
leaves nothing of itself over the page (flipped, Streamlit's way of hiding it left a strip
of squeezed menu across the cards)."""

from __future__ import annotations

from typing import Any

import pytest

from dashboards.i18n import LABELS
from tests.browser.helpers import (  # noqa: F401  (fixtures: dashboard, its settings)
    chromium,
    dashboard_fixture,
    dashboard_settings_fixture,
    settle,
)

pytestmark = pytest.mark.browser

SIDEBAR = 'section[data-testid="stSidebar"] [data-testid="stSidebarContent"]'


def box(page: Any, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return dict(found)


def seen(page: Any, selector: str, width: int) -> float:
    """How many pixels of the element's width are inside the viewport."""
    b = box(page, selector)
    return max(0.0, min(b["x"] + b["width"], width) - max(b["x"], 0.0))


def open_home(page: Any, url: str) -> None:
    page.goto(url)
    page.get_by_role("heading", name=LABELS["home.title"][0]).wait_for()
    settle(page)


def test_on_a_wide_screen_the_sidebar_stands_open_on_the_right(dashboard: str) -> None:
    with chromium(width=1400, height=900) as page:
        open_home(page, dashboard)
        sidebar = box(page, SIDEBAR)
        assert sidebar["x"] > 700 and sidebar["x"] + sidebar["width"] <= 1400
        assert not page.locator('[data-testid="stSidebarCollapseButton"]').first.is_visible()


def test_on_a_phone_the_closed_sidebar_leaves_nothing_over_the_page(dashboard: str) -> None:
    width = 390
    with chromium(width=width, height=800) as page:
        open_home(page, dashboard)
        assert seen(page, SIDEBAR, width) == 0  # closed at first
        page.locator('[data-testid="stExpandSidebarButton"]').first.click()
        page.get_by_role("link", name=LABELS["nav.credit"][0]).wait_for()
        page.wait_for_timeout(800)  # the slide
        assert seen(page, SIDEBAR, width) > 200  # open, over the page
        page.locator('[data-testid="stSidebarCollapseButton"] button').first.click()
        page.wait_for_timeout(800)
        assert seen(page, SIDEBAR, width) == 0  # closed again: nothing of it left


def test_on_a_phone_a_campaign_s_status_and_why_wrap_whole(dashboard: str, write: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from chapar.sending import cut_schedule
    from chapar.store import repo

    repo.import_list("people", write("people.txt", "09121234567\n09351234567\n"))
    cid = repo.create_campaign("قطع", "پیام", "30001234", ["people"],
                               start_at=datetime.now(UTC) + timedelta(days=1))  # fmt: skip
    cut_schedule(cid)  # cancelled, with a long why
    width = 390
    with chromium(width=width, height=800) as page:
        page.goto(f"{dashboard}/edit?campaign={cid}")
        page.get_by_role("heading", name=LABELS["edit.title"][0]).first.wait_for()
        settle(page)
        badge = page.locator('[data-testid="chaparBadge"]').first
        why = repo.get_campaign(cid).status_reason
        assert why is not None and why.text("fa") in badge.inner_text()
        b = badge.bounding_box()
        assert b is not None and b["x"] >= 0 and b["x"] + b["width"] <= width
        assert badge.evaluate("e => e.scrollWidth <= e.clientWidth")  # nothing cut


def test_a_link_to_a_page_that_is_not_there_says_so_in_persian(dashboard: str) -> None:
    with chromium() as page:
        page.goto(f"{dashboard}/no-such-page")
        page.get_by_text("صفحه پیدا نشد").wait_for()
        page.get_by_text("صفحه‌ای که خواستید وجود ندارد؛ پیشخوان باز شد.").wait_for()
        assert page.get_by_text("Page not found").count() == 0
