"""Replies: opt out (11, لغو, stop…), opt back in (12, شروع, start…), or just a reply."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chapar.replies import COURTESY_WORDS, OPT_IN_WORDS, OPT_OUT_WORDS, ReplyKind, classify, words

OUT, IN, OTHER = ReplyKind.OPT_OUT, ReplyKind.OPT_IN, ReplyKind.OTHER
ZWNJ, TATWEEL, RLM = "\u200c", "\u0640", "\u200f"

OPT_OUT_REPLIES = [
    # the regulator's number, in every digit script
    "11", "۱۱", "١١", " 11 ", "11.", "*11#", "«۱۱»", f"{RLM}۱۱",
    # the word, and the word with the number, spaced or not
    "لغو", "لغو۱۱", "لغو 11", "لغو ۱۱", "لغو  ١١", "۱۱ لغو", "لغو-۱۱", "لغو،۱۱", "لغو.",
    f"لغو{ZWNJ}۱۱", f"لغو{ZWNJ} ۱۱", "لـغـو", f"لغو{TATWEEL}{TATWEEL}", "لغو!!!", "لغو؟",
    "لغو لغو", "لغو 😡",
    # other words people use
    "خاموش", "خامـوش", "انصراف", "stop", "STOP", "Stop", "STOP!", "ＳＴＯＰ",
    "off", "OFF", "unsubscribe", "cancel", "quit", "end", "stopall", "laghv", "stop 11",
    # a command with courtesy words only
    "لطفا لغو کنید", "لطفاً لغو", "لطفا لغو كنيد", "لغو عضویت", "لغو عضويت", "لغو اشتراک",
    "لغو اشتراك", "لغو پیامک", "please stop", "STOP pls", "لغو بشه",
    f"لغو{ZWNJ}کنید", f"لطفا{ZWNJ}لغو",
]  # fmt: skip

OPT_IN_REPLIES = [
    "12", "۱۲", "١٢", " ۱۲.", "start", "START", "Start!", "شروع", "شروع ۱۲", "روشن", "on",
    "unstop", "لطفا شروع کنید", "شروع عضويت", "شـروع", f"{ZWNJ}12",
]  # fmt: skip

OTHER_REPLIES = [
    # longer texts that merely contain a command word
    "لغو نکنید لطفا", "لغو نکن", "چرا لغو شد؟", "کد ۱۱ را فرستادم", "stop sending me ads now",
    "don't stop", "I want to start", "لغو ۱۱ یعنی چه", f"لغو نمی{ZWNJ}خواهم",
    # both kinds at once
    "لغو 12", "11 12", "stop start",
    # other numbers, and digits spaced apart
    "111", "011", "1 1", "۱ ۱", "112", "1", "21",
    # courtesy alone, nothing, or noise
    "لطفا", "عضویت", "", "   ", "؟", "😀", "...",
    # yes/no answer questions, they are not commands
    "yes", "بله", "no", "خیر",
    "سلام، کی تخفیف تمام میشه؟",
]  # fmt: skip


@pytest.mark.parametrize("reply", OPT_OUT_REPLIES)
def test_opt_out_replies(reply: str) -> None:
    assert classify(reply) is OUT


@pytest.mark.parametrize("reply", OPT_IN_REPLIES)
def test_opt_in_replies(reply: str) -> None:
    assert classify(reply) is IN


@pytest.mark.parametrize("reply", OTHER_REPLIES)
def test_other_replies_are_kept_as_replies(reply: str) -> None:
    assert classify(reply) is OTHER


def test_words_split_letters_from_digits_and_fold_scripts() -> None:
    assert words("لغو۱۱") == ["لغو", "11"]
    assert words(f"لطفاً  لـغو{ZWNJ}كنيد!") == ["لطفا", "لغو", "کنید"]
    assert words("ＳＴＯＰ ١٢") == ["stop", "12"]


def test_the_word_lists_do_not_overlap() -> None:
    assert not OPT_OUT_WORDS & OPT_IN_WORDS
    assert not (OPT_OUT_WORDS | OPT_IN_WORDS) & COURTESY_WORDS


@given(st.text(max_size=40))
def test_a_reply_holding_a_word_outside_the_lists_is_never_a_command(text: str) -> None:
    reply = f"لغو {text}"
    known = OPT_OUT_WORDS | OPT_IN_WORDS | COURTESY_WORDS
    if any(w not in known for w in words(reply)):
        assert classify(reply) is OTHER
