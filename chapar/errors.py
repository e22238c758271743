"""Domain errors of the core, drawn once. Each carries a :class:`~chapar.reasons.Reason`
(code + parameters); the edges (CLI, dashboard, flows) turn it into words.

    ChaparError
    ├── InputError      bad input from a user: a file, a field, a value (says where)
    ├── NotFound        an id or name that does not exist
    ├── NotAllowed      an action the campaign's state does not allow
    └── Busy            another process holds the run's lease, or the database file
        └── LeaseLost   (chapar.sending) this process lost its run's lease

Raise with a code — ``NotAllowed(Code.ARCHIVED)`` — or, where no code exists yet, a free
English text, which reads the same in both languages.
"""

from __future__ import annotations

from typing import Any

from chapar.reasons import Code, Lang, Reason, field_words


class ChaparError(Exception):
    """Base of every error Chapar raises on purpose; its text is meant for the user."""

    def __init__(self, what: Code | Reason | str, /, *, where: str | None = None, **params: Any):
        if isinstance(what, Reason):
            self.reason = what
        elif isinstance(what, Code):
            self.reason = Reason(what, params)
        else:
            self.reason = Reason(Code.MESSAGE, {"text": what})
        self.where = where
        super().__init__(self.text("en"))

    @property
    def code(self) -> Code:
        return self.reason.code

    def text(self, lang: Lang = "en") -> str:
        body = self.reason.text(lang)
        return f"{field_words(self.where, lang)}: {body}" if self.where else body


class InputError(ChaparError):
    """Bad input from a user: a file, a field, a value. Says what is wrong and where."""


class NotFound(ChaparError):
    """An id or name that does not exist."""


class NotAllowed(ChaparError):
    """An action the campaign's state does not allow (editing while sending, …)."""


class Busy(ChaparError):
    """Another process holds the campaign's lease, or the database stayed locked too long."""
