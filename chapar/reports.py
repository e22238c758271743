"""Send reports (گزارشات ارسال): a run's figures, its numbers by status flag, exports.

Everything is aggregated in DuckDB; a page of numbers is fetched with LIMIT/OFFSET and an
export streams from DuckDB to the file, so no caller loads a whole messages table.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from chapar.campaigns import FILTERED, HANDED, MessageState
from chapar.errors import InputError, NotFound
from chapar.reasons import Code, Reason
from chapar.settings import get_settings
from chapar.store import connect, fetch_one, one_thread
from chapar.store.queries import q
from chapar.store.repo import get_campaign

EXCEL_MAX_ROWS = 1_048_575  # a sheet's rows, less the header


@dataclass(frozen=True)
class RunReport:
    campaign_id: int
    run_no: int
    status: str
    reason: Reason | None
    counts: dict[str, int]
    pages: int
    cost: int
    by_operator: dict[str, dict[str, int]] = field(default_factory=dict)
    over_time: list[tuple[datetime, int]] = field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    kind: str = "send"

    def n(self, state: str) -> int:
        return self.counts.get(state, 0)

    @property
    def planned(self) -> int:
        return sum(v for k, v in self.counts.items() if k not in FILTERED)

    @property
    def handed(self) -> int:
        """Numbers handed to (accepted by) the provider."""
        return sum(self.n(s) for s in HANDED)

    def figures(self) -> dict[str, int]:
        return {
            "planned": self.planned,
            "sent": self.handed,
            "delivered": self.n("delivered"),
            "undelivered": self.n("undelivered") + self.n("failed"),
            "blocked": self.n("blocked"),
            "blacklisted": self.n("blacklisted"),
            "opted out": self.n("opted_out") + self.n("suppressed"),
            "capped": self.n("capped"),
            "invalid": self.n("invalid"),
            "duplicates": self.n("duplicate"),
            "pending": self.n("pending"),
            "awaiting delivery": self.n("sent"),
            "pages": self.pages,
            "cost": self.cost,
        }


def _run_no(campaign_id: int, run_no: int | None, con: Any = None) -> int:
    campaign = get_campaign(campaign_id, con)
    if run_no is None:
        run_no = campaign.current_run
    if run_no < 1 or run_no > campaign.current_run:
        raise NotFound(
            Code.RUN_NOT_FOUND, campaign=campaign_id, run=run_no, runs=campaign.current_run
        )
    return run_no


def run_report(campaign_id: int, run_no: int | None = None) -> RunReport:
    """The report of a run: the latest by default. One connection (opening one costs more
    than these queries on a busy machine); counts, pages, money and the operators from the
    run's counters, sends over time from its minutes: no scan of its messages."""
    with connect() as con:
        run_no = _run_no(campaign_id, run_no, con)
        key = {"campaign_id": campaign_id, "run_no": run_no}
        counts: dict[str, int] = {}
        pages, cost = 0, 0
        by_op: dict[str, dict[str, int]] = {}
        for op, status, n, p, c in con.execute(q("report_by_operator_status"), key).fetchall():
            counts[status] = counts.get(status, 0) + n
            pages += p
            cost += c
            by_op.setdefault(op, {})[status] = n
        over_time = [(m, n) for m, n in con.execute(q("report_over_time"), key).fetchall()]
        run = fetch_one(con.execute(q("run_get"), key))
    assert run is not None
    return RunReport(
        campaign_id,
        run_no,
        status=run[2],
        reason=Reason.stored(run[3], run[13]),
        counts=counts,
        pages=pages,
        cost=cost,
        by_operator=by_op,
        over_time=over_time,
        started_at=run[5],
        finished_at=run[6],
        kind=run[14] or "send",
    )


def check_export_path(path: Path) -> str:
    """The export's format from its file name (.csv or .xlsx), or an InputError."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError(Code.EXPORT_FORMAT, where=str(path))
    return suffix


def check_status(status: str | None) -> str | None:
    """A status flag as stored, or an InputError naming the ones there are."""
    if status is None:
        return None
    try:
        return MessageState(status).value
    except ValueError:
        raise InputError(
            Code.BAD_STATUS, where="status", value=status,
            choices=", ".join(s.value for s in MessageState),
        ) from None  # fmt: skip


def numbers(
    campaign_id: int,
    run_no: int | None = None,
    status: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[pl.DataFrame, int]:
    """One page of the run's numbers filtered by the status flag, and the total."""
    with connect() as con:
        key: dict[str, Any] = {
            "campaign_id": campaign_id,
            "run_no": _run_no(campaign_id, run_no, con),
            "status": check_status(status),
        }
        page = con.execute(q("report_numbers"), {**key, "offset": offset, "limit": limit}).pl()
        total = fetch_one(con.execute(q("report_numbers_count"), key))
    return page, int(total[0]) if total else 0


