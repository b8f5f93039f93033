"""Reading an absence file: CSV (Wilma/Primus exports) or XLSX, streamed row by row.

Encoding, separator and header matching are the register import's (welfare.services.imports):
UTF-8 with or without BOM or Windows-1252, ``;`` ``,`` or tab, headers in Finnish, Swedish or
English in any case.  Nothing here holds the whole file in memory.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from welfare.services.imports import COLUMNS as REGISTER_COLUMNS
from welfare.services.imports import SAMPLE_CHARS, ImportIssue, choose_encoding, sniff_delimiter
from welfare.services.imports import ImportAborted as Abort
from welfare.services.imports import normalise_header as norm

__all__ = ["Abort", "FIELDS", "ImportIssue", "Layout", "detect_layout", "iter_rows", "norm"]

PREVIEW_ROWS = 10
XLSX_MAGIC = b"PK\x03\x04"

# The register's student id headers (Oppilasnumero, Elevnummer, Student id, ...), plus export spellings.
_STUDENT_ALIASES = next(c.aliases for c in REGISTER_COLUMNS["students"] if c.field == "external_id") + (
    "oppilas", "elev", "student", "pupil", "oppilas id", "elev id",
)


@dataclass(frozen=True)
class Field:
    """A value the import needs; the first three aliases are its fi/sv/en header."""

    name: str
    label: str
    aliases: tuple[str, ...]


FIELDS: dict[str, Field] = {field.name: field for field in (
    Field("student", gettext_lazy("student id"), _STUDENT_ALIASES),
    Field("date", gettext_lazy("date"), (
        "päivämäärä", "datum", "date", "pvm", "päivä", "poissaolopäivä", "dag", "frånvarodatum", "day",
        "absence date")),
    Field("hours", gettext_lazy("hours"), (
        "tunnit", "timmar", "hours", "tuntia", "oppitunnit", "poissaolotunnit", "tunteja", "lektioner",
        "frånvarotimmar", "lessons", "lesson hours", "absence hours")),
    Field("category", gettext_lazy("category"), (
        "poissaolon syy", "orsak", "category", "luokka", "syy", "poissaololuokka", "poissaolon laji", "kategori",
        "frånvaroorsak", "frånvarokategori", "reason", "absence category", "type")),
    Field("period_start", gettext_lazy("period start"), (
        "alkaa", "från", "start", "alkupäivä", "alkupvm", "jakso alkaa", "startdatum", "från och med",
        "period start", "start date", "from")),
    Field("period_end", gettext_lazy("period end"), (
        "päättyy", "till", "end", "loppupäivä", "loppupvm", "jakso päättyy", "slutdatum", "till och med",
        "period end", "end date", "to")),
)}
FIELD_BY_ALIAS = {norm(alias): field.name for field in FIELDS.values() for alias in field.aliases}
REQUIRED = {
    "daily": ("student", "date", "hours", "category"),
    "period_totals": ("student", "period_start", "period_end", "category", "hours"),
}


@dataclass
class Layout:
    """What the file looks like: format, encoding, separator, header and a short preview."""

    format: str  # "csv" or "xlsx"
    encoding: str
    delimiter: str
    headers: list[str]
    preview: list[list[str]]

    def auto_fields(self) -> dict[str, int]:
        """field → column index, from the header names (the first column naming a field wins)."""
        fields: dict[str, int] = {}
        for index, header in enumerate(self.headers):
            name = FIELD_BY_ALIAS.get(norm(header))
            if name and name not in fields:
                fields[name] = index
        return fields

    def as_mapping(self, fields: dict[str, int]) -> dict:
        return {"format": self.format, "encoding": self.encoding, "delimiter": self.delimiter,
                "headers": self.headers, "fields": fields}


def is_xlsx(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == XLSX_MAGIC


def detect_layout(path: Path) -> Layout:
    """Encoding, separator, header and the first rows. Raises Abort (empty, wrong encoding, too large)."""
    if is_xlsx(path):
        rows = iter_rows(path, {"format": "xlsx"}, header=True)
        return _layout_from(rows, "xlsx", "", "")
    with open(path, "rb") as stream:
        encoding = choose_encoding(stream)
        stream.seek(0)
        text = io.TextIOWrapper(stream, encoding=encoding, newline="")
        sample = text.read(SAMPLE_CHARS)
    if not sample.strip():
        raise Abort(ImportIssue(None, "", "", _("The file is empty.")))
    if "\x00" in sample:  # a binary file that happens to decode (images, PDFs, old .xls)
        raise Abort(ImportIssue(None, "", "", _(
            "The file is not CSV text or an Excel (XLSX) workbook. Save it from the register or spreadsheet "
            "as CSV (UTF-8) or XLSX.")))
    delimiter = sniff_delimiter(sample)
    rows = iter_rows(path, {"format": "csv", "encoding": encoding, "delimiter": delimiter}, header=True)
    return _layout_from(rows, "csv", encoding, delimiter)


def _layout_from(rows: Iterator[tuple[int, list[str]]], fmt: str, encoding: str, delimiter: str) -> Layout:
    first = next(rows, None)
    if first is None:
        raise Abort(ImportIssue(None, "", "", _("The file is empty.")))
    headers = [value.replace("\ufeff", "").strip() for value in first[1]]
    while headers and not headers[-1]:
        headers.pop()
    preview = []
    for _line, values in rows:
        preview.append(values[: len(headers)])
        if len(preview) >= PREVIEW_ROWS:
            break
    if hasattr(rows, "close"):
        rows.close()
    return Layout(fmt, encoding, delimiter, headers, preview)


def iter_rows(path: Path, mapping: dict, *, header: bool = False, progress=None) -> Iterator[tuple[int, list[str]]]:
    """(line number, values) of every non-blank row; the header row first when ``header``.

    ``progress(fraction)`` is called now and then with the share of the file read.
    """
    if mapping["format"] == "xlsx":
        yield from _xlsx_rows(path, header=header, progress=progress)
        return
    size = max(path.stat().st_size, 1)
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding=mapping["encoding"], newline="", errors="strict")
        reader = csv.reader(text, delimiter=mapping["delimiter"])
        seen_header = False
        count = 0
        try:
            for values in reader:
                # Blank lines are skipped (a register export often ends with one).
                if not values or (len(values) == 1 and not values[0].strip()):
                    continue
                if not seen_header:
                    seen_header = True
                    if header:
                        yield reader.line_num, values
                    continue
                yield reader.line_num, values
                count += 1
                if progress is not None and not count & 0xFFFF:
                    progress(raw.tell() / size)
        except csv.Error as exc:
            raise Abort(ImportIssue(reader.line_num, "", "", _("The file is not valid CSV: %(error)s") % {
                "error": exc})) from exc
        except UnicodeDecodeError as exc:
            raise Abort(ImportIssue(reader.line_num + 1, "", "", _(
                "The file is neither UTF-8 nor Windows-1252 text. Save it from the register or spreadsheet "
                "as CSV (UTF-8)."))) from exc


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(path: Path, *, header: bool, progress) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    handle = open(path, "rb")  # a file object: openpyxl would otherwise insist on the .xlsx suffix
    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # a damaged or non-Excel zip: openpyxl raises many kinds
        handle.close()
        raise Abort(ImportIssue(None, "", "", _("The file is not a readable Excel (XLSX) workbook."))) from exc
    try:
        sheet = workbook.worksheets[0]
        total = max(sheet.max_row or 1, 1)
        seen_header = False
        for line, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            values = [_cell(value) for value in row]
            if not any(value.strip() for value in values):
                continue
            if not seen_header:
                seen_header = True
                if not header:
                    continue
            yield line, values
            if progress is not None and not line & 0x3FFF:
                progress(line / total)
    finally:
        workbook.close()
        handle.close()
