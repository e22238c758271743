"""A page of the dashboard's figures at a chosen size, for the browser test of whole figures:
``?lang=fa|en&e=6..12``. Drawn with the dashboard's own style and pieces in the layouts the
pages use: the home card's row (figures drawn as HTML after the progress bar), the report's
boxed grid of four (HTML), the price preview's four st.metric columns and the balance; the
funnel."""

from __future__ import annotations

import streamlit as st

from dashboards import i18n, ui
from dashboards.i18n import t

st.set_page_config(layout="wide")
lang = st.query_params.get("lang", "fa")
st.session_state["lang"] = "en" if lang == "en" else "fa"
ui.apply_direction()
e = int(st.query_params.get("e", "6"))
pages = 10**e + 996
cost = 10**e * 1180 + 304_080
count = 10**e - 1

st.title("figures")
with st.container(border=True, key="home_card"):
    bar = ui.progress_html(0.5, t("progress.text", handed=i18n.num(count), planned=i18n.num(count)))
    st.html(ui.figures_html([
        ui.Figure(t("home.delivered"), i18n.rate(count, count + 1)),
        ui.Figure(t("reset_count"), i18n.num(count)),
        ui.Figure(t("pages"), i18n.num(pages)),
        ui.Figure(i18n.in_currency(t("cost")), i18n.num(cost)),
    ], columns=ui.CARD_COLUMNS, lead=bar))  # fmt: skip
ui.figures([
    ui.Figure(t(label), i18n.num(cost if label == "fig.cost" else pages))
    for label in ("fig.planned", "fig.sent", "fig.delivered", "fig.pages", "fig.cost")
], columns=4, border=True)  # fmt: skip
cols = st.columns(4)
cols[0].metric(t("new.recipients"), i18n.num(count))
cols[1].metric(t("pages"), i18n.num(pages))
cols[2].metric(i18n.in_currency(t("cost")), i18n.num(cost))
cols[3].metric(i18n.in_currency(t("price.balance")), i18n.num(cost))
st.metric(t("home.balance"), i18n.money(cost))
ui.funnel([(t("funnel.planned"), count), (t("funnel.handed"), count), (t("funnel.delivered"), 1)])
