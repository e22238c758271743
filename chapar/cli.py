"""The ``chapar`` command. Domain errors become a red message and exit code 1."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from chapar.errors import ChaparError, InputError
from chapar.reasons import Code, read_audit_status
from chapar.settings import get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Chapar: SMS campaigns.")
lists_app = typer.Typer(help="Recipient lists (send references).", invoke_without_command=True)
blacklist_app = typer.Typer(help="The telecom (advertising) blacklist.", no_args_is_help=True)
credit_app = typer.Typer(
    help="Credit: balance, top-ups and the ledger.", invoke_without_command=True
)
campaign_app = typer.Typer(help="Campaigns and their Features menu.", no_args_is_help=True)
app.add_typer(lists_app, name="lists")
app.add_typer(blacklist_app, name="blacklist")
app.add_typer(credit_app, name="credit")
app.add_typer(campaign_app, name="campaign")
store_app = typer.Typer(
    help="The data store: move an installation to PostgreSQL.", no_args_is_help=True
)
app.add_typer(store_app, name="store")

EXIT_UNFINISHED = 3  # a send that stopped before its end: scripts can tell it from an error

out = Console(soft_wrap=True)  # a long line stays one line in logs and pipes
err = Console(stderr=True, soft_wrap=True)


def money(amount: int) -> str:
    return f"{amount:,} {get_settings().currency}"


def parse_time(value: str | None) -> datetime | None:
    """A start time; without a zone it is read in the settings' zone (Asia/Tehran)."""
    if value is None or value.strip().lower() in {"", "none", "now"}:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(
            f"{value!r} is not a time; write it like 2026-11-25 09:30", where="start"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return when


def parse_count(value: str | None) -> int | None:
    if value is None or value.strip().lower() in {"", "all", "none"}:
        return None
    try:
        return int(value)
    except ValueError:
        raise InputError(f"{value!r} is not a whole number or 'all'", where="send_count") from None


def tell_scheduler(campaign_id: int) -> None:
    """Make the scheduler's scheduled sends match the campaign (start time moved, cut…)."""
    from chapar.scheduling import SchedulerUnavailable, get_scheduler

    scheduler = get_scheduler()
    try:
        if scheduler.apply(campaign_id):
            out.print(f"scheduled in {scheduler.name} for {repo_campaign_start(campaign_id)}")
    except SchedulerUnavailable:
        err.print(
            "[yellow]note:[/] no Prefect server answers, so the schedule is saved only in "
            "the database; `chapar up` schedules it when it starts"
        )


def repo_campaign_start(campaign_id: int) -> str:
    from chapar.store import repo

    return str(repo.get_campaign(campaign_id).start_at)


# --- lists and blacklist ---------------------------------------------------------------------


@lists_app.callback()
def lists_show(ctx: typer.Context) -> None:
    """Show the recipient lists."""
    if ctx.invoked_subcommand:
        return
    from chapar.store import repo

    table = Table("name", "file", "valid", "invalid", "duplicates", "attributes", "imported")
    for item in repo.lists():
        table.add_row(
            item.name,
            item.source_file or "",
            f"{item.valid:,}",
            f"{item.invalid:,}",
            f"{item.duplicates:,}",
            ", ".join(item.columns),
            f"{item.created_at:%Y-%m-%d %H:%M}",
        )
    out.print(table)


def _print_invalid(samples: list[tuple[int, str]], path: Path) -> None:
    for line_no, raw in samples:
        out.print(f"  [yellow]{path.name}:{line_no}[/] invalid number {raw!r}", highlight=False)


ColumnOption = Annotated[
    str | None,
    typer.Option(
        help="the column holding the numbers (by its header); found by content if not given"
    ),
]
SheetOption = Annotated[
    str | None, typer.Option(help="the sheet of a workbook; the one holding numbers if not given")
]
AcceptInvalidOption = Annotated[
    bool, typer.Option(help="import even when most rows are not valid mobile numbers")
]
_DELIMITER_NAMES = {"\t": "tab", ",": "','", ";": "';'", "|": "'|'"}
#: Polars' allocator (jemalloc) for a process that imports a file: freed pages go back to
#: the system at once instead of after 0.5-1 s (Polars' default), so the peak is the
#: largest batch's, not a second's worth of batches: a 1M-row import peaked 289 MB
#: against 346-376 MB, no slower (bench/README.md). The variable is Polars' own
#: (polars/__init__.py appends it to its defaults), read when Polars is first imported.
IMPORT_ALLOCATOR = "dirty_decay_ms:0,muzzy_decay_ms:0"


def _lean_allocator() -> None:
    """Use :data:`IMPORT_ALLOCATOR` if Polars is not loaded yet (it is not, in a ``chapar``
    process, until a command needs it; a test runner has it loaded already). Added after
    any inherited value (a parent that loaded Polars passes Polars' defaults on): the last
    value of an option wins."""
    if "polars" not in sys.modules:
        inherited = os.environ.get("_RJEM_MALLOC_CONF")
        os.environ["_RJEM_MALLOC_CONF"] = ",".join(filter(None, [inherited, IMPORT_ALLOCATOR]))


@lists_app.command("preview")
def lists_preview(file: Path, column: ColumnOption = None, sheet: SheetOption = None) -> None:
    """Show how a file would be read and imported, writing nothing: encoding, delimiter,
    sheet, header row, number column, the first rows as read, and the counts. Exits 1 when
    the import would be refused."""
    _lean_allocator()
    from chapar.store import repo

    p = repo.preview_list(file, column, sheet=sheet)
    if p.kind == "excel":
        how = f"workbook, sheet {p.sheet!r} (sheets: {', '.join(p.sheets)})"
    else:
        delimiter = _DELIMITER_NAMES.get(p.delimiter or "", "none (one value a line)")
        how = f"text, encoding {p.encoding}, delimiter {delimiter}"
    header = f"header on line {p.header_line}" if p.header_line else "no header row"
    out.print(f"[bold]{p.file}[/]: {how}, {header}", highlight=False)
    attrs = ", ".join(p.attributes) or "none"
    out.print(f"number column: {p.number_column!r}; attributes kept: {attrs}", highlight=False)
    table = Table("line", "as written", "number", *p.attributes, title="first rows as read")
    for row in p.first_rows.iter_rows():
        line_no, raw, number, *values = row
        table.add_row(str(line_no), raw or "", "" if number is None else str(number),
                      *[v or "" for v in values])  # fmt: skip
    out.print(table)
    out.print(
        f"{p.total:,} rows: {p.valid:,} valid numbers, {p.invalid:,} invalid, "
        f"{p.duplicates:,} duplicate within the file, {p.blacklisted:,} already on the blacklist"
    )
    _print_invalid(p.invalid_samples, file)
    if p.refusal is not None:
        err.print(f"[bold red]the import would be refused:[/] {p.refusal}", highlight=False)
        raise typer.Exit(1)
    out.print(f"[green]ready to import[/]: chapar lists import NAME {file}")


@lists_app.command("import")
def lists_import(
    name: str,
    file: Path,
    column: ColumnOption = None,
    sheet: SheetOption = None,
    replace: Annotated[bool, typer.Option(help="replace a list of the same name")] = False,
    accept_invalid: AcceptInvalidOption = False,
) -> None:
    """Import a recipient list from CSV/TSV/text (any usual encoding and delimiter) or a
    workbook (.xlsx, .xls); the other columns are kept as the recipients' attributes."""
    _lean_allocator()
    from chapar.store import repo

    result = repo.import_list(
        name, file, column, sheet=sheet, replace=replace, accept_invalid=accept_invalid
    )
    out.print(
        f"[green]imported[/] {result.valid:,} numbers into [bold]{result.name}[/] "
        f"({result.invalid:,} invalid, {result.duplicates:,} duplicate, "
        f"{result.blacklisted:,} on the blacklist, {result.total:,} rows)"
        + (f"; attributes: {', '.join(result.columns)}" if result.columns else ""),
        highlight=False,
    )
    _print_invalid(result.invalid_samples, file)


@blacklist_app.command("import")
def blacklist_import(
    file: Path,
    column: ColumnOption = None,
    sheet: SheetOption = None,
    accept_invalid: AcceptInvalidOption = False,
) -> None:
    """Import numbers into the telecom blacklist (read as a recipient list is)."""
    _lean_allocator()
    from chapar.store import repo

    result = repo.import_blacklist(file, column, sheet=sheet, accept_invalid=accept_invalid)
    out.print(
        f"[green]blacklisted[/] {result.added:,} new numbers "
        f"({result.already:,} already there, {result.invalid:,} invalid)"
    )
    _print_invalid(result.invalid_samples, file)


@blacklist_app.command("check")
def blacklist_check(number: str) -> None:
    """Is a number on the blacklist?"""
    from chapar.numbers import format_number
    from chapar.store import repo

    canonical, entry = repo.blacklist_check(number)
    if entry is None:
        out.print(f"{format_number(canonical)} is [green]not[/] on the blacklist")
    else:
        origin = (
            "imported"
            if entry.source == "import"
            else f"reported by the provider (campaign {entry.campaign_id})"
        )
        out.print(
            f"{format_number(canonical)} is [red]blacklisted[/]: {origin}, "
            f"{entry.added_at:%Y-%m-%d %H:%M}"
        )


# --- suppression ledger -----------------------------------------------------------------------

optout_app = typer.Typer(
    help="The suppression ledger: blacklist, provider blocks, opt-outs and opt-ins.",
    no_args_is_help=True,
)
app.add_typer(optout_app, name="optout")


@optout_app.command("list")
def optout_list(
    number: Annotated[str | None, typer.Option(help="only this number")] = None,
    kind: Annotated[str | None, typer.Option(help="only this kind")] = None,
    limit: Annotated[int, typer.Option(help="rows to show")] = 50,
) -> None:
    """The ledger's rows, newest first, and its size by kind."""
    from chapar import suppressions
    from chapar.numbers import format_number

    sizes = suppressions.counts()
    out.print(", ".join(f"{k}: {v:,}" for k, v in sizes.items()) or "the ledger is empty")
    table = Table("#", "number", "kind", "scope", "source", "campaign", "when")
    for row in suppressions.suppressions(number, kind, limit):
        table.add_row(
            str(row.id),
            format_number(row.number),
            row.kind,
            row.scope,
            row.source or "",
            str(row.campaign_id or ""),
            f"{row.recorded_at:%Y-%m-%d %H:%M}",
        )
    out.print(table)


@optout_app.command("add")
def optout_add(
    number: str,
    line: Annotated[str | None, typer.Option(help="only on this sender line")] = None,
    kind: Annotated[str, typer.Option(help="opted_out, manual or opted_in")] = "opted_out",
    source: Annotated[str | None, typer.Option(help="where it came from")] = None,
) -> None:
    """Add a row by hand: opt a number out (or back in) on a line or everywhere."""
    from chapar import suppressions
    from chapar.numbers import format_number

    row = suppressions.add_suppression(number, kind, line=line, source=source)
    out.print(f"[green]added[/] {format_number(row.number)}: {row.kind}, {row.scope}")


@optout_app.command("check")
def optout_check(
    number: str,
    line: Annotated[str | None, typer.Option(help="the sender line to check on")] = None,
) -> None:
    """Would a campaign (on a line) reach this number? And the number's history."""
    from chapar import suppressions
    from chapar.numbers import format_number

    canonical, status = suppressions.effective(number, line)
    where = f"on line {line}" if line else "everywhere"
    if status is None:
        out.print(f"{format_number(canonical)} is [green]not suppressed[/] {where}")
    else:
        out.print(f"{format_number(canonical)} is [red]{status}[/] {where}")
    for row in suppressions.suppressions(canonical, limit=20):
        out.print(
            f"  {row.recorded_at:%Y-%m-%d %H:%M} {row.kind} ({row.scope}) "
            f"from {row.source or '?'}"
            + (f", campaign {row.campaign_id}" if row.campaign_id else "")
        )


# --- replies -------------------------------------------------------------------------------------

inbox_app = typer.Typer(help="Replies to the sender lines: opt-outs, opt-ins and others.")
app.add_typer(inbox_app, name="inbox")


@inbox_app.command("sync")
def inbox_sync() -> None:
    """Read the lines' new replies from the provider; opt-outs and opt-ins join the ledger."""
    from chapar.inbox import sync_inbox

    r = sync_inbox()
    out.print(
        f"{r.lines} line(s): {r.read:,} replies read, {r.new:,} new — "
        f"{r.opted_out:,} opted out, {r.opted_in:,} opted in, {r.other:,} other"
    )
    for line in r.unsupported:
        err.print(f"[yellow]note:[/] the provider cannot read replies of line {line}")


@inbox_app.command("list")
def inbox_list(
    kind: Annotated[str | None, typer.Option(help="opt_out, opt_in or other")] = None,
    limit: Annotated[int, typer.Option(help="replies to show")] = 50,
) -> None:
    """The latest replies kept."""
    from chapar.numbers import format_number
    from chapar.store import connect
    from chapar.store.queries import q

    table = Table("when", "number", "line", "kind", "campaign", "text")
    with connect() as con:
        rows = con.execute(q("inbox_recent"), {"kind": kind, "limit": limit}).fetchall()
    for _pid, number, line, text, k, cid, at in rows:
        table.add_row(
            f"{at:%Y-%m-%d %H:%M}",
            format_number(number) if number else "",
            line,
            k,
            str(cid or ""),
            text,
        )
    out.print(table)


# --- sender lines ------------------------------------------------------------------------------

line_app = typer.Typer(help="Sender lines: sending window and rate.", no_args_is_help=True)
app.add_typer(line_app, name="line")


@line_app.command("set")
def line_set(
    sender: str,
    window: Annotated[
        str | None, typer.Option(help="daily window like 09:00-21:00, or 'always'")
    ] = None,
    rate: Annotated[int | None, typer.Option(help="messages a minute")] = None,
    footer: Annotated[
        bool | None,
        typer.Option("--footer/--no-footer", help="add the opt-out footer to every message"),
    ] = None,
    footer_text: Annotated[
        str | None, typer.Option(help="the footer's text (default لغو۱۱); implies --footer")
    ] = None,
    cap: Annotated[
        int | None, typer.Option(help="frequency cap on this line: messages (0: no cap)")
    ] = None,
    cap_days: Annotated[int, typer.Option(help="the cap's Tehran calendar days")] = 1,
    default_cap: Annotated[
        bool, typer.Option("--default-cap", help="use the settings' cap on this line")
    ] = False,
) -> None:
    """Set a line's sending window and rate (unset ones use the settings' defaults), its
    opt-out footer and its frequency cap. Given only footer or cap options, the window and
    rate stay as they are."""
    from chapar.footer import DEFAULT_FOOTER
    from chapar.store import repo

    extras: dict[str, Any] = {}
    if footer_text is not None or footer is not None:
        extras["footer"] = (footer_text or DEFAULT_FOOTER) if footer is not False else None
    if default_cap:
        extras["cap"] = None
    elif cap is not None:
        extras["cap"] = (cap, 1 if cap == 0 else cap_days)
    if window is None and rate is None and extras:
        old = {x.sender: x for x in repo.lines()}.get(sender)
        if old is not None:
            window, rate = old.send_window, old.rate_per_minute
    line = repo.set_line(sender, window, rate, **extras)
    cap_text = (
        "settings' cap"
        if line.cap_messages is None
        else "no cap"
        if line.cap_messages == 0
        else f"cap {line.cap_messages} in {line.cap_days} day(s)"
    )
    out.print(
        f"line {line.sender}: window {line.send_window or 'default'}, "
        f"rate {line.rate_per_minute or 'unlimited'} a minute, "
        f"footer {line.footer!r}, {cap_text}"
    )


@line_app.command("list")
def line_list() -> None:
    """The lines with their own window or rate."""
    from chapar.store import repo

    s = get_settings()
    table = Table("sender", "window", "rate a minute", "footer", "cap")
    default_cap = f"{s.cap_messages} in {s.cap_days} day(s)" if s.cap_messages else "none"
    for line in repo.lines():
        table.add_row(
            line.sender,
            line.send_window or f"{s.send_window} (default)",
            str(line.rate_per_minute or s.rate_per_minute or "unlimited"),
            line.footer or "",
            f"{default_cap} (default)"
            if line.cap_messages is None
            else "none"
            if line.cap_messages == 0
            else f"{line.cap_messages} in {line.cap_days} day(s)",
        )
    out.print(table)


# --- credit ----------------------------------------------------------------------------------


@credit_app.callback()
def credit_show(
    ctx: typer.Context,
    last: Annotated[int, typer.Option(help="ledger entries to show")] = 10,
) -> None:
    """The balance and the last ledger entries."""
    if ctx.invoked_subcommand:
        return
    from chapar.store import repo

    out.print(f"credit: [bold]{money(repo.balance())}[/]")
    table = Table("#", "when", "kind", "amount", "campaign", "note")
    for e in repo.ledger(last):
        where = f"{e.campaign_id}/run {e.run_no}" if e.campaign_id else ""
        table.add_row(
            str(e.id), f"{e.at:%Y-%m-%d %H:%M:%S}", e.kind, f"{e.amount:+,}", where, e.note or ""
        )
    out.print(table)


@credit_app.command(
    "topup", context_settings={"ignore_unknown_options": True}
)  # so that `topup -100` reaches us as an amount to refuse, not as an unknown option
def credit_topup(
    amount_text: Annotated[str, typer.Argument(metavar="AMOUNT", help="Rials, e.g. 1000000")],
    note: Annotated[str | None, typer.Option(help="a note for the ledger")] = None,
) -> None:
    """Add credit (Rials): a positive whole number, at most the max_topup setting."""
    from chapar.numbers import to_ascii_digits
    from chapar.store import repo

    cleaned = to_ascii_digits(amount_text).replace(",", "").replace("_", "").strip()
    try:
        amount = int(cleaned)
    except ValueError:
        raise InputError(Code.NOT_A_NUMBER, where="amount", value=amount_text) from None
    out.print(
        f"[green]topped up[/] {money(amount)}; credit is now {money(repo.topup(amount, note))}"
    )


# --- pricing ---------------------------------------------------------------------------------


@app.command()
def price(
    message: Annotated[str, typer.Option("--message", "-m", help="the message text")],
    list_: Annotated[
        list[str] | None, typer.Option("--list", "-l", help="a recipient list")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    sender: Annotated[
        str | None,
        typer.Option(help="the sender line: its footer, opt-outs and frequency cap apply"),
    ] = None,
) -> None:
    """Price a message over recipient lists without sending (a dry run)."""
    from chapar.store import repo

    quote = repo.price(message, tuple(list_ or ()), sender=sender)
    if as_json:
        print(json.dumps(quote.as_dict(), ensure_ascii=False))
        return
    out.print(f"encoding {quote.encoding}, {quote.characters} characters, {quote.pages} page(s)")
    if list_:
        out.print(
            f"recipients {quote.recipients:,} (removed: {quote.invalid:,} invalid, "
            f"{quote.duplicates:,} duplicate, {quote.blacklisted:,} blacklisted, "
            f"{quote.opted_out:,} opted out, {quote.capped:,} capped)"
        )
    if quote.footer:
        out.print(f"with the line's opt-out footer {quote.footer!r}")
    if quote.max_pages is not None:
        out.print(f"personalised: {quote.min_pages} to {quote.max_pages} page(s) a recipient")
        for sample in quote.samples:
            out.print(f"  e.g. {sample!r}")
        for op, n in sorted(quote.by_operator.items()):
            out.print(f"  {op}: {n:,}")
    out.print(f"cost [bold]{money(quote.cost)}[/]")


# --- campaigns -------------------------------------------------------------------------------


def _campaign_table(campaigns: list[Any]) -> Table:
    table = Table("id", "title", "status", "run", "resets", "sender", "source", "archived")
    for c in campaigns:
        status = c.status.value + (f" ({c.status_reason})" if c.status_reason else "")
        table.add_row(
            str(c.id),
            c.title,
            status,
            str(c.current_run),
            str(c.reset_count),
            c.sender,
            ", ".join(c.source),
            "yes" if c.archived else "",
        )
    return table


@campaign_app.command("create")
def campaign_create(
    title: Annotated[str, typer.Option(help="the program's title")],
    message: Annotated[str, typer.Option("--message", "-m", help="the message text")],
    sender: Annotated[str, typer.Option(help="the sender line number")],
    list_: Annotated[list[str], typer.Option("--list", "-l", help="a recipient list (repeat)")],
    send_count: Annotated[str | None, typer.Option(help="how many recipients, or 'all'")] = None,
    start: Annotated[str | None, typer.Option(help="start time, e.g. 2026-11-25 09:30")] = None,
    defer_capped: Annotated[
        bool,
        typer.Option(help="send numbers at the frequency cap later, when it frees"),
    ] = False,
) -> None:
    """Create a campaign (a draft, or scheduled when a start time is given)."""
    from chapar.store import repo

    campaign_id = repo.create_campaign(
        title,
        message,
        sender,
        tuple(list_),
        parse_count(send_count),
        parse_time(start),
        defer_capped=defer_capped,
    )
    out.print(f"[green]created[/] campaign {campaign_id}")
    if start is not None:
        tell_scheduler(campaign_id)


@campaign_app.command("list")
def campaign_list(
    archived: Annotated[bool, typer.Option(help="show the archived campaigns")] = False,
) -> None:
    """The campaigns (archived ones only with --archived)."""
    from chapar.store import repo

    out.print(_campaign_table(repo.list_campaigns(archived=archived)))


@campaign_app.command("show")
def campaign_show(campaign_id: int) -> None:
    """One campaign, its audit trail included."""
    from chapar.store import repo

    c = repo.get_campaign(campaign_id)
    out.print(_campaign_table([c]))
    out.print(f"message: {c.message}")
    out.print(f"send count: {c.send_count or 'all'}; start: {c.start_at or 'when sent'}")
    table = Table("when", "who", "action", "field", "old", "new", title="audit trail")
    for a in repo.audit_trail(campaign_id):
        table.add_row(
            f"{a.at:%Y-%m-%d %H:%M:%S}",
            a.actor,
            a.action,
            a.field or "",
            _audit_value(a.field, a.old_value),
            _audit_value(a.field, a.new_value),
        )
    out.print(table)


def _audit_value(field: str | None, value: str | None) -> str:
    """An audit value as words: a status change with its reason, not the code it keeps."""
    if field != "status" or not value:
        return value or ""
    status, why = read_audit_status(value)
    return f"{status} ({why.text('en')})" if why else status


@campaign_app.command("edit")
def campaign_edit(
    campaign_id: int,
    title: Annotated[str | None, typer.Option()] = None,
    message: Annotated[str | None, typer.Option("--message", "-m")] = None,
    send_count: Annotated[str | None, typer.Option(help="a number, or 'all'")] = None,
    list_: Annotated[list[str] | None, typer.Option("--list", "-l", help="new source")] = None,
    start: Annotated[str | None, typer.Option(help="new start time, or 'none'")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="FIELD=VALUE")] = None,
) -> None:
    """Edit program: title, send count, message, source and start time only."""
    from chapar.store import repo

    changes: dict[str, Any] = {}
    for item in set_ or []:
        field, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"{item!r} is not FIELD=VALUE", where="--set")
        changes[field.strip()] = value
    if title is not None:
        changes["title"] = title
    if message is not None:
        changes["message"] = message
    if send_count is not None:
        changes["send_count"] = parse_count(send_count)
    if list_:
        changes["source"] = tuple(list_)
    if start is not None:
        changes["start_at"] = parse_time(start)
    if not changes:
        raise InputError(
            "nothing to change: give --title, --message, --send-count, --list or --start"
        )
    done = repo.edit_campaign(campaign_id, changes)
    if not done:
        out.print("nothing changed")
    for change in done:
        out.print(f"[green]{change.field}[/]: {change.old} → {change.new}")
    if any(c.field in {"source", "send_count"} for c in done):
        out.print("source and send count apply from the next run")
    if any(c.field == "start_at" for c in done):
        tell_scheduler(campaign_id)


