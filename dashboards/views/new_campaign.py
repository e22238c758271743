"""کمپین جدید — New campaign, with a live page count and price preview (a dry run) priced on
its sender line as sending charges (footer, opt-outs, frequency cap, per-recipient texts);
the line's footer and cap beside it, and "defer capped"."""

from __future__ import annotations

from datetime import datetime, timedelta

import streamlit as st

from chapar.errors import ChaparError
from chapar.store import repo
from dashboards import beyond, data, i18n, ui
from dashboards.i18n import t

st.title(t("new.title"))
with ui.edge():
    names = data.list_names()
    if not names:
        st.info(t("no_lists"))
        st.page_link(ui.PAGES["lists"], label=t("nav.lists"), icon=":material/contacts:")
    title = st.text_input(t("title"), key="new_title")
    sender = st.text_input(t("sender"), key="new_sender", help=t("new.sender_help"),
                           value=st.session_state.get("last_sender", ""))  # fmt: skip
    beyond.line_settings(sender)
    message = ui.composer("new_msg")
    source = st.multiselect(t("source"), names, key="new_source", placeholder=t("choose"))
    count, count_ok = ui.int_input(
        t("send_count"), "new_count", None, minimum=1, placeholder=t("send_count.all"),
        help=t("send_count.help"),
    )  # fmt: skip
    modes = ["none", "at"]
    when = st.radio(t("schedule"), modes, key="new_sched", horizontal=True,
                    format_func=ui.labels(modes, lambda o: t(f"schedule.{o}")))  # fmt: skip
    start_at = None
    if when == "at":
        soon = datetime.now(i18n.tz()) + timedelta(hours=1)
        start_at = ui.schedule_picker("new_start", soon)
        if sender.strip():
            ui.schedule_note(sender.strip(), start_at)
    defer_capped = beyond.defer_checkbox("new_defer")

    st.subheader(t("new.preview"))
    if not source:
        st.caption(t("new.pick_source"))
    ui.price_preview(message, source, count, sender, defer_capped)

    if st.button(t("new.create"), type="primary", key="new_create", icon=":material/add:",
                 disabled=not count_ok):  # fmt: skip
        try:
            campaign_id = repo.create_campaign(
                title, message, sender, source, send_count=count,
                start_at=start_at, actor=data.actor(), defer_capped=defer_capped,
            )  # fmt: skip
        except ChaparError as exc:
            st.error(i18n.error(exc))
        else:
            data.changed()
            st.session_state["last_sender"] = sender.strip()
            ui.flash("success", t("new.created", title=i18n.isolate(title.strip()),
                                  id=i18n.num(campaign_id)))  # fmt: skip
            if start_at is not None:
                ui.schedule_changed(campaign_id)
            ui.go("home")
