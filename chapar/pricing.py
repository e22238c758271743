"""Money: pages × the price of a page, by encoding and operator, in whole Rials."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from chapar.errors import InputError
from chapar.pages import PageCount, count_pages
from chapar.reasons import Code
from chapar.settings import Settings, get_settings


def page_price(encoding: str, operator: str | None, settings: Settings | None = None) -> int:
    prices = (settings or get_settings()).page_prices[encoding]
    return prices.get(operator or "default", prices["default"])


def check_message(text: str, settings: Settings | None = None) -> PageCount:
    """The message's pages, or an InputError if it is empty or longer than allowed."""
    settings = settings or get_settings()
    if not text or not text.strip():
        raise InputError(Code.MESSAGE_EMPTY, where="message")
    count = count_pages(text)
    if count.pages > settings.max_pages:
        raise InputError(
            Code.MESSAGE_TOO_LONG, where="message", pages=count.pages,
            characters=count.characters, encoding=count.encoding, maximum=settings.max_pages,
        )  # fmt: skip
    return count


@dataclass(frozen=True)
class Quote:
    """A priced campaign: what the dry run and the live preview show."""

    encoding: str
    characters: int
    pages: int
    recipients: int
    cost: int
    currency: str
    invalid: int = 0
    duplicates: int = 0
    blacklisted: int = 0
    by_operator: Mapping[str, int] = field(default_factory=dict)
    opted_out: int = 0
    capped: int = 0
    footer: str | None = None  # the line's opt-out footer, part of the text priced
    #: a personalised message: pages per recipient and a few rendered texts
    min_pages: int | None = None
    max_pages: int | None = None
    samples: tuple[str, ...] = ()
    #: a personalised message's pages over all its recipients (each text its own pages)
    pages_total: int | None = None

    @property
    def total_pages(self) -> int:
        """Pages over every recipient: what sending sends and charges by."""
        return self.pages * self.recipients if self.pages_total is None else self.pages_total

    def as_dict(self) -> dict[str, object]:
        return {
            "encoding": self.encoding,
            "characters": self.characters,
            "pages": self.pages,
            "recipients": self.recipients,
            "invalid": self.invalid,
            "duplicates": self.duplicates,
            "blacklisted": self.blacklisted,
            "opted_out": self.opted_out,
            "capped": self.capped,
            "footer": self.footer,
            "min_pages": self.min_pages,
            "max_pages": self.max_pages,
            "samples": list(self.samples),
            "total_pages": self.total_pages,
            "by_operator": dict(self.by_operator),
            "cost": self.cost,
            "currency": self.currency,
        }


def quote(
    text: str,
    by_operator: Mapping[str, int],
    *,
    invalid: int = 0,
    duplicates: int = 0,
    blacklisted: int = 0,
    opted_out: int = 0,
    capped: int = 0,
    footer: str | None = None,
    settings: Settings | None = None,
) -> Quote:
    settings = settings or get_settings()
    count = check_message(text, settings)
    cost = sum(
        n * count.pages * page_price(count.encoding, op, settings) for op, n in by_operator.items()
    )
    return Quote(
        encoding=count.encoding,
        characters=count.characters,
        pages=count.pages,
        recipients=sum(by_operator.values()),
        cost=cost,
        currency=settings.currency,
        invalid=invalid,
        duplicates=duplicates,
        blacklisted=blacklisted,
        by_operator=dict(by_operator),
        opted_out=opted_out,
        capped=capped,
        footer=footer,
    )