@campaign_app.command("archive")
def campaign_archive(campaign_id: int) -> None:
    """Move a campaign to the archive (nothing deletes a campaign)."""
    from chapar.store import repo

    changed = repo.set_archived(campaign_id, True)
    out.print(f"campaign {campaign_id} " + ("archived" if changed else "was already archived"))


@campaign_app.command("unarchive")
def campaign_unarchive(campaign_id: int) -> None:
    """Bring a campaign back from the archive."""
    from chapar.store import repo

    changed = repo.set_archived(campaign_id, False)
    out.print(f"campaign {campaign_id} " + ("is back" if changed else "was not archived"))


# --- sending -----------------------------------------------------------------------------------


def _send(campaign_id: int, mode: str) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from chapar.sending import Mode, progress, send_run

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=out,
        transient=True,
    ) as bar:
        task = bar.add_task(f"campaign {campaign_id}: {mode}", total=None)

        def on_batch(ref: Any, outcome: Any) -> None:
            done, planned = progress(ref)
            bar.update(task, completed=done, total=planned)

        result = send_run(campaign_id, Mode(mode), on_batch=on_batch)
    colour = {"completed": "green", "unfinished": "yellow"}.get(result.status.value, "cyan")
    line = (
        f"campaign {campaign_id} run {result.run_no}: [{colour}]{result.status.value}[/] — "
        f"{result.sent:,} handed to the provider this time, {result.planned:,} planned"
    )
    if result.reason:
        line += f" ({result.reason})"
    out.print(line)
    if result.status.value == "waiting":
        out.print(f"the Prefect flow continues it by itself; here: chapar resume {campaign_id}")
    if result.status.value == "unfinished":
        out.print(f"continue with: chapar rebuild {campaign_id}")
        raise typer.Exit(EXIT_UNFINISHED)


