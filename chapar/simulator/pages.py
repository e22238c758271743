"""How the simulated provider counts pages: the provider's side of the bill.

Deliberately independent of Chapar's own page counter, so a test comparing Chapar's estimate
with what the "provider" charged compares two implementations, not one with itself.
GSM-7: 160 septets in one page, 153 a page when longer, extension characters take two
septets; anything else is UCS-2: 70 UTF-16 units, then 67 a page. A character never
straddles two pages (an escape pair or a surrogate pair moves whole to the next page).
"""

from __future__ import annotations

import re
from functools import lru_cache

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
_GSM7 = _GSM7_BASIC | _GSM7_EXTENSION
#: a character outside the BMP: two UTF-16 units in UCS-2
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")

GSM7 = "gsm7"
UCS2 = "ucs2"


def _pack(widths: list[int], single: int, multi: int) -> int:
    if sum(widths) <= single:
        return 1
    pages, used = 1, 0
    for width in widths:
        if used + width > multi:
            pages, used = pages + 1, 0
        used += width
    return pages


@lru_cache(maxsize=4096)
def count_pages(text: str) -> tuple[str, int]:
    """``(encoding, pages)``; cached because a campaign sends one text many times."""
    if not text:
        return GSM7, 0
    if _GSM7.issuperset(text):
        if _GSM7_EXTENSION.isdisjoint(text):
            return GSM7, _even(len(text), 160, 153)
        return GSM7, _pack([2 if ch in _GSM7_EXTENSION else 1 for ch in text], 160, 153)
    if _ASTRAL.search(text) is None:
        return UCS2, _even(len(text), 70, 67)
    return UCS2, _pack([2 if ord(ch) > 0xFFFF else 1 for ch in text], 70, 67)


def _even(length: int, single: int, multi: int) -> int:
    """:func:`_pack` when every character is one unit wide (most texts, and every
    personalised message: thousands of distinct texts, so the cache does not help)."""
    return 1 if length <= single else -(-length // multi)
