"""گزارشات ارسال — Send reports: a run's figures, rates, funnel and charts, live while the
run sends or its delivery statuses arrive; its numbers by status flag, paged in DuckDB
(LIMIT/OFFSET); CSV and Excel exports in Persian or English, built in the background with
their progress shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
import streamlit as st

from chapar.campaigns import Campaign, MessageState
from chapar.reports import RunReport
from dashboards import data, exports, i18n, ui
from dashboards.i18n import LANG_NAMES, LANGS, t

PAGE_SIZES = (50, 100, 500)
FIGURES = (
    "planned", "sent", "delivered", "undelivered", "blocked", "blacklisted",
    "invalid", "duplicates", "pending", "awaiting delivery", "pages", "cost",
)  # fmt: skip
#: Seconds between refreshes of a live report.
LIVE_S = 2.0


def pick_run(c: Campaign) -> int:
    runs = list(range(c.current_run, 0, -1))  # the latest first, and by default
    kinds = data.run_kinds(c.id)  # each run beside its kind: send, reset, resend (issue 12)
    return int(st.selectbox(
        t("run"), runs, key=f"rep_run_{c.id}",
        format_func=ui.labels(runs, lambda n: t("bq.run_with_kind", kind=i18n.run_kind(
            kinds.get(n)), run=t("run.latest" if n == c.current_run else "run.label",
                                 n=i18n.num(n)))),
    ))  # fmt: skip


def is_live(c: Campaign, rep: RunReport) -> bool:
    """The report changes by itself: the run is sending (or waiting for its window), or
    messages handed to the provider still await their delivery status and the run was
    lately active (as on the home page)."""
    current = rep.run_no == c.current_run
    return current and (
        c.is_sending
        or rep.status in ("sending", "waiting", "planned")
        or (rep.n("sent") > 0 and data.lately_active(c.id))
    )


def run_header(rep: RunReport) -> None:
    st.badge(i18n.campaign_status(rep.status), color="gray")
    parts = [t("bq.run_kind", kind=i18n.run_kind(rep.kind)),
             t("rep.started", when=i18n.when(rep.started_at))]  # fmt: skip
    if rep.finished_at:
        parts.append(t("rep.finished", when=i18n.when(rep.finished_at)))
    st.caption(i18n.join(parts))
    if rep.reason:
        st.warning(t("rep.stopped", reason=i18n.reason(rep.reason)))


def figures(rep: RunReport) -> None:
    st.subheader(t("rep.figures"))
    values = rep.figures()
    ui.figures([
        ui.Figure(i18n.in_currency(t(f"fig.{name}")) if name == "cost" else t(f"fig.{name}"),
                  i18n.num(values[name]))
        for name in FIGURES
    ], columns=4, border=True)  # fmt: skip


def rates(rep: RunReport) -> None:
    """Delivered, undelivered/failed and blocked as shares of what was handed over, and
    the funnel planned → handed → delivered."""
    st.subheader(t("rep.rates"))
    handed = rep.handed
    failed = rep.n("undelivered") + rep.n("failed")
    ui.figures([
        ui.Figure(t(key), i18n.rate(n, handed),
                  help=f"{i18n.num(n)} / {i18n.num(handed)} {t('rate.of_handed')}")
        for key, n in (("rate.delivered", rep.n("delivered")), ("rate.failed", failed),
                       ("rate.blocked", rep.n("blocked")))
    ], columns=3, border=True)  # fmt: skip
    st.markdown(f"**{t('rep.funnel')}**")
    ui.funnel(
        [
            (t("funnel.planned"), rep.planned),
            (t("funnel.handed"), handed),
            (t("funnel.delivered"), rep.n("delivered")),
        ]
    )


def _digits_expr(expr: str) -> str:
    """A Vega expression that shows ``expr`` (a string) in the session's digits."""
    if i18n.lang() != "fa":
        return expr
    out = f"replace({expr}, regexp(',', 'g'), '٬')"
    for latin, persian in zip("0123456789", "۰۱۲۳۴۵۶۷۸۹", strict=True):
        out = f"replace({out}, regexp('{latin}', 'g'), '{persian}')"
    return out


def charts(rep: RunReport) -> None:
    """Three charts in tabs; only the open tab's chart is built and drawn (a tab switch
    reruns). The first tab's (by status) is HTML bars, so a first paint draws no Vega."""
    st.subheader(t("rep.charts"))
    tabs = st.tabs([t("rep.by_status"), t("rep.by_operator"), t("rep.over_time")],
                   key="rep_chart_tab", on_change="rerun")  # fmt: skip
    for tab, draw in zip(tabs, (status_chart, operator_chart, time_chart), strict=True):
        with tab:
            if tab.open is not False:
                draw(rep)