DeferCapped = Annotated[
    bool | None,
    typer.Option(
        "--defer-capped/--cap-now",
        help="numbers at the frequency cap: send them when it frees, or cap them (the "
        "campaign's setting, kept for later runs)",
    ),
]


def _set_defer(campaign_id: int, defer: bool | None) -> None:
    if defer is not None:
        from chapar.store import repo

        repo.set_defer_capped(campaign_id, defer)


@app.command()
def send(campaign_id: int, defer_capped: DeferCapped = None) -> None:
    """Send a campaign: plan run 1 and send it."""
    _set_defer(campaign_id, defer_capped)
    _send(campaign_id, "start")


@app.command()
def resume(campaign_id: int) -> None:
    """Continue a run that waits (for its sending window, or for the frequency cap)."""
    _send(campaign_id, "resume")


@app.command()
def rebuild(campaign_id: int) -> None:
    """Rebuild an unfinished run: continue exactly where it stopped."""
    _send(campaign_id, "rebuild")


@app.command()
def reset(
    campaign_id: int,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
) -> None:
    """Reset: send the whole campaign again from the first number, as a new run."""
    if not yes and sys.stdin.isatty():
        typer.confirm(f"Send campaign {campaign_id} again to everyone?", abort=True)
    _send(campaign_id, "reset")


