"""Chapar's dashboard: ``streamlit run dashboards/app.py``.

The entrypoint: page setup, the language switch (فارسی/English, Persian first and
right-to-left), messages carried over a rerun, then the page st.navigation chose.
"""

from __future__ import annotations

import os
import sys
import time

import streamlit as st

from dashboards import ui
from dashboards.i18n import t

_started = time.perf_counter()
st.set_page_config(page_title="چاپار | Chapar", page_icon="📨", layout="wide")

ui.language_switch()
ui.apply_direction()

page = st.navigation(
    {
        t("nav.campaigns"): [
            st.Page(ui.PAGES["home"], title=t("nav.home"), icon=":material/dashboard:",
                    url_path="home", default=True),
            st.Page(ui.PAGES["new"], title=t("nav.new"), icon=":material/add_circle:",
                    url_path="new"),
            st.Page(ui.PAGES["edit"], title=t("nav.edit"), icon=":material/edit:",
                    url_path="edit"),
            st.Page(ui.PAGES["reports"], title=t("nav.reports"), icon=":material/bar_chart:",
                    url_path="reports"),
            st.Page(ui.PAGES["blacklist"], title=t("nav.blacklist"), icon=":material/block:",
                    url_path="program-blacklist"),
            st.Page(ui.PAGES["archived"], title=t("nav.archived"), icon=":material/archive:",
                    url_path="archived"),
        ],
        t("nav.setup"): [
            st.Page(ui.PAGES["lists"], title=t("nav.lists"), icon=":material/contacts:",
                    url_path="lists"),
            st.Page(ui.PAGES["credit"], title=t("nav.credit"), icon=":material/payments:",
                    url_path="credit"),
            st.Page(ui.PAGES["optout"], title=t("nav.optout"), icon=":material/unsubscribe:",
                    url_path="optout"),
        ],
    }
)  # fmt: skip
ui.show_flashes()
try:
    page.run()
finally:  # a rerun or page switch ends the run by an exception: it is timed too
    if os.environ.get("CHAPAR_DASHBOARD_TIMING"):  # bench/bench_dashboard.py reads these lines
        seconds = time.perf_counter() - _started
        print(f"chapar-timing {page.url_path or 'home'} {seconds:.3f}", file=sys.stderr,
              flush=True)  # fmt: skip
