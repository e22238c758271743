"""پیشخوان — the dashboard: credit, the active campaigns and each one's Features menu.

While a campaign sends, its card's figures refresh in place every few seconds (a
fragment); when its status changes the whole page reruns, so the Features menu offers
what the new status allows. The menu's actions live outside the fragments.
"""

from __future__ import annotations

import time
from datetime import datetime

import streamlit as st

from chapar.campaigns import Campaign
from chapar.errors import ChaparError
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
    return c.is_sending or recent


def card_body(campaign_id: int, seen: tuple[object, ...]) -> None:
    """Status, progress of the current run, reset counter, pages, cost, last activity."""
    try:
        c = repo.get_campaign(campaign_id)
        summary = data.summaries().get(campaign_id, {})
    except ChaparError as exc:
        st.error(str(exc))
        return
    if data.fingerprint(c) != seen:
        st.rerun()  # the status changed under us: redraw the page and its menus
    ui.status_badge(c)
    planned = int(summary.get("planned") or 0)
    handed = int(summary.get("handed") or 0)
    progress, resets, pages, cost = st.columns([3, 1, 1, 2])
    with progress:
        if c.current_run:
            text = t("progress.text", handed=i18n.num(handed), planned=i18n.num(planned))
            text += f" · {t('run.label', n=i18n.num(c.current_run))}"
            st.progress(handed / planned if planned else 1.0, text=text)
        else:
            st.progress(0.0, text=t("progress.none"))
    resets.metric(t("reset_count"), i18n.num(c.reset_count))
    pages.metric(t("pages"), i18n.num(int(summary.get("pages") or 0)))
    cost.metric(i18n.in_currency(t("cost")), i18n.num(int(summary.get("cost") or 0)))
    activity = c.updated_at
    last_message = summary.get("last_activity")
    if isinstance(last_message, datetime) and last_message > activity:
        activity = last_message
    st.caption(f"{t('last_activity')}: {i18n.when(activity)}")
    trig = data.last_trigger(c.id)
    if trig is not None and trig.error:
        st.error(t("send.failed", error=trig.error))
    elif trig is not None and trig.url:
        st.markdown(f"[{t('prefect.link')} ↗]({trig.url})")


def campaign_card(c: Campaign) -> None:
    with st.container(border=True, key=f"card_c{c.id}"):
        head, menu = st.columns([5, 1], vertical_alignment="center")
        head.markdown(f"**{ui.campaign_label(c)}**")
        with menu:
            ui.features_menu(c)
        if is_live(c):
            st.fragment(card_body, run_every=REFRESH_S)(c.id, data.fingerprint(c))
        else:
            card_body(c.id, data.fingerprint(c))
        ui.reset_confirmation(c)


st.title(t("home.title"))
with ui.edge():
    st.metric(t("home.balance"), i18n.money(repo.balance()))
    st.subheader(t("home.active"))
    active = data.campaigns(archived=False)
    if not active:
        st.info(t("no_campaigns"))
    else:
        st.caption(t("home.count", n=i18n.num(len(active))))
        if any(is_live(c) for c in active):
            st.caption(t("home.live"))
        start = 0
        if len(active) > PER_PAGE:
            page_no = st.pagination(-(-len(active) // PER_PAGE), key="home_page")
            start = (page_no - 1) * PER_PAGE
        for campaign in active[start : start + PER_PAGE]:
            campaign_card(campaign)