@app.command()
def resend(
    campaign_id: int,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
    defer_capped: DeferCapped = None,
) -> None:
    """Resend to the undelivered: a new run of the latest run's undelivered and failed numbers.

    Never blocked, blacklisted, opted-out or capped ones; the reset count stays."""
    if not yes and sys.stdin.isatty():
        typer.confirm(f"Send campaign {campaign_id} again to its undelivered numbers?", abort=True)
    _set_defer(campaign_id, defer_capped)
    _send(campaign_id, "resend")


@app.command("test-send")
def test_send(
    campaign_id: int,
    number: Annotated[list[str], typer.Argument(help="1 to 5 mobile numbers")],
    value: Annotated[
        list[str] | None, typer.Option("--value", help="a variable's value: name=value")
    ] = None,
) -> None:
    """Send the campaign's text to 1-5 of your own numbers now: charged, never a run."""
    from chapar import testsend

    result = testsend.test_send(campaign_id, number, testsend.parse_values(value or []))
    out.print(f"text ({result.pages} page(s)):\n{result.text}")
    for receptor, status in result.sent.items():
        colour = "green" if status == "sent" else "red"
        out.print(f"  {receptor}: [{colour}]{status}[/]")
    out.print(f"charged {money(result.cost)}")


@app.command()
def settle(
    campaign_id: int,
    batch: Annotated[int, typer.Argument(help="the batch the stop reason names")],
    number: Annotated[
        list[str] | None,
        typer.Argument(help="numbers of the batch the provider's pack report shows as sent"),
    ] = None,
    numbers_file: Annotated[
        Path | None,
        typer.Option("--file", help="a text file of such numbers, one a line"),
    ] = None,
) -> None:
    """Settle a batch whose fate the provider cannot tell (SMS.ir), from its pack report.

    The numbers given are recorded as sent and charged; the batch's other messages go out
    with the next rebuild. No numbers: none went out."""
    from chapar.sending.settle import settle_batch

    given = list(number or [])
    if numbers_file is not None:
        if not numbers_file.is_file():
            raise InputError(Code.IMPORT_NO_FILE, where=str(numbers_file))
        given += [
            ln.strip() for ln in numbers_file.read_text("utf-8-sig").splitlines() if ln.strip()
        ]
    done = settle_batch(campaign_id, batch, given)
    out.print(
        f"campaign {campaign_id}, batch {done.batch_no}: {done.sent} recorded as sent "
        f"({money(done.cost)}), {done.given_back} to send with `chapar rebuild {campaign_id}`"
    )


