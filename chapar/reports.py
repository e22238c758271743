"""Send reports (گزارشات ارسال): a run's figures, its numbers by status flag, exports.

Everything is aggregated in DuckDB; a page of numbers is fetched with LIMIT/OFFSET and an
export streams from DuckDB to the file, so no caller loads a whole messages table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from chapar.campaigns import FILTERED, HANDED, MessageState
from chapar.errors import InputError, NotFound
from chapar.reasons import Reason
from chapar.settings import get_settings
from chapar.store import connect, fetch_one
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


def _run_no(campaign_id: int, run_no: int | None) -> int:
    campaign = get_campaign(campaign_id)
    if run_no is None:
        run_no = campaign.current_run
    if run_no < 1 or run_no > campaign.current_run:
        raise NotFound(
            f"campaign {campaign_id} has no run {run_no} (it has {campaign.current_run})"
        )
    return run_no


def run_report(campaign_id: int, run_no: int | None = None) -> RunReport:
    """The report of a run: the latest by default."""
    run_no = _run_no(campaign_id, run_no)
    key = {"campaign_id": campaign_id, "run_no": run_no}
    with connect() as con:
        counts, pages, cost = {}, 0, 0
        for status, n, p, c in con.execute(q("report_counts"), key).fetchall():
            counts[status] = n
            pages += p
            cost += c
        by_op: dict[str, dict[str, int]] = {}
        for op, status, n in con.execute(q("report_by_operator"), key).fetchall():
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


def _check_status(status: str | None) -> str | None:
    if status is None:
        return None
    try:
        return MessageState(status).value
    except ValueError:
        raise InputError(
            f"{status!r} is not a status; choose one of {', '.join(s.value for s in MessageState)}",
            where="status",
        ) from None


def numbers(
    campaign_id: int,
    run_no: int | None = None,
    status: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[pl.DataFrame, int]:
    """One page of the run's numbers filtered by the status flag, and the total."""
    key: dict[str, Any] = {
        "campaign_id": campaign_id,
        "run_no": _run_no(campaign_id, run_no),
        "status": _check_status(status),
    }
    with connect() as con:
        page = con.sql(q("report_numbers"), params={**key, "offset": offset, "limit": limit}).pl()
        total = fetch_one(con.execute(q("report_numbers_count"), key))
    return page, int(total[0]) if total else 0


def export(
    campaign_id: int, path: Path, run_no: int | None = None, status: str | None = None
) -> int:
    """Write the run's numbers (filtered by status) to .csv or .xlsx; returns the row count."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError("export to a .csv or .xlsx file", where=str(path))
    key: dict[str, Any] = {
        "campaign_id": campaign_id,
        "run_no": _run_no(campaign_id, run_no),
        "status": _check_status(status),
        "offset": 0,
    }
    tmp = path.with_name(path.name + ".part")
    with connect() as con:
        total = int((fetch_one(con.execute(q("report_numbers_count"), key_count(key))) or (0,))[0])
        if suffix == ".csv":
            # Streamed by DuckDB: millions of rows never sit in this process.
            con.sql(q("report_numbers"), params={**key, "limit": 1 << 62}).write_csv(
                str(tmp), header=True
            )
        else:
            if total > EXCEL_MAX_ROWS:
                raise InputError(
                    f"{total:,} rows do not fit in an Excel sheet ({EXCEL_MAX_ROWS:,}); "
                    "export to .csv",
                    where=str(path),
                )
            frame = con.sql(q("report_numbers"), params={**key, "limit": 1 << 62}).pl()
            # Excel has no time zones: write local (settings' zone) wall-clock times.
            tz = get_settings().timezone
            frame = frame.with_columns(
                pl.col(c).dt.convert_time_zone(tz).dt.replace_time_zone(None)
                for c, dtype in frame.schema.items()
                if isinstance(dtype, pl.Datetime) and dtype.time_zone
            )
            frame.write_excel(tmp, worksheet="report")
    tmp.replace(path)  # never leave a half-written export under the real name
    return total


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
        return con.sql(q("runs_for"), params={"campaign_id": campaign_id}).pl()


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
