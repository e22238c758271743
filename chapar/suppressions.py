"""The suppression ledger (issue 12): every reason a number must not receive a campaign —
the telecom blacklist (imported), blocked by the provider, opted out (by reply or by hand,
on one line or everywhere), suppressed by hand — one row per event, with its source, scope,
the campaign that revealed it and when. Nothing is deleted; an opt-in adds a row.

The effective state of a number on a line (what planning filters by, the ``suppressed_on``
macro of migration 004): blacklisted if the telecom blacklist or the provider ever barred it
(an opt-in does not lift those: they are the telecom's, not the line's); otherwise the latest
of its opted_out / manual / opted_in rows whose scope is ``everywhere`` or that line decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from chapar.errors import InputError
from chapar.numbers import normalize
from chapar.reasons import Code
from chapar.store import connect, fetch_one, transaction
from chapar.store.queries import q
from chapar.store.repo import default_actor

KINDS: Final = ("telecom_blacklist", "provider_blocked", "opted_out", "manual", "opted_in")
#: What a user may add by hand (the telecom kinds come from imports and the provider).
MANUAL_KINDS: Final = ("opted_out", "manual", "opted_in")
EVERYWHERE: Final = "everywhere"


def scope_of(line: str | None) -> str:
    return EVERYWHERE if not line else f"line:{line}"


def number_of(raw: str | int) -> int:
    number = normalize(str(raw))
    if number is None:
        raise InputError(Code.INVALID_NUMBER, where="number", value=str(raw))
    return number


@dataclass(frozen=True)
class Suppression:
    id: int
    number: int
    kind: str
    scope: str
    source: str | None
    campaign_id: int | None
    recorded_at: datetime


def add_suppression(
    raw: str | int,
    kind: str = "opted_out",
    *,
    line: str | None = None,
    source: str | None = None,
    campaign_id: int | None = None,
) -> Suppression:
    """Add one row by hand (``source`` defaults to the user): opted_out, manual, opted_in."""
    if kind not in MANUAL_KINDS:
        raise InputError(
            Code.SUPPRESSION_KIND, where="kind", kind=kind, kinds=", ".join(MANUAL_KINDS)
        )
    number = number_of(raw)
    if line is not None:
        from chapar.campaigns import check_sender

        line = check_sender(line)
    with transaction() as con:
        row = fetch_one(
            con.execute(
                q("suppression_insert"),
                {
                    "number": number,
                    "kind": kind,
                    "scope": scope_of(line),
                    "source": source or f"user:{default_actor()}",
                    "campaign_id": campaign_id,
                },
            )
        )
    assert row is not None
    return Suppression(*row)


def suppressions(
    number: str | int | None = None, kind: str | None = None, limit: int = 100
) -> list[Suppression]:
    """The ledger's rows, newest first (of one number, of one kind)."""
    params: dict[str, Any] = {
        "number": None if number is None else number_of(number),
        "kind": kind,
        "limit": limit,
    }
    with connect() as con:
        return [Suppression(*r) for r in con.execute(q("suppressions_list"), params).fetchall()]


def counts() -> dict[str, int]:
    """Rows of the ledger by kind."""
    with connect() as con:
        return dict(con.execute(q("suppressions_by_kind")).fetchall())


def effective(raw: str | int, line: str | None = None) -> tuple[int, str | None]:
    """The number and the status a campaign on ``line`` would give it: None (it is sent),
    'blacklisted', 'opted_out' or 'suppressed'."""
    number = number_of(raw)
    with connect() as con:
        row = fetch_one(con.execute(q("suppression_effective"), {"number": number, "line": line}))
    return number, None if row is None else str(row[0])
