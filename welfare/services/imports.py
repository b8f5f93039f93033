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

import codecs
import csv
import datetime
import io
import logging
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from welfare.models import InstructionLanguage, School, SchoolType, SchoolYear, Student, TeachingGroup

logger = logging.getLogger(__name__)

KINDS = ("schools", "groups", "students")
KIND_CHOICES = [
    ("schools", gettext_lazy("Schools")),
    ("groups", gettext_lazy("Teaching groups")),
    ("students", gettext_lazy("Students")),
]
ENCODINGS = ("utf-8-sig", "cp1252")
DELIMITERS = ";,\t"
CHUNK_BYTES = 64 * 1024
SAMPLE_CHARS = 64 * 1024
BATCH_SIZE = 2000
MIN_GRADE, MAX_GRADE = 0, 13


# --- Result -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportIssue:
    """One problem in the file. ``line`` is the file's line number (header = 1), or None
    when the problem concerns the whole import; ``column`` is the header as written."""

    line: int | None
    column: str
    value: str
    message: str


@dataclass
class ImportResult:
    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[ImportIssue] = field(default_factory=list)
    warnings: list[ImportIssue] = field(default_factory=list)
    created_school_years: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> dict:
        """Counts only (no personal data), e.g. for the audit log."""
        return {"kind": self.kind, "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "errors": len(self.errors), "warnings": len(self.warnings),
                "created_school_years": self.created_school_years}


# --- Columns and values -----------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A field of an import kind and the headers (fi, sv, en) that name it."""

    field: str
    label: str  # English name, translated in messages
    aliases: tuple[str, ...]
    column_required: bool = True
    value_required: bool = True


def normalise_header(text: str) -> str:
    return " ".join(text.replace("\ufeff", "").strip().rstrip(":").split()).casefold()


# The first three aliases of a column are its Finnish, Swedish and English header (shown in messages).
SCHOOL_ID_ALIASES = (
    "koulu", "skola", "school",
    "koulun tunnus", "koulutunnus", "koulukoodi", "koulun koodi", "koulu id", "koulun id",
    "skolans id", "skol-id", "skolkod", "skolans kod", "school id", "school code",
)
GRADE_ALIASES = ("luokka-aste", "årskurs", "grade", "vuosiluokka", "klasstrin", "year level")
GROUP_ALIASES = (
    "luokka", "klass", "group",
    "ryhmä", "luokan nimi", "ryhmän nimi", "opetusryhmä", "grupp", "klassens namn",
    "undervisningsgrupp", "group name", "class", "class name", "teaching group",
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    "schools": (
        Column("external_id", gettext_lazy("school id"), (
            "koulun tunnus", "skolans id", "school id",
            "koulutunnus", "koulukoodi", "koulun koodi", "koulu id", "koulun id", "tunnus",
            "skol-id", "skolkod", "skolans kod", "school code", "id",
        )),
        Column("name", gettext_lazy("name"), (
            "nimi", "namn", "name", "koulun nimi", "koulu", "skolans namn", "skola", "school name", "school",
        )),
        Column("school_type", gettext_lazy("type"), (
            "tyyppi", "typ", "type", "koulutyyppi", "koulumuoto", "oppilaitostyyppi", "skoltyp", "skolform",
            "school type",
        )),
        Column("grade_min", gettext_lazy("lowest grade"), (
            "alin luokka-aste", "lägsta årskurs", "lowest grade", "alin vuosiluokka", "min grade",
        )),
        Column("grade_max", gettext_lazy("highest grade"), (
            "ylin luokka-aste", "högsta årskurs", "highest grade", "ylin vuosiluokka", "max grade",
        )),
        Column("language", gettext_lazy("language"), (
            "kieli", "språk", "language", "opetuskieli", "undervisningsspråk", "language of instruction",
        )),
        Column("area", gettext_lazy("area"), ("alue", "område", "area"), column_required=False,
               value_required=False),
    ),
    "groups": (
        Column("school", gettext_lazy("school id"), SCHOOL_ID_ALIASES),
        Column("school_year", gettext_lazy("school year"), ("lukuvuosi", "läsår", "school year")),
        Column("name", gettext_lazy("group name"), GROUP_ALIASES),
        Column("grade", gettext_lazy("grade"), GRADE_ALIASES),
    ),
    "students": (
        Column("external_id", gettext_lazy("student id"), (
            "oppilasnumero", "elevnummer", "student id",
            "oppilastunnus", "oppilaan tunnus", "opiskelijanumero", "opiskelijatunnus",
            "elev-id", "elevens id", "studerandenummer", "studerandes id",
            "student number", "pupil id", "pupil number",
        )),
        Column("first_name", gettext_lazy("first name"), (
            "etunimi", "förnamn", "first name", "etunimet", "kutsumanimi", "tilltalsnamn", "given name",
        )),
        Column("last_name", gettext_lazy("last name"), (
            "sukunimi", "efternamn", "last name", "surname", "family name",
        )),
        Column("school", gettext_lazy("school id"), SCHOOL_ID_ALIASES),
        Column("grade", gettext_lazy("grade"), GRADE_ALIASES),
        # An empty group is allowed: the student is stored without a group.
        Column("group", gettext_lazy("group name"), GROUP_ALIASES, value_required=False),
        Column("home_language", gettext_lazy("home language"), (
            "kotikieli", "hemspråk", "home language", "äidinkieli", "modersmål", "mother tongue",
        ), column_required=False, value_required=False),
    ),
}

