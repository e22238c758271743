"""The opt-out footer a sender line may add to every message (default "لغو۱۱").

The footer goes on its own line after the (rendered) text and is part of what is sent, so it
counts in the pages and the cost and shows in the preview. A text that already ends with the
footer (its own last characters, spaces after it ignored) is left as it is, so a user who
typed "لغو۱۱" themselves is not charged for it twice. An empty footer adds nothing.

Three forms: :func:`with_footer` for one text, :func:`footer_expr` for a column of texts, and
:func:`footer_template` to put the footer into a parsed message before rendering (free: one
more literal part), where "already ends with it" is judged on the message's own last words.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from chapar.templates import Template

DEFAULT_FOOTER: Final = "لغو۱۱"
#: Trailing characters ignored when looking for a footer already there.
_TRAILING: Final = " \t\r\n\u00a0\u200c\u200e\u200f"


def with_footer(text: str, footer: str | None = DEFAULT_FOOTER) -> str:
    """``text``, a line break and ``footer`` — unless the footer is empty or already ends
    the text."""
    if not footer or text.rstrip(_TRAILING).endswith(footer):
        return text
    return f"{text}\n{footer}"


def footer_expr(text: pl.Expr, footer: str | None = DEFAULT_FOOTER) -> pl.Expr:
    """:func:`with_footer` over a column of texts (nulls stay null)."""
    if not footer:
        return text
    has_it = text.str.strip_chars_end(_TRAILING).str.ends_with(footer)
    return pl.when(has_it).then(text).otherwise(pl.concat_str([text, pl.lit("\n" + footer)]))


def footer_template(template: Template, footer: str | None = DEFAULT_FOOTER) -> Template:
    """``template`` with the footer as its last literal part, unless the footer is empty or
    the template's own last literal already ends with it. Rendering it equals
    :func:`with_footer` of each rendered text, except where a recipient's value is what
    would end the text with the footer (the footer is then still added)."""
    last = template.parts[-1] if template.parts else ""
    if not footer or (isinstance(last, str) and with_footer(last, footer) == last):
        return template
    parts = template.parts
    if isinstance(last, str):
        return Template((*parts[:-1], f"{last}\n{footer}"), template.source)
    return Template((*parts, f"\n{footer}"), template.source)
