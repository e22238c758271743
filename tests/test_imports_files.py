"""Recipient files as people bring them, written the way real tools write them: Excel's
`;` CSV with a BOM, Persian Windows (Windows-1256), Excel's "Unicode text" (UTF-16, tabs),
workbooks with title rows, numbers stored as numbers and a cover sheet. Each asserts exact
counts; each refusal names the file and leaves the database exactly as it was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
import xlsxwriter

from chapar.errors import InputError
from chapar.imports import open_source
from chapar.numbers import operator_of
from chapar.reasons import Code
from chapar.store import connect, repo

NAMES = ["علی رضایی", "سارا", "مهدی کاظمی", "زهرا"]
CITIES = ["تهران", "شیراز", "تبریز", "مشهد"]


def numbers(n: int, start: int = 1_000_000) -> list[str]:
    return [f"0912{start + i:07d}" for i in range(n)]


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables an import writes, to compare before and after a refusal."""
    with connect() as con:
        return {
            t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("lists", "recipients", "blacklist")
        }


def refused(code: Code, call: Any, match: str) -> InputError:
    """Run ``call``, expecting a refusal with ``code`` whose text matches; the database must
    be unchanged."""
    before = snapshot()
    with pytest.raises(InputError, match=match) as caught:
        call()
    assert caught.value.code is code
    assert snapshot() == before
    return caught.value


def attributes(list_name: str) -> list[tuple[int, int | None, list[str | None] | None]]:
    with connect() as con:
        return con.execute(
            "SELECT line_no, number, attrs FROM recipients r JOIN lists l ON l.id = r.list_id "
            "WHERE l.name = ? ORDER BY line_no",
            [list_name],
        ).fetchall()


# --- text files ------------------------------------------------------------------------------


def test_an_excel_semicolon_csv_with_a_bom_is_read_by_its_header(tmp_path: Path):
    rows = [f"{n};{NAMES[i % 4]}" for i, n in enumerate(numbers(228))]
    path = tmp_path / "export.csv"
    path.write_bytes("\r\n".join(["Mobile;Name", *rows, ""]).encode("utf-8-sig"))

    source = open_source(path)
    assert (source.encoding, source.delimiter, source.header_line) == ("UTF-8 (BOM)", ";", 1)
    assert (source.number_column, source.attributes) == ("Mobile", ["Name"])
    result = repo.import_list("shop", path)
    assert (result.total, result.valid, result.invalid, result.duplicates) == (228, 228, 0, 0)
    [info] = repo.lists()
    assert (info.columns, info.number_column) == (["Name"], "Mobile")
    assert attributes("shop")[:2] == [(2, 989121000000, ["علی رضایی"]), (3, 989121000001, ["سارا"])]
    again = repo.import_list("shop", path, column="Mobile", replace=True)
    assert again.valid == 228


def test_a_windows_1256_csv_keeps_its_persian_names(tmp_path: Path):
    # Windows-1256 has the Arabic yeh (ي) where Persian keyboards type ی
    names = ["رضا", "مريم", "کاظم", "نرگس"]
    rows = [f"{n},{names[i % 4]},{['تهران', 'قم'][i % 2]}" for i, n in enumerate(numbers(40))]
    path = tmp_path / "persian.csv"
    path.write_bytes("\r\n".join(["موبايل,نام,شهر", *rows]).encode("cp1256"))

    source = open_source(path)
    assert (source.encoding, source.delimiter) == ("Windows-1256", ",")
    assert (source.number_column, source.attributes) == ("موبايل", ["نام", "شهر"])
    result = repo.import_list("persian", path)
    assert (result.valid, result.invalid) == (40, 0)
    assert attributes("persian")[1] == (3, 989121000001, ["مريم", "قم"])
    frame = repo.list_attributes("persian")
    assert frame.columns == ["line_no", "number", "نام", "شهر"]
    assert frame.row(1) == (3, 989121000001, "مريم", "قم")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_excel_unicode_text_in_utf16_with_tabs_is_read(tmp_path: Path, codec: str):
    rows = [f"{NAMES[i % 4]}\t{n}\t{CITIES[i % 4]}" for i, n in enumerate(numbers(30))]
    rows[4] = f"{NAMES[0]}\tnot a number\t{CITIES[0]}"
    path = tmp_path / "unicode.txt"
    path.write_bytes(
        "\ufeff".encode(codec) + "\r\n".join(["نام\tشماره\tشهر", *rows, ""]).encode(codec)
    )

    source = open_source(path)
    assert source.encoding == codec.upper().replace("-LE", " LE").replace("-BE", " BE")
    assert (source.delimiter, source.number_column, source.attributes) == (
        "\t", "شماره", ["نام", "شهر"],
    )  # fmt: skip
    result = repo.import_list("unicode", path)
    assert (result.total, result.valid, result.invalid) == (30, 29, 1)
    assert result.invalid_samples == [(6, "not a number")]
    assert attributes("unicode")[0] == (2, 989121000000, ["علی رضایی", "تهران"])


