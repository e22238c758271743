"""Importing recipient lists and the blacklist: every number form, clear errors, atomic."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from chapar.errors import InputError, NotFound
from chapar.store import repo

MIXED = "\n".join(
    [
        "09121234567",
        "+989351234567",
        "00989201234567",
        "989101234567",
        "9191234567",
        "۰۹۱۲۱۲۳۴۵۶۸",  # Persian digits
        "٠٩٣٥١٢٣٤٥٦٨",  # Arabic-Indic digits
        "0912-123-4569",
        "0912 123 4570",
        "",  # blank: skipped
        "02188776655",  # a Tehran landline: invalid
        "hello",  # invalid
        "09121234567",  # duplicate of line 1
    ]
)


def test_a_list_in_every_number_form_is_normalised_validated_and_deduplicated(write):
    result = repo.import_list("customers", write("customers.txt", MIXED))
    assert (result.valid, result.invalid, result.duplicates) == (9, 2, 1)
    assert result.invalid_samples == [(11, "02188776655"), (12, "hello")]
    [info] = repo.lists()
    assert (info.name, info.valid, info.invalid, info.duplicates) == ("customers", 9, 2, 1)


def test_a_csv_list_is_read_from_its_phone_column(write):
    path = write("people.csv", "name,mobile\nAli,09121234567\nSara,۰۹۳۵۱۲۳۴۵۶۷\nBad,123\n")
    result = repo.import_list("people", path)
    assert (result.valid, result.invalid) == (2, 1)
    assert result.invalid_samples == [(4, "123")]  # line 4 of the file, header counted


def test_a_named_column_that_is_missing_is_an_error_naming_the_file_and_columns(write):
    path = write("people.csv", "name,phone\nAli,09121234567\n")
    with pytest.raises(InputError, match=r"people\.csv.*no column 'mobile'.*name, phone"):
        repo.import_list("people", path, column="mobile")
    assert repo.lists() == []


def test_an_excel_list_is_imported(tmp_path: Path):
    path = tmp_path / "list.xlsx"
    pl.DataFrame({"شماره موبایل": ["09121234567", "9351234567", "x"]}).write_excel(path)
    result = repo.import_list("excel", path)
    assert (result.valid, result.invalid) == (2, 1)


def test_a_broken_excel_file_is_a_clear_error_and_nothing_is_written(write):
    path = write("broken.xlsx", "this is not a spreadsheet")
    with pytest.raises(InputError, match=r"broken\.xlsx: cannot read this Excel file"):
        repo.import_list("broken", path)
    assert repo.lists() == []


def test_an_empty_file_is_an_error(write):
    with pytest.raises(InputError, match=r"empty\.txt: the file is empty"):
        repo.import_list("empty", write("empty.txt", "\n\n"))


def test_importing_over_an_existing_name_needs_replace(write):
    repo.import_list("a", write("a.txt", "09121234567\n"))
    with pytest.raises(InputError, match="--replace"):
        repo.import_list("a", write("b.txt", "09121234568\n09121234569\n"))
    assert (
        repo.import_list("a", write("b.txt", "09121234568\n09121234569\n"), replace=True).valid == 2
    )
    assert [i.valid for i in repo.lists()] == [2]


def test_the_blacklist_import_adds_only_new_numbers_and_check_finds_them(write):
    first = repo.import_blacklist(write("bl.txt", "09121234567\n+989351234567\nnope\n"))
    assert (first.added, first.already, first.invalid) == (2, 0, 1)
    again = repo.import_blacklist(write("bl2.txt", "9121234567\n09101234567\n"))
    assert (again.added, again.already) == (1, 1)
    number, entry = repo.blacklist_check("۰۹۱۲ ۱۲۳ ۴۵۶۷")
    assert number == 989121234567 and entry is not None and entry.source == "import"
    assert repo.blacklist_check("09199999999")[1] is None


def test_checking_an_invalid_number_says_so():
    with pytest.raises(InputError, match="not an Iranian mobile"):
        repo.blacklist_check("12345")


def test_pricing_an_unknown_list_names_it():
    with pytest.raises(NotFound, match="'ghost'"):
        repo.price("سلام", ["ghost"])


LINE = "30001234"


def two_lists_and_a_blacklist(write) -> None:  # type: ignore[no-untyped-def]
    repo.import_list("a", write("a.txt", MIXED))
    repo.import_list("b", write("b.txt", "\n".join(
        ["09351234567", "09201234567", "x", "09121234568", "09901234567", "09901234568",
         "09121239999", "09121239999"]
    )))  # fmt: skip
    repo.import_blacklist(write("bl.txt", "09201234567\n09121234567\n"))


def same_price_for_everyone_and_a_send_count_past_the_end() -> None:
    """The price of a whole audience is counted per number (audience_price_all); with a
    send count, in order (audience_price). Past the end both must agree, filter by filter."""
    for lists in (["a"], ["b"], ["a", "b"], ["b", "a"]):
        for sender in (None, LINE):
            everyone = repo.audience(lists, sender=sender)
            assert everyone == repo.audience(lists, send_count=10**6, sender=sender)


def one_list_price_counts_as_the_per_number_query() -> None:
    """A one-list price reads the rows' first_in_list (audience_price_one_list); the query
    that groups by number (audience_price_all) must give exactly the same rows."""
    from chapar.store import connect

    with connect() as con:
        for name in ("a", "b"):
            list_id = repo._list_ids(con, [name])[0]
            for sender in (None, LINE):
                params = {"sender": sender, "cap_n": None, "cap_since": None}
                by_flag = repo._rows(con, "audience_price_one_list",
                                     {**params, "list_id": list_id})  # fmt: skip
                by_number = repo._rows(con, "audience_price_all",
                                       {**params, "list_ids": [list_id]})  # fmt: skip
                assert by_flag == by_number
                assert by_flag  # something was counted


def test_pricing_everyone_counts_as_pricing_a_send_count_past_the_end(write):
    two_lists_and_a_blacklist(write)
    same_price_for_everyone_and_a_send_count_past_the_end()
    one_list_price_counts_as_the_per_number_query()
    both = repo.audience(["a", "b"])
    assert sum(both.by_operator.values()) == 10
    assert (both.invalid, both.duplicates, both.blacklisted) == (3, 5, 2)


def test_opt_outs_are_priced_the_same_for_everyone_and_a_send_count(write):
    from chapar import suppressions

    two_lists_and_a_blacklist(write)
    suppressions.add_suppression("09901234567", "opted_out", line=LINE)
    suppressions.add_suppression("09901234568", "manual")
    suppressions.add_suppression("09121239999", "opted_out", line=LINE)
    suppressions.add_suppression("09121239999", "opted_in", line=LINE)  # the latest decides
    same_price_for_everyone_and_a_send_count_past_the_end()
    one_list_price_counts_as_the_per_number_query()
    both = repo.audience(["a", "b"], sender=LINE)
    assert sum(both.by_operator.values()) == 8
    assert (both.invalid, both.duplicates, both.blacklisted, both.opted_out) == (3, 5, 2, 2)


def test_an_import_s_memory_cap_is_lifted_for_the_writes_after_it(tmp_path: Path):
    """DuckDB 1.5's ``RESET memory_limit`` left the buffer pool capped: a 1M-line blacklist
    then failed at commit (its key's index needs memory). The cap is set back by value."""
    import duckdb

    con = duckdb.connect(str(tmp_path / "cap.duckdb"))
    con.execute("CREATE TABLE b (n BIGINT PRIMARY KEY)")
    with repo._memory_capped(con, "4MB"):
        assert con.sql("SELECT current_setting('memory_limit')").fetchone() == ("3.8 MiB",)
    con.execute("BEGIN")
    con.execute("INSERT INTO b SELECT range FROM range(200000)")  # an index of ≈ 10 MB
    con.execute("COMMIT")
    assert con.sql("SELECT count(*) FROM b").fetchone() == (200_000,)


def test_lists_imported_before_version_8_have_their_first_rows_marked(tmp_path: Path):
    """Migration 8 marks the rows of lists already in the database as an import would."""
    import duckdb

    from chapar.store import connect, migrations

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                "applied_at TIMESTAMPTZ DEFAULT now())")  # fmt: skip
    for version, sql in migrations():
        if version < 8:
            con.execute(sql)
            con.execute(f"INSERT INTO schema_migrations (version) VALUES ({version})")
    con.execute("INSERT INTO lists (id, name, total_rows, valid, invalid, duplicates) "
                "VALUES (1, 'a', 5, 2, 1, 2), (2, 'b', 2, 1, 0, 1)")  # fmt: skip
    con.execute("INSERT INTO recipients (list_id, line_no, number) VALUES "
                "(1, 1, 989121111111), (1, 2, NULL), (1, 3, 989121111111), "
                "(1, 4, 989122222222), (1, 5, 989121111111), "
                "(2, 1, 989122222222), (2, 2, 989122222222)")  # fmt: skip
    con.close()
    with connect(path) as migrated:
        flags = migrated.execute(
            "SELECT list_id, line_no, first_in_list FROM recipients ORDER BY ALL"
        ).fetchall()
    assert flags == [(1, 1, True), (1, 2, None), (1, 3, False), (1, 4, True), (1, 5, False),
                     (2, 1, True), (2, 2, False)]  # fmt: skip
