"""Open a batch: transaction 1, committed before any request leaves.

A fresh batch freezes here what it is sent with — each message's text, pages and cost —
holds its credit and is marked ``in_flight``. A batch found already in flight (its sender
died, or its outcome was unknown) keeps what it froze then: its messages may be at the
provider, and what the provider has is charged at those figures, whatever was edited since.
Its credit is settled after reconciliation (:func:`rehold`), when it is known what the
provider already has.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import polars as pl

from chapar import credit
from chapar.footer import with_footer
from chapar.pages import count_pages
from chapar.personalise import batch_texts, template_of
from chapar.pricing import page_price
from chapar.providers.texts import FormTexts, form_texts
from chapar.reasons import Code, Reason
from chapar.sending.run import BatchOutcome, LeaseLost, RunRef, refresh_counts
from chapar.settings import Settings, get_settings
from chapar.store import execute_reading, fetch_one
from chapar.store.queries import q
from chapar.window import next_opening


@dataclass
class Checkpoint:
    """A batch in flight: what transaction 1 committed, as columns (no object a message).
    Only what the requests carry is made Python values; the rest stays a frame."""

    batch_no: int
    was_in_flight: bool
    local_ids: list[int]
    receptors: list[str]
    sender: str
    text: str  # the batch's text; per-message ``texts`` override it when personalised
    texts: FormTexts | None
    #: local_id, number, pages, cost of each message (row for row): what it is charged
    frozen: pl.DataFrame
    #: how many messages (a prefix) the held credit covers; None until reconciled
    affordable: int | None

    @property
    def key(self) -> dict[str, Any]:
        return {"batch_no": self.batch_no}

    def cost_of(self, local_ids: set[int]) -> int:
        """What these messages are charged, in all."""
        if not local_ids:
            return 0
        chosen = self.frozen.filter(pl.col("local_id").is_in(list(local_ids)))
        return int(chosen["cost"].sum())


def _renew(con: duckdb.DuckDBPyConnection, ref: RunRef, settings: Settings) -> bool:
    """Renew the lease (LeaseLost if it is no longer ours); True if a stop was requested."""
    row = fetch_one(
        con.execute(
            q("run_renew_lease"), {**ref.key, "owner": ref.owner, "ttl": settings.lease_ttl_s}
        )
    )
    if row is None:
        raise LeaseLost(ref.campaign_id, ref.run_no)
    return bool(row[0])


def open_batch(
    con: duckdb.DuckDBPyConnection,
    ref: RunRef,
    batch_no: int,
    settings: Settings,
    window: Any,
) -> Checkpoint | BatchOutcome:
    """Transaction 1 of a batch (the caller's transaction)."""
    if _renew(con, ref, settings):
        return BatchOutcome(batch_no, status="pending", stop=Reason(Code.SCHEDULE_CUT))
    opening = next_opening(datetime.now(UTC), window, settings.timezone)
    if opening is not None:
        return BatchOutcome(
            batch_no, status="pending", stop=Reason(Code.OUTSIDE_WINDOW), resume_at=opening
        )
    key = {**ref.key, "batch_no": batch_no}
    row = fetch_one(con.execute(q("batch_status"), key))
    if row is None or row[0] == "done":
        return BatchOutcome(batch_no)
    status, frozen_text, frozen_pages, _encoding, frozen_prices = row
    was_in_flight = status == "in_flight"
    recount = False
    message, sender, footer = fetch_one(
        con.execute(q("campaign_text_footer"), {"campaign_id": ref.campaign_id})
    ) or ("", "", None)
    if not was_in_flight:
        waiting = _deferred(con, key, sender, settings)
        if waiting is not None:
            return waiting
        dropped = con.execute(q("batch_drop_blacklisted"), {**key, "sender": sender}).fetchall()
        # Only a drop changes the batch's figures here (so only then is it recounted).
        recount = bool(dropped and dropped[0][0])
        credit.release(con, key)  # any hold on a pending batch is a dead sender's
    pending = con.execute(q("batch_pending_messages"), key).pl()
    if pending.is_empty():
        con.execute(q("batch_end"), {**key, "unresolved": False})
        refresh_counts(con, ref.campaign_id, ref.run_no, batch_no)
        return BatchOutcome(batch_no)
    texts: FormTexts | None = None
    template = template_of(message)
    pages: pl.Series | int
    if was_in_flight and frozen_text is None and pending["text"].null_count() == 0:
        # a personalised batch: each message's text, pages and cost were frozen with it
        text, texts = "", form_texts(con, pending["text"])
        pages, costs = pending["pages"], pending["cost"]
    elif was_in_flight and frozen_text is not None:
        text, pages, prices = frozen_text, int(frozen_pages), json.loads(frozen_prices)
        costs = _costs(pending, prices)
    elif template is not None:
        frozen = batch_texts(con, key, template, footer, pending, settings)
        execute_reading(con, q("messages_freeze"), key, incoming=frozen.frame)
        text, texts = "", form_texts(con, frozen.frame["text"])
        pages, costs = frozen.frame["pages"], frozen.frame["cost"]
    else:
        text, pages, prices = _freeze(with_footer(message, footer), pending, settings)
        costs = _costs(pending, prices)
    cp = Checkpoint(
        batch_no=batch_no,
        was_in_flight=was_in_flight,
        local_ids=pending["local_id"].to_list(),
        receptors=pending["number"].cast(pl.String).to_list(),  # numbers.format_number
        sender=sender,
        text=text,
        texts=texts,
        frozen=pl.DataFrame(
            {
                "local_id": pending["local_id"],
                "number": pending["number"],
                "pages": pages
                if isinstance(pages, pl.Series)
                else pl.repeat(pages, pending.height, dtype=pl.Int16, eager=True),
                "cost": costs,
            }
        ).cast(_FROZEN),
        affordable=None,
    )
    if not was_in_flight:
        available = credit.balance(con)
        cp.affordable = int((costs.cum_sum() <= available).sum())
        if cp.affordable == 0:
            if recount:
                refresh_counts(con, ref.campaign_id, ref.run_no, batch_no)
            return BatchOutcome(batch_no, status="pending", stop=Reason(Code.INSUFFICIENT_CREDIT))
        credit.hold(con, key, int(costs.head(cp.affordable).sum()))
    personal = texts is not None  # its texts are on the messages, not on the batch
    con.execute(
        q("batch_begin"),
        {
            **key,
            "text": None if personal else text,
            "pages": None if personal else pages,
            "encoding": None if personal else count_pages(text).encoding,
            "prices": None if personal else json.dumps(prices),
        },
    )
    if recount or personal:  # a drop, or frozen pages and costs on pending messages
        refresh_counts(con, ref.campaign_id, ref.run_no, batch_no)
    return cp


_FROZEN = pl.Schema({"local_id": pl.Int64, "number": pl.Int64, "pages": pl.Int16, "cost": pl.Int64})


def unbegin_batch(con: duckdb.DuckDBPyConnection, ref: RunRef, cp: Checkpoint) -> None:
    """Give back a batch opened ahead whose requests never left (the batch before it
    stopped the run): pending again, its hold released, so nothing waits on a rebuild."""
    key = {**ref.key, "batch_no": cp.batch_no}
    credit.release(con, key)
    con.execute(q("batch_unbegin"), key)


def _deferred(
    con: duckdb.DuckDBPyConnection, key: dict[str, Any], sender: str, settings: Settings
) -> BatchOutcome | None:
    """A batch of numbers deferred by the frequency cap: the run waits until it may go
    (like outside the sending window); when it may, numbers another campaign brought back
    to the cap meanwhile are capped after all. None: the batch goes now."""
    from chapar.frequency import window_start
    from chapar.sending.run import cap_for
    from chapar.store.repo import line_for

    row = fetch_one(con.execute(q("batch_not_before"), key))
    not_before = row[0] if row else None
    if not_before is None:
        return None
    now = datetime.now(UTC)
    if not_before > now:
        return BatchOutcome(
            key["batch_no"], status="pending", stop=Reason(Code.CAP_WAIT), resume_at=not_before
        )
    cap = cap_for(line_for(con, sender), settings)
    if cap is not None:
        since = window_start(now, cap[1])
        con.execute(q("batch_drop_capped"), {**key, "cap_n": cap[0], "cap_since": since})
    return None


def _freeze(
    message: str, pending: pl.DataFrame, settings: Settings
) -> tuple[str, int, dict[str, int]]:
    """The text this batch goes out with (the line's opt-out footer already on it), its
    pages, and a message's price by operator."""
    count = count_pages(message)
    operators = pending["operator"].unique().to_list()
    prices = {op: count.pages * page_price(count.encoding, op, settings) for op in operators}
    return message, count.pages, prices


def _costs(pending: pl.DataFrame, prices: dict[str, int]) -> pl.Series:
    default = max(prices.values(), default=0)
    return pending["operator"].replace_strict(prices, default=default, return_dtype=pl.Int64)


def rehold(
    con: duckdb.DuckDBPyConnection,
    ref: RunRef,
    cp: Checkpoint,
    found: set[int],
    unknown: set[int],
) -> set[int]:
    """After reconciling an in-flight batch: drop the messages to numbers barred since it
    was planned that the provider does not have (nothing of them went out), then hold what
    the provider already has (``found``, charged at record), what it may have
    (``unknown``), and as many of the rest as the balance covers. Sets ``cp.affordable``
    over the messages still to send; returns the local ids dropped."""
    key = {**ref.key, "batch_no": cp.batch_no}
    _renew(con, ref, get_settings())
    kept = found | unknown
    barred = con.execute(q("batch_barred_pending"), {**key, "sender": cp.sender}).fetchall()
    dropped = {local_id for (local_id,) in barred} - kept
    if dropped:
        con.execute(
            q("batch_drop_barred"), {**key, "sender": cp.sender, "local_ids": sorted(dropped)}
        )
        refresh_counts(con, ref.campaign_id, ref.run_no, cp.batch_no)
    available = credit.balance(con) + credit.held(con, key)
    must = cp.cost_of(kept)
    rest = cp.frozen.filter(~pl.col("local_id").is_in(list(kept | dropped)))["cost"]
    affordable = int((rest.cum_sum() <= available - must).sum())
    credit.release(con, key)
    credit.hold(con, key, must + int(rest.head(affordable).sum()))
    cp.affordable = affordable
    return dropped