SCHOOL_TYPES = {
    SchoolType.BASIC: ("perusopetus", "peruskoulu", "grundläggande utbildning", "grundskola", "basic",
                       "basic education", "comprehensive school"),
    SchoolType.UPPER_SECONDARY: ("lukio", "lukiokoulutus", "gymnasium", "gymnasieutbildning", "upper secondary",
                                 "general upper secondary", "upper_secondary"),
    SchoolType.VOCATIONAL: ("ammatillinen", "ammatillinen koulutus", "ammatillinen oppilaitos", "ammattiopisto",
                            "yrkesutbildning", "yrkesinstitut", "yrkesläroanstalt", "vocational",
                            "vocational education"),
    SchoolType.PRE_PRIMARY: ("esiopetus", "förskoleundervisning", "förskola", "pre-primary",
                             "pre-primary education", "pre_primary", "preschool"),
}
SCHOOL_TYPE_BY_NAME = {alias: value for value, aliases in SCHOOL_TYPES.items() for alias in aliases}

INSTRUCTION_LANGUAGES = {
    InstructionLanguage.FI: ("fi", "fin", "suomi", "finska", "finnish", "suomenkielinen", "finskspråkig"),
    InstructionLanguage.SV: ("sv", "swe", "ruotsi", "svenska", "swedish", "ruotsinkielinen", "svenskspråkig"),
}
INSTRUCTION_LANGUAGE_BY_NAME = {alias: value for value, aliases in INSTRUCTION_LANGUAGES.items() for alias in aliases}

