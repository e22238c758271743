"""No English on a Persian page: every page of the dashboard, walked in Chromium in Persian
with real data (a sent campaign with delivery statuses, a scheduled one, an edited one with
its audit trail, an archived one, a cut one, the ledger, the blacklist), its Features menu
open and its forms showing their previews, schedule pickers and exports.

What the user reads (the sidebar, the main area and a popover, as drawn; placeholders)
may hold Latin letters only in an allow-list: the language switch's own name, file
formats (CSV, Excel, GSM-7/UCS-2), the list's name and the user's name as typed, and file
names. Streamlit's own words (the uploader's "Drag and drop", "Browse files", "Limit …
per file", "Choose options") must be Persian too. Numbers must be in Persian digits.
"""

from __future__ import annotations

import getpass
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chapar.delivery import sync_statuses
from chapar.sending import Mode, cut_schedule, send_run
from chapar.settings import get_settings
from chapar.store import repo
from dashboards.i18n import LABELS
from tests.browser.helpers import (  # noqa: F401  (fixture: dashboard)
    chromium,
    dashboard_fixture,
    latin_words,
    page_text,
    settle,
)

pytestmark = pytest.mark.browser

SENDER = "30001234"
ALLOWED = {
    "english", "language",  # the language switch names both languages
    # file formats and encodings, as Persian users write them
    "csv", "tsv", "txt", "xlsx", "xls", "xlsm", "xlsb", "ods", "excel", "gsm", "ucs",
    "utf", "bom", "windows",  # encodings the import preview names
    "people",  # the recipient list's name, as the user typed it
    getpass.getuser().lower(),  # who made the changes (the audit trail)
}  # fmt: skip
LATIN_DIGIT = re.compile(r"[0-9]")


def fa(key: str, **values: object) -> str:
    text = LABELS[key][0]
    return text.format(**values) if values else text


@pytest.fixture
def seeded(tmp_path: Path, simulator: Any, monkeypatch: pytest.MonkeyPatch, write: Any) -> int:
    """A day's worth of data; returns the sent campaign's id."""
    monkeypatch.setenv("CHAPAR_SIMULATOR_PORT", str(simulator.port))
    monkeypatch.setenv("CHAPAR_BATCH_SIZE", "100")
    get_settings.cache_clear()
    repo.topup(10**9, "فاکتور ۱۲")
    numbers = [f"0912{i:07d}" for i in range(300)] + ["نامعتبر", "09120000000"]
    repo.import_list("people", write("people.txt", "\n".join(numbers) + "\n"))
    repo.import_blacklist(write("bl.txt", "09120000007\n"))
    sent = repo.create_campaign("یلدا", "شب یلدا مبارک", SENDER, ["people"])
    send_run(sent, Mode.START)
    sync_statuses()
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    repo.create_campaign("نوروز", "نوروز مبارک", SENDER, ["people"], start_at=tomorrow)
    edited = repo.create_campaign("تخفیف", "تخفیف ویژه", SENDER, ["people"])
    repo.edit_campaign(edited, {"title": "تخفیف پاییز", "send_count": 100})
    archived = repo.create_campaign("بایگانی", "پیام", SENDER, ["people"])
    repo.set_archived(archived, True)
    cut = repo.create_campaign("قطع", "پیام", SENDER, ["people"], start_at=tomorrow)
    cut_schedule(cut)
    return sent


@pytest.fixture
def dashboard_settings(seeded: int) -> dict[str, str]:
    """The data is seeded before the dashboard starts; the default batch size."""
    return {}


def check(page: Any, where: str, problems: list[str]) -> None:
    page.wait_for_timeout(500)  # Streamlit's own words are rewritten as they appear
    text = page_text(page)
    words = latin_words(text, ALLOWED)
    if words:
        problems.append(f"{where}: Latin words {sorted(set(words))}")
    digits = [line for line in text.splitlines() if LATIN_DIGIT.search(line)
              and not re.search(r"\.(csv|xlsx)\b", line)]  # fmt: skip
    if digits:
        problems.append(f"{where}: Latin digits in {digits[:5]}")


def nav(page: Any, key: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=fa(key)).click()
    page.get_by_role("heading", name=fa(key)).first.wait_for()
    settle(page)


def open_page(page: Any, url: str, key: str) -> None:
    page.goto(url)
    page.get_by_role("heading", name=fa(key)).first.wait_for()
    settle(page)


def test_every_page_in_persian_has_no_english(dashboard: str, seeded: int) -> None:
    problems: list[str] = []
    with chromium() as page:
        page.goto(dashboard)
        page.get_by_role("heading", name=fa("home.title")).wait_for()
        settle(page)
        check(page, "home", problems)
        page.get_by_role("button", name=fa("features")).first.click()
        settle(page)
        check(page, "home, Features menu", problems)
        page.keyboard.press("Escape")

        nav(page, "nav.new")
        page.locator('[data-testid="stMultiSelect"]').first.click()
        check(page, "new campaign, list picker open", problems)
        page.get_by_role("option", name="people").click()
        page.keyboard.press("Escape")
        message = page.get_by_label(fa("message"), exact=True)
        message.fill("سلام")
        message.press("Control+Enter")
        settle(page)
        page.get_by_text(fa("schedule.at")).click()
        settle(page)
        check(page, "new campaign, preview and schedule", problems)

        open_page(page, f"{dashboard}/edit?campaign={seeded + 2}", "nav.edit")  # the edited one
        check(page, "edit program, audit trail", problems)
        open_page(page, f"{dashboard}/edit?campaign={seeded + 4}", "nav.edit")  # the cut one
        check(page, "edit program of a cut campaign, why in its audit trail", problems)

        open_page(page, f"{dashboard}/reports?campaign={seeded}", "nav.reports")
        page.get_by_role("button", name=fa("export.prepare", fmt="CSV")).click()
        page.get_by_role(
            "button", name=fa("export.ready", name=f"chapar-campaign-{seeded}-run-1.csv")
        ).wait_for()
        page.get_by_text(fa("rep.show_numbers")).click()  # the table is drawn when opened
        page.get_by_text(fa("pager.page")).first.wait_for()
        settle(page)
        check(page, "send reports, the table of numbers open", problems)

        for key in ("nav.blacklist", "nav.archived", "nav.lists", "nav.credit"):
            nav(page, key)
            check(page, fa(key), problems)
    assert not problems, "\n".join(problems)
