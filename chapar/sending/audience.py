"""A run's audience, planned in one pass over its source rows.

Every kind of run plans the same way; only the source differs (the campaign's lists, or the
previous run's undelivered and failed numbers for a resend). In source order:

- a row without a valid number stays as ``invalid``; a later occurrence of a number is a
  ``duplicate``;
- a number the suppression ledger bars on the sender's line takes the ledger's status
  (``blacklisted``, ``opted_out``, ``suppressed``);
- a number at the frequency cap is ``capped`` — or, when the campaign defers capped numbers,
  a recipient in a batch of its own that waits until its cap frees (``not_before``);
- every other number is a recipient, batched in order.

With a send count the run takes the first N recipients and the filtered rows met before the
N-th. The classification runs in Polars (one pass, ~0.1 s at 1M rows; the same in SQL took
three window sorts, ~1.5 s). Planning writes the frame to ``messages``; the dry-run price
and the personalised preview (:func:`reached`) count and render the same frame, so what
they show is what a run would take.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb
import polars as pl

from chapar.store.queries import q

SOURCE = pl.Schema(
    {
        "number": pl.Int64(),
        "raw": pl.String(),
        "operator": pl.String(),
        "list_id": pl.Int32(),
        "line_no": pl.Int32(),
    }
)
BARRED = pl.Schema({"number": pl.Int64(), "status": pl.String()})
CAPPED = pl.Schema({"number": pl.Int64(), "free_at": pl.Datetime("us", "UTC")})


def classify(
    source: pl.DataFrame,
    barred: pl.DataFrame,
    capped: pl.DataFrame,
    *,
    batch_size: int | None,
    send_count: int | None = None,
    defer: bool = False,
) -> pl.DataFrame:
    """The planned messages: the source's columns (and any others it has, e.g. ``attrs``)
    with ``seq`` (1…), ``status``, ``batch_no`` (null: not sent; all 0 without a
    ``batch_size``: who is reached, not how it is split) and ``free_at`` (a capped
    number's), in source order."""
    rows = (
        source.cast(SOURCE)
        .with_row_index("seq", offset=1)
        .with_columns(pl.col("seq").cast(pl.Int32))
        .join(barred.cast(BARRED).unique("number"), on="number", how="left",
              maintain_order="left")
        .rename({"status": "barred"})
        .join(capped.cast(CAPPED).unique("number"), on="number", how="left",
              maintain_order="left")
    )  # fmt: skip
    status = (
        pl.when(pl.col("number").is_null())
        .then(pl.lit("invalid"))
        .when(~pl.col("number").is_first_distinct())
        .then(pl.lit("duplicate"))
        .when(pl.col("barred").is_not_null())
        .then(pl.col("barred"))
        .when(pl.col("free_at").is_not_null())
        .then(pl.lit("deferred" if defer else "capped"))
        .otherwise(pl.lit("pending"))
    )
    rows = rows.with_columns(status.alias("status"))
    sendable = pl.col("status").is_in(["pending", "deferred"]).cast(pl.Int64)
    if send_count is not None:
        # the recipients strictly before a row: its rank less itself
        rows = rows.filter(sendable.cum_sum() - sendable < send_count)
    pending = pl.col("status") == "pending"
    position = pending.cast(pl.Int64).cum_sum() - 1
    batch_no = pl.when(pending).then(position // batch_size if batch_size else 0)
    rows = rows.with_columns(batch_no.cast(pl.Int32).alias("batch_no"))
    if defer and batch_size:
        rows = _deferred_batches(rows, batch_size)
    extra = [c for c in source.columns if c not in SOURCE]
    return rows.select(
        "seq", *SOURCE, *extra, "batch_no", "status", "free_at"
    )  # fmt: skip


def _deferred_batches(rows: pl.DataFrame, batch_size: int) -> pl.DataFrame:
    """Deferred numbers wait in batches of their own, after the regular ones: by the time
    their cap frees, then in order, at most ``batch_size`` a batch."""
    regular = rows.select((pl.col("status") == "pending").sum()).item()
    first = (regular + batch_size - 1) // batch_size
    deferred = (
        rows.filter(pl.col("status") == "deferred")
        .select("seq", "free_at")
        .with_columns((pl.int_range(pl.len()).over("free_at") // batch_size).alias("part"))
    )
    batches = (
        deferred.select("free_at", "part").unique().sort("free_at", "part")
        .with_row_index("k")
        .select("free_at", "part", (pl.col("k").cast(pl.Int64) + first).cast(pl.Int32)
                .alias("deferred_batch"))
    )  # fmt: skip
    deferred = deferred.join(batches, on=["free_at", "part"], how="left").select(
        "seq", "deferred_batch"
    )
    is_deferred = pl.col("status") == "deferred"
    return (
        rows.join(deferred, on="seq", how="left", maintain_order="left")
        .with_columns(
            pl.coalesce("batch_no", "deferred_batch").alias("batch_no"),
            pl.when(is_deferred).then(pl.lit("pending")).otherwise("status").alias("status"),
        )
        .drop("deferred_batch")
    )


def capped_now(con: duckdb.DuckDBPyConnection, cap: tuple[int, int] | None) -> pl.DataFrame:
    """Every number at the cap now, and when it frees (UTC): ``number``, ``free_at``."""
    from chapar.frequency import capped, window_start

    empty = pl.DataFrame(schema=CAPPED)
    if cap is None:
        return empty
    now = datetime.now(UTC)
    sends = con.execute(
        q("cap_sends"), {"cap_n": cap[0], "cap_since": window_start(now, cap[1])}
    ).pl()
    if sends.is_empty():
        return empty
    return capped(sends, cap[0], cap[1], now).select("number", "free_at").cast(CAPPED)


def barred_on(con: duckdb.DuckDBPyConnection, sender: str | None) -> pl.DataFrame:
    """The numbers the suppression ledger bars on ``sender``'s line, with their status."""
    return con.execute(q("plan_barred"), {"sender": sender}).pl()


def reached(
    con: duckdb.DuckDBPyConnection,
    list_ids: Sequence[int],
    sender: str | None,
    cap: tuple[int, int] | None,
    *,
    send_count: int | None = None,
    with_attrs: bool = False,
) -> pl.DataFrame:
    """Who a campaign over these lists (in this order) on ``sender``'s line would take now,
    classified as planning classifies (capped numbers as ``capped``); with ``attrs``, each
    row's values for personalised text. Nothing is written."""
    return classify(
        rows_of(con, list_ids, with_attrs), barred_on(con, sender), capped_now(con, cap),
        batch_size=None, send_count=send_count,
    )  # fmt: skip


def rows_of(
    con: duckdb.DuckDBPyConnection, list_ids: Sequence[int], with_attrs: bool = False
) -> pl.DataFrame:
    """The rows of these lists in this order (list by list, line by line): what a campaign
    over them plans from."""
    sql = q("audience_source").replace("$attrs", ", r.attrs" if with_attrs else "")
    return con.execute(sql, {"list_ids": list(list_ids)}).pl()
