"""Delivery statuses: ask the provider about messages not yet final and record the answers.

Blocked numbers (the recipient refuses advertising) join the blacklist, and blocked or
cancelled messages are refunded — once, however often this runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from chapar import credit
from chapar.providers import make_provider
from chapar.providers.base import Provider
from chapar.sending import ProviderFactory, run_async, state_of
from chapar.sending.record import learn_blocked
from chapar.sending.run import refresh_counts
from chapar.settings import get_settings
from chapar.store import execute_in_store, transaction
from chapar.store.queries import q

CHUNK = 20_000


@dataclass
class SyncResult:
    checked: int = 0
    updated: int = 0
    blocked: int = 0
    refunded: int = 0


async def _statuses(provider: Provider, ids: list[str]) -> dict[str, str]:
    reports = await provider.status(ids)
    found = {}
    for r in reports:
        state = state_of(r.status)
        if state is not None and state.value != "sent":
            found[r.message_id] = state.value
    return found


def sync_statuses(factory: ProviderFactory | None = None, limit: int = 5_000_000) -> SyncResult:
    settings = get_settings()
    factory = factory or (lambda: make_provider(settings))
    with transaction() as con:
        waiting = con.execute(q("messages_awaiting_status"), {"limit": limit}).pl()
    result = SyncResult(checked=waiting.height)
    for start in range(0, waiting.height, CHUNK):
        part = waiting.slice(start, CHUNK)

        async def ask(ids: list[str]) -> dict[str, str]:
            provider = factory()
            try:
                return await _statuses(provider, ids)
            finally:
                await provider.aclose()

        found = run_async(ask(part["provider_id"].to_list()))
        if not found:
            continue
        changed = part.with_columns(
            pl.col("provider_id").replace_strict(found, default=None).alias("status")
        ).filter(pl.col("status").is_not_null())
        with transaction() as con:
            statuses = changed.select("campaign_id", "run_no", "seq", "status")
            execute_in_store(con, q("messages_update_status"), {}, statuses)
            learn_blocked(con, changed)
            refunded = credit.refund_blocked(con, None)
            result.refunded += refunded.amount
            changed_batches = changed.select("campaign_id", "run_no", "batch_no").unique()
            for campaign_id, run_no, batch_no in set(changed_batches.rows()) | refunded.batches:
                refresh_counts(con, campaign_id, run_no, batch_no)
        result.updated += changed.height
        result.blocked += int((changed["status"] == "blocked").sum())
    return result
