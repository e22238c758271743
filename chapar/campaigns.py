"""The campaign's rules: its statuses, what may be edited and when, and what each
Features-menu action requires. Pure functions; the store applies them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from chapar.errors import InputError, NotAllowed
from chapar.reasons import Code, Reason


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    COMPLETED = "completed"
    UNFINISHED = "unfinished"
    CANCELLED = "cancelled"


class RunStatus(StrEnum):
    PLANNED = "planned"
    SENDING = "sending"
    WAITING = "waiting"  # outside the sending window; a continuation is scheduled
    COMPLETED = "completed"
    UNFINISHED = "unfinished"
    CANCELLED = "cancelled"


class MessageState(StrEnum):
    """A message row's status; also the report's status flag (پرچم)."""

    INVALID = "invalid"  # filtered before sending
    DUPLICATE = "duplicate"  # filtered before sending
    BLACKLISTED = "blacklisted"  # on the telecom blacklist before sending
    PENDING = "pending"  # planned, not yet handed to the provider
    SENT = "sent"  # accepted by the provider, delivery not yet known
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    BLOCKED = "blocked"  # the provider reported the recipient refuses advertising
    CANCELLED = "cancelled"  # cancelled by the provider (refunded)
    # --- issue 12: the suppression ledger and the frequency cap (filtered at planning) ---
    OPTED_OUT = "opted_out"  # opted out of the campaign's line (by reply, or by hand)
    SUPPRESSED = "suppressed"  # suppressed by hand
    CAPPED = "capped"  # already received the frequency cap's messages in its days


#: Recorded at planning, never batched, never charged.
FILTERED = frozenset(
    {
        MessageState.INVALID,
        MessageState.DUPLICATE,
        MessageState.BLACKLISTED,
        MessageState.OPTED_OUT,
        MessageState.SUPPRESSED,
        MessageState.CAPPED,
    }
)
#: Handed to (accepted by) the provider, whatever became of them since.
HANDED = frozenset(s for s in MessageState if s not in FILTERED and s is not MessageState.PENDING)

#: The fields "Edit program" may change (DESIGN §2); everything else is refused.
EDITABLE_FIELDS = ("title", "send_count", "message", "source", "start_at")
MAX_TITLE = 200


def local_id(campaign_id: int, run_no: int, seq: int) -> int:
    """The deterministic id a message carries to the provider: campaign, run, sequence.

    Room for 10^8 messages a run, 10^4 runs a campaign and ~9·10^6 campaigns in a BIGINT.
    """
    return (campaign_id * 10_000 + run_no) * 100_000_000 + seq


@dataclass(frozen=True)
class Campaign:
    id: int
    title: str
    message: str
    sender: str
    send_count: int | None
    start_at: datetime | None
    status: CampaignStatus
    status_reason: Reason | None
    archived: bool
    reset_count: int
    current_run: int
    source: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    lease_live: bool = False
    #: numbers at the frequency cap are sent later, when it frees (not capped)
    defer_capped: bool = False

    @property
    def is_sending(self) -> bool:
        return self.status is CampaignStatus.SENDING and self.lease_live


def check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise InputError(Code.TITLE_EMPTY, where="title")
    if len(title) > MAX_TITLE:
        raise InputError(Code.TITLE_TOO_LONG, where="title", maximum=MAX_TITLE)
    return title


def check_send_count(send_count: int | None) -> int | None:
    if send_count is not None and send_count < 1:
        raise InputError(Code.SEND_COUNT_INVALID, where="send_count")
    return send_count


#: A start time this close behind the clock is "now" (the minute being typed), not the past.
START_GRACE = timedelta(minutes=1)


def check_start(start_at: datetime | None, now: datetime | None = None) -> datetime | None:
    """A start time must not be in the past (None means: when asked)."""
    if start_at is None:
        return None
    now = now or datetime.now(UTC)
    if start_at.tzinfo is None:
        raise InputError(Code.START_NO_ZONE, where="start")
    if start_at < now - START_GRACE:
        raise InputError(Code.START_IN_PAST, where="start", start_at=start_at.isoformat())
    return start_at


def check_sender(sender: str) -> str:
    sender = sender.strip()
    if not sender.isdigit() or not 4 <= len(sender) <= 20:
        raise InputError(Code.BAD_SENDER, where="sender", value=sender)
    return sender


def check_editable(fields: dict[str, object], campaign: Campaign) -> None:
    """Refuse an edit of a field Edit program does not offer, or of a sending campaign."""
    refused = sorted(set(fields) - set(EDITABLE_FIELDS))
    if refused:
        raise NotAllowed(Code.NOT_EDITABLE, fields=", ".join(refused))
    if campaign.is_sending:
        raise NotAllowed(Code.SENDING_NOW)


@dataclass(frozen=True)
class ActionCheck:
    allowed: bool
    reason: Reason | None = None


def _refused(code: Code) -> ActionCheck:
    return ActionCheck(False, Reason(code))


#: A campaign never sent may be sent: a draft, a scheduled one, or one whose schedule was cut.
_SENDABLE = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.CANCELLED)


def can_send(c: Campaign) -> ActionCheck:
    if c.archived:
        return _refused(Code.ARCHIVED)
    if c.current_run > 0 or c.status not in _SENDABLE:
        return _refused(Code.ALREADY_SENT)
    return ActionCheck(True)


def can_rebuild(c: Campaign) -> ActionCheck:
    if c.is_sending:
        return _refused(Code.SENDING_NOW)
    if c.status is not CampaignStatus.UNFINISHED:
        return _refused(Code.NOT_UNFINISHED)
    return ActionCheck(True)


def can_reset(c: Campaign) -> ActionCheck:
    if c.archived:
        return _refused(Code.ARCHIVED)
    if c.is_sending:
        return _refused(Code.SENDING_NOW)
    if c.current_run == 0:
        return _refused(Code.NEVER_SENT)
    return ActionCheck(True)


def can_resend(c: Campaign, resendable: int) -> ActionCheck:
    """Resend to the undelivered: a completed campaign whose latest run left ``resendable``
    (> 0) undelivered or failed messages. An unfinished one is rebuilt first (its pending
    numbers were never tried); a scheduled or sending one has nothing final to resend."""
    if c.archived:
        return _refused(Code.ARCHIVED)
    if c.is_sending:
        return _refused(Code.SENDING_NOW)
    if c.current_run == 0:
        return _refused(Code.NEVER_SENT)
    if c.status is not CampaignStatus.COMPLETED:
        return _refused(Code.RESEND_NOT_COMPLETED)
    if resendable < 1:
        return _refused(Code.NOTHING_TO_RESEND)
    return ActionCheck(True)


def can_edit(c: Campaign) -> ActionCheck:
    if c.is_sending:
        return _refused(Code.SENDING_NOW)
    return ActionCheck(True)


def can_cut(c: Campaign) -> ActionCheck:
    if c.status in (CampaignStatus.SCHEDULED, CampaignStatus.SENDING):
        return ActionCheck(True)
    return _refused(Code.NOTHING_TO_CUT)
