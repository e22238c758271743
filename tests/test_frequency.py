"""The frequency cap's day rule: N messages per number in D Tehran calendar days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chapar.frequency import capped, day_start, local_date, next_free, window_start


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# Tehran is UTC+03:30: its midnight is 20:30 UTC the day before.
MIDNIGHT = utc(2026, 12, 1, 20, 30)  # 2026-12-02 00:00 in Tehran
JUST_BEFORE = MIDNIGHT - timedelta(microseconds=1)


def test_a_tehran_day_starts_at_2030_utc_the_day_before() -> None:
    assert day_start(date(2026, 12, 2)) == MIDNIGHT
    assert local_date(MIDNIGHT) == date(2026, 12, 2)
    assert local_date(JUST_BEFORE) == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("now", "days", "start"),
    [
        (MIDNIGHT, 1, MIDNIGHT),
        (JUST_BEFORE, 1, MIDNIGHT - timedelta(days=1)),
        (MIDNIGHT + timedelta(hours=23), 1, MIDNIGHT),
        (MIDNIGHT, 7, MIDNIGHT - timedelta(days=6)),
        (JUST_BEFORE, 7, MIDNIGHT - timedelta(days=7)),
        (utc(2026, 12, 1, 12, 0), 2, utc(2026, 11, 29, 20, 30)),
    ],
)
def test_the_window_is_today_and_the_days_before_it_in_tehran(
    now: datetime, days: int, start: datetime
) -> None:
    assert window_start(now, days) == start


def test_naive_times_are_utc_and_come_back_naive() -> None:
    naive = MIDNIGHT.replace(tzinfo=None)
    assert window_start(naive, 1) == naive
    assert window_start(naive, 1).tzinfo is None
    assert next_free([naive - timedelta(hours=1)], 1, 1, naive) == naive


def test_a_cap_of_one_a_day_frees_at_the_next_tehran_midnight() -> None:
    sent = [JUST_BEFORE - timedelta(minutes=10)]  # 23:50 in Tehran
    assert next_free(sent, 1, 1, JUST_BEFORE) == MIDNIGHT
    assert next_free(sent, 1, 1, MIDNIGHT) == MIDNIGHT  # already free: now
    assert next_free(sent, 2, 1, JUST_BEFORE) == JUST_BEFORE  # under the cap: now


def test_a_message_sent_at_midnight_counts_for_the_new_day() -> None:
    assert next_free([MIDNIGHT], 1, 1, MIDNIGHT + timedelta(hours=1)) == MIDNIGHT + timedelta(1)
    # and one a microsecond before it does not
    assert next_free([JUST_BEFORE], 1, 1, MIDNIGHT + timedelta(hours=1)) == MIDNIGHT + timedelta(
        hours=1
    )


def test_the_oldest_message_that_fills_the_cap_decides_when_it_frees() -> None:
    now = MIDNIGHT + timedelta(hours=10)  # 2026-12-02 10:00 Tehran
    sent = [
        utc(2026, 11, 20, 8),  # outside a 7-day window
        utc(2026, 11, 27, 8),  # 11-27 Tehran
        utc(2026, 11, 29, 8),  # 11-29
        utc(2026, 12, 1, 21),  # 12-02 (00:30 Tehran)
    ]
    # 2 in 7 days: the 2nd most recent (11-29) leaves the window on 12-06 Tehran.
    assert next_free(sent, 2, 7, now) == day_start(date(2026, 12, 6))
    # 3 in 7 days: the 3rd most recent (11-27) leaves it on 12-04.
    assert next_free(sent, 3, 7, now) == day_start(date(2026, 12, 4))
    assert next_free(sent, 4, 7, now) == now


def test_a_cap_needs_a_positive_count_and_span() -> None:
    with pytest.raises(ValueError):
        window_start(MIDNIGHT, 0)
    with pytest.raises(ValueError):
        next_free([], 0, 1, MIDNIGHT)


def test_days_before_2022_follow_tehrans_daylight_saving() -> None:
    # 2021-03-22: clocks went from 00:00 to 01:00 (+04:30), so the day began at 01:00.
    assert day_start(date(2021, 3, 22)) == utc(2021, 3, 21, 20, 30)
    assert day_start(date(2021, 3, 23)) == utc(2021, 3, 22, 19, 30)
    # 2021-09-22: back to +03:30 at midnight.
    assert day_start(date(2021, 9, 21)) == utc(2021, 9, 20, 19, 30)
    assert day_start(date(2021, 9, 22)) == utc(2021, 9, 21, 20, 30)
    assert window_start(utc(2021, 6, 1, 19, 30), 1) == utc(2021, 6, 1, 19, 30)


# --- every number at once ----------------------------------------------------------------


def test_capped_lists_the_numbers_at_their_cap_with_when_each_frees() -> None:
    now = MIDNIGHT + timedelta(hours=10)
    sends = pl.DataFrame(
        {
            "number": [989120000001] * 3 + [989120000002] * 2 + [989120000003],
            "sent_at": [
                utc(2026, 11, 29, 8), utc(2026, 12, 1, 8), utc(2026, 12, 1, 21),
                utc(2026, 11, 20, 8), utc(2026, 12, 1, 8),
                utc(2026, 12, 1, 8),
            ],
        }
    )  # fmt: skip
    out = capped(sends, 2, 7, now)
    assert out.to_dicts() == [
        {"number": 989120000001, "sent": 3, "free_at": day_start(date(2026, 12, 8))},
    ]
    naive = sends.with_columns(pl.col("sent_at").dt.replace_time_zone(None))
    assert capped(naive, 1, 7, now.replace(tzinfo=None))["free_at"].dtype == pl.Datetime("us")
    assert capped(naive, 1, 7, now)["number"].to_list() == [
        989120000001, 989120000002, 989120000003,
    ]  # fmt: skip


_offsets = st.integers(min_value=-3 * 24 * 60, max_value=0)  # minutes before now


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(st.integers(1, 6), st.lists(_offsets, max_size=6), max_size=6),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(-120, 120),
)
def test_capped_agrees_with_next_free_for_every_number(
    minutes: dict[int, list[int]], n: int, days: int, around_midnight: int
) -> None:
    # ``now`` within two hours of a Tehran midnight; sends up to three days before it.
    now = MIDNIGHT + timedelta(minutes=around_midnight)
    sent = {num: sorted(now + timedelta(minutes=m) for m in ms) for num, ms in minutes.items()}
    rows = [(num, t) for num, times in sent.items() for t in times]
    sends = pl.DataFrame(rows, schema={"number": pl.Int64, "sent_at": pl.Datetime("us", "UTC")},
                         orient="row")  # fmt: skip
    out = {r["number"]: r["free_at"] for r in capped(sends, n, days, now).iter_rows(named=True)}
    for num, times in sent.items():
        free = next_free(times, n, days, now)
        assert out.get(num, now) == free
        # a number at its cap frees no sooner than the next Tehran midnight
        assert (num in out) == (free > now)