@app.command()
def cut(campaign_id: int) -> None:
    """Cut the schedule: cancel a scheduled campaign, or stop a sending one after its batch."""
    from chapar.sending import cut_schedule

    out.print(f"campaign {campaign_id}: {cut_schedule(campaign_id).text('en')}")
    tell_scheduler(campaign_id)


@app.command()
def report(
    campaign_id: int,
    run: Annotated[int | None, typer.Option("--run", help="run number (latest by default)")] = None,
    status: Annotated[str | None, typer.Option(help="list numbers with this status flag")] = None,
    export: Annotated[Path | None, typer.Option(help="write the numbers to .csv or .xlsx")] = None,
    limit: Annotated[int, typer.Option(help="numbers to list")] = 20,
) -> None:
    """Send reports: a run's figures, by operator, and its numbers by status flag."""
    from chapar import reports

    reports.check_status(status)  # bad options are refused before anything is printed
    if export is not None:
        reports.check_export_path(export)
    rep = reports.run_report(campaign_id, run)
    head = f"campaign {campaign_id}, run {rep.run_no} ({rep.kind}): {rep.status}"
    out.print(head + (f" ({rep.reason})" if rep.reason else ""))
    table = Table("figure", "value")
    for name, value in rep.figures().items():
        table.add_row(name, money(value) if name == "cost" else f"{value:,}")
    out.print(table)
    statuses = sorted({s for v in rep.by_operator.values() for s in v})
    ops = Table("operator", *statuses)
    for op, by_status in sorted(rep.by_operator.items()):
        ops.add_row(op, *(f"{by_status.get(s, 0):,}" for s in statuses))
    out.print(ops)
    from chapar.inbox import campaign_replies

    replies = campaign_replies(campaign_id, limit=5)
    if replies.opted_out or replies.opted_in or replies.other:
        out.print(
            f"replies: {replies.opted_out:,} opted out, {replies.opted_in:,} opted in, "
            f"{replies.other:,} other"
        )
        for number, text, _line, at in replies.latest.iter_rows():
            out.print(f"  {at:%Y-%m-%d %H:%M} {number}: {text}")
    if export is not None:
        n = reports.export(campaign_id, export, rep.run_no, status)
        out.print(f"[green]exported[/] {n:,} numbers to {export}")
    elif status is not None:
        page, total = reports.numbers(campaign_id, rep.run_no, status, limit=limit)
        listing = Table(*page.columns, title=f"{total:,} numbers with status {status}")
        for row in page.iter_rows():
            listing.add_row(*("" if v is None else str(v) for v in row))
        out.print(listing)


