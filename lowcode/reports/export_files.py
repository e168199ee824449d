"""An :class:`~lowcode.reports.export_table.ExportTable` written as a file.

- CSV: UTF-8 with a byte-order mark; numbers as plain exact strings (``1234.50``, no grouping, no float),
  text cells formula-neutralised (:func:`lowcode.runtime.export.escape_cell`); a pivot's two header rows.
- XLSX (openpyxl, write-only): numbers as numbers - a ``Decimal`` is written as its exact digits - with the
  column's number format (the field's scale), text cells stored as text (never a formula), pivot values as
  merged header cells, subtotal and total rows bold, highlighted cells filled.

Writers take the rows in slices (:class:`SheetWriter`) so a background job can record progress between them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from lowcode.reports.export_table import ExportTable
from lowcode.runtime.export import escape_cell
from lowcode.runtime.export_formats import MIME_TYPES, safe_value

FORMATS = ("csv", "xlsx")
HIGHLIGHT_FILL = "FFF3CD"
BOLD_LEVELS = frozenset({"subtotal", "total"})


def csv_number(value: Any) -> str:
    """A number as plain exact text (``Decimal`` keeps its scale; no exponent)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


class SheetWriter:
    """Writes one table: :meth:`add` slices of body rows (by index), then :meth:`finish` for the bytes."""

    def __init__(self, table: ExportTable):
        self.table = table

    def add(self, start: int, stop: int) -> bytes:
        """Write body rows ``[start, stop)``; returns bytes ready to keep (CSV) or b"" (kept until the end)."""
        raise NotImplementedError

    def finish(self) -> bytes:
        """The rest of the file."""
        raise NotImplementedError


class CsvWriter(SheetWriter):
    """CSV in slices: the header with the first slice, each slice's text as it is written."""

    def __init__(self, table: ExportTable):
        super().__init__(table)
        self.started = False

    def add(self, start: int, stop: int) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        head = ""
        if not self.started:
            self.started = True
            head = "\ufeff"
            for cells in self.table.header:
                row: list[str] = []
                for cell in cells:
                    row += [str(safe_value(cell.text))] + [""] * (cell.span - 1)
                writer.writerow(row)
        for values in self.table.rows[start:stop]:
            writer.writerow([_csv_cell(v) for v in values])
        return (head + buffer.getvalue()).encode("utf-8")

    def finish(self) -> bytes:
        return b"" if self.started else self.add(0, 0)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return csv_number(value)
    return str(safe_value(value))


class XlsxWriter(SheetWriter):
    """XLSX: rows appended to a write-only sheet; the workbook's bytes at the end."""

    def __init__(self, table: ExportTable):
        from openpyxl import Workbook
        from openpyxl.styles import Font, PatternFill

        super().__init__(table)
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(title=_sheet_title(table.title))
        self.bold = Font(bold=True)
        self.fill = PatternFill("solid", start_color=HIGHLIGHT_FILL, end_color=HIGHLIGHT_FILL)
        merges = []
        for r, cells in enumerate(table.header, start=1):
            row, col = [], 1
            for cell in cells:
                row.append(self._text(cell.text, bold=True))
                row += [self._text("") for _ in range(cell.span - 1)]
                if cell.span > 1:
                    merges.append((r, col, r, col + cell.span - 1))
                col += cell.span
            self.sheet.append(row)
        for r1, c1, r2, c2 in merges:
            self.sheet.merged_cells.add(_range(r1, c1, r2, c2))

    def _text(self, text: str, bold: bool = False):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self.sheet, value=safe_value(text) if text else None)
        if isinstance(cell.value, str):
            cell.data_type = "s"  # never a formula, whatever the text starts with
        if bold:
            cell.font = self.bold
        return cell

    def add(self, start: int, stop: int) -> bytes:
        from openpyxl.cell import WriteOnlyCell

        table = self.table
        for i in range(start, min(stop, len(table.rows))):
            bold = table.levels[i] in BOLD_LEVELS
            out = []
            for col, value in enumerate(table.rows[i]):
                fmt = table.formats[col]
                if fmt is not None and isinstance(value, int | Decimal) and not isinstance(value, bool):
                    cell = WriteOnlyCell(self.sheet, value=value)
                    cell.number_format = fmt
                    if bold:
                        cell.font = self.bold
                else:
                    cell = self._text("" if value is None else str(value), bold)
                if col in table.flagged[i]:
                    cell.fill = self.fill
                out.append(cell)
            self.sheet.append(out)
        return b""

    def finish(self) -> bytes:
        buffer = io.BytesIO()
        self.book.save(buffer)
        return buffer.getvalue()


def _range(r1: int, c1: int, r2: int, c2: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}"


def _sheet_title(title: str) -> str:
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in title).strip()
    return escape_cell(cleaned or "Sheet1")[:31]


WRITERS: dict[str, type[SheetWriter]] = {"csv": CsvWriter, "xlsx": XlsxWriter}


def write_table(table: ExportTable, fmt: str) -> bytes:
    """The whole table as a file of ``fmt`` (``csv`` or ``xlsx``)."""
    writer = WRITERS[fmt](table)
    parts: Iterable[bytes] = [writer.add(0, len(table.rows)), writer.finish()]
    return b"".join(parts)


def mime_type(fmt: str) -> str:
    """The file's MIME type."""
    return MIME_TYPES[fmt]
