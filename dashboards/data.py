"""Small helpers between the pages and the core: cached reads, exports, starting a send.

Rules kept here:

* Every read goes through the core's repo/report functions, which open a DuckDB
  connection, run and close it: nothing holds a connection across a rerun, so a sending
  flow in another process is never locked out for long.
* The pages' reads (campaigns, the home page's overview, reports, pages of numbers, the
  balance, the Features menu's resend check) are cached across sessions, keyed by the
  database path (tests use one file each), by a generation that every write made from
  the dashboard bumps, and by :func:`store_token`, a ``stat`` of the DuckDB file and its
  WAL that changes whenever any process commits. So a new session on a quiet store opens
  no connection at all (what made a first render slow: a dozen connections of ≈16 ms),
  what you just did shows at once, and what a sending flow does shows at its next commit
  (within :data:`TTL` seconds on the shared PostgreSQL store, which has no file to watch).
* What a send will cost (:func:`estimate`) is priced by the core (``repo.price_for`` over
  ``repo.audience`` with the send count) against a balance read afresh.
* Sending runs in Prefect: :func:`start_send` triggers the deployment
  ``send-campaign/chapar-send`` without waiting. With ``CHAPAR_SEND_INPROCESS=1`` it sends
  in a background thread of the dashboard process instead (no Prefect server needed: the
  browser test and a quick local trial use it). Tests monkeypatch :func:`start_send`.
"""

from __future__ import annotations

import functools
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

import polars as pl
import streamlit as st

from chapar import campaigns as rules
from chapar import reports
from chapar.campaigns import Campaign, MessageState
from chapar.errors import Busy, ChaparError, NotAllowed
from chapar.pricing import Quote
from chapar.reasons import Code
from chapar.reports import RunReport
from chapar.scheduling import SchedulerUnavailable, get_scheduler
from chapar.settings import get_settings
from chapar.store import repo
from chapar.store.repo import Audience

#: Seconds a cached read may lag behind a sending flow where commits cannot be seen (the
#: shared PostgreSQL store, or two commits within one mtime tick of the DuckDB file).
TTL = 2.0
#: How long an unchanged read is kept (its key changes with every commit anyway).
KEEP_S = 600
#: Excel's row limit, header row included.
EXCEL_MAX_ROWS = 1_048_575

Mode = Literal["start", "rebuild", "reset"]


#: The send could not be handed to the scheduler (Prefect down, deployment missing, …).
SendUnavailable = SchedulerUnavailable


# --- cache keys --------------------------------------------------------------------------------

_generation: dict[str, int] = {}
_lock = threading.Lock()


@functools.lru_cache(maxsize=64)
def _resolved(path: Path) -> str:
    return str(path.resolve())


def db_key() -> str:
    """The database this process talks to: part of every cache key (resolved once per
    path: a page asks it dozens of times a run)."""
    return _resolved(get_settings().database_path)


def generation() -> int:
    return _generation.get(db_key(), 0)


#: A store written less than this many seconds ago is also keyed by a TTL bucket: a file's
#: mtime moves in ticks of a few ms, so two commits within one tick could look the same.
RECENT_S = 2 * TTL


