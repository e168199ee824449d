"""Reading an uploaded spreadsheet (CSV or XLSX) into a header and rows of ``{header: cell}``, within limits.

CSV: UTF-8 (with or without a byte-order mark), else GB18030 (what Chinese Excel saves; a superset of GBK);
``,`` ``;`` or tab as delimiter (the one the header line uses most); malformed quoting is refused. XLSX
(openpyxl, read-only, cached values - a formula cell is read as its last computed value, never as the
formula): the first sheet; numbers stay numbers - a float cell becomes ``Decimal(str(value))`` (the shortest
text that round-trips, so ``19.99`` stays ``19.99``; the money cast refuses more places than the field
keeps) - and date cells become ISO dates (datetimes at midnight as dates). The zip is checked before openpyxl
inflates it (total inflated size and compression ratio), so a zip bomb is refused cheaply. Empty rows are
skipped; each row keeps its number in the file (the header is row 1). An empty cell is left out of its row
(the mapping sees the column as missing: the entry's or the field's default applies on create, and an
update leaves the field as it is - a spreadsheet cannot tell "empty" from "not given").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lowcode.core.texts import Text
from lowcode.errors import BadRequest, PayloadTooLarge

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 200
MAX_HEADER = 120
MAX_INFLATED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 100
FORMATS = ("csv", "xlsx")
_ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(frozen=True)
class Sheet:
    """A spreadsheet read: its headers and rows (row number in the file, ``{header: cell}``)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, Any]], ...]


def file_format(name: str) -> str:
    """``csv`` or ``xlsx`` from a file name. :raises BadRequest:"""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in FORMATS:
        raise BadRequest(Text("Upload a .csv or .xlsx file (not '{name}')", name=name[:80]))
    return suffix


def read_sheet(name: str, content: bytes) -> Sheet:
    """The file's header and non-empty rows. :raises BadRequest: unreadable, no header, duplicate or empty
    headers, no rows; :raises PayloadTooLarge: over the size, row or column limits."""
    if len(content) > MAX_FILE_BYTES:
        raise PayloadTooLarge(Text("The file is over {mb} MB", mb=MAX_FILE_BYTES // (1024 * 1024)))
    fmt = file_format(name)
    lines = _csv_lines(content) if fmt == "csv" else _xlsx_lines(content)
    try:
        header = next(lines)
    except StopIteration:
        raise BadRequest(Text("The file is empty")) from None
    headers = _headers(header)
    rows = []
    for number, cells in lines:
        if len(cells) > MAX_COLUMNS:
            raise PayloadTooLarge(Text("At most {n} columns", n=MAX_COLUMNS))
        if all(_blank(c) for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise PayloadTooLarge(Text("At most {n} rows per file", n=MAX_ROWS))
        values = {h: _cell(cells, i) for i, h in enumerate(headers) if h}
        rows.append((number, {h: v for h, v in values.items() if v is not None}))
    if not rows:
        raise BadRequest(Text("The file has a header but no rows"))
    return Sheet(tuple(h for h in headers if h), tuple(rows))


def _headers(header: tuple[int, list[Any]]) -> list[str]:
    cells = header[1]
    if len(cells) > MAX_COLUMNS:
        raise PayloadTooLarge(Text("At most {n} columns", n=MAX_COLUMNS))
    headers = ["" if _blank(c) else str(c).strip()[:MAX_HEADER] for c in cells]
    while headers and not headers[-1]:
        headers.pop()
    if not any(headers):
        raise BadRequest(Text("The first row must hold the column headers"))
    seen: set[str] = set()
    for h in headers:
        if h and h.casefold() in seen:
            raise BadRequest(Text("The column '{name}' appears twice in the header", name=h))
        seen.add(h.casefold())
    return headers


def _cell(cells: list[Any], i: int) -> Any:
    value = cells[i] if i < len(cells) else None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _decode(content: bytes) -> str:
    for encoding in _ENCODINGS:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadRequest(Text("The CSV file is neither UTF-8 nor GBK/GB18030 text"))


def _csv_lines(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    text = _decode(content)
    if "\x00" in text:
        raise BadRequest(Text("The CSV file is not text"))
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as exc:
        raise BadRequest(
            Text("Line {line} of the CSV file is malformed: {reason}", line=reader.line_num, reason=str(exc))
        ) from None


def _check_zip(content: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise BadRequest(Text("The file is not an XLSX workbook")) from None
    inflated = sum(i.file_size for i in archive.infolist())
    packed = sum(i.compress_size for i in archive.infolist()) or 1
    if inflated > MAX_INFLATED_BYTES or inflated / packed > MAX_RATIO:
        raise PayloadTooLarge(Text("The workbook inflates to too much data"))


def _xlsx_lines(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    _check_zip(content)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable workbook is the uploader's problem, said plainly
        raise BadRequest(Text("The file is not an XLSX workbook")) from None
    try:
        sheet = book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1), start=1):
            cells = [_xlsx_value(v) for v in row]
            while cells and cells[-1] is None:  # read-only rows are padded to max_col
                cells.pop()
            yield number, cells
    finally:
        book.close()


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return Decimal(str(value))  # the shortest round-tripping text: 19.99 stays 19.99
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    return value