@app.command("sync-status")
def sync_status() -> None:
    """Ask the provider for delivery statuses of messages not yet final."""
    from chapar.delivery import sync_statuses

    r = sync_statuses()
    out.print(
        f"checked {r.checked:,}, updated {r.updated:,}, newly blocked {r.blocked:,}, "
        f"refunded {money(r.refunded)}"
    )


@app.command()
def simulator(
    port: Annotated[int | None, typer.Option(help="port (default: the setting)")] = None,
    host: Annotated[str | None, typer.Option(help="address to bind")] = None,
    credit: Annotated[int | None, typer.Option(help="starting credit in Rials")] = None,
) -> None:
    """Run the provider simulator (speaks Kavenegar's protocol) in the foreground."""
    from chapar.simulator.__main__ import main as simulator_main

    s = get_settings()
    args = [
        "--host",
        host or s.simulator_host,
        "--port",
        str(port or s.simulator_port),
        "--credit",
        str(credit if credit is not None else s.simulator_credit),
        "--delivery-delay-s",
        str(s.simulator_delivery_delay_s),
    ]
    simulator_main(args)


@app.command()
def up(
    no_demo: Annotated[bool, typer.Option("--no-demo", help="do not seed the demo")] = False,
    stop_after: Annotated[float | None, typer.Option(hidden=True)] = None,
) -> None:
    """Start everything on this machine: Prefect server, flows, simulator and dashboard."""
    from chapar import demo, services

    services.up(seed=None if no_demo else demo.seed_if_empty, say=out.print, stop_after=stop_after)