def store_token() -> tuple[object, ...]:
    """Changes whenever the store commits: the DuckDB file's and its WAL's inode, mtime and
    size (a commit grows the WAL; closing the last connection checkpoints it into the file).
    A ``stat`` costs microseconds, a connection ≈16 ms. On the shared PostgreSQL store: the
    current :data:`TTL` bucket."""
    settings = get_settings()
    now = time.time()
    if settings.store:
        return ("ttl", int(now // TTL))
    path = settings.database_path
    token: list[object] = []
    newest = 0
    for file in (path, path.with_name(path.name + ".wal")):
        try:
            st_ = file.stat()
        except OSError:
            token.append(None)
            continue
        token.append((st_.st_ino, st_.st_mtime_ns, st_.st_size))
        newest = max(newest, st_.st_mtime_ns)
    if now - newest / 1e9 < RECENT_S:
        token.append(int(now // TTL))
    return tuple(token)


def read_key() -> tuple[object, ...]:
    """What every cached read is keyed by: the database, the dashboard's writes, the store's
    commits."""
    return (db_key(), generation(), store_token())


def changed() -> None:
    """Call after any write made from the dashboard: cached reads are refetched."""
    key = db_key()
    with _lock:
        _generation[key] = _generation.get(key, 0) + 1


# --- cached reads ------------------------------------------------------------------------------


Key = tuple[object, ...]


@st.cache_data(ttl=KEEP_S, show_spinner=False, max_entries=64)
def _report(key: Key, campaign_id: int, run_no: int | None) -> RunReport:
    return reports.run_report(campaign_id, run_no)


def report(campaign_id: int, run_no: int | None = None) -> RunReport:
    return _report(read_key(), campaign_id, run_no)


@st.cache_data(ttl=KEEP_S, show_spinner=False, max_entries=64)
def _runs(key: Key, campaign_id: int) -> pl.DataFrame:
    return reports.runs(campaign_id)


def runs(campaign_id: int) -> pl.DataFrame:
    return _runs(read_key(), campaign_id)


@st.cache_data(ttl=KEEP_S, show_spinner=False, max_entries=128)
def _numbers(
    key: Key, campaign_id: int, run_no: int, status: str | None, offset: int, limit: int
) -> tuple[pl.DataFrame, int]:
    return reports.numbers(campaign_id, run_no, status, offset=offset, limit=limit)


def numbers_page(
    campaign_id: int, run_no: int, status: str | None, offset: int, limit: int
) -> tuple[pl.DataFrame, int]:
    """One page of a run's numbers (LIMIT/OFFSET in DuckDB) and the filtered total."""
    return _numbers(read_key(), campaign_id, run_no, status, offset, limit)


@st.cache_data(ttl=KEEP_S, show_spinner=False, max_entries=64)
def _numbers_shown(
    key: Key, campaign_id: int, run_no: int, status: str | None, offset: int, limit: int,
    lang: str,
) -> tuple[pl.DataFrame, int]:  # fmt: skip
    from dashboards import ui

    frame, total = _numbers(key, campaign_id, run_no, status, offset, limit)
    return ui.localized(frame), total


def numbers_shown(
    campaign_id: int, run_no: int, status: str | None, offset: int, limit: int
) -> tuple[pl.DataFrame, int]:
    """:func:`numbers_page` as the table shows it (:func:`dashboards.ui.localized`, in the
    session's language): formatting a page cell by cell costs more than reading it."""
    from dashboards import i18n

    return _numbers_shown(read_key(), campaign_id, run_no, status, offset, limit, i18n.lang())


def program_blacklist_counts(campaign_id: int, run_no: int | None) -> tuple[int, int]:
    """(filtered before sending, reported blocked) of one run, or of every run."""
    if run_no is not None:
        rep = report(campaign_id, run_no)
        return rep.n(MessageState.BLACKLISTED), rep.n(MessageState.BLOCKED)
    filtered = blocked = 0
    for n in runs(campaign_id)["run_no"].to_list():
        rep = report(campaign_id, int(n))
        filtered += rep.n(MessageState.BLACKLISTED)
        blocked += rep.n(MessageState.BLOCKED)
    return filtered, blocked


def program_blacklist(
    campaign_id: int, run_no: int | None, offset: int, limit: int
) -> pl.DataFrame:
    return reports.program_blacklist(campaign_id, run_no, offset=offset, limit=limit)


@st.cache_data(ttl=KEEP_S, show_spinner=False, max_entries=16)
def _overview(key: Key) -> dict[int, reports.Overview]:
    return reports.campaign_overview()


def overview() -> dict[int, reports.Overview]:
    """Per campaign: totals of its current run and of all its runs (the home cards)."""
    return _overview(read_key())


#: A run whose last status arrived this long ago is no longer watched for more.
STATUS_WATCH_S = 30 * 60


def lately_active(campaign_id: int) -> bool:
    """Its current run sent, or had a delivery status, within :data:`STATUS_WATCH_S`: the
    home card and the report refresh by themselves only then (a run whose last status came
    days ago will not change, and is not polled)."""
    view = overview().get(campaign_id)
    last = view.current.last_activity if view is not None else None
    return last is not None and (datetime.now(UTC) - last).total_seconds() < STATUS_WATCH_S


@st.cache_data(ttl=KEEP_S, show_spinner=False, max_entries=16)
def _balance(key: Key) -> int:
    return repo.balance()


def balance() -> int:
    return _balance(read_key())


@st.cache_data(ttl=60, show_spinner=False, max_entries=64)
def _audience(db: str, gen: int, sources: tuple[str, ...], send_count: int | None) -> Audience:
    return repo.audience(list(sources), send_count)


def audience(sources: tuple[str, ...] | list[str], send_count: int | None = None) -> Audience:
    """Who a campaign over these lists reaches (the first ``send_count`` of them): counted
    once, so the price follows every keystroke of the message without a query."""
    return _audience(db_key(), generation(), tuple(sources), send_count)


def quote(message: str, sources: tuple[str, ...] | list[str], send_count: int | None) -> Quote:
    return repo.price_for(message, audience(sources, send_count))


@dataclass(frozen=True)
class Estimate:
    """What a send, rebuild or reset is about to cost, against the credit."""

    messages: int
    pages: int
    cost: int
    balance: int

    @property
    def short(self) -> bool:
        return self.cost > self.balance

    @property
    def covered(self) -> int:
        """Messages the credit pays for, at this send's average price."""
        if self.cost <= 0 or not self.short:
            return self.messages
        return self.messages * self.balance // self.cost


def estimate(c: Campaign, mode: str) -> Estimate:
    """Start and reset price the campaign's audience (with its send count); rebuild prices
    what the current run still has pending, at the current text. The balance is read
    afresh: a top-up made a moment ago (from the CLI too) counts."""
    if mode == "rebuild" and c.current_run:
        rep = report(c.id, c.current_run)
        by_op = {op: states.get("pending", 0) for op, states in rep.by_operator.items()}
        who = Audience({op: n for op, n in by_op.items() if n}, 0, 0, 0)
    else:
        who = audience(c.source, c.send_count)
    try:
        q = repo.price_for(c.message, who)
    except ChaparError:
        return Estimate(sum(who.by_operator.values()), 0, 0, repo.balance())
    return Estimate(q.recipients, q.pages * q.recipients, q.cost, repo.balance())


@st.cache_data(ttl=60, show_spinner=False, max_entries=16)
def _lines(db: str, gen: int) -> list[repo.Line]:
    return repo.lines()


def line_window(sender: str) -> str:
    """The sending window of a line ("08:00-21:00", "always"): its own, else the setting."""
    for line in _lines(db_key(), generation()):
        if line.sender == sender and line.send_window:
            return line.send_window
    return get_settings().send_window


@st.cache_data(ttl=KEEP_S, show_spinner=False, max_entries=64)
def _campaign(key: Key, campaign_id: int) -> Campaign:
    return repo.get_campaign(campaign_id)


def campaign(campaign_id: int) -> Campaign:
    return _campaign(read_key(), campaign_id)


@st.cache_data(ttl=KEEP_S, show_spinner=False, max_entries=16)
def _campaigns(key: Key, archived: bool | None) -> list[Campaign]:
    return repo.list_campaigns(archived=archived)


def campaigns(archived: bool | None = False) -> list[Campaign]:
    return _campaigns(read_key(), archived)


@st.cache_data(ttl=KEEP_S, show_spinner=False, max_entries=64)
def _can_resend(key: Key, campaign_id: int) -> rules.ActionCheck:
    from chapar.sending.run import can_resend

    return can_resend(campaign_id)


def can_resend(campaign_id: int) -> rules.ActionCheck:
    """Whether Resend to the undelivered is allowed now (one query per campaign: cached, as
    every card's Features menu asks it on every run of the home page)."""
    return _can_resend(read_key(), campaign_id)


def list_names() -> list[str]:
    return [info.name for info in repo.lists()]


def actor() -> str:
    """Who the audit trail names for an action taken in the dashboard: the signed-in user
    when Streamlit authentication is set up, else the account running the dashboard."""
    try:
        if st.user.is_logged_in:
            return str(st.user.get("email") or st.user.get("name"))
    except Exception:  # no auth configured
        pass
    return f"{repo.default_actor()} (dashboard)"


# --- exports -----------------------------------------------------------------------------------


def export_bytes(
    campaign_id: int,
    run_no: int,
    status: str | None,
    fmt: Literal["csv", "xlsx"],
    lang: str = "en",
) -> bytes:
    """A run's numbers (filtered by the status flag) as a CSV or Excel file's bytes, written
    by :func:`chapar.reports.export` to a temporary file, in ``lang``'s words."""
    from dashboards.exports import labels_for

    with tempfile.TemporaryDirectory(prefix="chapar-export-") as folder:
        path = Path(folder) / f"report.{fmt}"
        reports.export(campaign_id, path, run_no, status, labels=labels_for(lang))
        return path.read_bytes()


def export_name(campaign_id: int, run_no: int, status: str | None, fmt: str) -> str:
    flag = f"-{status}" if status else ""
    return f"chapar-campaign-{campaign_id}-run-{run_no}{flag}.{fmt}"


# --- uploads -----------------------------------------------------------------------------------


@contextmanager
def saved_upload(name: str, stream: IO[bytes]) -> Iterator[Path]:
    """An uploaded file written to a temporary file with the same suffix (the import reads
    the format from the suffix), removed afterwards."""
    suffix = Path(name).suffix.lower() or ".txt"
    with tempfile.TemporaryDirectory(prefix="chapar-upload-") as folder:
        path = Path(folder) / f"{Path(name).stem or 'upload'}{suffix}"
        with path.open("wb") as out:
            while chunk := stream.read(1 << 20):
                out.write(chunk)
        yield path


# --- sending -----------------------------------------------------------------------------------


@dataclass
class Trigger:
    """The last send this dashboard process started for a campaign."""

    at: float
    mode: str
    url: str | None
    fingerprint: tuple[object, ...]
    error: ChaparError | None = None


_triggers: dict[tuple[str, int], Trigger] = {}
_trigger_lock = threading.Lock()
#: A trigger whose flow has not yet changed the campaign counts as in progress this long.
PENDING_S = 120.0


def fingerprint(c: Campaign) -> tuple[object, ...]:
    return (c.status.value, c.status_reason, c.current_run, c.reset_count, c.updated_at)


def last_trigger(campaign_id: int) -> Trigger | None:
    return _triggers.get((db_key(), campaign_id))


def check_mode(campaign: Campaign, mode: str) -> rules.ActionCheck:
    check = {"start": rules.can_send, "rebuild": rules.can_rebuild, "reset": rules.can_reset}
    return check[mode](campaign)


def trigger(campaign_id: int, mode: Mode) -> str | None:
    """Start, rebuild or reset a campaign's send; returns the Prefect flow run's URL (None
    when sent in-process). A second click is harmless: while the campaign is sending, or a
    send started here has not begun yet, it is refused with a message; and the core itself
    refuses a second start while a run's lease is live."""
    with _trigger_lock:  # two sessions of this process clicking at once: one trigger
        campaign = repo.get_campaign(campaign_id)
        if campaign.is_sending:
            raise Busy(Code.BUSY, campaign=campaign_id, run=campaign.current_run)
        previous = last_trigger(campaign_id)
        if (
            previous is not None
            and previous.error is None
            and previous.fingerprint == fingerprint(campaign)
            and time.monotonic() - previous.at < PENDING_S
        ):
            ago = time.monotonic() - previous.at
            raise Busy(Code.RECENTLY_STARTED, seconds=f"{ago:.0f}")
        check = check_mode(campaign, mode)
        if not check.allowed:
            raise NotAllowed(check.reason or Code.NOT_UNFINISHED)
        record = Trigger(time.monotonic(), mode, None, fingerprint(campaign))
        _triggers[(db_key(), campaign_id)] = record
    try:
        record.url = start_send(campaign_id, mode)
    except ChaparError as exc:
        record.error = exc
        raise
    except BaseException as exc:
        record.error = ChaparError(Code.SEND_FAILED, detail=str(exc))
        raise
    finally:
        changed()
    return record.url


def start_send(campaign_id: int, mode: str) -> str | None:
    """Hand the send to the Scheduler port (Prefect's deployment, or a thread of this
    process with ``CHAPAR_SCHEDULER=inprocess`` / ``CHAPAR_SEND_INPROCESS=1``) and return
    the flow run's URL, if there is one. The one place a send starts: tests replace it."""
    return get_scheduler(on_done=_send_done).start(campaign_id, mode)


def _send_done(campaign_id: int, error: BaseException | None) -> None:
    """An in-process send ended: a failure is kept on the campaign's trigger, shown on the
    dashboard."""
    record = _triggers.get((db_key(), campaign_id))
    if error is not None and record is not None:
        record.error = (
            error
            if isinstance(error, ChaparError)
            else ChaparError(Code.SEND_FAILED, detail=str(error))
        )
    changed()


def tell_prefect(campaign_id: int) -> bool | None:
    """Make the scheduler's scheduled send match the campaign after its schedule changed
    (created with a start time, start time moved or removed, cut), as the CLI does.

    True: Prefect holds the schedule. False: no Prefect server answers (or it refused), so
    the schedule lives in the database only and ``chapar up`` (the sync-schedules flow)
    schedules it when it starts. None: in-process mode, where nothing is scheduled.
    """
    scheduler = get_scheduler()
    if scheduler.name == "inprocess":
        return None
    try:
        scheduler.apply(campaign_id)
    except SchedulerUnavailable:
        return False
    return True


# --- issue 12: the preview on the sender line, the program blacklist's reasons ----------------


@st.cache_data(ttl=60, show_spinner=False, max_entries=64)
def _line_audience(
    db: str, gen: int, sources: tuple[str, ...], send_count: int | None, sender: str | None
) -> Audience:
    return repo.audience(list(sources), send_count, sender)


@st.cache_data(ttl=60, show_spinner=False, max_entries=32)
def _personalised_quote(
    db: str,
    gen: int,
    message: str,
    sources: tuple[str, ...],
    send_count: int | None,
    sender: str | None,
) -> Quote:
    return repo.price(message, list(sources), send_count, sender)


def line_quote(
    message: str,
    sources: tuple[str, ...] | list[str],
    send_count: int | None,
    sender: str | None,
) -> Quote:
    """What sending this text over these lists from ``sender``'s line charges, priced by the
    core as ``chapar price`` and planning do (:func:`chapar.store.repo.price`): the line's
    opt-outs and frequency cap filter the audience, its opt-out footer is part of the text,
    and a personalised text is rendered and priced per recipient (min/max pages, samples).
    Raises the core's refusal (unknown variables, missing values) as create would.

    A plain text is priced from the audience counted once (cached), so the price follows
    every keystroke without a query; a personalised one is rendered per distinct text."""
    from chapar.personalise import template_of

    line = (sender or "").strip() or None
    chosen = tuple(sources)
    if not chosen:  # no one yet: still the text as the line sends it
        own = line_of(line) if line else None
        return repo.price_for(message, Audience({}, 0, 0, 0, footer=own.footer if own else None))
    if template_of(message) is None:
        return repo.price_for(message, _line_audience(db_key(), generation(), chosen,
                                                      send_count, line))  # fmt: skip
    return _personalised_quote(db_key(), generation(), message, chosen, send_count, line)


def line_of(sender: str) -> repo.Line | None:
    """The sender line's own settings (footer, cap), or None for a line never set."""
    wanted = sender.strip()
    for line in _lines(db_key(), generation()):
        if line.sender == wanted:
            return line
    return None


#: What the program blacklist counts, each a message status the engine records: the telecom
#: blacklist (and numbers the provider blocked before, filtered at planning), blocked by the
#: provider at sending, opted out by reply, suppressed by hand, and the frequency cap.
BARRED_STATES: tuple[str, ...] = (
    MessageState.BLACKLISTED,
    MessageState.BLOCKED,
    MessageState.OPTED_OUT,
    MessageState.SUPPRESSED,
    MessageState.CAPPED,
)


def program_blacklist_reasons(campaign_id: int, run_no: int | None) -> dict[str, int]:
    """How many of a run's (or of every run's) numbers each reason kept from the campaign,
    from the runs' reports, in :data:`BARRED_STATES` order."""
    run_nos = [run_no] if run_no is not None else [int(n) for n in runs(campaign_id)["run_no"]]
    counts = dict.fromkeys(BARRED_STATES, 0)
    for n in run_nos:
        rep = report(campaign_id, n)
        for state in BARRED_STATES:
            counts[state] += rep.n(state)
    return counts


def run_kinds(campaign_id: int) -> dict[int, str]:
    """Each run's kind (send, reset, resend), by run number."""
    frame = runs(campaign_id)
    return {int(n): str(k or "send") for n, k in zip(frame["run_no"], frame["kind"], strict=True)}