def export(
    campaign_id: int,
    path: Path,
    run_no: int | None = None,
    status: str | None = None,
    *,
    labels: ExportLabels | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the run's numbers (filtered by status) to .csv or .xlsx; returns the row count.

    What an analyst opens: numbers as people write them (09…); times in the settings' zone
    (Tehran), to the second; headers and values in the language of ``labels`` (Persian
    with Jalali dates), and then the campaign's title and text in the first rows, above the
    header. Without ``labels`` (the CLI): English words and the table alone. CSV starts with
    a UTF-8 BOM so Excel reads Persian.

    The run's rows are first copied to a temporary Parquet file (one short read, so a
    sending process is never locked out for the length of the export), then formatted
    and written in chunks: memory stays flat at any size. ``progress(done, total)`` is
    called once the rows are counted, then after each chunk.
    """
    suffix = check_export_path(path)
    title_rows = labels is not None  # the dashboard's files; the CLI's stay a plain table
    labels = labels or ExportLabels.english()
    key: dict[str, Any] = {
        "campaign_id": campaign_id,
        "run_no": _run_no(campaign_id, run_no),
        "status": check_status(status),
    }
    campaign = get_campaign(campaign_id)
    tmp = path.with_name(path.name + ".part")
    with tempfile.TemporaryDirectory(prefix="chapar-export-") as folder:
        snapshot = Path(folder) / "rows.parquet"
        # One thread: at 1M rows ≈110 MB less memory than two, and no slower on a busy
        # machine (bench/README.md).
        with connect() as con, one_thread(con):
            total = int((fetch_one(con.execute(q("report_numbers_count"), key)) or (0,))[0])
            if suffix == ".xlsx" and total > EXCEL_MAX_ROWS:
                raise InputError(Code.EXCEL_TOO_BIG, where=str(path), rows=total,
                                 maximum=EXCEL_MAX_ROWS)  # fmt: skip
            if progress:
                progress(0, total)  # the total is known before the snapshot is taken
            params = {**key, "tz": get_settings().timezone, "snapshot": str(snapshot)}
            # DuckDB's COPY streams the sorted rows to the file: at 1M rows ≈90 MB less
            # memory than a relation's write_parquet, and faster (bench/README.md).
            query = q("export_numbers").strip().rstrip(";")
            con.execute(f"COPY ({query}) TO $snapshot (FORMAT parquet, ROW_GROUP_SIZE "
                        f"{EXPORT_CHUNK})", params)  # fmt: skip
        head = [(labels.title, campaign.title), (labels.message, campaign.message)]
        if not title_rows:
            head = []
        chunks = _export_chunks(snapshot, labels)
        if suffix == ".csv":
            _write_csv(tmp, head, labels, chunks, total, progress)
        else:
            _write_xlsx(tmp, head, labels, chunks, total, progress)
    tmp.replace(path)  # never leave a half-written export under the real name
    return total


#: Rows formatted and written at a time.
EXPORT_CHUNK = 20_000
EXPORT_COLUMNS = (
    "seq", "number", "operator", "status", "provider_id", "pages", "cost", "sent_at", "status_at",
)  # fmt: skip
_TEXT_COLUMNS = ("number", "operator", "status", "provider_id", "sent_at", "status_at")


@dataclass(frozen=True)
class ExportLabels:
    """The words of an export: headers, status and operator names, the title rows' labels,
    and the calendar of its dates. The dashboard builds them from its labels; the CLI
    uses :meth:`english`."""

    headers: dict[str, str]
    states: dict[str, str] = field(default_factory=dict)
    operators: dict[str, str] = field(default_factory=dict)
    title: str = "Title"
    message: str = "Message text"
    jalali: bool = False
    rtl: bool = False

    @classmethod
    def english(cls) -> ExportLabels:
        headers = {
            "seq": "Row", "number": "Number", "operator": "Operator", "status": "Status",
            "provider_id": "Message id", "pages": "Pages", "cost": "Cost",
            "sent_at": "Sent at", "status_at": "Status at",
        }  # fmt: skip
        return cls(headers)


def _jalali_dates(dates: pl.Series) -> dict[Any, str]:
    import jdatetime

    return {
        d: jdatetime.date.fromgregorian(date=d).strftime("%Y/%m/%d")
        for d in dates.drop_nulls().unique().to_list()
    }


def _format(frame: pl.DataFrame, labels: ExportLabels) -> pl.DataFrame:
    """A chunk as text and whole numbers, in the labels' words."""
    exprs = []
    for name in ("operator", "status"):
        words = labels.operators if name == "operator" else labels.states
        col = pl.col(name)
        exprs.append(col.replace(words) if words else col)
    for name in ("sent_at", "status_at"):
        col = pl.col(name)
        if labels.jalali:
            dates = _jalali_dates(frame[name].dt.date())
            text = pl.concat_str(
                [col.dt.date().replace_strict(dates, return_dtype=pl.String, default=None),
                 col.dt.strftime("%H:%M:%S")], separator=" ")  # fmt: skip
        else:
            text = col.dt.strftime("%Y-%m-%d %H:%M:%S")
        exprs.append(text.alias(name))
    return frame.with_columns(exprs).select(EXPORT_COLUMNS)