def test_persian_and_arabic_digits_mixed_in_one_column_are_read(write):
    path = write(
        "digits.csv", "name|mobile\nA|۰۹۱۲۱۲۳۴۵۶۷\nB|٠٩٣٥١٢٣٤٥٦٧\nC|09۲۰1234567\nD|۰۹۱۲۱۲۳۴۵۶۷\n"
    )
    result = repo.import_list("digits", path)
    assert (result.total, result.valid, result.invalid, result.duplicates) == (4, 3, 0, 1)


def test_numbers_a_spreadsheet_wrote_as_numbers_are_read_when_every_digit_is_there(write):
    path = write("floats.csv", "mobile\n9121234567\n9121234568.0\n9.121234569E+09\n9.12123E+09\n")
    result = repo.import_list("floats", path, accept_invalid=True)
    assert (result.valid, result.invalid) == (3, 1)
    assert result.invalid_samples == [(5, "9.12123E+09")]  # digits lost: never guessed


def test_the_number_column_is_found_by_its_content_without_a_header(write):
    path = write("plain.csv", "Ali,Tehran,09121234567\nSara,Shiraz,09351234567\n")
    source = open_source(path)
    assert (source.header_line, source.number_column) == (None, "column_3")
    result = repo.import_list("plain", path)
    assert (result.total, result.valid) == (2, 2)
    assert repo.lists()[0].number_column is None


def test_a_first_line_of_digits_is_a_row_not_a_header(write):
    result = repo.import_list("short", write("short.txt", "123\n09121234567\n09351234567\n"))
    assert (result.total, result.valid, result.invalid_samples) == (3, 2, [(1, "123")])


def test_a_quoted_field_with_the_delimiter_inside_stays_one_value(write):
    path = write("quoted.csv", 'mobile;name\n09121234567;"Rezaei; Ali"\n09351234567;"Karimi"\n')
    repo.import_list("quoted", path)
    assert [a for _, _, a in attributes("quoted")] == [["Rezaei; Ali"], ["Karimi"]]


def test_a_head_of_plain_ascii_then_windows_1256_further_down_is_read(tmp_path: Path):
    rows = [f"{n},Customer" for n in numbers(5000)]  # ~100 KB of ASCII, past the sample
    rows.append("09351234567,نرگس")
    path = tmp_path / "late.csv"
    path.write_bytes("\n".join(["mobile,name", *rows]).encode("cp1256"))
    assert open_source(path).encoding == "ASCII"
    assert repo.import_list("late", path).valid == 5001
    assert attributes("late")[-1] == (5002, 989351234567, ["نرگس"])


def test_a_10_mb_junk_line_between_two_good_rows_is_one_invalid_row(tmp_path: Path):
    path = tmp_path / "junk.txt"
    path.write_text("09121234567\n" + "x" * 10_000_000 + "\n09351234567\n")
    result = repo.import_list("junk", path, accept_invalid=True)
    assert (result.total, result.valid, result.invalid) == (3, 2, 1)
    assert result.invalid_samples == [(2, "x" * 100 + "…")]  # kept short, never 10 MB


