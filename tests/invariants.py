"""The invariants every send, kill and fault test ends with: exactly once at the provider,
the money, and the run counters."""

from __future__ import annotations

from typing import Any

from chapar import credit, reports
from chapar.pages import count_pages
from chapar.pricing import page_price
from chapar.settings import get_settings
from chapar.store import connect, repo


def assert_money_holds(sim: Any | None = None) -> None:
    """Charges net of refunds = Σ cost of what the provider accepted (net of refunds);
    the balance is never below zero; and — given the simulator — each accepted message's
    recorded cost is its pages (of the text the provider actually got) × the page price."""
    with connect() as con:
        check = credit.check_money(con)
        open_batches = con.execute(
            "SELECT count(*) FROM batches WHERE status = 'in_flight'"
        ).fetchone()
    assert check.balance >= 0, check
    assert check.charged == check.accepted, check
    if open_batches == (0,):
        assert check.held == 0, check
    if sim is not None:
        assert_costs_match_the_outbox(sim)


def assert_costs_match_the_outbox(sim: Any) -> None:
    """What the provider holds is what was recorded and charged: per number, the text it
    received prices to the cost recorded for it."""
    settings = get_settings()
    box = sim.outbox()
    texts = box.get("texts") or {}
    if not texts:
        return
    with connect() as con:
        rows = con.execute(
            "SELECT CAST(number AS VARCHAR), operator, pages, cost FROM messages "
            "WHERE provider_id IS NOT NULL"
        ).fetchall()
    for number, operator, pages, cost in rows:
        text = texts.get(number)
        if text is None:
            continue
        count = count_pages(text)
        assert pages == count.pages, (number, text, pages)
        assert cost == count.pages * page_price(count.encoding, operator, settings), number


def assert_counters_match(campaign_id: int) -> None:
    """Every run's counters equal a full recount of its messages."""
    for run_no in range(1, repo.get_campaign(campaign_id).current_run + 1):
        assert reports.counters(campaign_id, run_no) == reports.recount(campaign_id, run_no)