# --- the store -------------------------------------------------------------------------------


@store_app.command("migrate")
def store_migrate(
    to: Annotated[str, typer.Option("--to", help="postgresql://user:password@host:port/db")],
    source: Annotated[
        Path | None,
        typer.Option("--from", help="the DuckDB file (default: the one the settings name)"),
    ] = None,
) -> None:
    """Copy this installation's DuckDB file into an empty PostgreSQL database (the file is
    only read), verify every table, and set the id sequences past the copied ids."""
    from chapar.store.migrate import migrate

    done = migrate(to, source)
    table = Table("table", "rows", "sums checked", title=f"{done.source} → {done.target}")
    for copied in done.tables:
        sums = (
            ", ".join(f"{c} {v:,}" for c, v in copied.sums.items() if c in ("amount", "cost"))
            or f"{len(copied.sums)} columns"
        )
        table.add_row(copied.name, f"{copied.rows:,}", sums)
    out.print(table)
    sequences = ", ".join(f"{name} → {last:,}" for name, last in done.sequences.items())
    out.print(
        f"[green]copied[/] {done.rows:,} rows in {len(done.tables)} tables at schema version "
        f"{done.version}; counts and sums match; sequences set past the copied ids "
        f"({sequences or 'none used'}). The file was only read."
    )
    if done.lapsed:
        runs = ", ".join(f"campaign {c} run {r}" for c, r in done.lapsed)
        out.print(f"leases of dead senders copied as lapsed (rebuildable at once): {runs}")
    out.print("next: set CHAPAR_STORE to that URL on every machine (docs/scale-out.md)")


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, standalone_mode=True)
    except ChaparError as exc:
        err.print(Text.assemble(("error: ", "bold red"), exc.text("en")), highlight=False)
        sys.exit(1)