def test_a_single_10_mb_line_of_numbers_is_refused_with_how_many_it_holds(tmp_path: Path):
    path = tmp_path / "one-line.csv"
    path.write_text(",".join(f"0912{i % 10_000_000:07d}" for i in range(873_813)))
    refused(Code.IMPORT_WIDE_LINE, lambda: repo.import_list("wide", path),
            r"one-line\.csv: line 1 holds 873,813 values separated by ','")  # fmt: skip


# --- workbooks -------------------------------------------------------------------------------


def write_workbook(path: Path, cover: bool = False) -> Path:
    """A workbook as people make them: a title, a blank row, the header in row 3, numbers
    stored as numbers (leading 0 lost), one in scientific notation and one as text."""
    book = xlsxwriter.Workbook(path)
    if cover:
        front = book.add_worksheet("جلد")
        front.write(0, 0, "Customer list, autumn 1404")
        front.write(2, 0, "prepared by sales")
    sheet = book.add_worksheet("مشتریان")
    sheet.write(0, 0, "Customers of the Tehran shop")
    sheet.write_row(2, 0, ["موبایل", "نام", "شهر"])
    for i in range(229):
        sheet.write_number(3 + i, 0, 9121000000 + i)
        sheet.write_row(3 + i, 1, [NAMES[i % 4], CITIES[i % 4]])
    sheet.write_number(232, 0, 9.351234567e9, book.add_format({"num_format": "0.00E+00"}))
    sheet.write_string(233, 0, "09201234567")
    sheet.write_string(234, 0, "not a number")
    book.close()
    return path


def test_a_workbook_with_a_title_and_numbers_stored_as_numbers(tmp_path: Path):
    path = write_workbook(tmp_path / "customers.xlsx")
    source = open_source(path)
    assert (source.kind, source.sheet, source.header_line) == ("excel", "مشتریان", 3)
    assert (source.number_column, source.attributes) == ("موبایل", ["نام", "شهر"])
    result = repo.import_list("customers", path)
    assert (result.total, result.valid, result.invalid) == (232, 231, 1)
    assert result.invalid_samples == [(235, "not a number")]  # the row Excel shows
    assert attributes("customers")[0] == (4, 989121000000, ["علی رضایی", "تهران"])


def test_the_sheet_holding_numbers_is_read_when_the_first_is_a_cover_page(tmp_path: Path):
    path = write_workbook(tmp_path / "with-cover.xlsx", cover=True)
    source = open_source(path)
    assert (source.sheet, source.sheets) == ("مشتریان", ["جلد", "مشتریان"])
    assert repo.import_list("covered", path).valid == 231
    assert repo.lists()[0].source_sheet == "مشتریان"


def test_a_named_sheet_is_read_and_a_missing_one_lists_the_sheets(tmp_path: Path):
    path = write_workbook(tmp_path / "book.xlsx", cover=True)
    refused(
        Code.IMPORT_NO_NUMBERS_SHEETS,
        lambda: repo.import_list("x", path, sheet="جلد"),
        r"book\.xlsx: no sheet holds a valid mobile number; the sheets read: جلد, مشتریان",
    )
    refused(Code.IMPORT_NO_SHEET, lambda: repo.import_list("x", path, sheet="Sheet9"),
            r"book\.xlsx: no sheet 'Sheet9'; the sheets are: جلد, مشتریان")  # fmt: skip
    assert repo.import_list("x", path, sheet="مشتریان").valid == 231


def test_the_blacklist_reads_workbooks_the_same_way(tmp_path: Path):
    path = write_workbook(tmp_path / "bl.xlsx", cover=True)
    result = repo.import_blacklist(path)
    assert (result.added, result.already, result.invalid) == (231, 0, 1)


# --- refusals --------------------------------------------------------------------------------


