"""پیشخوان — the dashboard: credit, the active campaigns and each one's Features menu.

While a campaign sends, its card's figures refresh in place every few seconds (a
fragment); when its status changes the whole page reruns, so the Features menu offers
what the new status allows. The menu's actions live outside the fragments.
"""

from __future__ import annotations

import html
import time
from datetime import datetime

import streamlit as st

from chapar.campaigns import Campaign, CampaignStatus
from chapar.errors import ChaparError
from chapar.reports import Totals
from chapar.store import repo
from dashboards import data, i18n, ui
from dashboards.i18n import t

PER_PAGE = 20
REFRESH_S = 2


def is_live(c: Campaign) -> bool:
    """Sending now, or handed to Prefect a moment ago and not yet begun."""
    trig = data.last_trigger(c.id)
    recent = (
        trig is not None
        and trig.error is None
        and time.monotonic() - trig.at < data.PENDING_S
        and trig.fingerprint == data.fingerprint(c)
    )
    return c.is_sending or recent or awaits_statuses(c)


def awaits_statuses(c: Campaign) -> bool:
    """Handed to the provider, delivery statuses still to come, and lately active."""
    view = data.overview().get(c.id)
    if view is None:
        return False
    now = view.current
    final = now.delivered + now.failed + now.blocked
    return now.handed > final and data.lately_active(c.id)


def card_body(
    campaign_id: int, seen: tuple[object, ...], drawn: Campaign | None = None, menu: str = ""
) -> None:
    """Status, progress of the current run, delivered %, reset counter, pages and cost of
    the current run beside the totals of all runs, the schedule, last activity. A live card
    (a fragment) reads its campaign afresh; a still one uses the page's list (``drawn``);
    ``menu`` is the closed Features menu's button (:func:`dashboards.ui.features_menu`).

    Drawn as one HTML block (:func:`dashboards.ui.figures_html`), not ≈25 Streamlit
    elements: most of the browser's work on a first render of this page was the cards'."""
    try:
        c = drawn or repo.get_campaign(campaign_id)
        view = data.overview().get(campaign_id)
    except ChaparError as exc:
        st.error(i18n.error(exc))
        return
    if data.fingerprint(c) != seen:
        ui.redraw()  # the status changed under us: redraw the page and its menus
    parts = [
        f'<div class="chapar-card-title">{html.escape(ui.campaign_label(c))}</div>',
        ui.badge_html(ui.status_text(c), ui.STATUS_COLORS.get(c.status, "gray")),
    ]
    if c.status is CampaignStatus.SCHEDULED and c.start_at is not None:
        parts.append(ui.caption_html(t("schedule.when", when=i18n.when(c.start_at))))
        outside = ui.window_warning(c.sender, c.start_at)
        if outside:
            parts.append(ui.caption_html(outside, color="orange"))
    now = view.current if view else Totals()
    every = view.all_runs if view else Totals()
    if c.current_run:
        text = i18n.join([
            t("progress.text", handed=i18n.num(now.handed), planned=i18n.num(now.planned)),
            t("run.label", n=i18n.num(c.current_run)),
        ])  # fmt: skip
        bar = ui.progress_html(now.handed / now.planned if now.planned else 1.0, text)
    else:
        bar = ui.progress_html(0.0, t("progress.none"))
    figures = [
        ui.Figure(t("home.delivered"), i18n.rate(now.delivered, now.handed)),
        ui.Figure(t("reset_count"), i18n.num(c.reset_count)),
        ui.Figure(t("pages"), i18n.num(now.pages)),
        ui.Figure(i18n.in_currency(t("cost")), i18n.num(now.cost)),
    ]
    parts.append(ui.figures_html(figures, columns=ui.CARD_COLUMNS, lead=bar))
    if every.runs > 1:
        parts.append(ui.caption_html(t(
            "home.totals", runs=i18n.num(every.runs), handed=i18n.num(every.handed),
            delivered=i18n.num(every.delivered), rate=i18n.rate(every.delivered, every.handed),
            pages=i18n.num(every.pages), cost=i18n.money(every.cost))))  # fmt: skip
    activity = c.updated_at
    if isinstance(now.last_activity, datetime) and now.last_activity > activity:
        activity = now.last_activity
    parts.append(ui.caption_html(f"{t('last_activity')}: {i18n.when(activity)}"))
    st.html(f'<div class="chapar-card" data-testid="chaparCard">{menu}{"".join(parts)}</div>')
    trig = data.last_trigger(c.id)
    if trig is not None and trig.error:
        st.error(t("send.failed", error=i18n.error(trig.error)))
    elif trig is not None and trig.url:
        st.markdown(f"[{t('prefect.link')} ↗]({trig.url})")


def campaign_card(c: Campaign) -> None:
    """A card: its body (title included, the border drawn by the block) is one HTML
    element with its closed Features menu in it; an open menu is drawn just before the card
    and sits over the title's end (the ``st-key-features_c…`` rule of ``ui.BASE_CSS``). No
    container, no row of two columns and no closed popover per card: each was more for the
    browser to build on every first render."""
    button = ui.features_menu(c)
    if button:  # the menu is closed: an empty slot where the open menu goes, so opening it
        st.empty()  # changes one element in place instead of shifting the cards after it
    if is_live(c):
        st.fragment(card_body, run_every=REFRESH_S)(c.id, data.fingerprint(c), None, button)
    else:
        card_body(c.id, data.fingerprint(c), c, button)
    ui.send_confirmation(c)


def header(balance: int, active: list[Campaign]) -> None:
    """The title, the credit balance and the heading of the list with its count, as one
    HTML block: an st.metric alone made the browser load nine more chunks of JavaScript."""
    parts = [
        ui.heading_html(t("home.title"), 1),
        ui.figures_html([ui.Figure(t("home.balance"), i18n.money(balance))], columns=1),
        ui.heading_html(t("home.active"), 3),
    ]
    if active:
        parts.append(ui.caption_html(t("home.count", n=i18n.num(len(active)))))
        if any(is_live(c) for c in active):
            parts.append(ui.caption_html(t("home.live")))
    st.html("".join(parts))


try:
    balance, active = data.balance(), data.campaigns(archived=False)
except ChaparError as exc:
    st.html(ui.heading_html(t("home.title"), 1))
    st.error(i18n.error(exc))
    st.stop()
header(balance, active)
if not active:
    st.info(t("no_campaigns"))
with ui.edge():
    start = 0
    if len(active) > PER_PAGE:
        page_no = ui.pager(-(-len(active) // PER_PAGE), key="home_page")
        start = (page_no - 1) * PER_PAGE
    for campaign in active[start : start + PER_PAGE]:
        campaign_card(campaign)
if ui.MENU_PARAM in st.query_params:  # a menu asked for a campaign not on this page
    del st.query_params[ui.MENU_PARAM]
