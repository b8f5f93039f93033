"""Validation of every row of a register file, before anything is written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from welfare.models import School, SchoolYear, TeachingGroup
from welfare.services.imports.columns import (
    COLUMNS,
    HOME_LANGUAGE_BY_NAME,
    INSTRUCTION_LANGUAGE_BY_NAME,
    ISO_639_RE,
    SCHOOL_TYPE_BY_NAME,
    Column,
    normalise_header,
    school_year_name,
)
from welfare.services.imports.constants import MAX_GRADE, MIN_GRADE
from welfare.services.imports.result import ImportIssue, ImportResult

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
