"""How the simulated provider counts pages: the provider's side of the bill.

Deliberately independent of Chapar's own page counter, so a test comparing Chapar's estimate
with what the "provider" charged compares two implementations, not one with itself.
GSM-7: 160 septets in one page, 153 a page when longer, extension characters take two
septets; anything else is UCS-2: 70 UTF-16 units, then 67 a page. A character never
straddles two pages (an escape pair or a surrogate pair moves whole to the next page).
"""

from __future__ import annotations

from functools import lru_cache

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
_GSM7 = _GSM7_BASIC | _GSM7_EXTENSION

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
    if all(ch in _GSM7 for ch in text):
        return GSM7, _pack([2 if ch in _GSM7_EXTENSION else 1 for ch in text], 160, 153)
    return UCS2, _pack([2 if ord(ch) > 0xFFFF else 1 for ch in text], 70, 67)
