"""Planning a run's audience (chapar.sending.audience.classify), one piece alone: the rules
every kind of run plans by. The end-to-end plans are in test_sending, test_frequency,
test_resend and test_suppressions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from chapar.sending.audience import BARRED, CAPPED, classify

NOW = datetime(2026, 12, 2, tzinfo=UTC)


def source(numbers: list[int | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "number": numbers,
            "raw": [None if n else "garbage" for n in numbers],
            "operator": ["mci" if n else None for n in numbers],
            "list_id": [1] * len(numbers),
            "line_no": list(range(2, len(numbers) + 2)),
        }
    )


def barred(rows: dict[int, str]) -> pl.DataFrame:
    return pl.DataFrame({"number": list(rows), "status": list(rows.values())}, schema=BARRED)


def capped(rows: dict[int, datetime]) -> pl.DataFrame:
    return pl.DataFrame({"number": list(rows), "free_at": list(rows.values())}, schema=CAPPED)


NONE_BARRED, NONE_CAPPED = barred({}), capped({})


def test_rows_keep_their_order_and_the_first_occurrence_of_a_number_is_the_recipient() -> None:
    out = classify(source([11, None, 12, 11, 13]), NONE_BARRED, NONE_CAPPED, batch_size=2)
    assert out["seq"].to_list() == [1, 2, 3, 4, 5]
    assert out["status"].to_list() == ["pending", "invalid", "pending", "duplicate", "pending"]
    assert out["batch_no"].to_list() == [0, None, 0, None, 1]
    assert out["line_no"].to_list() == [2, 3, 4, 5, 6]


def test_a_barred_number_takes_the_ledgers_status_and_a_capped_one_is_counted_not_sent() -> None:
    out = classify(
        source([11, 12, 13, 14]),
        barred({12: "opted_out", 13: "blacklisted"}),
        capped({14: NOW}),
        batch_size=10,
    )
    assert out["status"].to_list() == ["pending", "opted_out", "blacklisted", "capped"]
    assert out["batch_no"].to_list() == [0, None, None, None]


def test_a_send_count_takes_the_first_n_recipients_and_the_filtered_rows_before_the_last() -> None:
    out = classify(
        source([11, 11, 12, None, 13, 14]), NONE_BARRED, NONE_CAPPED, batch_size=10, send_count=2
    )
    assert out["status"].to_list() == ["pending", "duplicate", "pending"]


def test_deferred_numbers_wait_in_batches_of_their_own_by_the_time_their_cap_frees() -> None:
    soon, later = NOW + timedelta(days=1), NOW + timedelta(days=2)
    out = classify(
        source([11, 12, 13, 14, 15, 16]),
        NONE_BARRED,
        capped({12: later, 13: soon, 15: soon, 16: soon}),
        batch_size=2,
        defer=True,
    )
    # regular: 11, 14 -> batch 0; deferred by free time, two a batch: (13, 15) (16) (12)
    assert out["status"].to_list() == ["pending"] * 6
    assert out["batch_no"].to_list() == [0, 3, 1, 0, 1, 2]
    assert out["free_at"].to_list()[1] == later


def test_an_empty_source_plans_nothing() -> None:
    assert classify(source([]), NONE_BARRED, NONE_CAPPED, batch_size=5).height == 0
