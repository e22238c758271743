"""Test send (issue 12): the campaign's text, as it would go out, to one to five of the
user's own numbers before the campaign does. Charged and written to the audit trail and the
ledger like any send, never counted as a run (its rows live in ``test_sends``).

The text is the campaign's message rendered for its first recipient, with any values given
(``--value name=...``) in place of that recipient's; the
line's opt-out footer is added as at freeze time. Two transactions around the request, as a
batch: (1) credit held and the rows written ``pending``; (2) what the provider accepted
charged and ``sent``, the rest ``failed``. A request that fails releases the hold and
charges nothing (a test send is not reconciled: it went to the user's own phone).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from chapar import credit, templates
from chapar.errors import ChaparError, InputError
from chapar.footer import with_footer
from chapar.numbers import format_number, normalize, operator_of
from chapar.pricing import check_message, page_price
from chapar.providers import make_provider
from chapar.providers.base import Provider
from chapar.reasons import Code
from chapar.settings import get_settings
from chapar.store import fetch_one, transaction
from chapar.store.queries import q
from chapar.store.repo import default_actor, get_campaign, line_for, record_audit

MAX_NUMBERS: Final = 5


@dataclass(frozen=True)
class TestSend:
    """What a test send did: the text, its pages, and per number what became of it."""

    campaign_id: int
    text: str
    pages: int
    cost: int  # charged, for the numbers the provider accepted
    sent: dict[str, str]  # number (0912…) -> 'sent' | 'failed'


def parse_values(items: Sequence[str]) -> dict[str, str]:
    """``name=value`` pairs (the CLI's ``--value``)."""
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(Code.BAD_VALUE, where="--value", value=item)
        values[name.strip()] = value
    return values


def check_numbers(raw: Sequence[str]) -> list[int]:
    """One to five valid mobile numbers (repeats count once)."""
    numbers: list[int] = []
    for item in raw:
        number = normalize(item)
        if number is None:
            raise InputError(Code.TEST_SEND_INVALID_NUMBER, where="number", value=item)
        if number not in numbers:
            numbers.append(number)
    if not 1 <= len(numbers) <= MAX_NUMBERS:
        raise InputError(
            Code.TEST_SEND_COUNT, where="number", count=len(numbers), maximum=MAX_NUMBERS
        )
    return numbers


def first_recipient_values(campaign_id: int) -> dict[str, str | None]:
    """The first recipient's values (its list's columns), in list then line order; empty
    before the recipient-attributes migration (003) or without columns."""
    from chapar.personalise import has_attributes
    from chapar.store import connect

    with connect() as con:
        if not has_attributes(con):
            return {}
        rows = con.execute(q("first_recipient_values"), {"campaign_id": campaign_id}).fetchall()
    if not rows:
        return {}
    columns, attrs = rows[0]
    return dict(zip(columns or [], attrs or [], strict=False))


def render(message: str, values: Mapping[str, str | None]) -> str:
    """The message for these values. A message without variables (or one the template
    parser does not read, sent as it is by the engine too) is its own text."""
    try:
        parsed = templates.parse(message)
    except InputError:
        return message
    if parsed.is_plain:
        return message
    return templates.render_one(parsed, values)


def test_send(
    campaign_id: int,
    numbers: Sequence[str],
    values: Mapping[str, str] | None = None,
    actor: str | None = None,
    factory: Callable[[], Provider] | None = None,
) -> TestSend:
    """Send the campaign's text to 1–5 numbers now; refused (nothing written) for more or
    fewer numbers, an invalid number, or credit that does not cover it."""
    from chapar.sending import run_async

    settings = get_settings()
    actor = actor or default_actor()
    targets = check_numbers(numbers)
    campaign = get_campaign(campaign_id)
    # the given values, over the first recipient's
    given: dict[str, str | None] = {**first_recipient_values(campaign_id), **(values or {})}
    with transaction() as con:
        line = line_for(con, campaign.sender)
        text = with_footer(render(campaign.message, given), line.footer)
        count = check_message(text, settings)
        costs = [
            count.pages * page_price(count.encoding, operator_of(n), settings) for n in targets
        ]
        balance = credit.balance(con)
        if sum(costs) > balance:
            raise InputError(
                Code.TEST_SEND_CREDIT,
                where="credit",
                cost=f"{sum(costs):,}",
                balance=f"{balance:,}",
            )
        ids: list[int] = []
        for number, cost in zip(targets, costs, strict=True):
            row = fetch_one(
                con.execute(
                    q("test_send_insert"),
                    {
                        "campaign_id": campaign_id,
                        "number": number,
                        "operator": operator_of(number),
                        "text": text,
                        "pages": count.pages,
                        "cost": cost,
                        "actor": actor,
                    },
                )
            )
            assert row is not None
            ids.append(int(row[0]))
            credit.hold_test_send(con, campaign_id, ids[-1], cost)
    local_ids = [campaign_id * 10**12 + i for i in ids]  # run 0: never a campaign's message
    receptors = [format_number(n) for n in targets]

    async def request() -> dict[int, str]:
        provider = (factory or (lambda: make_provider(settings)))()
        try:
            results = await provider.send_columns(local_ids, receptors, campaign.sender, text)
        finally:
            await provider.aclose()
        return {r.local_id: r.message_id for r in results}

    failure: str | None = None
    try:
        accepted = run_async(request())
    except (ChaparError, OSError) as exc:
        accepted, failure = {}, str(exc)[:300] or type(exc).__name__
    sent: dict[str, str] = {}
    charged = 0
    with transaction() as con:
        for test_id, local_id, number, cost in zip(ids, local_ids, targets, costs, strict=True):
            provider_id = accepted.get(local_id)
            con.execute(
                q("test_send_done"),
                {
                    "id": test_id,
                    "status": "sent" if provider_id else "failed",
                    "provider_id": provider_id,
                },
            )
            credit.release_test_send(con, campaign_id, test_id)
            sent[format_number(number)] = "sent" if provider_id else "failed"
            charged += cost if provider_id else 0
        n_sent = sum(1 for v in sent.values() if v == "sent")
        credit.charge_test_send(con, campaign_id, charged, n_sent)
        record_audit(
            con,
            actor,
            campaign_id,
            "test_send",
            "numbers",
            None,
            ", ".join(f"{k}:{v}" for k, v in sent.items()) + f" ({charged} charged)",
        )
    if failure is not None:
        raise ChaparError(Code.TEST_SEND_FAILED, detail=failure)
    return TestSend(campaign_id, text, count.pages, charged, sent)


def test_sends(campaign_id: int) -> list[dict[str, Any]]:
    """A campaign's test sends, newest first."""
    from chapar.store import connect

    with connect() as con:
        cur = con.execute(q("test_sends_for"), {"campaign_id": campaign_id})
        cols = [d[0] for d in cur.description or []]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