def test_a_file_with_no_phone_numbers_is_refused_naming_its_columns(write):
    path = write("people.csv", "name,email\nAli,ali@example.com\nSara,sara@example.com\n")
    refused(Code.IMPORT_NO_NUMBERS, lambda: repo.import_list("people", path),
            r"people\.csv: no row holds a valid mobile number \(2 rows read\); the columns "
            r"are: name, email")  # fmt: skip
    refused(Code.IMPORT_NO_NUMBERS, lambda: repo.import_blacklist(path), "people.csv")


def test_a_mostly_invalid_file_is_refused_unless_accepted(write):
    rows = [*numbers(3), "123", "hello", "02188776655", "", "9999"]
    path = write("bad.txt", "\n".join(rows) + "\n")
    error = refused(Code.IMPORT_MOSTLY_INVALID, lambda: repo.import_list("bad", path),
                    r"bad\.txt: 4 of 7 rows in column 'column_1' are not valid mobile numbers "
                    r"\(e\.g\. 4: '123', 5: 'hello', 6: '02188776655', 8: '9999'\)")  # fmt: skip
    assert "--accept-invalid" in error.text("en") and "نامعتبر" in error.text("fa")
    result = repo.import_list("bad", path, accept_invalid=True)
    assert (result.total, result.valid, result.invalid) == (7, 3, 4)


def test_a_folder_is_not_called_a_missing_file(tmp_path: Path):
    folder = tmp_path / "exports"
    folder.mkdir()
    refused(Code.IMPORT_IS_FOLDER, lambda: repo.import_list("x", folder), "a folder, not a file")
    refused(Code.IMPORT_NO_FILE, lambda: repo.import_list("x", tmp_path / "gone.csv"),
            r"gone\.csv: no such file")  # fmt: skip


def test_a_refused_replacement_keeps_the_list_it_would_replace(write):
    repo.import_list("a", write("a.txt", "09121234567\n09351234567\n"))
    path = write("people.csv", "name,email\nAli,ali@example.com\n")
    refused(Code.IMPORT_NO_NUMBERS, lambda: repo.import_list("a", path, replace=True), "people")
    assert [i.valid for i in repo.lists()] == [2]


# --- preview ---------------------------------------------------------------------------------


def test_the_preview_shows_how_the_file_is_read_and_what_the_import_would_do(write):
    repo.import_blacklist(write("bl.txt", "09351234567\n"))
    path = write("people.csv", "\n".join([
        "Customers", "", "name;mobile;city", "Ali;09121234567;Tehran", "Sara;09351234567;",
        "Reza;bad;Qom", "Ali again;0912 123 4567;Tehran",
    ]))  # fmt: skip
    before = snapshot()
    preview = repo.preview_list(path)
    assert snapshot() == before
    assert (preview.encoding, preview.delimiter, preview.header_line) == ("ASCII", ";", 3)
    assert (preview.number_column, preview.attributes) == ("mobile", ["name", "city"])
    assert (preview.total, preview.valid, preview.invalid, preview.duplicates,
            preview.blacklisted) == (4, 2, 1, 1, 1)  # fmt: skip
    assert preview.invalid_samples == [(6, "bad")]
    assert preview.refusal is None
    assert preview.first_rows.to_dicts()[1] == {
        "line_no": 5, "raw": "09351234567", "number": 989351234567, "name": "Sara", "city": None,
    }  # fmt: skip
    result = repo.import_list("people", path)
    assert (result.valid, result.invalid, result.duplicates, result.blacklisted) == (2, 1, 1, 1)


def test_the_preview_carries_the_refusal_the_import_would_raise(write):
    path = write("people.csv", "name,email\nAli,ali@example.com\n")
    preview = repo.preview_list(path)
    assert preview.refusal is not None and preview.refusal.code is Code.IMPORT_NO_NUMBERS
    assert preview.first_rows.columns == ["line_no", "raw", "number", "email"]
    assert isinstance(preview.first_rows, pl.DataFrame) and preview.first_rows.height == 1


