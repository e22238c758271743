"""Domain errors of the core. The edges (CLI, dashboard, flows) turn them into messages."""

from __future__ import annotations


class ChaparError(Exception):
    """Base of every error Chapar raises on purpose; its text is meant for the user."""


class InputError(ChaparError):
    """Bad input from a user: a file, a field, a value. Says what is wrong and where."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class NotFound(ChaparError):
    """An id or name that does not exist."""


class NotAllowed(ChaparError):
    """An action the campaign's state does not allow (editing while sending, …)."""


class Busy(ChaparError):
    """Another process holds the campaign's lease, or the database stayed locked too long."""