def _count_axis() -> Any:
    import altair as alt  # imported when a chart is drawn, not on every page

    labels = _digits_expr("format(datum.value, ',')")
    return alt.Axis(title=t("rep.count"), labelExpr=labels, format=",")


def status_chart(rep: RunReport) -> None:
    """Messages by status, the most first: bars in HTML (no Vega on a report's first
    paint)."""
    states = sorted(((i18n.message_state(s), n) for s, n in rep.counts.items() if n),
                    key=lambda row: -row[1])  # fmt: skip
    if states:
        ui.bars(states, testid="chaparStatusBars")
    else:
        st.caption(t("rows.none"))


def operator_chart(rep: RunReport) -> None:
    import altair as alt

    count_title = t("rep.count")
    rtl = i18n.is_rtl()
    # Invalid lines have no operator: they are a status, never a bar of their own.
    rows = [
        (i18n.operator(op), i18n.message_state(s), n, i18n.num(n))
        for op, states in rep.by_operator.items()
        if op and op != "invalid"
        for s, n in states.items()
        if n
    ]
    if rows:
        frame = pl.DataFrame(rows, schema={"operator": pl.String, "status": pl.String,
                                           "n": pl.Int64, "shown": pl.String},
                             orient="row")  # fmt: skip
        chart = (
            alt.Chart(frame)
            .mark_bar()
            .encode(
                x=alt.X(
                    "operator:N",
                    title=t("rep.operator"),
                    axis=alt.Axis(labelAngle=0, labelLimit=0),
                    sort=alt.SortOrder("descending" if rtl else "ascending"),
                ),
                y=alt.Y("n:Q", axis=_count_axis()),
                color=alt.Color(
                    "status:N",
                    title=t("col.status"),
                    # a column, not a row: Vega measures Persian labels short and a row
                    # of them overlaps
                    legend=alt.Legend(labelLimit=0, orient="right"),
                ),
                tooltip=[
                    alt.Tooltip("operator:N", title=t("rep.operator")),
                    alt.Tooltip("status:N", title=t("col.status")),
                    alt.Tooltip("shown:N", title=count_title),
                ],
            )
        )
        st.altair_chart(chart, width="stretch")
    else:
        st.caption(t("rows.none"))


def time_chart(rep: RunReport) -> None:
    import altair as alt

    count_title = t("rep.count")
    if rep.over_time:
        zone = i18n.tz()
        # Tehran wall-clock times, drawn on a UTC scale: the axis shows them as they are
        # (a browser would otherwise shift them to its own zone), 24-hour.
        minutes = [m.astimezone(zone).replace(tzinfo=None) for m, _ in rep.over_time]
        frame = pl.DataFrame({
            "minute": minutes,
            "n": [n for _, n in rep.over_time],
            "when": [i18n.when(m.replace(tzinfo=zone)) for m in minutes],
            "shown": [i18n.num(n) for _, n in rep.over_time],
        })  # fmt: skip
        time_labels = _digits_expr("utcFormat(datum.value, '%H:%M')")
        chart = (
            alt.Chart(frame)
            .mark_bar()
            .encode(
                x=alt.X(
                    "utcyearmonthdatehoursminutes(minute):T",  # a bar spans its minute
                    title=t("rep.hour"),
                    axis=alt.Axis(labelExpr=time_labels, labelAngle=0, tickMinStep=60_000),
                ),
                y=alt.Y("n:Q", axis=_count_axis()),
                tooltip=[
                    alt.Tooltip("when:N", title=t("rep.hour")),
                    alt.Tooltip("shown:N", title=count_title),
                ],
            )
        )
        st.altair_chart(chart, width="stretch")
    else:
        st.caption(t("rows.none"))


def live_part(
    campaign_id: int, run_no: int, refreshing: bool = False, drawn: Campaign | None = None
) -> None:
    """Figures, rates and charts of the run, read afresh (a cached read of a few seconds).
    ``refreshing``: drawn by the timed fragment, which reads the campaign again and stops
    (a full rerun) once the run has nothing more to report; else ``drawn`` is the page's."""
    c = drawn if drawn is not None and not refreshing else data.campaign(campaign_id)
    rep = data.report(campaign_id, run_no)
    live = is_live(c, rep)
    if refreshing and not live:
        st.rerun()
    run_header(rep)
    figures(rep)
    rates(rep)
    charts(rep)
    if live:
        st.caption(t("rep.live", when=i18n.when(datetime.now(i18n.tz()), seconds=True)))


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
    # The table is drawn when opened: Streamlit's grid (≈0.5 MB of JavaScript and a canvas)
    # was a quarter of the browser's work on a report's first render. Its label stays the
    # same (the flag's count is in the picker): a new label would be a new, closed expander.
    table = st.expander(t("rep.show_numbers"), key="rep_table", on_change="rerun")
    if table.open:
        with table:
            numbers_table(c, rep, status, size, total)
    export_panel(c, rep, status, total)


