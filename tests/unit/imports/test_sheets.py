"""Reading uploaded spreadsheets: encodings (UTF-8 with/without BOM, GB18030), delimiters, XLSX values
(exact decimals, dates, formulas as cached values), empty rows, and every limit as a clear error."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest

from lowcode.errors import BadRequest, PayloadTooLarge
from lowcode.imports import sheets
from lowcode.imports.sheets import read_sheet


def _xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        "货号,品名\nA1,衬衫\n".encode(),
        "\ufeff货号,品名\nA1,衬衫\n".encode(),
        "货号;品名\r\nA1;衬衫\r\n".encode("gb18030"),
        "货号\t品名\nA1\t衬衫\n".encode("gbk"),
    ],
    ids=["utf8", "utf8-bom", "gb18030-semicolon", "gbk-tab"],
)
def test_csv_encodings_and_delimiters(content):
    sheet = read_sheet("p.csv", content)
    assert sheet.headers == ("货号", "品名")
    assert sheet.rows == ((2, {"货号": "A1", "品名": "衬衫"}),)


def test_empty_rows_are_skipped_and_rows_keep_their_line_numbers():
    sheet = read_sheet("p.CSV", b"a,b\n1,2\n,\n  ,  \n3,\n")
    assert sheet.rows == ((2, {"a": "1", "b": "2"}), (5, {"a": "3"}))


def test_xlsx_values_are_exact_and_dates_are_iso():
    rows = [["n", "price", "when", "at", "flag"],
            [1, 19.99, dt.datetime(2026, 11, 25), dt.datetime(2026, 11, 25, 8, 30), True]]  # fmt: skip
    ((number, cells),) = read_sheet("p.xlsx", _xlsx(rows)).rows
    assert number == 2
    assert cells == {"n": 1, "price": Decimal("19.99"), "when": "2026-11-25", "at": "2026-11-25T08:30:00",
                     "flag": True}  # fmt: skip
    assert isinstance(cells["price"], Decimal)


def test_an_xlsx_formula_without_a_cached_value_is_empty_never_its_text():
    ((_, cells),) = read_sheet("p.xlsx", _xlsx([["a", "b"], ["x", "=1+1"]])).rows
    assert cells == {"a": "x"}


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("p.txt", b"a\n1\n", BadRequest),
        ("p", b"a\n1\n", BadRequest),
        ("p.csv", b"", BadRequest),
        ("p.csv", b"a,b\n", BadRequest),
        ("p.csv", b",\n1,2\n", BadRequest),
        ("p.csv", b"a,A\n1,2\n", BadRequest),
        ("p.csv", b'a,b\n"1,2\n3,"4\n', BadRequest),
        ("p.csv", b"a\x00b\n1\n", BadRequest),
        ("p.csv", b"\xff\xfe\x00a", BadRequest),
        ("p.csv", ("," * 300 + "x\n1\n").encode(), PayloadTooLarge),
        ("p.csv", b"a\n1," + b"," * 300 + b"\n", PayloadTooLarge),
        ("p.xlsx", b"PK not really", BadRequest),
    ],
    ids=[
        "txt",
        "no-suffix",
        "empty",
        "header-only",
        "blank-header",
        "duplicate-header",
        "bad-quotes",
        "nul",
        "undecodable",
        "wide-header",
        "wide-row",
        "not-zip",
    ],  # fmt: skip
)
def test_bad_files_are_refused_plainly(name, content, error):
    with pytest.raises(error):
        read_sheet(name, content)


def test_row_and_size_limits(monkeypatch):
    monkeypatch.setattr(sheets, "MAX_ROWS", 3)
    assert len(read_sheet("p.csv", b"a\n1\n2\n3\n").rows) == 3
    with pytest.raises(PayloadTooLarge):
        read_sheet("p.csv", b"a\n1\n2\n3\n4\n")
    monkeypatch.setattr(sheets, "MAX_FILE_BYTES", 10)
    with pytest.raises(PayloadTooLarge):
        read_sheet("p.csv", b"a\n1\n2\n3\n4\n")


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"0" * 20_000_000)
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(PayloadTooLarge):
        read_sheet("p.xlsx", buffer.getvalue())


def test_ten_thousand_xlsx_columns_are_refused():
    with pytest.raises(PayloadTooLarge):
        read_sheet("p.xlsx", _xlsx([[f"c{i}" for i in range(10_000)], [1]]))
