"""Replies (issue 12): read from the provider, kept once each, classified; opt-outs and
opt-ins become rows of the suppression ledger.

:func:`sync_inbox` asks the provider for the unread replies of every line that sent a
campaign or carries an opt-out footer (``provider.receive``; SMS.ir answers every line's
replies at once, each with its line). A reply is stored in ``inbox`` by the provider's id,
so reading it twice changes nothing. Its kind comes from :func:`chapar.replies.classify`:

- opt-out ("11", "لغو", "stop", …): an ``opted_out`` row, scope the line it replied to;
- opt-in ("12", "start", …): an ``opted_in`` row, the same scope (it lifts that opt-out);
- anything else is kept for the campaign's report.

Scope: a reply stops (or resumes) messages from the line it answered, as the regulator's
"لغو۱۱" promises. The telecom-wide stop (``*800#``) never comes as a reply: it reaches
Chapar as the imported telecom blacklist or the provider's "blocked". The row's source is
``reply:<provider id>``, its campaign the latest campaign on that line that messaged the
number, and its time the reply's.

A provider that marks replies read when it returns them (SMS.ir, the simulator) does not
return them again: replies are written in one transaction right after they are read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC

import polars as pl

from chapar.numbers import normalize
from chapar.providers import make_provider
from chapar.providers.base import InboundMessage, Provider, RepliesUnsupported
from chapar.replies import classify
from chapar.settings import get_settings
from chapar.store import connect, transaction
from chapar.store.queries import q

_SCHEMA = pl.Schema(
    {
        "provider_id": pl.String(),
        "number": pl.Int64(),
        "sender": pl.String(),
        "line": pl.String(),
        "text": pl.String(),
        "kind": pl.String(),
        "received_at": pl.Datetime("us", "UTC"),
    }
)


@dataclass
class InboxSync:
    lines: int = 0
    read: int = 0  # replies the provider returned
    new: int = 0  # of which not seen before
    opted_out: int = 0
    opted_in: int = 0
    other: int = 0
    unsupported: list[str] = field(default_factory=list)  # lines the adapter cannot read


def reply_lines() -> list[str]:
    """The lines whose replies are read: those that sent a campaign or carry a footer."""
    with connect() as con:
        return [r[0] for r in con.execute(q("inbox_lines")).fetchall()]


def frame_of(replies: list[InboundMessage]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "provider_id": [r.message_id for r in replies],
            "number": [normalize(r.sender) for r in replies],
            "sender": [r.sender for r in replies],
            "line": [r.receptor for r in replies],
            "text": [r.text for r in replies],
            "kind": [classify(r.text).value for r in replies],
            "received_at": [r.received_at.astimezone(UTC) for r in replies],
        },
        schema=_SCHEMA,
    )


def store_replies(replies: list[InboundMessage], result: InboxSync | None = None) -> InboxSync:
    """Keep replies not seen before and write their opt-outs and opt-ins (one
    transaction); a reply already kept changes nothing."""
    result = result or InboxSync()
    unique = list({r.message_id: r for r in replies}.values())
    result.read += len(unique)
    if not unique:
        return result
    frame = frame_of(unique).sort("received_at", "provider_id")
    with transaction() as con:
        con.register("incoming", frame)
        try:
            fresh = con.sql(q("inbox_fresh")).pl()
        finally:
            con.unregister("incoming")
        if fresh.is_empty():
            return result
        con.register("fresh", fresh)
        try:
            con.execute(q("inbox_insert"))
            con.execute(q("suppressions_from_replies"))
        finally:
            con.unregister("fresh")
    counts = fresh["kind"].value_counts()
    by_kind = dict(zip(counts["kind"], counts["count"], strict=True))
    result.new += fresh.height
    result.opted_out += int(by_kind.get("opt_out", 0))
    result.opted_in += int(by_kind.get("opt_in", 0))
    result.other += int(by_kind.get("other", 0))
    return result


def sync_inbox(factory: Callable[[], Provider] | None = None) -> InboxSync:
    """Read every reply line's unread replies from the provider and store them."""
    from chapar.sending import run_async

    settings = get_settings()
    make = factory or (lambda: make_provider(settings))
    lines = reply_lines()
    result = InboxSync(lines=len(lines))

    async def read_all() -> list[InboundMessage]:
        provider = make()
        got: list[InboundMessage] = []
        try:
            for line in lines:
                try:
                    got.extend(await provider.receive(line))
                except RepliesUnsupported:
                    result.unsupported.append(line)
        finally:
            await provider.aclose()
        return got

    return store_replies(run_async(read_all()) if lines else [], result)


@dataclass(frozen=True)
class Replies:
    """A campaign's replies for its report: counts by kind and the latest other replies."""

    opted_out: int
    opted_in: int
    other: int
    latest: pl.DataFrame  # number, text, received_at (kind 'other', newest first)


def campaign_replies(campaign_id: int, limit: int = 20) -> Replies:
    with connect() as con:
        counts = dict(con.execute(q("inbox_counts"), {"campaign_id": campaign_id}).fetchall())
        latest = con.sql(
            q("inbox_latest"), params={"campaign_id": campaign_id, "limit": limit}
        ).pl()
    return Replies(
        int(counts.get("opt_out", 0)),
        int(counts.get("opt_in", 0)),
        int(counts.get("other", 0)),
        latest,
    )