# Registers often export the home language as a name; the languages most spoken in Finnish
# schools (domain.md B5) are recognised in fi/sv/en, anything else must be an ISO 639 code.
HOME_LANGUAGES = {
    "fi": ("suomi", "finska", "finnish"),
    "sv": ("ruotsi", "svenska", "swedish"),
    "en": ("englanti", "engelska", "english"),
    "ru": ("venäjä", "ryska", "russian"),
    "et": ("viro", "eesti", "estniska", "estonian"),
    "so": ("somali", "somaliska"),
    "ar": ("arabia", "arabiska", "arabic"),
    "fa": ("persia", "farsi", "persiska", "persian"),
    "prs": ("dari",),
    "ku": ("kurdi", "kurdiska", "kurdish"),
    "ckb": ("sorani", "soranî"),
    "vi": ("vietnam", "vietnamiska", "vietnamese"),
    "sq": ("albania", "albanska", "albanian"),
    "uk": ("ukraina", "ukrainska", "ukrainian"),
    "bs": ("bosnia", "bosniska", "bosnian"),
    "bg": ("bulgaria", "bulgariska", "bulgarian"),
    "ur": ("urdu",),
    "zh": ("kiina", "kinesiska", "chinese"),
    "tr": ("turkki", "turkiska", "turkish"),
    "th": ("thai", "thaimaa", "thailändska"),
    "es": ("espanja", "spanska", "spanish"),
    "de": ("saksa", "tyska", "german"),
    "fr": ("ranska", "franska", "french"),
    "smi": ("saame", "samiska", "sami"),
}
HOME_LANGUAGE_BY_NAME = {alias: code for code, aliases in HOME_LANGUAGES.items() for alias in aliases}
ISO_639_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
SCHOOL_YEAR_RE = re.compile(r"^(\d{4})\s*[-–—/]\s*(\d{2}|\d{4})$")


def school_year_name(text: str) -> str | None:
    """'2026-2027', '2026–2027' or '2026-27' → '2026–2027' (en dash); None if not a school year."""
    match = SCHOOL_YEAR_RE.match(text.strip())
    if not match:
        return None
    start, end = int(match[1]), match[2]
    end_year = int(end) if len(end) == 4 else start // 100 * 100 + int(end)
    if end_year != start + 1:
        return None
    return f"{start}–{end_year}"


def default_school_year(today: datetime.date | None = None) -> SchoolYear | None:
    """The school year containing today, else the latest one (None when there is none)."""
    today = today or timezone.localdate()
    return (
        SchoolYear.objects.filter(start_date__lte=today, end_date__gte=today).first()
        or SchoolYear.objects.order_by("-start_date").first()
    )


def _school_years_by_name() -> dict[str, SchoolYear]:
    return {school_year_name(year.name) or year.name: year for year in SchoolYear.objects.all()}


# --- Reading the file ---------------------------------------------------------------------


class ImportAborted(Exception):
    """The file cannot be read further; the issue says why."""

    def __init__(self, issue: ImportIssue):
        self.issue = issue


def _seekable(file: BinaryIO | bytes) -> BinaryIO:
    if isinstance(file, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(file))
    if getattr(file, "seekable", lambda: False)():
        file.seek(0)
        return file
    spool = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # closed by import_register
    limit = settings.IMPORT_MAX_BYTES
    total = 0
    while chunk := file.read(CHUNK_BYTES):
        total += len(chunk)
        if total > limit:
            raise ImportAborted(_too_large())
        spool.write(chunk)
    spool.seek(0)
    return spool


def _too_large() -> ImportIssue:
    limit_mb = settings.IMPORT_MAX_BYTES / (1024 * 1024)
    return ImportIssue(None, "", "", _("The file is larger than the limit of %(limit)s MB.") % {
        "limit": f"{limit_mb:.3g}"})


def choose_encoding(stream: BinaryIO) -> str:
    """Try UTF-8 (BOM optional) strictly, then Windows-1252; also enforce the size limit.

    Reads the stream in chunks, so the file is never held in memory whole."""
    limit = settings.IMPORT_MAX_BYTES
    size = getattr(stream, "size", None)
    if isinstance(size, int) and size > limit:
        raise ImportAborted(_too_large())
    first_failure: tuple[int, bytes] | None = None
    for encoding in ENCODINGS:
        stream.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        total = newlines = 0
        try:
            while chunk := stream.read(CHUNK_BYTES):
                total += len(chunk)
                if total > limit:
                    raise ImportAborted(_too_large())
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    offset = max(exc.start - (len(exc.object) - len(chunk)), 0)
                    raise _DecodeFailure(newlines + chunk[:offset].count(b"\n") + 1,
                                         exc.object[exc.start:exc.end]) from exc
                newlines += chunk.count(b"\n")
            decoder.decode(b"", final=True)
        except _DecodeFailure as failure:
            first_failure = first_failure or (failure.line, failure.raw)
            continue
        except UnicodeDecodeError:  # truncated multi-byte sequence at the very end
            first_failure = first_failure or (newlines + 1, b"")
            continue
        if total == 0:
            raise ImportAborted(ImportIssue(None, "", "", _("The file is empty.")))
        return encoding
    line, raw = first_failure
    raise ImportAborted(ImportIssue(line, "", raw.hex(" ").upper(), _(
        "The file is neither UTF-8 nor Windows-1252 text. Save it from the register or spreadsheet "
        "as CSV (UTF-8).")))


