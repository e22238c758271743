"""The provider contract: what the send pipeline may ask of any SMS provider, and what it gets.

Adapters (Kavenegar, SMS.ir, the simulator through the Kavenegar adapter) translate wire
protocols into these types, so the pipeline never sees a provider's status codes or JSON.
The error classes carry the one distinction the pipeline's promise depends on: was the
request *certainly not* accepted (safe to retry) or *maybe* accepted (reconcile first)?
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Protocol, runtime_checkable

from chapar.errors import ChaparError
from chapar.reasons import Code, Reason


class MessageStatus(StrEnum):
    """Chapar's own message statuses, provider-neutral."""

    QUEUED = "queued"
    #: accepted / handed to the telecom; not final
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    #: the recipient refuses advertising (telecom blacklist); refunded
    BLACKLISTED = "blacklisted"
    #: cancelled before it left; refunded
    CANCELLED = "cancelled"
    #: the provider does not know the id
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        """No later poll can change this status."""
        return self in _FINAL

    @property
    def is_refunded(self) -> bool:
        """The provider does not charge a message that ends in this status."""
        return self in _REFUNDED


_FINAL = frozenset(
    {
        MessageStatus.DELIVERED,
        MessageStatus.UNDELIVERED,
        MessageStatus.FAILED,
        MessageStatus.BLACKLISTED,
        MessageStatus.CANCELLED,
    }
)
_REFUNDED = frozenset({MessageStatus.CANCELLED, MessageStatus.BLACKLISTED})


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message to hand to the provider. ``local_id`` is the pipeline's idempotency key."""

    local_id: int
    #: normalised number, e.g. ``'989121234567'``
    receptor: str
    sender: str
    text: str


@dataclass(frozen=True, slots=True)
class SendResult:
    """The provider's answer for one accepted message."""

    local_id: int
    receptor: str
    message_id: str
    status: MessageStatus
    #: what the provider charged, in its currency (Rials for Kavenegar); None if it does not say
    cost: int | None


@dataclass(frozen=True, slots=True)
class StatusReport:
    """The provider's current status of one message."""

    message_id: str
    status: MessageStatus
    local_id: int | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A reply someone sent to one of our lines (read from the provider's inbox)."""

    #: the provider's id of the reply: stable across reads, the key to de-duplicate on
    message_id: str
    #: the replying mobile, normalised (``'989121234567'``)
    sender: str
    #: our line that received it
    receptor: str
    text: str
    #: when the provider received it, UTC (timezone-aware)
    received_at: datetime


@runtime_checkable
class Provider(Protocol):
    """An SMS provider as the send pipeline sees it."""

    name: str
    #: most messages one :meth:`send` may carry (200 Kavenegar, 100 SMS.ir)
    max_per_send: int
    #: True if :meth:`status_by_local_ids` can say which local ids the provider holds (how an
    #: unknown outcome is settled); False if it raises :class:`ReconcileUnsupported`
    reconciles_by_local_id: bool

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        """Send at most ``max_per_send`` messages in one request; results in input order."""
        ...

    async def send_columns(
        self,
        local_ids: Sequence[int],
        receptors: Sequence[str],
        sender: str,
        texts: Sequence[str] | str,
    ) -> list[SendResult]:
        """:meth:`send` from columns (one sender; a ``str`` text is the same text for every
        receptor), so a caller need not build one object per message. Same limits, errors
        and answer as :meth:`send`."""
        ...

    async def receive(self, line: str) -> list[InboundMessage]:
        """Replies to ``line`` not read before. Reading marks them read at the provider
        (SMS.ir documents it, the simulator does it, Kavenegar does not say): a reply comes
        back once, but store it by ``message_id`` so a repeated one changes nothing. A
        provider that cannot be asked for one line (SMS.ir) returns every line's replies,
        each with its ``receptor``, rather than drop what it will not return again. Raises
        :class:`RepliesUnsupported` if the adapter cannot read replies."""
        ...

    async def status(self, message_ids: Sequence[str]) -> list[StatusReport]:
        """Current status of each id (``UNKNOWN`` for ids the provider lacks); chunked inside."""
        ...

    async def status_by_local_ids(self, local_ids: Sequence[int]) -> list[StatusReport]:
        """Reports only for the local ids the provider HAS: how an unknown outcome is settled."""
        ...

    async def credit(self) -> int:
        """Remaining credit in the provider's currency."""
        ...

    async def aclose(self) -> None:
        """Close the connection pool."""
        ...


# --- errors ------------------------------------------------------------------------------


class ProviderError(ChaparError):
    """A provider call failed.

    - ``provider_code``: the provider's own code (Kavenegar ``return.status``, SMS.ir
      ``status``) or the bare HTTP status, None if there was no answer;
    - ``reason`` / ``code`` (as every :class:`ChaparError`): the :class:`~chapar.reasons.Code`
      of the error's class (:attr:`reason_code`) with parameters ``code`` (the provider's
      code, ``"-"`` if none) and ``detail`` (this text), ready to store as a stop reason;
    - ``str(exc)``: the technical text (provider, method, code, the provider's message).

    Texts never contain the API key: adapters mask it before building them.
    """

    reason_code: ClassVar[Code] = Code.PROVIDER_ERROR

    def __init__(self, message: str, *, code: int | None = None) -> None:
        self.provider_code = code
        self.reason = Reason(
            self.reason_code, {"code": "-" if code is None else code, "detail": message}
        )
        self.where = None
        Exception.__init__(self, message)  # the detail, not the reason's words


class InsufficientCredit(ProviderError):
    """The provider's account cannot pay for the request; nothing of it was accepted."""

    reason_code = Code.PROVIDER_CREDIT


class TransientError(ProviderError):
    """The provider asked to retry later (Kavenegar 409, HTTP 429): the request was NOT
    accepted, so sending it again is safe."""

    reason_code = Code.PROVIDER_UNAVAILABLE


class RejectedInput(ProviderError):
    """The provider refused the request's content (number, sender, text, array sizes);
    nothing was accepted and retrying the same request will fail the same way."""

    reason_code = Code.PROVIDER_REFUSED


class AuthError(ProviderError):
    """The key is invalid, the account inactive or access denied. Never carries the key."""

    reason_code = Code.PROVIDER_AUTH


class UnknownOutcome(ProviderError):
    """Timeout, dropped connection, 5xx or an unreadable answer: the request MAY have been
    accepted. Never resend before reconciling (``status_by_local_ids``)."""

    reason_code = Code.PROVIDER_UNAVAILABLE


class ReconcileUnsupported(ProviderError):
    """The provider has no client-side ids, so it cannot say which local ids it holds
    (:attr:`Provider.reconciles_by_local_id` is False). The engine's stop reason for such a
    batch is its own (``Code.OUTCOME_UNKNOWN``, naming the batch)."""


class RepliesUnsupported(ProviderError):
    """The adapter cannot read replies (inbound messages) from this provider."""

    reason_code = Code.PROVIDER_NO_REPLIES
