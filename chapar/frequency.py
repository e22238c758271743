"""The frequency cap's day rule: at most N messages per number in D Tehran calendar days.

"D days" are calendar days in Tehran, today included, not rolling 24-hour spans: with D = 1 a
number messaged at 23:50 Tehran time may be messaged again at 00:00; with D = 7 the window
is today and the six days before, from Tehran midnight six days ago. This is how people
read "twice a week" on a local calendar, and it makes "when may this number next receive"
a Tehran midnight: the day the oldest of the N messages that fill the window drops out.

Times in and out are UTC. Aware datetimes are read as they are; naive ones as UTC (DuckDB's
``TIMESTAMP`` columns here hold UTC), and a naive ``now`` gets naive UTC answers back.
Asia/Tehran has kept +03:30 all year since 2022, but the zone is read from the tz database
(``zoneinfo``), so earlier dates with daylight saving come out right too: on a day whose
midnight was skipped the day starts at 01:00.

Two forms: :func:`window_start` and :func:`next_free` for one number, :func:`capped` for
every number of an audience at once (Polars; equal to the scalar form row for row).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import polars as pl

TEHRAN: Final = "Asia/Tehran"


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _like(result: datetime, now: datetime) -> datetime:
    """``result`` (aware) in UTC, naive if ``now`` was naive."""
    utc = result.astimezone(UTC)
    return utc.replace(tzinfo=None) if now.tzinfo is None else utc


def _check(n: int | None, days: int) -> None:
    if days < 1:
        raise ValueError(f"a cap spans at least one day, not {days}")
    if n is not None and n < 1:
        raise ValueError(f"a cap allows at least one message, not {n}")


def local_date(moment: datetime, tz: str = TEHRAN) -> date:
    """The calendar date in ``tz`` at ``moment``."""
    return _aware(moment).astimezone(ZoneInfo(tz)).date()


def day_start(day: date, tz: str = TEHRAN) -> datetime:
    """The first instant of ``day`` in ``tz``, in UTC (aware). Where midnight was skipped by
    a daylight-saving jump, the instant of the jump."""
    zone = ZoneInfo(tz)
    midnight = datetime.combine(day, time(0), tzinfo=zone)  # fold=0: before any gap
    # In a gap, fold=0 reads the wall time with the offset before the jump, which is the
    # instant of the jump itself: the first instant that belongs to ``day``.
    return midnight.astimezone(UTC)


def window_start(now: datetime, days: int, tz: str = TEHRAN) -> datetime:
    """The start (UTC) of the cap's window at ``now``: midnight in ``tz`` of the day
    ``days - 1`` days before today. Messages sent at or after it count."""
    _check(None, days)
    start = day_start(local_date(now, tz) - timedelta(days=days - 1), tz)
    return _like(start, now)


def next_free(sent: Sequence[datetime], n: int, days: int, now: datetime,
              tz: str = TEHRAN) -> datetime:  # fmt: skip
    """When a number that was sent messages at ``sent`` (ascending) may next receive one,
    under "at most ``n`` in ``days`` days": ``now`` if its window holds fewer than ``n``,
    else the Tehran midnight on which the oldest message that fills the cap leaves the
    window (the ``n``-th most recent one's day + ``days``)."""
    _check(n, days)
    start = _aware(window_start(now, days, tz))
    in_window = [s for s in sent if _aware(s) >= start]
    if len(in_window) < n:
        return now
    nth_latest = in_window[-n]
    free = day_start(local_date(nth_latest, tz) + timedelta(days=days), tz)
    return max(now, _like(free, now))


def capped(
    sends: pl.DataFrame | pl.LazyFrame,
    n: int,
    days: int,
    now: datetime,
    *,
    number: str = "number",
    sent_at: str = "sent_at",
    tz: str = TEHRAN,
) -> pl.DataFrame:
    """Every number already at its cap at ``now``: columns ``number``, ``sent`` (messages in
    its window) and ``free_at`` (:func:`next_free` of the number, UTC, naive or aware as
    ``now``). ``sends`` has a row per message sent (any order); ``sent_at`` is a Datetime
    column, naive UTC or aware. Numbers under the cap are not listed."""
    _check(n, days)
    start = window_start(now, days, tz)
    lazy = sends.lazy()
    frame = lazy.select(pl.col(number), _naive_utc(lazy, sent_at).alias("sent_at"))
    start_naive = _aware(start).astimezone(UTC).replace(tzinfo=None)
    at_cap = (
        frame.filter(pl.col("sent_at") >= start_naive)
        .group_by(number)
        .agg(
            pl.len().alias("sent"),
            pl.col("sent_at").sort(descending=True).get(n - 1, null_on_oob=True).alias("nth"),
        )
        .filter(pl.col("sent") >= n)
        .with_columns(
            day=pl.col("nth").dt.replace_time_zone("UTC").dt.convert_time_zone(tz).dt.date()
        )
        .collect()
    )
    # Few distinct days (at most ``days`` of them): each goes through the scalar rule, so
    # daylight-saving days and the zone database are handled once, in one place.
    days_free = {
        day: _like(max(_aware(now), day_start(day + timedelta(days=days), tz)), now)
        for day in at_cap["day"].unique().to_list()
    }
    free_dtype = pl.Datetime("us", None if now.tzinfo is None else "UTC")
    free_at = pl.DataFrame(
        {"day": list(days_free), "free_at": list(days_free.values())},
        schema={"day": pl.Date, "free_at": free_dtype},
    )
    return (
        at_cap.join(free_at, on="day", how="left")
        .select(pl.col(number), pl.col("sent").cast(pl.Int64), "free_at")
        .sort(number)
    )


def _naive_utc(frame: pl.LazyFrame, column: str) -> pl.Expr:
    """A Datetime column as naive UTC microseconds, whatever its zone."""
    dtype = frame.collect_schema()[column]
    expr = pl.col(column)
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        expr = expr.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    return expr.cast(pl.Datetime("us"))
