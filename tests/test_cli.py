"""The `chapar` command: clear errors with where they are, non-zero exits, JSON output."""

from __future__ import annotations

import json

import pytest

from chapar.cli import main
from chapar.store import repo


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    captured = capsys.readouterr()
    return int(exit_.value.code or 0), captured.out, captured.err


def test_importing_a_list_prints_counts_and_the_invalid_lines(capsys, write):
    path = write("people.csv", "mobile\n09121234567\nabc\n09121234567\n")
    code, out, _ = run_main(capsys, "lists", "import", "people", str(path))
    assert code == 0
    assert "imported 1 numbers into people (1 invalid, 1 duplicate" in out
    assert "people.csv:3 invalid number 'abc'" in out


def test_a_missing_file_is_an_error_naming_it(capsys, tmp_path):
    code, _, err = run_main(capsys, "lists", "import", "x", str(tmp_path / "nope.csv"))
    assert code == 1
    assert "nope.csv: no such file" in err


def test_lists_preview_shows_how_a_file_is_read_and_writes_nothing(capsys, tmp_path):
    path = tmp_path / "export.csv"
    rows = "\r\n".join(["Mobile;Name", "09121234567;علی", "09351234567;سارا", "bad;رضا"])
    path.write_bytes(rows.encode("utf-8-sig"))
    code, out, _ = run_main(capsys, "lists", "preview", str(path))
    assert code == 0
    assert "export.csv: text, encoding UTF-8 (BOM), delimiter ';', header on line 1" in out
    assert "number column: 'Mobile'; attributes kept: Name" in out
    assert "علی" in out and "989121234567" in out
    assert "3 rows: 2 valid numbers, 1 invalid, 0 duplicate within the file" in out
    assert "export.csv:4 invalid number 'bad'" in out
    assert repo.lists() == []


def test_a_file_without_numbers_is_refused_with_exit_1_by_preview_and_import(capsys, write):
    path = write("people.csv", "name,email\nAli,ali@example.com\n")
    code, _, err = run_main(capsys, "lists", "preview", str(path))
    assert code == 1 and "no row holds a valid mobile number" in err
    code, _, err = run_main(capsys, "lists", "import", "people", str(path))
    assert code == 1
    assert (
        "people.csv: no row holds a valid mobile number (1 rows read); the columns are: "
        "name, email" in err
    )
    assert repo.lists() == []


def test_a_mostly_invalid_file_imports_with_accept_invalid(capsys, write):
    path = write("bad.txt", "09121234567\nabc\nxyz\n")
    code, _, err = run_main(capsys, "lists", "import", "bad", str(path))
    assert code == 1 and "2 of 3 rows" in err and "--accept-invalid" in err
    code, out, _ = run_main(capsys, "lists", "import", "bad", str(path), "--accept-invalid")
    assert code == 0 and "imported 1 numbers into bad (2 invalid" in out


def test_a_folder_is_called_a_folder(capsys, tmp_path):
    code, _, err = run_main(capsys, "lists", "import", "x", str(tmp_path))
    assert code == 1 and "is a folder, not a file" in err and "no such file" not in err


def test_a_workbook_sheet_is_chosen_with_sheet(capsys, tmp_path):
    import xlsxwriter

    path = tmp_path / "book.xlsx"
    book = xlsxwriter.Workbook(path)
    book.add_worksheet("Cover").write(0, 0, "Customers")
    data = book.add_worksheet("Data")
    data.write_row(0, 0, ["mobile", "name"])
    data.write_row(1, 0, [9121234567, "Ali"])
    book.close()
    code, out, _ = run_main(capsys, "lists", "preview", str(path))
    assert code == 0 and "workbook, sheet 'Data' (sheets: Cover, Data)" in out
    code, _, err = run_main(capsys, "lists", "import", "b", str(path), "--sheet", "Cover")
    assert code == 1 and "no sheet holds a valid mobile number; the sheets read: Cover, Data" in err
    code, out, _ = run_main(capsys, "lists", "import", "b", str(path), "--sheet", "data")
    assert code == 0 and "imported 1 numbers into b" in out and "attributes: name" in out


def test_a_negative_topup_is_refused_and_changes_nothing(capsys):
    code, _, err = run_main(capsys, "credit", "topup", "--", "-500")
    assert code == 1 and "amount" in err
    assert repo.balance() == 0


def test_price_json_has_the_keys_scripts_rely_on(capsys, write):
    repo.import_list("a", write("a.txt", "09121234567\n09351234567\n"))
    code, out, _ = run_main(capsys, "price", "--message", "سلام", "--list", "a", "--json")
    assert code == 0
    quote = json.loads(out)
    assert {"encoding", "characters", "pages", "recipients", "cost"} <= set(quote)
    assert (quote["encoding"], quote["pages"], quote["recipients"]) == ("ucs2", 1, 2)


def test_an_over_long_message_is_refused_with_the_field(capsys):
    code, _, err = run_main(capsys, "price", "--message", "x" * 700)
    assert code == 1 and "message: the message needs 5 pages" in err


def test_editing_a_field_edit_program_does_not_offer_is_refused(capsys, write):
    repo.import_list("a", write("a.txt", "09121234567\n"))
    cid = repo.create_campaign("T", "hi", "30001234", ["a"])
    code, _, err = run_main(capsys, "campaign", "edit", str(cid), "--set", "sender=30009999")
    assert code == 1 and "cannot edit sender" in err
    assert repo.get_campaign(cid).sender == "30001234"


def test_there_is_no_delete_verb(capsys):
    code, _, _ = run_main(capsys, "campaign", "delete", "1")
    assert code == 2  # a usage error: the command does not exist


def test_archive_twice_is_harmless(capsys, write):
    repo.import_list("a", write("a.txt", "09121234567\n"))
    cid = repo.create_campaign("T", "hi", "30001234", ["a"])
    assert run_main(capsys, "campaign", "archive", str(cid))[0] == 0
    code, out, _ = run_main(capsys, "campaign", "archive", str(cid))
    assert code == 0 and "already archived" in out


def test_campaign_show_tells_why_a_run_stopped_in_words(capsys, write, monkeypatch):
    from chapar.sending import Mode, send_run

    monkeypatch.setenv("COLUMNS", "200")  # the audit table's cells on one line each
    repo.import_list("a", write("a.txt", "09121234567\n"))
    cid = repo.create_campaign("T", "سلام", "30001234", ["a"])
    send_run(cid, Mode.START)  # no credit: stops before anything is sent
    code, out, _ = run_main(capsys, "campaign", "show", str(cid))
    assert code == 0 and "unfinished (insufficient credit)" in out
    assert "insufficient_credit" not in out  # the code the audit keeps is not shown


def test_a_report_with_a_bad_status_or_file_prints_only_the_error(capsys, write):
    repo.import_list("a", write("a.txt", "09121234567\n"))
    cid = repo.create_campaign("T", "سلام", "30001234", ["a"])
    code, out, err = run_main(capsys, "report", str(cid), "--status", "foo")
    assert code == 1 and out == "" and "'foo' is not a status; choose one of" in err
    code, out, err = run_main(capsys, "report", str(cid), "--export", "r.pdf")
    assert code == 1 and out == "" and "r.pdf" in err