def _export_chunks(snapshot: Path, labels: ExportLabels) -> Iterator[pl.DataFrame]:
    import pyarrow.parquet as pq

    reader = pq.ParquetFile(snapshot)
    for batch in reader.iter_batches(batch_size=EXPORT_CHUNK):
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        yield _format(frame, labels)


def _write_csv(
    path: Path,
    head: list[tuple[str, str]],
    labels: ExportLabels,
    chunks: Iterator[pl.DataFrame],
    total: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    done = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:  # the BOM Excel looks for
        writer = csv.writer(out, lineterminator="\n")
        if head:
            writer.writerows(head)
            writer.writerow([])
        writer.writerow([labels.headers.get(c, c) for c in EXPORT_COLUMNS])
        for chunk in chunks:
            out.write(chunk.write_csv(include_header=False))
            done += chunk.height
            if progress:
                progress(done, total)
    if progress and done == 0:
        progress(0, total)


def _xml_text(col: str) -> pl.Expr:
    return (
        pl.col(col).cast(pl.String)
        .str.replace_all(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "")
        .str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )  # fmt: skip


def _xml_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _cell(ref: str, text: str, style: int = 0) -> str:
    s = f' s="{style}"' if style else ""
    body = f'<t xml:space="preserve">{_xml_escape(text)}</t>'
    return f'<c r="{ref}" t="inlineStr"{s}><is>{body}</is></c>'


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _xml_rows(frame: pl.DataFrame, first_row: int) -> str:
    """A chunk as <row> elements, built column-wise by Polars (no Python loop per cell)."""
    row_no = pl.int_range(first_row, first_row + frame.height, eager=False).cast(pl.String)
    parts: list[pl.Expr | str] = ['<row r="', row_no, '">']
    for i, name in enumerate(EXPORT_COLUMNS):
        ref = pl.concat_str([pl.lit(_LETTERS[i]), row_no])
        if name in _TEXT_COLUMNS:
            cell = pl.concat_str(
                [pl.lit('<c r="'), ref, pl.lit('" t="inlineStr"><is><t>'), _xml_text(name),
                 pl.lit("</t></is></c>")])  # fmt: skip
        else:
            cell = pl.concat_str(
                [pl.lit('<c r="'), ref, pl.lit('"><v>'), pl.col(name).cast(pl.String),
                 pl.lit("</v></c>")])  # fmt: skip
        parts.append(cell.fill_null(""))
    parts.append("</row>")
    exprs = [pl.lit(p) if isinstance(p, str) else p for p in parts]
    return str(frame.select(pl.concat_str(exprs).str.join("").alias("xml")).item())


_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
_SML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_XLSX_STATIC = {
    "[Content_Types].xml": (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_SML}.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        f'ContentType="{_SML}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_SML}.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'{_XML}<Relationships xmlns="{_RELS}">'
        f'<Relationship Id="rId1" Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}">'
        '<sheets><sheet name="report" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'{_XML}<Relationships xmlns="{_RELS}">'
        f'<Relationship Id="rId1" Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_DOC_RELS}/styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
    "xl/styles.xml": (
        f'{_XML}<styleSheet xmlns="{_MAIN}">'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
        "</styleSheet>"
    ),
}


def _write_xlsx(
    path: Path,
    head: list[tuple[str, str]],
    labels: ExportLabels,
    chunks: Iterator[pl.DataFrame],
    total: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    """A one-sheet workbook written as a stream of XML into the zip: inline strings, no
    shared-string table, so nothing grows with the row count (an Excel library holding
    every cell took 151 s and 3.4 GB for 1M rows)."""
    header_row = len(head) + 2 if head else 1
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, text in _XLSX_STATIC.items():
            z.writestr(name, text)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8")
            rtl = ' rightToLeft="1"' if labels.rtl else ""
            out.write(
                f'{_XML}<worksheet xmlns="{_MAIN}">'
                f'<sheetViews><sheetView workbookViewId="0"{rtl}>'
                f'<pane ySplit="{header_row}" topLeftCell="A{header_row + 1}" state="frozen"/>'
                "</sheetView></sheetViews>"
                '<cols><col min="2" max="2" width="16" customWidth="1"/>'
                '<col min="8" max="9" width="20" customWidth="1"/></cols><sheetData>'
            )
            for i, (label, value) in enumerate(head, start=1):
                out.write(f'<row r="{i}">{_cell(f"A{i}", label, 1)}{_cell(f"B{i}", value)}</row>')
            cells = "".join(
                _cell(f"{_LETTERS[i]}{header_row}", labels.headers.get(c, c), 1)
                for i, c in enumerate(EXPORT_COLUMNS)
            )
            out.write(f'<row r="{header_row}">{cells}</row>')
            done = 0
            for chunk in chunks:
                out.write(_xml_rows(chunk, header_row + 1 + done))
                done += chunk.height
                if progress:
                    progress(done, total)
            out.write("</sheetData></worksheet>")
            out.flush()
            out.detach()
    if progress and total == 0:
        progress(0, total)


def key_count(key: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in key.items() if k in ("campaign_id", "run_no", "status")}


def program_blacklist(
    campaign_id: int, run_no: int | None = None, offset: int = 0, limit: int = 1000
) -> pl.DataFrame:
    get_campaign(campaign_id)
    with connect() as con:
        return con.sql(
            q("program_blacklist"),
            params={"campaign_id": campaign_id, "run_no": run_no, "offset": offset, "limit": limit},
        ).pl()


def runs(campaign_id: int) -> pl.DataFrame:
    with connect() as con:
        return con.execute(q("runs_for"), {"campaign_id": campaign_id}).pl()


def campaign_summaries() -> dict[int, dict[str, Any]]:
    with connect() as con:
        frame = con.sql(q("campaign_summaries")).pl()
    return {row["campaign_id"]: row for row in frame.iter_rows(named=True)}


def recount(campaign_id: int, run_no: int) -> dict[str, tuple[int, int, int]]:
    """A run's figures by status counted from its messages, as (n, pages, cost): what the
    counters must always equal."""
    key = {"campaign_id": campaign_id, "run_no": run_no}
    with connect() as con:
        return {s: (n, p, c) for s, n, p, c in con.execute(q("report_recount"), key).fetchall()}


def counters(campaign_id: int, run_no: int) -> dict[str, tuple[int, int, int]]:
    """A run's counters as the engine keeps them, as (n, pages, cost) by status."""
    key = {"campaign_id": campaign_id, "run_no": run_no}
    with connect() as con:
        return {s: (n, p, c) for s, n, p, c in con.execute(q("report_counts"), key).fetchall()}


# --- the home page's overview (issue 11) ------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """Counts, pages and money of a campaign's current run, or of all its runs."""

    runs: int = 0
    planned: int = 0
    handed: int = 0
    delivered: int = 0
    failed: int = 0
    blocked: int = 0
    pages: int = 0
    cost: int = 0
    last_activity: datetime | None = None

    def __add__(self, other: Totals) -> Totals:
        times = [t for t in (self.last_activity, other.last_activity) if t is not None]
        return Totals(
            self.runs + other.runs, self.planned + other.planned, self.handed + other.handed,
            self.delivered + other.delivered, self.failed + other.failed,
            self.blocked + other.blocked, self.pages + other.pages, self.cost + other.cost,
            max(times) if times else None,
        )  # fmt: skip


@dataclass(frozen=True)
class Overview:
    current: Totals
    all_runs: Totals


def campaign_overview() -> dict[int, Overview]:
    """Per campaign: the totals of its current run and of all its runs (resets included)."""
    with connect() as con:
        frame = con.sql(q("campaign_overview")).pl()
        current_run = dict(con.execute(q("campaign_current_runs")).fetchall())
    current: dict[int, Totals] = {}
    every: dict[int, Totals] = {}
    for row in frame.iter_rows(named=True):
        cid = int(row.pop("campaign_id"))
        run_no = int(row.pop("run_no"))
        last = row.pop("last_activity")
        totals = Totals(runs=1, **{k: int(v or 0) for k, v in row.items()}, last_activity=last)
        if run_no == current_run.get(cid):
            current[cid] = totals
        every[cid] = every.get(cid, Totals()) + totals
    return {cid: Overview(current.get(cid, Totals()), all_runs) for cid, all_runs in every.items()}