class _DecodeFailure(Exception):
    def __init__(self, line: int, raw: bytes):
        self.line, self.raw = line, raw


def sniff_delimiter(sample: str) -> str:
    """The separator, by csv.Sniffer; the header line decides when the sniffer cannot."""
    if "\n" in sample.rstrip("\r\n"):
        sample = sample[: sample.rfind("\n")]  # only whole lines: a cut line confuses the sniffer
    header = sample.lstrip("\r\n").splitlines()[0] if sample.strip() else ""
    by_header = max(DELIMITERS, key=header.count) if any(d in header for d in DELIMITERS) else ";"
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:  # e.g. a single column
        return by_header
    # A separator missing from the header line cannot be the right one.
    return sniffed if sniffed in header else by_header


def _rows(text: io.TextIOBase) -> Iterator[tuple[int, list[str]]]:
    """(line number of the row's first line, values) for each non-blank record."""
    sample = text.read(SAMPLE_CHARS)
    if not sample.strip():
        raise ImportAborted(ImportIssue(None, "", "", _("The file is empty.")))
    text.seek(0)
    reader = csv.reader(text, delimiter=sniff_delimiter(sample))
    previous_line = 0
    try:
        for values in reader:
            line, previous_line = previous_line + 1, reader.line_num
            if any(value.strip() for value in values):
                yield line, values
    except csv.Error as exc:
        raise ImportAborted(ImportIssue(reader.line_num, "", "", _("The file is not valid CSV: %(error)s") % {
            "error": exc})) from exc


# --- Validation -------------------------------------------------------------------------------


@dataclass
class _Header:
    positions: dict[str, int]  # field → index of its column
    names: dict[str, str]  # field → header as written
    width: int


def _map_header(kind: str, line: int, header: list[str], result: ImportResult) -> _Header | None:
    columns = COLUMNS[kind]
    by_alias = {normalise_header(alias): column for column in columns for alias in column.aliases}
    positions: dict[str, int] = {}
    names: dict[str, str] = {}
    for index, written in enumerate(header):
        if not written.strip():
            continue
        column = by_alias.get(normalise_header(written))
        if column is None:
            result.warnings.append(ImportIssue(line, written.strip(), "", _("Unknown column: it was ignored.")))
        elif column.field in positions:
            result.errors.append(ImportIssue(line, written.strip(), "", _(
                'Column "%(first)s" and column "%(second)s" both give the %(field)s.') % {
                "first": names[column.field], "second": written.strip(), "field": column.label}))
        else:
            positions[column.field] = index
            names[column.field] = written.strip()
    for column in columns:
        if column.column_required and column.field not in positions:
            result.errors.append(ImportIssue(line, str(column.label), "", _(
                'Required column missing: %(field)s (header "%(examples)s").') % {
                "field": column.label, "examples": '", "'.join(alias.capitalize() for alias in column.aliases[:3])}))
    if result.errors:
        return None
    return _Header(positions, names, len(header))


