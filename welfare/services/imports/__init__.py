"""Importing the student register (Wilma/Primus style CSV exports) of one municipality.

Three kinds of file, imported in this order: ``schools``, ``groups`` (teaching groups of a
school year) and ``students``.  Every row of the file is validated first; each problem
becomes an :class:`ImportIssue` ("value X in column Y on line N: message").  Only when the
whole file passes is everything written, in one transaction, by bulk upserts on the
natural keys (``School.external_id``; ``TeachingGroup`` school + school year + name;
``Student.external_id``).  Rows whose values are already stored are not rewritten, so
importing the same file twice changes nothing.  An import never deletes: schools, groups
and students missing from a file stay as they are.

Headers may be Finnish, Swedish or English, in any case; the file may be separated by
semicolons, commas or tabs, and be UTF-8 (with or without BOM) or Windows-1252.
"""

from __future__ import annotations

import io
from typing import BinaryIO

from django.db import connection, transaction
from django.utils.translation import gettext as _

from welfare.locks import advisory_lock
from welfare.models import SchoolYear
from welfare.services.imports.columns import (
    COLUMNS,
    _school_years_by_name,
    default_school_year,
    normalise_header,
    school_year_name,
)
from welfare.services.imports.constants import KIND_CHOICES, KINDS, SAMPLE_CHARS, logger
from welfare.services.imports.reading import ImportAborted, _rows, _seekable, choose_encoding, sniff_delimiter
from welfare.services.imports.result import ImportIssue, ImportResult
from welfare.services.imports.validation import VALIDATORS, _map_header
from welfare.services.imports.writing import WRITERS

__all__ = [
    "COLUMNS", "KIND_CHOICES", "KINDS", "SAMPLE_CHARS", "ImportAborted", "ImportIssue", "ImportResult",
    "choose_encoding", "default_school_year", "import_register", "normalise_header", "sniff_delimiter",
]


# --- Service ----------------------------------------------------------------------------------------


def import_register(
    kind: str, file: BinaryIO | bytes, *, school_year: SchoolYear | str | None = None, user=None
) -> ImportResult:
    """Import one register file (``kind``: schools, groups or students) into the current municipality.

    Who may call: the register-import page (municipal administrators, role ``paakayttaja``,
    checked by the view) and the ``import_register`` management command (operators).  Runs in
    the schema the connection is set to.

    All rows are validated first; if anything is wrong the result lists every error and
    nothing is written.  Otherwise one transaction creates new rows, updates changed ones and
    leaves identical ones untouched.

    ``school_year`` (students only) chooses the school year whose teaching groups the
    ``group`` column refers to; by default the year containing today, else the latest.

    Groups files: a school year named in the file that does not exist yet is created with
    the dates 1 August – 31 July (the Finnish school year; a municipality admin importing next
    year's groups in spring expects that to work).  The dates can be corrected afterwards; the
    result lists the years created.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown import kind {kind!r}; use one of {', '.join(KINDS)}.")
    result = ImportResult(kind=kind)
    context = {"school_year": None}
    if kind == "students":
        if isinstance(school_year, str):
            name = school_year_name(school_year) or school_year
            context["school_year"] = _school_years_by_name().get(name)
            if context["school_year"] is None:
                result.errors.append(ImportIssue(None, "", school_year, _(
                    'School year "%(value)s" does not exist.') % {"value": school_year}))
                return result
        else:
            context["school_year"] = school_year or default_school_year()
    stream = text = None
    try:
        stream = _seekable(file)
        encoding = choose_encoding(stream)
        stream.seek(0)
        text = io.TextIOWrapper(stream, encoding=encoding, newline="")
        rows = _rows(text)
        first = next(rows, None)
        if first is None:
            raise ImportAborted(ImportIssue(None, "", "", _("The file is empty.")))
        header = _map_header(kind, *first, result)
        if header is None:
            return result
        records = VALIDATORS[kind](rows, header, result, context)
        if not records and not result.errors:
            result.errors.append(ImportIssue(None, "", "", _("The file has a header but no rows.")))
    except ImportAborted as abort:
        result.errors.append(abort.issue)
    finally:
        if text is not None:
            text.detach()  # closing the wrapper would close the caller's file
        if stream is not None and stream is not file:
            stream.close()  # our own copy (BytesIO or spooled temporary file)
    if result.errors:
        return result
    with transaction.atomic():
        advisory_lock("register-import")  # one import at a time per municipality: the counts are then exact
        WRITERS[kind](records, result, context)
    logger.info(
        "register import kind=%s schema=%s user=%s created=%s updated=%s unchanged=%s",
        kind, connection.schema_name, getattr(user, "pk", None), result.created, result.updated, result.unchanged,
    )
    return result
