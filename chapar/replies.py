"""What a reply to a campaign means: opt out, opt back in, or just a reply (issue 12).

The regulator's footer "لغو۱۱" tells people to answer 11 to stop messages from a line and 12
to resume; people answer in every script and spelling. The rule (``docs/personalisation.md``
says the same for users):

1. **Fold** the text: Unicode NFKC (Arabic presentation forms, full-width Latin), Persian
   ``۰–۹`` and Arabic ``٠–٩`` digits to ``0–9``, Arabic ``ي ك ى`` to Persian ``ی ک ی``,
   tatweel, Arabic diacritics and invisible format characters (ZWJ, direction marks, BOM)
   removed, a ZWNJ read as a space, Latin case ignored.
2. **Split** it into words: runs of letters and runs of digits (so ``لغو۱۱`` is ``لغو`` +
   ``11``); spaces, punctuation, symbols and emoji only separate.
3. It is a **command** when it holds at least one command word, every command word is of one
   kind, and every other word is a courtesy word (``لطفا``, ``please``, ``کنید``, ``عضویت``,
   ``اشتراک`` …) — so ``لغو``, ``لغو ۱۱``, ``STOP!``, ``لطفا لغو کنید`` and ``لغو عضویت`` opt
   out, and ``شروع`` / ``12`` / ``start`` opt back in.
4. Anything else is :attr:`ReplyKind.OTHER`, kept as a reply for the report: a word that is
   neither (``لغو نکنید لطفا`` — "please don't cancel" — has ``نکنید``), both kinds at once
   (``لغو 12``), other numbers (``111``, ``011``, ``1 1``), or no command word at all.

Command words, opt-out: ``11``, ``لغو``, ``خاموش``, ``انصراف``, ``stop``, ``stopall``,
``unsubscribe``, ``cancel``, ``quit``, ``end``, ``off``, ``laghv``; opt-in: ``12``, ``شروع``,
``روشن``, ``start``, ``unstop``, ``on``. ``yes``/``بله`` are not commands: they answer
questions a campaign may ask.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from typing import Final


class ReplyKind(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    OTHER = "other"


OPT_OUT_WORDS: Final = frozenset(
    {"11", "لغو", "خاموش", "انصراف", "stop", "stopall", "unsubscribe", "cancel", "quit", "end",
     "off", "laghv"}
)  # fmt: skip
OPT_IN_WORDS: Final = frozenset({"12", "شروع", "روشن", "start", "unstop", "on"})
#: Words that may stand beside a command without changing it ("please cancel", "cancel my
#: subscription"); alone they are no command.
COURTESY_WORDS: Final = frozenset(
    {"لطفا", "لطفن", "please", "pls", "plz", "کنید", "کنین", "کن", "بشه", "شود", "شه",
     "عضویت", "اشتراک", "پیامک", "پیام", "sms"}
)  # fmt: skip

_DIGITS: Final = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
#: Arabic letter forms to Persian; tatweel dropped; ZWNJ (a break between the parts of a
#: word, "لغو‌کنید") separates like a space.
_LETTERS: Final = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "\u0640": None, "\u200c": " "})
#: Letters (any script) or ASCII digits; anything else only separates words.
_WORD: Final = re.compile(r"[^\W\d_]+|[0-9]+")


def fold(text: str) -> str:
    """The reply with the differences between keyboards, scripts and cases removed."""
    text = unicodedata.normalize("NFKC", text).translate(_DIGITS).translate(_LETTERS)
    # Format characters (direction marks, ZWJ, BOM…) and combining marks (diacritics) drop out.
    kept = (c for c in text if unicodedata.category(c) not in {"Cf", "Mn"})
    return "".join(kept).casefold()


def words(text: str) -> list[str]:
    """The words of a folded reply: runs of letters, runs of digits."""
    return _WORD.findall(fold(text))


def classify(text: str) -> ReplyKind:
    """Opt out, opt in, or any other reply (see the module's rule)."""
    kinds: set[ReplyKind] = set()
    for word in words(text):
        if word in OPT_OUT_WORDS:
            kinds.add(ReplyKind.OPT_OUT)
        elif word in OPT_IN_WORDS:
            kinds.add(ReplyKind.OPT_IN)
        elif word not in COURTESY_WORDS:
            return ReplyKind.OTHER
    return kinds.pop() if len(kinds) == 1 else ReplyKind.OTHER
