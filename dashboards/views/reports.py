"""گزارشات ارسال — Send reports: a run's figures, charts and its numbers by status flag,
paged in DuckDB (LIMIT/OFFSET), with CSV and Excel downloads."""

from __future__ import annotations

import polars as pl
import streamlit as st

from chapar.campaigns import Campaign, MessageState
from chapar.reports import RunReport
from dashboards import data, i18n, ui
from dashboards.i18n import t

PAGE_SIZES = (50, 100, 500)
FIGURES = (
    "planned", "sent", "delivered", "undelivered", "blocked", "blacklisted",
    "invalid", "duplicates", "pending", "awaiting delivery", "pages", "cost",
)  # fmt: skip


def pick_run(c: Campaign) -> int:
    runs = list(range(c.current_run, 0, -1))  # the latest first, and by default
    return int(st.selectbox(
        t("run"), runs, key=f"rep_run_{c.id}",
        format_func=ui.labels(runs, lambda n: t("run.latest" if n == c.current_run
                                                 else "run.label", n=i18n.num(n))),
    ))  # fmt: skip


def run_header(rep: RunReport) -> None:
    st.badge(i18n.campaign_status(rep.status), color="gray")
    parts = [t("rep.started", when=i18n.when(rep.started_at))]
    if rep.finished_at:
        parts.append(t("rep.finished", when=i18n.when(rep.finished_at)))
    st.caption(i18n.join(parts))
    if rep.reason:
        st.warning(t("rep.stopped", reason=i18n.reason(rep.reason)))


def figures(rep: RunReport) -> None:
    st.subheader(t("rep.figures"))
    values = rep.figures()
    with st.grid(4, border=False, key=f"rep_figures_{rep.campaign_id}_{rep.run_no}"):
        for name in FIGURES:
            value = values[name]
            label = t(f"fig.{name}")
            st.metric(i18n.in_currency(label) if name == "cost" else label, i18n.num(value),
                      border=True)  # fmt: skip


def charts(rep: RunReport) -> None:
    st.subheader(t("rep.charts"))
    by_status, by_operator, over_time = st.tabs(
        [t("rep.by_status"), t("rep.by_operator"), t("rep.over_time")]
    )
    status_col, count_col = t("col.status"), t("rep.count")
    with by_status:
        frame = pl.DataFrame(
            {status_col: [i18n.message_state(s) for s in rep.counts],
             count_col: list(rep.counts.values())},
            schema={status_col: pl.String, count_col: pl.Int64},
        )  # fmt: skip
        if frame.height:
            st.bar_chart(frame, x=status_col, y=count_col, horizontal=True)
        else:
            st.caption(t("rows.none"))
    with by_operator:
        op_col = t("rep.operator")
        rows = [
            (i18n.operator(op), i18n.message_state(s), n)
            for op, states in rep.by_operator.items()
            for s, n in states.items()
        ]
        if rows:
            frame = pl.DataFrame(rows, schema={op_col: pl.String, status_col: pl.String,
                                               count_col: pl.Int64}, orient="row")  # fmt: skip
            st.bar_chart(frame, x=op_col, y=count_col, color=status_col)
        else:
            st.caption(t("rows.none"))
    with over_time:
        minute_col = t("rep.minute")
        if rep.over_time:
            zone = i18n.tz()
            frame = pl.DataFrame(
                {minute_col: [m.astimezone(zone).replace(tzinfo=None) for m, _ in rep.over_time],
                 count_col: [n for _, n in rep.over_time]}
            )  # fmt: skip
            st.bar_chart(frame, x=minute_col, y=count_col)
        else:
            st.caption(t("rows.none"))


def numbers(c: Campaign, rep: RunReport) -> None:
    st.subheader(t("rep.numbers"))
    flag_col, size_col = st.columns([3, 1])
    flags: list[str | None] = [None, *(s.value for s in MessageState)]
    status = flag_col.selectbox(
        t("rep.flag"), flags, key=f"rep_flag_{c.id}",
        format_func=ui.labels(flags, lambda s: (
            f"{t('all')} ({i18n.num(sum(rep.counts.values()))})" if s is None
            else f"{i18n.message_state(s)} ({i18n.num(rep.n(s))})")),
    )  # fmt: skip
    size = int(size_col.selectbox(t("page_size"), PAGE_SIZES, key="rep_size",
                                  format_func=ui.labels(PAGE_SIZES, i18n.num)))  # fmt: skip
    total = sum(rep.counts.values()) if status is None else rep.n(status)
    pages = max(1, -(-total // size))
    page_no = 1
    if pages > 1:
        page_no = st.pagination(pages, key=f"rep_page_{c.id}_{rep.run_no}_{status}_{size}")
    offset = (min(page_no, pages) - 1) * size
    frame, total = data.numbers_page(c.id, rep.run_no, status, offset, size)
    if total == 0:
        st.caption(t("rows.none"))
    else:
        st.caption(t("rows", first=i18n.num(offset + 1), last=i18n.num(offset + frame.height),
                     total=i18n.num(total)))  # fmt: skip
        ui.table(ui.localized(frame))
    csv, xlsx = st.columns(2)
    csv.download_button(
        t("export.csv"), data.exporter(c.id, rep.run_no, status, "csv"),
        file_name=data.export_name(c.id, rep.run_no, status, "csv"), mime="text/csv",
        on_click="ignore", icon=":material/download:", key="rep_csv", disabled=total == 0,
    )  # fmt: skip
    too_big = total > data.EXCEL_MAX_ROWS
    xlsx.download_button(
        t("export.xlsx"), data.exporter(c.id, rep.run_no, status, "xlsx"),
        file_name=data.export_name(c.id, rep.run_no, status, "xlsx"),
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore", icon=":material/download:", key="rep_xlsx",
        disabled=total == 0 or too_big,
        help=t("export.too_big", n=i18n.num(data.EXCEL_MAX_ROWS)) if too_big else None,
    )  # fmt: skip


st.title(t("rep.title"))
with ui.edge():
    chosen = ui.pick_campaign(data.campaigns(archived=None), key="rep_pick")
    if chosen is not None and chosen.current_run == 0:
        st.info(t("rep.never"))
    elif chosen is not None:
        report = data.report(chosen.id, pick_run(chosen))
        run_header(report)
        figures(report)
        charts(report)
        numbers(chosen, report)
