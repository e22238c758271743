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