class _RowReader:
    """Gives a row's values by field and records the row's problems."""

    def __init__(self, header: _Header, result: ImportResult, line: int, values: list[str]):
        self.header, self.result, self.line, self.values = header, result, line, values
        self.valid = True

    def error(self, field_name: str, value: str, message: str) -> None:
        self.valid = False
        self.result.errors.append(ImportIssue(self.line, self.header.names.get(field_name, ""), value, message))

    def get(self, column: Column) -> str | None:
        """The trimmed value; None when the column is absent from the file."""
        index = self.header.positions.get(column.field)
        if index is None:
            return None
        value = self.values[index].strip() if index < len(self.values) else ""
        if not value and column.value_required:
            self.error(column.field, value, _("The %(field)s is empty.") % {"field": column.label})
        return value

    def grade(self, column: Column, school: _SchoolInfo | None = None) -> int | None:
        value = self.get(column)
        if not value:
            return None
        if not value.isdigit() or not MIN_GRADE <= int(value) <= MAX_GRADE:
            self.error(column.field, value, _('Grade "%(value)s" is not a whole number from %(min)s to %(max)s.') % {
                "value": value, "min": MIN_GRADE, "max": MAX_GRADE})
            return None
        grade = int(value)
        if school and not school.grade_min <= grade <= school.grade_max:
            self.error(column.field, value, _(
                'Grade %(grade)s is outside the grades of school "%(school)s" (%(min)s–%(max)s).') % {
                "grade": grade, "school": school.external_id, "min": school.grade_min, "max": school.grade_max})
            return None
        return grade

    def school(self, column: Column, schools: dict[str, _SchoolInfo]) -> _SchoolInfo | None:
        value = self.get(column)
        if not value:
            return None
        school = schools.get(value)
        if school is None:
            self.error(column.field, value, _('Unknown school id "%(value)s": import the schools first.') % {
                "value": value})
        return school

    def check_width(self) -> None:
        extra = [value for value in self.values[self.header.width:] if value.strip()]
        if extra:
            self.error("", extra[0], _(
                "This line has %(count)s values but the header has %(columns)s columns. "
                "Is a value containing the separator missing its quotes?") % {
                "count": len(self.values), "columns": self.header.width})


@dataclass(frozen=True)
class _SchoolInfo:
    pk: int
    external_id: str
    grade_min: int
    grade_max: int


def _schools() -> dict[str, _SchoolInfo]:
    return {
        row[1]: _SchoolInfo(*row)
        for row in School.objects.values_list("pk", "external_id", "grade_min", "grade_max")
    }


def _check_duplicate(reader: _RowReader, seen: dict, key, field_name: str, value: str, message: str) -> bool:
    first = seen.get(key)
    if first is not None:
        reader.error(field_name, value, message % {"value": value, "line": first})
        return True
    seen[key] = reader.line
    return False


# Each validator turns the rows into {natural key: record}; a record holds the model's
# field values (only of the columns present in the file) plus what the writer needs.
Records = dict


def _validate_schools(rows, header: _Header, result: ImportResult, _context: dict) -> Records:
    cols = {column.field: column for column in COLUMNS["schools"]}
    records: Records = {}
    seen: dict = {}
    for line, values in rows:
        row = _RowReader(header, result, line, values)
        row.check_width()
        external_id = row.get(cols["external_id"])
        name = row.get(cols["name"])
        type_value = row.get(cols["school_type"])
        school_type = SCHOOL_TYPE_BY_NAME.get(normalise_header(type_value)) if type_value else None
        if type_value and school_type is None:
            row.error("school_type", type_value, _(
                'Unknown school type "%(value)s": use perusopetus, lukio, ammatillinen or esiopetus '
                "(or the Swedish or English name).") % {"value": type_value})
        grade_min = row.grade(cols["grade_min"])
        grade_max = row.grade(cols["grade_max"])
        if grade_min is not None and grade_max is not None and grade_min > grade_max:
            row.error("grade_max", str(grade_max), _(
                "The highest grade %(max)s is below the lowest grade %(min)s.") % {"max": grade_max, "min": grade_min})
        language_value = row.get(cols["language"])
        language = INSTRUCTION_LANGUAGE_BY_NAME.get(normalise_header(language_value)) if language_value else None
        if language_value and language is None:
            row.error("language", language_value, _(
                'Unknown language of instruction "%(value)s": use fi or sv (suomi, svenska).') % {
                "value": language_value})
        area = row.get(cols["area"])
        if external_id and _check_duplicate(row, seen, external_id, "external_id", external_id, _(
                'School id "%(value)s" appears twice in the file; first on line %(line)s.')):
            continue
        if row.valid:
            record = {"name": name, "school_type": school_type, "grade_min": grade_min,
                      "grade_max": grade_max, "language": language}
            if area is not None:
                record["area"] = area
            records[external_id] = record
    return records