def test_a_stray_quote_inside_a_value_loses_no_row(write):
    rows = "".join(f"0912{1_000_000 + i},N{i}\n" for i in range(20_000))
    path = write("stray.csv", 'mobile,name\n09351234567,Ali "Big\n' + rows)
    result = repo.import_list("stray", path)
    assert (result.total, result.valid, result.invalid) == (20_001, 20_001, 0)
    assert attributes("stray")[0] == (2, 989351234567, ['Ali "Big'])


# --- held or streamed -------------------------------------------------------------------------


def mixed_rows(n: int) -> list[str]:
    """``n`` rows of name;number;city in the forms people write, with invalid numbers,
    repeats, blank rows and a quoted value holding the delimiter."""
    forms = [
        lambda i: f"0912{1_000_000 + i:07d}",
        lambda i: f"+98 935 {i:07d}",
        lambda i: "۰۹۱۲" + "".join("۰۱۲۳۴۵۶۷۸۹"[int(d)] for d in f"{2_000_000 + i:07d}"),
        lambda i: f"9124{i:06d}.0",  # a number a spreadsheet stored as a number
        lambda i: "not a number" if i % 4 else "",  # invalid, or no number at all
        lambda i: f"0912{1_000_000 + i - 5:07d}",  # a repeat of the first form's row
    ]
    rows = []
    for i in range(n):
        name = f'"{NAMES[i % 4]}; {i}"' if i % 11 == 0 else NAMES[i % 4]
        rows.append(f"{name};{forms[i % len(forms)](i)};{CITIES[i % 4] if i % 5 else ''}")
        if i % 997 == 0:
            rows.append("")
    return rows


def imported_both_ways(monkeypatch: pytest.MonkeyPatch, path: Path, **options: Any
                       ) -> dict[str, Any]:  # fmt: skip
    """Import ``path`` held in memory and streamed (in 4 KB blocks: many batches), as lists named
    after the way; the results, previews and stored rows of each."""
    from chapar.imports import text

    monkeypatch.setattr(text, "BLOCK_BYTES", 4096)
    counted_by_polars = []
    frame_counts = repo._frame_counts
    monkeypatch.setattr(repo, "_frame_counts",
                        lambda *a: counted_by_polars.append(1) or frame_counts(*a))  # fmt: skip
    found: dict[str, Any] = {}
    for way, limit in (("held", repo.HELD_FILE_BYTES), ("streamed", 0)):
        monkeypatch.setattr(repo, "HELD_FILE_BYTES", limit)
        counted_by_polars.clear()
        preview = repo.preview_list(path, **options)
        try:
            result: Any = repo.import_list(way, path, **options)
            result = (result.total, result.valid, result.invalid, result.duplicates,
                      result.blacklisted, result.invalid_samples, result.columns)  # fmt: skip
        except InputError as exc:
            result = (exc.code, exc.text("en"))
        with connect() as con:
            stored = con.execute(
                "SELECT line_no, number, operator, raw, attrs, first_in_list FROM recipients r "
                "JOIN lists l ON l.id = r.list_id WHERE l.name = ? ORDER BY line_no",
                [way],
            ).fetchall()
        assert bool(counted_by_polars) == (way == "held")
        found[way] = (result, preview.first_rows.to_dicts(), preview.total, preview.valid,
                      preview.invalid, preview.duplicates, preview.blacklisted,
                      preview.invalid_samples, stored)  # fmt: skip
    return found


