"""اعتبار — Credit: the balance, top-ups and the ledger (top-ups, charges, refunds)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from chapar.errors import ChaparError
from chapar.store import repo
from dashboards import data, i18n, ui
from dashboards.i18n import t

LEDGER_ROWS = 50

st.title(t("cr.title"))
with ui.edge():
    st.metric(t("cr.balance"), i18n.money(data.balance()), border=True)
    st.subheader(t("cr.topup"))
    with st.form("topup", clear_on_submit=True, border=True):
        raw = st.text_input(t("cr.amount", currency=i18n.currency()), key="topup_amount",
                            placeholder=i18n.num(1_000_000))  # fmt: skip
        note = st.text_input(t("cr.note"), key="topup_note")
        if st.form_submit_button(t("cr.do_topup"), type="primary"):
            try:
                amount = i18n.parse_int(raw)
            except ValueError:
                st.error(t("int.bad", value=raw))
            else:
                try:
                    balance = repo.topup(amount or 0, note.strip() or None)
                except ChaparError as exc:
                    st.error(i18n.error(exc))
                else:
                    data.changed()
                    ui.flash("success", t("cr.done", balance=i18n.money(balance)))
                    st.rerun()

    st.subheader(t("cr.ledger"))
    entries = repo.ledger(LEDGER_ROWS)
    if not entries:
        st.caption(t("rows.none"))
    else:
        ui.table(pl.DataFrame({
            t("col.at"): [i18n.when(e.at, seconds=True) for e in entries],
            t("cr.kind"): [t(f"kind.{e.kind}") if i18n.has(f"kind.{e.kind}") else e.kind
                           for e in entries],
            t("cr.amount", currency=i18n.currency()): [i18n.num(e.amount) for e in entries],
            t("campaign"): [i18n.num(e.campaign_id) if e.campaign_id else "" for e in entries],
            t("run"): [i18n.num(e.run_no) if e.run_no else "" for e in entries],
            t("cr.note"): [i18n.ledger_note(e.kind, e.note, e.run_no, e.batch_no) for e in entries],
        }))  # fmt: skip
