"""Credit: the ledger's one home. Top-ups, holds, charges and refunds are written here and
nowhere else; the send engine and delivery sync call these inside their own transactions.

The balance is the ledger's sum and never goes below zero: a batch holds its cost before
any request leaves, and what the provider accepted is charged at the figures frozen with
the batch. The money invariant (:func:`check_money`): charges net of refunds equal the
cost of every message the provider accepted and did not refund.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from chapar.errors import InputError
from chapar.reasons import Code
from chapar.settings import get_settings
from chapar.store import fetch_one
from chapar.store.queries import q

#: The ledger's BIGINT holds ±9.2·10^18; no balance may come near it.
MAX_BALANCE = 10**15


def _scalar(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> Any:
    row = fetch_one(con.execute(q(name), params))
    return row[0] if row else None


def balance(con: duckdb.DuckDBPyConnection) -> int:
    return int(_scalar(con, "balance", {}))


def check_topup(amount: int) -> int:
    """A top-up is a positive whole number of Rials, at most the settings' maximum."""
    maximum = get_settings().max_topup
    if amount <= 0:
        raise InputError(Code.TOPUP_NOT_POSITIVE, where="amount", amount=amount)
    if amount > maximum:
        raise InputError(Code.TOPUP_TOO_LARGE, where="amount", amount=amount, maximum=maximum)
    return amount


def topup(con: duckdb.DuckDBPyConnection, amount: int, note: str | None = None) -> int:
    """Add credit; returns the new balance."""
    check_topup(amount)
    if balance(con) + amount > MAX_BALANCE:
        raise InputError(Code.BALANCE_TOO_LARGE, where="amount", maximum=MAX_BALANCE)
    _insert(con, "topup", amount, {}, note)
    return balance(con)


def _insert(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    amount: int,
    key: dict[str, Any],
    note: str | None,
) -> None:
    con.execute(
        q("ledger_insert"),
        {
            "kind": kind,
            "amount": amount,
            "campaign_id": key.get("campaign_id"),
            "run_no": key.get("run_no"),
            "batch_no": key.get("batch_no"),
            "note": note,
        },
    )


def hold(con: duckdb.DuckDBPyConnection, key: dict[str, Any], amount: int) -> None:
    """Reserve a batch's cost while its requests are out (key: campaign, run, batch)."""
    if amount:
        _insert(con, "hold", -amount, key, f"batch {key['batch_no']} in flight")


def held(con: duckdb.DuckDBPyConnection, key: dict[str, Any]) -> int:
    """What a batch holds now."""
    return int(_scalar(con, "holds_of_batch", key))


def release(con: duckdb.DuckDBPyConnection, key: dict[str, Any]) -> None:
    """End a batch's hold (its charge, if any, is written beside it)."""
    con.execute(q("holds_release"), key)


def charge(con: duckdb.DuckDBPyConnection, key: dict[str, Any], amount: int, n: int) -> None:
    if amount:
        _insert(con, "charge", -amount, key, f"{n} messages")


#: A test send's ledger rows carry run 0 (runs count from 1) and the test send's id.
TEST_SEND_RUN = 0


def hold_test_send(
    con: duckdb.DuckDBPyConnection, campaign_id: int, test_id: int, amount: int
) -> None:
    """Reserve a test send's cost while its request is out."""
    if amount:
        key = {"campaign_id": campaign_id, "run_no": TEST_SEND_RUN, "batch_no": test_id}
        _insert(con, "hold", -amount, key, f"test send {test_id} in flight")


def release_test_send(con: duckdb.DuckDBPyConnection, campaign_id: int, test_id: int) -> None:
    release(con, {"campaign_id": campaign_id, "run_no": TEST_SEND_RUN, "batch_no": test_id})


def charge_test_send(con: duckdb.DuckDBPyConnection, campaign_id: int, amount: int, n: int) -> None:
    if amount:
        _insert(con, "charge", -amount, {"campaign_id": campaign_id}, f"test send, {n} messages")


@dataclass(frozen=True)
class Refunded:
    """What :func:`refund_blocked` gave back, and the batches (campaign, run, batch) whose
    messages it marked refunded (their counters are to be recounted)."""

    amount: int
    batches: frozenset[tuple[int, int, int]]


def refund_blocked(con: duckdb.DuckDBPyConnection, campaign_id: int | None) -> Refunded:
    """Refund, once, messages the provider blocked or cancelled: one ledger entry a run."""
    due = con.execute(q("refunds_due"), {"campaign_id": campaign_id}).fetchall()
    by_run: dict[tuple[int, int], tuple[int, int]] = {}
    for cid, run_no, _batch_no, amount, n in due:
        before = by_run.get((cid, run_no), (0, 0))
        by_run[(cid, run_no)] = (before[0] + amount, before[1] + n)
    for (cid, run_no), (amount, n) in by_run.items():
        _insert(
            con,
            "refund",
            amount,
            {"campaign_id": cid, "run_no": run_no},
            f"{n} blocked or cancelled",
        )
    con.execute(q("refunds_mark"), {"campaign_id": campaign_id})
    return Refunded(
        sum(amount for amount, _ in by_run.values()),
        frozenset((cid, run_no, b) for cid, run_no, b, _, _ in due if b is not None),
    )


@dataclass(frozen=True)
class MoneyCheck:
    """The two sides of the money invariant, and what is held and left."""

    charged: int  # charges less refunds, from the ledger
    accepted: int  # Σ cost of messages the provider accepted, less refunded ones
    held: int  # credit reserved by batches in flight
    balance: int

    @property
    def holds(self) -> bool:
        return self.charged == self.accepted and self.balance >= 0


def check_money(con: duckdb.DuckDBPyConnection) -> MoneyCheck:
    row = fetch_one(con.execute(q("money_check"), {}))
    assert row is not None
    return MoneyCheck(*(int(v) for v in row))
