"""Record a batch: transaction 2. What the provider accepted is written with the figures
frozen when the batch went in flight, charged, the batch's hold settled, numbers the
provider reported blocked learnt, and the run's counters recounted — all or nothing, and
only while this process owns the run's lease.
"""

from __future__ import annotations

import duckdb
import polars as pl

from chapar import credit
from chapar.sending.batch import Checkpoint, _renew
from chapar.sending.deliver import Delivery
from chapar.sending.run import RunRef, refresh_counts
from chapar.settings import Settings
from chapar.store import execute_in_store, execute_reading
from chapar.store.queries import q

_INCOMING = {
    "seq": pl.Int32,
    "number": pl.Int64,
    "campaign_id": pl.Int32,
    "status": pl.String,
    "provider_id": pl.String,
    "pages": pl.Int16,
    "cost": pl.Int64,
}


def accepted_frame(ref: RunRef, cp: Checkpoint, delivery: Delivery) -> pl.DataFrame:
    """The accepted messages with their frozen pages and cost, joined by local id."""
    got = pl.DataFrame(
        {
            "local_id": delivery.local_ids,
            "provider_id": delivery.message_ids,
            "status": delivery.states,
        },
        schema={"local_id": pl.Int64, "provider_id": pl.String, "status": pl.String},
    ).unique("local_id", keep="first", maintain_order=True)
    return (
        got.join(cp.frozen, on="local_id", how="inner")
        .with_columns(
            (pl.col("local_id") % 100_000_000).cast(pl.Int32).alias("seq"),
            pl.lit(ref.campaign_id, dtype=pl.Int32).alias("campaign_id"),
        )
        .select(list(_INCOMING))
        .cast(_INCOMING)  # type: ignore[arg-type]
    )


def learn_blocked(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame) -> None:
    """The numbers of ``rows`` (``number``, ``campaign_id``, ``status``) the provider
    reported blocked join the suppression ledger and the telecom blacklist — at a send's
    record and at a status sync alike. Most batches have none: then nothing runs."""
    blocked = rows.filter(pl.col("status") == "blocked")
    if blocked.height:
        execute_reading(con, q("suppress_from_provider"), incoming=blocked)
        execute_reading(con, q("blacklist_from_provider"), incoming=blocked)


def record_batch(
    con: duckdb.DuckDBPyConnection,
    ref: RunRef,
    cp: Checkpoint,
    delivery: Delivery,
    settings: Settings,
) -> str:
    """Transaction 2 of a batch (the caller's transaction); returns the batch's new status."""
    _renew(con, ref, settings)  # LeaseLost: roll back, write nothing
    key = {**ref.key, "batch_no": cp.batch_no}
    frame = accepted_frame(ref, cp, delivery)
    execute_in_store(con, q("messages_record"), key, frame)
    learn_blocked(con, frame)
    credit.release(con, key)
    credit.charge(con, key, int(frame["cost"].sum()), frame.height)
    if delivery.unknown:
        # Maybe at the provider: keep their cost held until a rebuild settles them.
        credit.hold(con, key, cp.cost_of(delivery.unknown))
    refunded = credit.refund_blocked(con, ref.campaign_id)
    if frame.height:
        con.execute(q("run_minutes_add"), {**ref.key, "handed": frame.height})
    row = con.execute(q("batch_end"), {**key, "unresolved": bool(delivery.unknown)}).fetchall()
    recount = refunded.batches | {(ref.campaign_id, ref.run_no, cp.batch_no)}
    for campaign_id, run_no, batch_no in recount:
        refresh_counts(con, campaign_id, run_no, batch_no)
    return str(row[0][0]) if row else "done"
