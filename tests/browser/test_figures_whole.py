"""Every figure whole, in Persian and English, from 10^6 to 10^12, as Chromium draws it.

A Streamlit metric draws its value on one line and cuts what does not fit with an ellipsis;
in a right-to-left page the ellipsis ate the *leading* digits ("…٬۹۹۶"). The DOM text alone
cannot show that (the ellipsis is drawn, not written), so each value is checked twice: its
text is the whole number, and its box does not overflow (nothing is clipped) and stays
inside its card. The page (figures_app.py) uses the dashboard's own style and pieces in
the layouts of the home card, the report's grid, the price preview and the funnel.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.helpers import chromium, fa_num, needs_chromium, settle, streamlit

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).with_name("figures_app.py")

MEASURE = """() => [...document.querySelectorAll(
    '[data-testid="stMetric"], [data-testid="chaparFigure"]')].map((card) => {
  const value = card.querySelector(
    '[data-testid="stMetricValue"], [data-testid="chaparFigureValue"]');
  const boxes = [value, ...value.querySelectorAll('*')];
  const clipped = boxes.some((el) => el.scrollWidth > el.clientWidth + 1);
  const c = card.getBoundingClientRect();
  const inside = boxes.every((el) => {
    const r = el.getBoundingClientRect();
    return r.width === 0 || (r.left >= c.left - 1 && r.right <= c.right + 1);
  });
  return { text: value.innerText.trim(), clipped, inside };
})"""


@pytest.fixture(scope="module")
def figures_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    needs_chromium()
    folder = tmp_path_factory.mktemp("figures")
    env = {"CHAPAR_DATA_DIR": str(folder / "data")}
    with streamlit(SCRIPT, env, folder / "streamlit.log") as url, chromium() as page:
        yield url, page


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_figures_from_a_million_to_a_trillion_are_whole(
    figures_page: tuple[str, Any], lang: str
) -> None:
    url, page = figures_page
    show = fa_num if lang == "fa" else (lambda n: f"{n:,}")
    for e in range(6, 13):
        page.goto(f"{url}/?lang={lang}&e={e}")
        page.get_by_role("heading", name="figures").wait_for()
        settle(page)
        page.wait_for_function(
            'n => document.querySelectorAll(\'[data-testid="stMetricValue"], '
            '[data-testid="chaparFigureValue"]\').length >= n',
            arg=14,
        )
        page.wait_for_timeout(300)  # the page's style applies with its run
        pages, cost = 10**e + 996, 10**e * 1180 + 304_080
        found = page.evaluate(MEASURE)
        texts = [f["text"] for f in found]
        assert texts.count(show(pages)) >= 4, (e, texts)
        assert texts.count(show(cost)) >= 3, (e, texts)
        wholes = [f for f in found if not f["clipped"] and f["inside"]]
        assert wholes == found, (lang, e, [f for f in found if f not in wholes])
        body = str(page.locator('[data-testid="stMain"]').inner_text())
        assert show(10**e - 1) in body  # the progress bar's and the funnel's counts
        if lang == "fa":
            assert "…" not in body
