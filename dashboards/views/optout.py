"""لغو و پاسخ‌ها — Opt-outs and replies: the suppression ledger (every reason a number is not
sent to, nothing deleted), checking a number on a line, adding a row by hand, and the
replies read from the provider."""

from __future__ import annotations

import polars as pl
import streamlit as st

from chapar import suppressions
from chapar.errors import ChaparError
from chapar.numbers import format_number
from dashboards import data, i18n, ui
from dashboards.i18n import t

KINDS = suppressions.KINDS


def ledger() -> None:
    sizes = suppressions.counts()
    cols = st.columns(len(KINDS))
    for col, kind in zip(cols, KINDS, strict=True):
        col.metric(t(f"ox.kind.{kind}"), i18n.num(sizes.get(kind, 0)), border=True)
    rows = suppressions.suppressions(limit=200)
    if not rows:
        st.caption(t("rows.none"))
        return
    frame = pl.DataFrame(
        {
            t("ox.number"): [format_number(r.number) for r in rows],
            t("ox.kind"): [t(f"ox.kind.{r.kind}") for r in rows],
            t("ox.scope"): [r.scope for r in rows],
            t("ox.source"): [r.source or "" for r in rows],
            t("ox.campaign"): [str(r.campaign_id or "") for r in rows],
            t("ox.when"): [i18n.when(r.recorded_at) for r in rows],
        }
    )
    ui.table(frame)


def check() -> None:
    st.subheader(t("ox.check"))
    left, right = st.columns(2)
    number = left.text_input(t("ox.number"), key="ox_check_number")
    line = right.text_input(t("ox.line"), key="ox_check_line")
    if st.button(t("ox.do_check"), key="ox_do_check") and number.strip():
        try:
            canonical, status = suppressions.effective(number, line.strip() or None)
        except ChaparError as exc:
            st.error(exc.text(i18n.lang()))
            return
        shown = format_number(canonical)
        if status is None:
            st.success(t("ox.free", number=shown))
        else:
            st.warning(t("ox.barred", number=shown, status=i18n.message_state(status)))


def add() -> None:
    st.subheader(t("ox.add"))
    a, b, c = st.columns(3)
    number = a.text_input(t("ox.number"), key="ox_add_number")
    kind = b.selectbox(t("ox.kind"), suppressions.MANUAL_KINDS, key="ox_add_kind",
                       format_func=ui.labels(suppressions.MANUAL_KINDS,
                                             lambda k: t(f"ox.kind.{k}")))  # fmt: skip
    line = c.text_input(t("ox.line_or_all"), key="ox_add_line")
    if st.button(t("ox.do_add"), key="ox_do_add", type="primary"):
        try:
            row = suppressions.add_suppression(
                number, kind, line=line.strip() or None, source=f"user:{data.actor()}"
            )
        except ChaparError as exc:
            st.error(exc.text(i18n.lang()))
        else:
            data.changed()
            ui.flash("success", t("ox.added", number=format_number(row.number),
                                  kind=t(f"ox.kind.{row.kind}"), scope=row.scope))  # fmt: skip
            st.rerun()


def inbox() -> None:
    from chapar.inbox import sync_inbox
    from chapar.store import connect
    from chapar.store.queries import q

    st.subheader(t("ox.inbox"))
    if st.button(t("ox.sync"), key="ox_sync"):
        try:
            r = sync_inbox()
        except ChaparError as exc:
            st.error(exc.text(i18n.lang()))
        else:
            st.success(t("ox.synced", new=i18n.num(r.new), out=i18n.num(r.opted_out),
                         into=i18n.num(r.opted_in), other=i18n.num(r.other)))  # fmt: skip
    with connect() as con:
        rows = con.execute(q("inbox_recent"), {"kind": None, "limit": 100}).fetchall()
    if not rows:
        st.caption(t("rows.none"))
        return
    ui.table(
        pl.DataFrame(
            {
                t("ox.when"): [i18n.when(r[6]) for r in rows],
                t("ox.number"): [format_number(r[1]) if r[1] else "" for r in rows],
                t("ox.line"): [r[2] for r in rows],
                t("ox.reply_kind"): [t(f"ox.reply.{r[4]}") for r in rows],
                t("ox.campaign"): [str(r[5] or "") for r in rows],
                t("ox.text"): [r[3] for r in rows],
            }
        )
    )


st.title(t("ox.title"))
st.caption(t("ox.intro"))
with ui.edge():
    ledger()
    check()
    add()
    inbox()
