"""Writing exported rows as files: CSV (UTF-8 with a byte-order mark, for spreadsheet programs) and XLSX
(openpyxl, write-only). Text cells are formula-neutralised (:func:`lowcode.runtime.export.escape_cell`);
numbers and dates stay numbers and dates."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from lowcode.runtime.export import escape_cell

MIME_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def safe_value(value: Any) -> Any:
    """A cell value: None as empty, numbers and dates unchanged, anything else as neutralised text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return escape_cell(str(value))
    if isinstance(value, int | Decimal | float | dt.date):
        return value
    return escape_cell(str(value))


def write_csv(header: list[str], rows: Iterable[list[Any]], title: str = "") -> bytes:
    """The rows as CSV bytes (header first; ``title`` is not used)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_value(h) for h in header])
    for row in rows:
        writer.writerow([_csv_text(safe_value(v)) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def write_xlsx(header: list[str], rows: Iterable[list[Any]], title: str = "Sheet1") -> bytes:
    """The rows as an XLSX workbook of one sheet (header first); every text cell is stored as text."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_sheet_title(title))

    def cells(values: list[Any]) -> list[Any]:
        out = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=_xlsx_value(safe_value(value)))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            out.append(cell)
        return out

    sheet.append(cells(header))
    for row in rows:
        sheet.append(cells(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _sheet_title(title: str) -> str:
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in title).strip()
    return (cleaned or "Sheet1")[:31]


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}
"""Format name -> writer(header, rows[, title]) -> bytes."""
