"""ویرایش برنامه — Edit program: title, send count, message, source and schedule only;
refused while the campaign is sending. Every change lands in the audit trail below."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import polars as pl
import streamlit as st

from chapar import campaigns as rules
from chapar.campaigns import Campaign
from chapar.errors import ChaparError
from chapar.store import repo
from dashboards import beyond, data, i18n, ui
from dashboards.i18n import t


def schedule_input(c: Campaign, disabled: bool) -> tuple[bool, datetime | None]:
    """(changed?, new start time or None): a Jalali date (Gregorian in English) and a
    24-hour Tehran time; a warning when it falls outside the line's sending window."""
    st.markdown(f"**{t('schedule')}**")
    st.caption(t("schedule.current", when=i18n.when(c.start_at)))
    options = ["keep", "change", "clear"] if c.start_at else ["keep", "change"]
    choice = st.radio(t("schedule"), options, key=f"edit_sched_{c.id}", horizontal=True,
                      label_visibility="collapsed", disabled=disabled,
                      format_func=ui.labels(options, lambda o: t(f"schedule.{o}")))  # fmt: skip
    if choice == "clear":
        return True, None
    if choice != "change":
        return False, c.start_at
    start = c.start_at or datetime.now(i18n.tz()) + timedelta(hours=1)
    picked = ui.schedule_picker(f"edit_start_{c.id}", start, disabled=disabled)
    ui.schedule_note(c.sender, picked)
    return True, picked


def edit_form(c: Campaign) -> None:
    ui.status_badge(c)
    if c.start_at is not None and c.current_run == 0:
        st.caption(t("schedule.when", when=i18n.when(c.start_at)))
    check = rules.can_edit(c)
    disabled = not check.allowed
    if disabled:
        st.warning(t("edit.refused", reason=i18n.reason(check.reason)))
    k = c.id
    title = st.text_input(t("title"), value=c.title, key=f"edit_title_{k}", disabled=disabled)
    count, count_ok = ui.int_input(t("send_count"), f"edit_count_{k}", c.send_count,
                                   placeholder=t("send_count.all"), help=t("send_count.help"),
                                   disabled=disabled, minimum=1)  # fmt: skip
    message = ui.composer(f"edit_msg_{k}", c.message, disabled=disabled)
    names = data.list_names()
    options = list(dict.fromkeys([*c.source, *names]))
    source = st.multiselect(t("source"), options, default=list(c.source), key=f"edit_src_{k}",
                            disabled=disabled, placeholder=t("choose"))  # fmt: skip
    if c.current_run:
        st.info(t("edit.next_run"))
    defer_capped = beyond.defer_checkbox(f"edit_defer_{k}", c.defer_capped, disabled)
    ui.price_preview(message, source, count, c.sender, defer_capped)
    sched_changed, start_at = schedule_input(c, disabled)

    save, cut = st.columns(2)
    # A Save clicked before the campaign started sending reaches the core, which refuses it.
    stale_click = bool(st.session_state.get(f"edit_save_{k}", False))
    clicked = save.button(t("edit.save"), type="primary", key=f"edit_save_{k}", disabled=disabled)
    if (clicked or stale_click) and count_ok:
        changes: dict[str, Any] = {}
        if title != c.title:
            changes["title"] = title
        if count != c.send_count:
            changes["send_count"] = count
        if message != c.message:
            changes["message"] = message
        if tuple(source) != c.source:
            changes["source"] = tuple(source)
        if sched_changed and start_at != c.start_at:
            changes["start_at"] = start_at
        defer_changed = defer_capped != c.defer_capped
        if not changes and not defer_changed:
            st.info(t("edit.nothing"))
        else:
            try:
                done = repo.edit_campaign(c.id, changes, actor=data.actor()) if changes else []
                if defer_changed and repo.set_defer_capped(c.id, defer_capped, data.actor()):
                    done.append(repo.Change("defer_capped", c.defer_capped, defer_capped))
            except ChaparError as exc:
                st.error(i18n.error(exc))
            else:
                data.changed()
                names = [t("field.defer_capped") if ch.field == "defer_capped"
                         else i18n.field_name(ch.field) for ch in done]  # fmt: skip
                fields = ("، " if i18n.lang() == "fa" else ", ").join(names)
                ui.flash("success", t("edit.saved", fields=fields) if done else t("edit.nothing"))
                if any(ch.field == "start_at" for ch in done):
                    ui.schedule_changed(c.id)
                st.rerun()
    with cut:
        cut_check = rules.can_cut(c)
        if ui.feature_button(t("f.cut"), cut_check, f"edit_cut_{k}"):
            ui.cut(c)
        if cut_check.allowed:
            st.caption(t("edit.cut_help"))


def audit(c: Campaign) -> None:
    """Who changed what and when: actions, fields and values in the session's words,
    times in Jalali (Persian) or Gregorian, Tehran time."""
    st.subheader(t("edit.audit"))
    trail = repo.audit_trail(c.id)
    if not trail:
        st.caption(t("rows.none"))
        return
    frame = pl.DataFrame(
        {
            t("audit.at"): [i18n.when(a.at, seconds=True) for a in trail],
            t("audit.actor"): [i18n.actor(a.actor) for a in trail],
            t("audit.action"): [i18n.audit_action(a.action) for a in trail],
            t("audit.field"): [i18n.audit_field(a.field) for a in trail],
            t("audit.old"): [i18n.audit_value(a.field, a.old_value) for a in trail],
            t("audit.new"): [i18n.audit_value(a.field, a.new_value) for a in trail],
        }
    )
    ui.table(frame)


st.title(t("edit.title"))
st.caption(t("edit.intro"))
with ui.edge():
    chosen = ui.pick_campaign(data.campaigns(archived=None), key="edit_pick")
    if chosen is not None:
        edit_form(chosen)
        audit(chosen)
