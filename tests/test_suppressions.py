"""The suppression ledger and opt-out by reply (issue 12), end to end against the simulator
over its real socket: what planning filters and why, the opt-out footer in pages and cost,
replies read once, opt-ins lifting opt-outs, the ledger's history, and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import polars as pl
import pytest

from chapar import reports, suppressions
from chapar.campaigns import HANDED, RunStatus
from chapar.delivery import sync_statuses
from chapar.errors import InputError
from chapar.inbox import campaign_replies, store_replies, sync_inbox
from chapar.providers.base import InboundMessage
from chapar.reasons import Code
from chapar.sending import Mode, begin_run, drive, send_batches, send_run
from chapar.settings import get_settings
from chapar.store import connect, migrations, repo
from tests.test_engine import chapar, finished
from tests.test_sending import assert_exactly_once, make_campaign, numbers

pytestmark = pytest.mark.integration

LINE = "30001234"


@pytest.fixture
def sim(simulator, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHAPAR_SIMULATOR_PORT", str(simulator.port))
    monkeypatch.setenv("CHAPAR_BATCH_SIZE", "500")
    get_settings.cache_clear()
    return simulator


def statuses(cid: int, run_no: int = 1) -> dict[str, str]:
    page, _ = reports.numbers(cid, run_no, limit=10**9)
    return dict(zip(page["number"], page["status"], strict=True))


def canonical(national: str) -> str:
    return "98" + national[1:]


def test_existing_blacklist_rows_move_into_the_ledger(tmp_path):
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    steps = migrations()
    for version, sql in steps:
        if version < 4:
            con.execute(sql)
    con.execute(
        "INSERT INTO blacklist VALUES (989120000001, 'import', NULL, now()), "
        "(989120000002, 'provider', 7, now())"
    )
    con.execute(dict(steps)[4])
    rows = con.execute(
        "SELECT number, kind, scope, source, campaign_id FROM suppressions ORDER BY number"
    ).fetchall()
    assert rows == [
        (989120000001, "telecom_blacklist", "everywhere", "import", None),
        (989120000002, "provider_blocked", "everywhere", "provider", 7),
    ]
    assert con.execute("SELECT count(*) FROM suppressed_on('1')").fetchone() == (2,)


def test_planning_gives_each_barred_number_its_reason(sim, write):
    people = numbers(10)
    cid = make_campaign(write, n=10)
    repo.import_blacklist(write("bl.txt", people[0]))
    suppressions.add_suppression(people[1], "opted_out", line=LINE)
    suppressions.add_suppression(people[2], "opted_out", line="30009999")  # another line
    suppressions.add_suppression(people[3], "opted_out")  # everywhere
    suppressions.add_suppression(people[4], "manual")
    suppressions.add_suppression(people[5], "opted_out", line=LINE)
    suppressions.add_suppression(people[5], "opted_in", line=LINE)  # the latest row decides
    suppressions.add_suppression(people[0], "opted_in", line=LINE)  # never lifts a blacklist

    quote = repo.price("سلام", ["people"], sender=LINE)
    assert (quote.recipients, quote.blacklisted, quote.opted_out) == (6, 1, 3)

    assert send_run(cid, Mode.START).status is RunStatus.COMPLETED
    got = statuses(cid)
    barred = {people[0]: "blacklisted", people[1]: "opted_out", people[3]: "opted_out",
              people[4]: "suppressed"}  # fmt: skip
    assert {n: got[canonical(n)] for n in barred} == barred
    assert {got[canonical(n)] for n in (people[2], people[5])} <= HANDED  # sent
    figures = reports.run_report(cid).figures()
    assert (figures["blacklisted"], figures["opted out"], figures["sent"]) == (1, 3, 6)
    program = reports.program_blacklist(cid).filter(pl.col("reason") != "blocked")
    assert sorted(program["reason"].to_list()) == sorted(barred.values())
    assert_exactly_once(sim, cid)


def test_a_number_opted_out_after_planning_is_dropped_from_a_batch_not_yet_out(sim, write):
    cid = make_campaign(write, n=2_000)
    ref = begin_run(cid, Mode.START)  # planned: four batches of 500
    late = numbers(3, start=1_500)
    for number in late:
        suppressions.add_suppression(number, "opted_out", line=LINE)
    drive(ref, lambda r, group: send_batches(r, group))
    got = statuses(cid)
    assert {got[canonical(n)] for n in late} == {"opted_out"}
    assert reports.run_report(cid).figures()["sent"] == 1_997
    assert_exactly_once(sim, cid)


def test_blocked_and_imported_numbers_are_rows_of_the_ledger_with_their_source(sim, write):
    cid = make_campaign(write, n=300)
    path = write("telecom.txt", "\n".join(numbers(2, start=5_000)))
    assert repo.import_blacklist(path).added == 2
    assert repo.import_blacklist(path).added == 0  # nothing new, no new row
    send_run(cid, Mode.START)
    sync_statuses()
    blocked = {n for n, s in statuses(cid).items() if s == "blocked"}
    assert blocked
    rows = suppressions.suppressions(limit=1_000)
    by_kind: dict[str, set[tuple[str | None, int | None]]] = {}
    for row in rows:
        by_kind.setdefault(row.kind, set()).add((row.source, row.campaign_id))
    assert by_kind["telecom_blacklist"] == {("telecom.txt", None)}
    assert by_kind["provider_blocked"] == {("provider", cid)}
    assert sum(1 for r in rows if r.kind == "provider_blocked") == len(blocked)
    assert suppressions.effective(sorted(blocked)[0])[1] == "blacklisted"


def test_the_footer_is_sent_counted_in_pages_and_cost_and_shown_in_the_preview(sim, write):
    text = "س" * 68  # one Persian page alone (at most 70), two with the footer
    cid = make_campaign(write, n=500, message="س" * 60)
    assert repo.price("س" * 60, ["people"], sender=LINE).pages == 1
    repo.set_line(LINE, None, None, footer="لغو۱۱")
    quote = repo.price("س" * 60, ["people"], sender=LINE)
    assert (quote.pages, quote.footer, quote.cost) == (1, "لغو۱۱", 500 * 1_180)
    repo.edit_campaign(cid, {"message": text})
    quote = repo.price(text, ["people"], sender=LINE)
    assert quote.pages == 2 and quote.cost == 500 * 2 * 1_180
    code, shown = finished(chapar("price", "-m", text, "-l", "people", "--sender", LINE))
    assert code == 0 and "2 page(s)" in shown and "footer 'لغو۱۱'" in shown, shown
    send_run(cid, Mode.START)
    figures = reports.run_report(cid).figures()
    assert figures["pages"] == 500 * 2
    assert_exactly_once(sim, cid)


def test_replies_opt_out_and_in_once_each_and_the_rest_reach_the_report(sim, write):
    sim.set_faults(reply_rate=0.0)  # only the replies injected here
    cid = make_campaign(write, n=200)
    send_run(cid, Mode.START)
    people = [canonical(n) for n in numbers(5)]
    sim.inject(people[0], "لغو۱۱")
    sim.inject(people[1], " ۱۱ ")
    sim.inject(people[2], "STOP")
    sim.inject(people[3], "ممنون، عالی بود")
    sim.inject(people[2], "12")  # back in, later

    first = sync_inbox()
    assert (first.new, first.opted_out, first.opted_in, first.other) == (5, 3, 1, 1)
    again = sync_inbox()
    assert again.new == 0
    assert suppressions.effective(people[0], LINE)[1] == "opted_out"
    assert suppressions.effective(people[0], "30009999")[1] is None  # only that line
    assert suppressions.effective(people[2], LINE)[1] is None  # opted back in
    rows = suppressions.suppressions(people[0])
    assert [(r.kind, r.scope, r.campaign_id) for r in rows] == [("opted_out", f"line:{LINE}", cid)]
    assert rows[0].source is not None and rows[0].source.startswith("reply:")
    replies = campaign_replies(cid)
    assert (replies.opted_out, replies.opted_in, replies.other) == (3, 1, 1)
    assert replies.latest["text"].to_list() == ["ممنون، عالی بود"]

    second = repo.create_campaign("Again", "سلام", LINE, ["people"])
    send_run(second, Mode.START)
    got = statuses(second)
    assert (got[people[0]], got[people[1]]) == ("opted_out", "opted_out")
    assert got[people[2]] not in ("opted_out",)
    _, text = finished(chapar("report", str(cid)))
    assert "3 opted out, 1 opted in, 1 other" in text and "عالی" in text, text


def test_a_reply_read_twice_changes_nothing(sim, write):
    cid = make_campaign(write, n=10)
    send_run(cid, Mode.START)
    at = datetime.now(UTC) - timedelta(minutes=1)
    reply = InboundMessage("r-1", canonical(numbers(1)[0]), LINE, "لغو", at)
    assert store_replies([reply, reply]).new == 1
    assert store_replies([reply]).new == 0
    with connect() as con:
        assert con.execute(
            "SELECT count(*) FROM suppressions WHERE source LIKE 'reply:%'"
        ).fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM inbox").fetchone() == (1,)


def test_generated_replies_arrive_for_some_delivered_numbers(sim, write):
    sim.set_faults(reply_rate=0.05, reply_delay_s=0)
    cid = make_campaign(write, n=1_000)
    send_run(cid, Mode.START)
    result = sync_inbox()
    assert 10 < result.new < 120
    assert result.new == result.opted_out + result.opted_in + result.other


def test_the_cli_adds_checks_and_lists_the_ledger(sim, write):
    code, text = finished(chapar("optout", "add", "09120000001", "--line", LINE))
    assert code == 0 and "opted_out, line:30001234" in text, text
    code, text = finished(chapar("optout", "check", "09120000001", "--line", LINE))
    assert code == 0 and "opted_out on line 30001234" in text, text
    code, text = finished(chapar("optout", "check", "09120000001"))
    assert "not suppressed everywhere" in text, text
    code, text = finished(chapar("optout", "list"))
    assert code == 0 and "opted_out: 1" in text, text
    code, text = finished(chapar("optout", "add", "123"))
    assert code == 1 and "not an Iranian mobile number" in text, text
    code, text = finished(chapar("optout", "add", "09120000001", "--kind", "telecom_blacklist"))
    assert code == 1 and "not a kind to add" in text, text
    code, text = finished(chapar("line", "set", LINE, "--footer"))
    assert code == 0 and "footer 'لغو۱۱'" in text, text
    code, text = finished(chapar("inbox", "sync"))
    assert code == 0 and "1 line(s)" in text, text


def test_a_bad_kind_is_refused_and_nothing_is_written():
    with pytest.raises(InputError) as refused:
        suppressions.add_suppression("09120000001", "telecom_blacklist")
    assert refused.value.code is Code.SUPPRESSION_KIND
    assert suppressions.counts() == {}


def test_the_inbox_flow_reads_replies_on_a_real_prefect_server(use_prefect_server, sim, write):
    from flows.inbox import sync_inbox as inbox_flow

    sim.set_faults(reply_rate=0.0)
    cid = make_campaign(write, n=10)
    send_run(cid, Mode.START)
    sim.inject(canonical(numbers(1)[0]), "لغو")
    assert inbox_flow()["opted_out"] == 1
    assert inbox_flow()["new"] == 0


def test_the_inbox_deployment_is_scheduled_in_prefect_yaml():
    import yaml  # type: ignore[import-untyped]

    from tests.test_scale_out import ROOT

    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    found = {d["name"]: d for d in spec["deployments"]}["chapar-sync-inbox"]
    assert found["entrypoint"] == "flows/inbox.py:sync_inbox"
    assert found["schedules"] == [{"interval": 300}]
