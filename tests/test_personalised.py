"""Personalised texts (issue 12): variables checked at create and edit, priced per
recipient, rendered per message when its batch goes in flight and frozen there — against
the simulator over its real socket. The values are the recipient file's other columns,
kept by the import (migration 003)."""

from __future__ import annotations

import signal

import pytest

from chapar import reports
from chapar.campaigns import RunStatus
from chapar.errors import InputError
from chapar.reasons import Code
from chapar.sending import Mode, send_run
from chapar.settings import get_settings
from chapar.store import connect, repo
from tests.test_engine import chapar, finished, rebuild_until_done
from tests.test_sending import assert_exactly_once, numbers

pytestmark = pytest.mark.integration

LINE = "30001234"
LONG = "ب" * 70  # a value that makes its message two Persian pages


@pytest.fixture
def sim(simulator, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHAPAR_SIMULATOR_PORT", str(simulator.port))
    monkeypatch.setenv("CHAPAR_BATCH_SIZE", "100")
    get_settings.cache_clear()
    return simulator


def names(n: int) -> list[str | None]:
    """The first recipient has a long name, every seventh none, the rest 'نام<i>'."""
    return [LONG if i == 0 else None if i % 7 == 3 else f"نام{i}" for i in range(n)]


def people_with_names(write, n: int = 300, credit: int = 10**9) -> list[str | None]:  # type: ignore[no-untyped-def]
    """A list "people" imported from a file with the columns نام and شهر (kept as the
    recipients' attributes, migration 003)."""
    values = names(n)
    rows = [
        f"{number},{value or ''},تهران" for number, value in zip(numbers(n), values, strict=True)
    ]
    repo.import_list("people", write("people.csv", "موبایل,نام,شهر\n" + "\n".join(rows)))
    repo.topup(credit)
    return values


def test_variables_without_recipient_columns_are_refused(write):
    repo.import_list("people", write("people.txt", "\n".join(numbers(3))))
    with pytest.raises(InputError) as refused:
        repo.create_campaign("T", "سلام {نام}", LINE, ["people"])
    assert refused.value.code is Code.TEMPLATE_NO_COLUMNS
    assert repo.list_campaigns() == []


def test_unknown_variables_and_missing_values_are_refused_with_counts_and_samples(write):
    people_with_names(write, n=30)
    with pytest.raises(InputError) as unknown:
        repo.create_campaign("T", "سلام {نام خانوادگی}", LINE, ["people"])
    assert unknown.value.code is Code.TEMPLATE_UNKNOWN_VARIABLES
    assert "نام, شهر" in unknown.value.text("en")
    with pytest.raises(InputError) as missing:
        repo.create_campaign("T", "سلام {نام}", LINE, ["people"])
    assert missing.value.code is Code.TEMPLATE_MISSING_VALUES
    assert missing.value.reason.params["count"] == 4  # the 4th, 11th… rows: file lines 5, 12…
    assert missing.value.reason.params["lines"] == [5, 12, 19, 26]
    cid = repo.create_campaign("T", "سلام {نام|دوست}", LINE, ["people"])
    with pytest.raises(InputError):
        repo.edit_campaign(cid, {"message": "سلام {نام}"})
    assert repo.get_campaign(cid).message == "سلام {نام|دوست}"


def test_the_preview_prices_each_recipient(write):
    people_with_names(write, n=30)
    quote = repo.price("سلام {نام|دوست} از {شهر}", ["people"], sender=LINE)
    assert (quote.min_pages, quote.max_pages, quote.recipients) == (1, 2, 30)
    assert quote.cost == (29 + 2) * 1_180
    assert quote.samples == (f"سلام {LONG} از تهران", "سلام نام1 از تهران", "سلام نام2 از تهران")


def test_the_preview_takes_the_first_recipients_of_a_send_count(write):
    people_with_names(write, n=30)
    quote = repo.price("سلام {نام|دوست}", ["people"], send_count=5, sender=LINE)
    assert (quote.recipients, quote.min_pages, quote.max_pages) == (5, 1, 2)
    assert (quote.total_pages, quote.cost) == (6, 6 * 1_180)
    assert quote.samples[1:] == ("سلام نام1", "سلام نام2")


def test_each_recipient_gets_its_own_text_priced_by_its_own_pages(sim, write):
    values = people_with_names(write)
    repo.set_line(LINE, None, None, footer="لغو۱۱")
    cid = repo.create_campaign("T", "سلام {نام|دوست}", LINE, ["people"])
    credit_before = sim.state()["credit"]
    assert send_run(cid, Mode.START).status is RunStatus.COMPLETED
    with connect() as con:
        rows = con.execute(
            "SELECT seq, text, pages, cost, status FROM messages WHERE campaign_id = ? "
            "ORDER BY seq",
            [cid],
        ).fetchall()
    expected = [f"سلام {v or 'دوست'}\nلغو۱۱" for v in values]
    assert [r[1] for r in rows] == expected
    assert [r[2] for r in rows] == [2] + [1] * (len(values) - 1)
    figures = reports.run_report(cid).figures()
    assert figures["pages"] == len(values) + 1
    # what the provider charged for the texts it got is what Chapar charged
    assert credit_before - sim.state()["credit"] == figures["cost"]
    page, _ = reports.numbers(cid, limit=3)
    assert page["text"].to_list() == expected[:3]
    assert_exactly_once(sim, cid)


def test_texts_frozen_before_a_crash_are_what_a_rebuild_records_whatever_the_edit(sim, write):
    values = people_with_names(write)
    cid = repo.create_campaign("T", "سلام {نام|دوست}", LINE, ["people"])
    code, _ = finished(chapar("send", str(cid), crash_at="requested:2"))  # batch 1 in flight
    assert code == -signal.SIGKILL
    repo.edit_campaign(cid, {"message": "درود {نام|دوست}"})
    rebuild_until_done(cid)
    with connect() as con:
        texts = [r[0] for r in con.execute(
            "SELECT text FROM messages WHERE campaign_id = ? ORDER BY seq", [cid]
        ).fetchall()]  # fmt: skip
    assert texts[:200] == [f"سلام {v or 'دوست'}" for v in values[:200]]  # in flight: as frozen
    assert texts[200:] == [f"درود {v or 'دوست'}" for v in values[200:]]  # never out: the edit
    assert_exactly_once(sim, cid)