def _validate_groups(rows, header: _Header, result: ImportResult, context: dict) -> Records:
    cols = {column.field: column for column in COLUMNS["groups"]}
    schools = _schools()
    records: Records = {}
    seen: dict = {}
    for line, values in rows:
        row = _RowReader(header, result, line, values)
        row.check_width()
        school = row.school(cols["school"], schools)
        year_value = row.get(cols["school_year"])
        year = school_year_name(year_value) if year_value else None
        if year_value and year is None:
            row.error("school_year", year_value, _(
                'School year "%(value)s" is not like 2026–2027.') % {"value": year_value})
        name = row.get(cols["name"])
        grade = row.grade(cols["grade"], school)
        if school and year and name:
            key = (school.external_id, year, name.casefold())
            if _check_duplicate(row, seen, key, "name", name, _(
                    'Group "%(value)s" appears twice for this school and school year; first on line %(line)s.')):
                continue
            if row.valid:
                records[key] = {"school_id": school.pk, "school_year": year, "name": name, "grade": grade}
    return records


def _validate_students(rows, header: _Header, result: ImportResult, context: dict) -> Records:
    cols = {column.field: column for column in COLUMNS["students"]}
    schools = _schools()
    school_year: SchoolYear | None = context["school_year"]
    groups: dict[tuple[int, str], int] = {}
    if school_year is not None:
        for pk, school_id, name in TeachingGroup.objects.filter(school_year=school_year).values_list(
                "pk", "school_id", "name"):
            groups[(school_id, name.casefold())] = pk
    records: Records = {}
    seen: dict = {}
    for line, values in rows:
        row = _RowReader(header, result, line, values)
        row.check_width()
        external_id = row.get(cols["external_id"])
        first_name = row.get(cols["first_name"])
        last_name = row.get(cols["last_name"])
        school = row.school(cols["school"], schools)
        grade = row.grade(cols["grade"], school)
        group_name = row.get(cols["group"])
        group_id = None
        if group_name and school:
            group_id = groups.get((school.pk, group_name.casefold()))
            if group_id is None and school_year is None:
                row.error("group", group_name, _("No school year exists yet: import the groups first."))
            elif group_id is None:
                row.error("group", group_name, _(
                    'Unknown group "%(value)s" at school "%(school)s" in school year %(year)s: '
                    "import the groups first.") % {
                    "value": group_name, "school": school.external_id, "year": school_year.name})
        home_language = row.get(cols["home_language"])
        if home_language:
            code = HOME_LANGUAGE_BY_NAME.get(normalise_header(home_language)) or normalise_header(home_language)
            if not ISO_639_RE.match(code) or len(code) > 8:
                row.error("home_language", home_language, _(
                    'Unknown home language "%(value)s": use an ISO 639 code such as fi, sv, ru or ar.') % {
                    "value": home_language})
            home_language = code
        if external_id and _check_duplicate(row, seen, external_id, "external_id", external_id, _(
                'Student id "%(value)s" appears twice in the file; first on line %(line)s.')):
            continue
        if row.valid:
            record = {"first_name": first_name, "last_name": last_name, "school_id": school.pk,
                      "grade": grade, "group_id": group_id}
            if home_language is not None:
                record["home_language"] = home_language
            records[external_id] = record
    return records