def numbers_table(c: Campaign, rep: RunReport, status: str | None, size: int, total: int) -> None:
    """The shown page of numbers with its pager (paged in DuckDB)."""
    pages = max(1, -(-total // size))
    page_no = 1
    if pages > 1:
        page_no = ui.pager(pages, key=f"rep_page_{c.id}_{rep.run_no}_{status}_{size}")
    offset = (min(page_no, pages) - 1) * size
    frame, shown_total = data.numbers_shown(c.id, rep.run_no, status, offset, size)
    if shown_total == 0:
        st.caption(t("rows.none"))
    else:
        st.caption(t("rows", first=i18n.num(offset + 1), last=i18n.num(offset + frame.height),
                     total=i18n.num(shown_total)))  # fmt: skip
        ui.table(frame)


def export_panel(c: Campaign, rep: RunReport, status: str | None, total: int) -> None:
    """Choose the file's language, prepare CSV or Excel in the background, watch its
    progress, download it when it is ready."""
    st.markdown(f"**{t('export.csv')} / {t('export.xlsx')}**")
    st.caption(t("export.note"))
    langs = list(LANGS)
    lang: i18n.Lang = st.radio(t("export.lang"), langs, key="rep_export_lang", horizontal=True,
                    index=langs.index(i18n.lang()),
                    format_func=ui.labels(langs, lambda code: LANG_NAMES[code]))  # fmt: skip
    too_big = total > data.EXCEL_MAX_ROWS
    cols = st.columns(2)
    formats: tuple[exports.Format, ...] = ("csv", "xlsx")
    for col, fmt in zip(cols, formats, strict=True):
        with col:
            key = (data.db_key(), c.id, rep.run_no, status, fmt, lang)
            label = t("export.prepare", fmt="CSV" if fmt == "csv" else "Excel")
            refused = fmt == "xlsx" and too_big
            why = t("export.excel_refused", n=i18n.num(total), max=i18n.num(data.EXCEL_MAX_ROWS))
            if st.button(label, key=f"rep_prepare_{fmt}", icon=":material/download:",
                         disabled=total == 0 or refused, width="stretch",
                         help=why if refused else None):  # fmt: skip
                name = data.export_name(c.id, rep.run_no, status, fmt)
                exports.start(data.db_key(), c.id, rep.run_no, status, fmt, lang, name,
                              rows=total)  # fmt: skip
            if refused:
                st.caption(why)
            job = exports.job(key)
            if job is not None:
                if job.finished:
                    export_job(key, fmt)
                else:
                    st.fragment(export_job, run_every=1.0)(key, fmt)


def export_job(key: tuple[object, ...], fmt: str) -> None:
    job = exports.job(key)
    if job is None:
        return
    if job.error is not None:
        st.error(t("export.failed", error=i18n.error(job.error)))
        return
    if not job.finished or job.path is None:
        ui.progress_bar(job.fraction, t("export.progress", done=i18n.num(job.done),
                                        total=i18n.num(job.total)))  # fmt: skip
        if job.url:  # a Prefect flow run builds it
            st.markdown(f"[{t('prefect.link')} ↗]({job.url})")
        return
    mime = "text/csv" if fmt == "csv" else (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")  # fmt: skip
    path = job.path
    st.download_button(  # the file is read when clicked, not on every run of the page
        t("export.ready", name=job.name), lambda: path.read_bytes(), file_name=job.name, mime=mime,
        on_click="ignore", icon=":material/download:", key=f"rep_{fmt}", type="primary",
        width="stretch",
    )  # fmt: skip
    if st.session_state.get(f"rep_{fmt}_done_rerun") != job.name:
        # The job finished inside the progress fragment: redraw the panel once, so the
        # fragment stops polling.
        st.session_state[f"rep_{fmt}_done_rerun"] = job.name
        st.rerun()


st.title(t("rep.title"))
with ui.edge():
    chosen = ui.pick_campaign(data.campaigns(archived=None), key="rep_pick")
    if chosen is not None and chosen.current_run == 0:
        st.info(t("rep.never"))
    elif chosen is not None:
        run_no = pick_run(chosen)
        report = data.report(chosen.id, run_no)
        if is_live(chosen, report):
            st.fragment(live_part, run_every=LIVE_S)(chosen.id, run_no, True)
        else:
            live_part(chosen.id, run_no, drawn=chosen)
        numbers(chosen, data.report(chosen.id, run_no))
