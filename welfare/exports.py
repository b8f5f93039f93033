"""Spreadsheet exports (audit log, dashboard tables): CSV as Finnish Excel reads it, and XLSX.

CSV: UTF-8 with a BOM (so Excel knows the encoding), semicolons (Excel in a decimal-comma locale
splits on them), CRLF lines, streamed. In both formats a text cell that a spreadsheet would run as
a formula (=, +, -, @, tab, CR) is prefixed with an apostrophe: exported data must not execute."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.http import HttpResponse, StreamingHttpResponse

CSV_DELIMITER = ";"
CSV_BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like object whose write() returns the line (csv.writer into a stream)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[list]) -> Iterable[str]:
    writer = csv.writer(_Echo(), delimiter=CSV_DELIMITER, lineterminator="\r\n")
    for number, row in enumerate(rows):
        line = writer.writerow([safe_cell(value) for value in row])
        yield CSV_BOM + line if number == 0 else line


def csv_response(rows: Iterable[list], filename: str, *, stream: bool = False) -> HttpResponse:
    """The rows as a CSV download; ``stream`` for long exports (the audit log) written as they are read."""
    lines = csv_lines(rows)
    response = (StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8") if stream
                else HttpResponse("".join(lines), content_type="text/csv; charset=utf-8"))
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def xlsx_response(title: str, rows: Iterable[list], filename: str) -> HttpResponse:
    """One sheet named ``title``; whole numbers stay numbers, other cells are (safe) text."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for row in rows:
        sheet.append([value if isinstance(value, int) else _number_or_text(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _number_or_text(value):
    text = safe_cell(value)
    return int(text) if text.isdigit() else text