VALIDATORS: dict[str, Callable] = {
    "schools": _validate_schools,
    "groups": _validate_groups,
    "students": _validate_students,
}


# --- Writing ------------------------------------------------------------------------------------


def _upsert(model, key_fields: list[str], existing: dict, records: dict, result: ImportResult) -> None:
    """Create new rows and update changed ones with ON CONFLICT upserts; leave equal rows alone.

    ``key_fields`` are the attribute names of the natural key; ``existing`` maps key →
    {field: stored value}; ``records`` maps key → {field: new value} (key fields included).
    Only the fields present in the records are compared and written."""
    to_write = []
    update_fields: set[str] = set()
    for key, record in records.items():
        stored = existing.get(key)
        if stored is None:
            result.created += 1
        elif all(stored.get(name) == value for name, value in record.items()):
            result.unchanged += 1
            continue
        else:
            result.updated += 1
        update_fields.update(name for name in record if name not in key_fields)
        to_write.append(model(**record))
    if to_write:
        names = {name: model._meta.get_field(name).name for name in [*key_fields, *update_fields]}
        model.objects.bulk_create(
            to_write, batch_size=BATCH_SIZE, update_conflicts=True,
            unique_fields=[names[name] for name in key_fields],
            update_fields=sorted(names[name] for name in update_fields),
        )


def _write_schools(records: Records, result: ImportResult, _context: dict) -> None:
    fields = ["external_id", "name", "school_type", "grade_min", "grade_max", "language", "area"]
    existing = {row["external_id"]: row for row in School.objects.values(*fields)}
    _upsert(School, ["external_id"], existing,
            {key: {"external_id": key, **record} for key, record in records.items()}, result)


def _write_groups(records: Records, result: ImportResult, _context: dict) -> None:
    years = _school_years_by_name()
    for name in sorted({record["school_year"] for record in records.values()} - years.keys()):
        start = int(name[:4])
        years[name] = SchoolYear.objects.create(
            name=name, start_date=datetime.date(start, 8, 1), end_date=datetime.date(start + 1, 7, 31))
        result.created_school_years.append(name)
    wanted_years = [years[name] for name in {record["school_year"] for record in records.values()}]
    existing = {
        (row["school_id"], row["school_year_id"], row["name"]): row
        for row in TeachingGroup.objects.filter(school_year__in=wanted_years).values(
            "school_id", "school_year_id", "name", "grade")
    }
    # A group already stored with other capitals ("7a" for "7A") keeps its stored name.
    stored_names = {(school_id, year_id, name.casefold()): name for school_id, year_id, name in existing}
    rows = {}
    for record in records.values():
        year_id = years[record["school_year"]].pk
        name = stored_names.get((record["school_id"], year_id, record["name"].casefold()), record["name"])
        rows[(record["school_id"], year_id, name)] = {
            "school_id": record["school_id"], "school_year_id": year_id, "name": name, "grade": record["grade"]}
    _upsert(TeachingGroup, ["school_id", "school_year_id", "name"], existing, rows, result)


def _write_students(records: Records, result: ImportResult, _context: dict) -> None:
    fields = ["external_id", "first_name", "last_name", "school_id", "grade", "group_id", "home_language"]
    existing = {row["external_id"]: row for row in Student.objects.values(*fields)}
    _upsert(Student, ["external_id"], existing,
            {key: {"external_id": key, **record} for key, record in records.items()}, result)


WRITERS: dict[str, Callable] = {"schools": _write_schools, "groups": _write_groups, "students": _write_students}


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
        # One import at a time per municipality: the counts are then exact.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{connection.schema_name}:register_import"])
        WRITERS[kind](records, result, context)
    logger.info(
        "register import kind=%s schema=%s user=%s created=%s updated=%s unchanged=%s",
        kind, connection.schema_name, getattr(user, "pk", None), result.created, result.updated, result.unchanged,
    )
    return result