def test_a_file_held_and_streamed_gives_the_same_rows_counts_and_preview(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    rows = mixed_rows(6_000)
    path = tmp_path / "mixed.csv"
    lines = ["Customers of 1404", "", "نام;موبایل;شهر", *rows]
    path.write_bytes("\r\n".join(lines).encode("utf-8-sig"))  # Excel's ';' CSV
    bl = tmp_path / "bl.txt"
    bl.write_text("\n".join(f"0912{1_000_000 + i:07d}" for i in range(0, 3_000, 7)) + "\n")
    repo.import_blacklist(bl)

    found = imported_both_ways(monkeypatch, path, accept_invalid=True)
    assert found["held"] == found["streamed"]
    result, first_rows, *_, stored = found["held"]
    # total, valid, invalid, duplicates, blacklisted (every 42nd row of the first form)
    assert result[:5] == (6_000, 4_000, 1_000, 1_000, 72)
    # row i is on line i + 5 (a title, a blank line, the header, a blank line after row 0)
    assert result[5] == [(9, ""), (15, "not a number"), (21, ""), (27, "not a number"),
                         (33, "")]  # fmt: skip
    assert first_rows[0] == {"line_no": 4, "raw": "09121000000", "number": 989121000000,
                             "نام": "علی رضایی; 0", "شهر": None}  # fmt: skip
    assert len(stored) == 6_000


def test_a_file_without_attributes_held_and_streamed_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "numbers.txt"
    path.write_text("\n".join(r.split(";")[-2] if r else "" for r in mixed_rows(3_000)) + "\n")
    found = imported_both_ways(monkeypatch, path)
    assert found["held"] == found["streamed"]
    assert found["held"][0][:4] == (2_750, 2_000, 250, 500)  # a row with no number: blank


def test_a_refusal_is_the_same_held_or_streamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(["hello", "09121234567", "123", "x"] * 2_000) + "\n")
    before = snapshot()
    found = imported_both_ways(monkeypatch, path)
    assert found["held"] == found["streamed"]
    assert found["held"][0][0] is Code.IMPORT_MOSTLY_INVALID
    assert snapshot() == before


@pytest.mark.parametrize("way", ["held", "streamed"])
def test_each_row_says_whether_it_is_its_number_s_first_in_the_list(
    monkeypatch: pytest.MonkeyPatch, write: Any, way: str
) -> None:
    """first_in_list (what a one-list price counts by): true on the line a number first
    appears on, false on its repeats, null on invalid rows; the same whichever way the file
    went, and a staged file's repeats counted in several parts give the same."""
    if way == "streamed":
        monkeypatch.setattr(repo, "HELD_FILE_BYTES", 0)
        monkeypatch.setattr(repo, "REPEATS_PART_ROWS", 2)  # 4 parts for these 7 rows
    path = write("repeats.csv", "\n".join(
        ["mobile", "09121111111", "09122222222", "0912 111 1111", "bad", "09122222222",
         "+989121111111", "09123333333"]
    ))  # fmt: skip
    result = repo.import_list("r", path, accept_invalid=True)
    assert (result.total, result.valid, result.invalid, result.duplicates) == (7, 3, 1, 3)
    with connect() as con:
        flags = con.execute(
            "SELECT line_no, first_in_list FROM recipients ORDER BY line_no"
        ).fetchall()
    assert flags == [(2, True), (3, True), (4, False), (5, None), (6, False), (7, False),
                     (8, True)]  # fmt: skip


@pytest.mark.parametrize("way", ["held", "streamed"])
def test_each_row_stores_its_number_s_operator_as_text(
    monkeypatch: pytest.MonkeyPatch, write: Any, way: str
) -> None:
    """The import hands DuckDB its operators dictionary-encoded (a Polars Enum, copied
    faster than strings); the column stores them as the text planning and prices group by."""
    if way == "streamed":
        monkeypatch.setattr(repo, "HELD_FILE_BYTES", 0)
    path = write("operators.csv", "\n".join(
        ["mobile", "09121111111", "09351111111", "bad", "09201111111", "09981111111",
         "+989991111111", "09311111111", "09411111111"]
    ))  # fmt: skip
    repo.import_list("ops", path, accept_invalid=True)
    with connect() as con:
        stored = con.execute(
            "SELECT number, operator, typeof(operator) FROM recipients ORDER BY line_no"
        ).fetchall()
    assert stored == [
        (n, None if n is None else operator_of(n), "VARCHAR")
        for n in [989121111111, 989351111111, None, 989201111111, 989981111111, 989991111111,
                  989311111111, 989411111111]
    ]  # fmt: skip
    assert {op for _, op, _ in stored} == {None, "MCI", "Irancell", "Rightel", "Shatel",
                                           "Samantel/ApTel", "MTCE"}  # fmt: skip
