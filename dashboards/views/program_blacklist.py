"""لیست سیاه برنامه — Program blacklist: this campaign's numbers kept from it, counted by
reason (telecom blacklist, blocked by the provider, opted out, added by hand, frequency cap)
and listed with their reason; paged in DuckDB."""

from __future__ import annotations

import polars as pl
import streamlit as st

from chapar.campaigns import Campaign
from dashboards import data, i18n, ui
from dashboards.i18n import t

PAGE_SIZE = 100


def show(c: Campaign) -> None:
    if c.current_run == 0:
        st.info(t("rep.never"))
        return
    runs: list[int | None] = [None, *range(c.current_run, 0, -1)]
    run_no = st.selectbox(t("run"), runs, key=f"pbl_run_{c.id}",
                          format_func=ui.labels(runs, lambda n: t("all") if n is None
                                                else t("run.label", n=i18n.num(n))))  # fmt: skip
    counts = data.program_blacklist_reasons(c.id, run_no)
    for col, (reason, n) in zip(st.columns(len(counts)), counts.items(), strict=True):
        col.metric(t(f"pbl.reason.{reason}"), i18n.num(n), border=True)
    total = sum(counts.values())
    if total == 0:
        st.caption(t("rows.none"))
        return
    pages = -(-total // PAGE_SIZE)
    page_no = ui.pager(pages, key=f"pbl_page_{c.id}_{run_no}") if pages > 1 else 1
    offset = (page_no - 1) * PAGE_SIZE
    frame = data.program_blacklist(c.id, run_no, offset, PAGE_SIZE)
    st.caption(t("rows", first=i18n.num(offset + 1), last=i18n.num(offset + frame.height),
                 total=i18n.num(total)))  # fmt: skip
    # The reason is a status code: how it kept the number, and why, in words (made here, in
    # the session's thread, which knows its language).
    how = {r: t(f"pbl.how.{r}") for r in counts}
    why = {r: t(f"pbl.reason.{r}") for r in counts}
    frame = frame.select(
        "number", "operator", "run_no",
        pl.col("reason").replace_strict(how, return_dtype=pl.String).alias("how"),
        pl.col("reason").replace_strict(why, return_dtype=pl.String),
        "at",
    )  # fmt: skip
    ui.table(ui.localized(frame))


st.title(t("pbl.title"))
st.caption(t("pbl.intro"))
with ui.edge():
    chosen = ui.pick_campaign(data.campaigns(archived=None), key="pbl_pick")
    if chosen is not None:
        show(chosen)
