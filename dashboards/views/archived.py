"""بایگانی شده ها — Archived campaigns, with Unarchive. Nothing deletes a campaign."""

from __future__ import annotations

import streamlit as st

from chapar.reports import Totals
from dashboards import data, i18n, ui
from dashboards.i18n import t

st.title(t("arc.title"))
st.caption(t("arc.note"))
with ui.edge():
    archived = data.campaigns(archived=True)
    if not archived:
        st.info(t("arc.none"))
    overview = data.overview() if archived else {}
    for c in archived:
        view = overview.get(c.id)
        every = view.all_runs if view else Totals()
        with st.container(border=True, key=f"arc_c{c.id}"):
            head, actions = st.columns([4, 2], vertical_alignment="center")
            with head:
                st.markdown(f"**{ui.campaign_label(c)}**")
                ui.status_badge(c)
                st.caption(i18n.join([
                    f"{t('reset_count')}: {i18n.num(c.reset_count)}",
                    f"{t('home.delivered')}: {i18n.rate(every.delivered, every.handed)}",
                    f"{t('pages')}: {i18n.num(every.pages)}",
                    f"{t('cost')}: {i18n.money(every.cost)}",
                    f"{t('last_activity')}: {i18n.when(c.updated_at)}",
                ]))  # fmt: skip
            with actions:
                if st.button(t("f.unarchive"), key=f"unarchive_c{c.id}", type="primary",
                             icon=":material/unarchive:", width="stretch"):  # fmt: skip
                    ui.archive(c, False)
                if st.button(t("f.reports"), key=f"arc_reports_c{c.id}", width="stretch"):
                    ui.go("reports", c.id)
