"""Row validation: turns each row into a line of COPY text or into errors.

The hot loop of a 3,000,000-row import. Pupils, categories, dates and hours are looked up
in dicts filled once (dates and hours repeat endlessly in a register export, so each
distinct spelling is parsed once). Duplicates of (pupil, date, category) are found with a
bitmap of pupils × days of the school year × categories (about 11 MB for 50,000 pupils),
not with a set of millions of tuples.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from absences.models import MAX_HOURS_PER_DAY, AbsenceCategory
from absences.services.imports.reading import FIELDS, norm
from welfare.models import SchoolYear, Student

MAX_ERRORS_KEPT = 1000
MAX_TOTAL_HOURS = Decimal("99999.99")
_DMY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_HOURS = re.compile(r"^\d+([.,]\d+)?$")


@dataclass
class Outcome:
    """What validation found: counts, the first errors, the dates covered, the pupils seen."""

    rows: int = 0
    error_count: int = 0
    errors: list[dict] = field(default_factory=list)
    range_start: datetime.date | None = None
    range_end: datetime.date | None = None
    student_ids: set[str] = field(default_factory=set)  # of the valid rows, as COPY text
    category_ids: set[int] = field(default_factory=set)

    def add(self, line: int | None, column: str, value: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append({"line": line, "column": column, "value": value[:200].replace("\x00", ""),
                                "message": message})

    @property
    def ok(self) -> bool:
        return not self.error_count


class Lookups:
    """Pupils (external id → pk, school), categories and school years of the current municipality."""

    def __init__(self, allowed_schools: set[int] | None, today: datetime.date):
        self.today = today
        self.students: dict[str, str] = {}  # external id → pk as text (what COPY wants)
        self.foreign: set[str] = set()  # pupils of schools the importer may not import for
        self.index: dict[str, int] = {}  # external id → dense index (duplicate bitmap)
        for pk, external_id, school_id in Student.objects.values_list("pk", "external_id", "school_id").iterator(
                chunk_size=10000):
            if allowed_schools is None or school_id in allowed_schools:
                self.index[external_id] = len(self.students)
                self.students[external_id] = str(pk)
            else:
                self.foreign.add(external_id)
        self.categories: dict[str, int] = {}
        for category in AbsenceCategory.objects.all():
            for name in (category.code, category.name_fi, category.name_sv, category.name_en, *category.aliases):
                self.categories.setdefault(norm(name), category.pk)
        self.category_index = {pk: i for i, pk in enumerate(sorted(set(self.categories.values())))}
        self.school_years = list(SchoolYear.objects.order_by("start_date"))

    def school_year_of(self, day: datetime.date) -> SchoolYear | None:
        for year in self.school_years:
            if year.start_date <= day <= year.end_date:
                return year
        return None


def parse_date(text: str) -> datetime.date | None:
    """d.m.yyyy, dd.mm.yyyy or yyyy-mm-dd; None if not a date."""
    match = _DMY.match(text)
    try:
        if match:
            return datetime.date(int(match[3]), int(match[2]), int(match[1]))
        match = _ISO.match(text)
        if match:
            return datetime.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    return None


class _DateChecker:
    """Parses and checks each distinct date spelling once; fixes the file's school year."""

    def __init__(self, lookups: Lookups):
        self.lookups = lookups
        self.year: SchoolYear | None = None
        self.cache: dict[str, tuple | str] = {}

    def __call__(self, text: str):
        """(iso text, date, day offset in the school year) or an error message."""
        hit = self.cache.get(text)
        if hit is None:
            hit = self.cache[text] = self._check(text)
        return hit

    def _check(self, text: str):
        if not text:
            return _("The date is empty.")
        day = parse_date(text)
        if day is None:
            return _('"%(value)s" is not a date: write 14.10.2026 or 2026-10-14.') % {"value": text}
        if day > self.lookups.today:
            return _("The date %(date)s is in the future.") % {"date": f"{day:%d.%m.%Y}"}
        year = self.lookups.school_year_of(day)
        if year is None:
            return _("The date %(date)s is not in any school year of the municipality.") % {
                "date": f"{day:%d.%m.%Y}"}
        if self.year is None:
            self.year = year
        elif year.pk != self.year.pk:
            return _("The date %(date)s is in school year %(year)s, but the file's first dates are in "
                     "%(first)s: import one school year per file.") % {
                "date": f"{day:%d.%m.%Y}", "year": year.name, "first": self.year.name}
        return day.isoformat(), day, (day - year.start_date).days


def _hours_checker(maximum: Decimal) -> Callable:
    """A function text → (hours as text for COPY,) or an error message; its ``cache`` attribute
    holds every spelling seen (the hot loop reads it first)."""
    cache: dict[str, str | tuple] = {}

    def check(text: str):
        """(hours as text for COPY,) or an error message."""
        hit = cache.get(text)
        if hit is not None:
            return hit
        if not text:
            hit = _("The hours are empty.")
        elif text.startswith("-") and _HOURS.match(text[1:]):
            hit = _("The hours cannot be negative.")
        elif not _HOURS.match(text):
            hit = _('"%(value)s" is not a number of hours: write e.g. 2 or 2,5.') % {"value": text}
        else:
            try:
                value = Decimal(text.replace(",", "."))
            except InvalidOperation:
                value = None
            if value is None:
                hit = _('"%(value)s" is not a number of hours: write e.g. 2 or 2,5.') % {"value": text}
            elif value > maximum:
                hit = _("%(value)s hours is more than a school day (%(max)s hours).") % {
                    "value": text, "max": f"{maximum:g}"} if maximum == MAX_HOURS_PER_DAY else _(
                    "%(value)s hours is too large.") % {"value": text}
            elif value != value.quantize(Decimal("0.01")):
                hit = _("Give the hours with at most two decimals.")
            else:
                hit = (str(value),)
        cache[text] = hit
        return hit

    check.cache = cache
    return check


def _columns(mapping: dict) -> dict[str, tuple[int, str]]:
    """field → (column index, header as written)."""
    headers = mapping["headers"]
    return {name: (index, headers[index] if index < len(headers) else str(FIELDS[name].label))
            for name, index in mapping["fields"].items()}


def validate_daily(rows: Iterable[tuple[int, list[str]]], mapping: dict, lookups: Lookups,
                   write: Callable[[str], None]) -> Outcome:
    """Check every row; hand each valid row to ``write`` as a COPY text line
    (line, student pk, date, category pk, hours) while the file has no errors."""
    outcome = Outcome()
    cols = _columns(mapping)
    (si, s_name), (di, d_name), (hi, h_name), (ci, c_name) = (cols[n] for n in ("student", "date", "hours",
                                                                                   "category"))
    width = max(si, di, hi, ci) + 1
    students, foreign, index = lookups.students, lookups.foreign, lookups.index
    categories, category_index = lookups.categories, lookups.category_index
    n_categories = max(len(category_index), 1)
    raw_categories: dict[str, int | None] = {}
    check_date = _DateChecker(lookups)
    check_hours = _hours_checker(MAX_HOURS_PER_DAY)
    bitmap: bytearray | None = None
    days = 0
    first_day = last_day = None
    buffer: list[str] = []
    add = outcome.add
    count = 0
    seen_students, seen_categories = outcome.student_ids, outcome.category_ids
    date_cache, hours_cache = check_date.cache, check_hours.cache
    for line, values in rows:
        count += 1
        if len(values) < width:
            values = values + [""] * (width - len(values))
        external_id = values[si].strip()
        date_text = values[di].strip()
        hours_text = values[hi].strip()
        category_text = values[ci].strip()
        # The common case first: every value already seen and valid (dict hits, no calls).
        student = students.get(external_id)
        date = date_cache.get(date_text) or check_date(date_text)
        hours = hours_cache.get(hours_text) or check_hours(hours_text)
        category = raw_categories.get(category_text, 0)
        if category == 0:
            category = raw_categories[category_text] = categories.get(norm(category_text))
        if student is None or category is None or date.__class__ is str or hours.__class__ is str:
            if student is None:
                _student_error(add, line, s_name, external_id, foreign)
            if date.__class__ is str:
                add(line, d_name, date_text, date)
            if hours.__class__ is str:
                add(line, h_name, hours_text, hours)
            if category is None:
                add(line, c_name, category_text, _unknown_category(category_text))
            continue
        if bitmap is None:
            year = check_date.year
            days = (year.end_date - year.start_date).days + 1
            bitmap = bytearray((len(students) * days * n_categories + 7) // 8)
        bit = (index[external_id] * days + date[2]) * n_categories + category_index[category]
        byte, mask = bit >> 3, 1 << (bit & 7)
        if bitmap[byte] & mask:
            add(line, s_name, external_id, _(
                "Pupil %(student)s has a second row for %(date)s in category %(category)s: each pupil, date and "
                "category may appear once in a file.") % {"student": external_id, "date": date_text,
                                                          "category": category_text})
            continue
        bitmap[byte] |= mask
        seen_students.add(student)
        seen_categories.add(category)
        day = date[1]
        if first_day is None or day < first_day:
            first_day = day
        if last_day is None or day > last_day:
            last_day = day
        if not outcome.error_count:
            buffer.append(f"{line}\t{student}\t{date[0]}\t{category}\t{hours[0]}\n")
            if len(buffer) >= 5000:
                write("".join(buffer))
                buffer.clear()
    if buffer and not outcome.error_count:
        write("".join(buffer))
    outcome.rows = count
    outcome.range_start, outcome.range_end = first_day, last_day
    return outcome


def validate_totals(rows: Iterable[tuple[int, list[str]]], mapping: dict, lookups: Lookups,
                    write: Callable[[str], None]) -> Outcome:
    """Period totals: (line, student pk, period start, period end, category pk, hours)."""
    outcome = Outcome()
    cols = _columns(mapping)
    names = ("student", "period_start", "period_end", "category", "hours")
    (si, s_name), (ai, a_name), (bi, b_name), (ci, c_name), (hi, h_name) = (cols[n] for n in names)
    width = max(si, ai, bi, ci, hi) + 1
    check_date = _DateChecker(lookups)
    check_hours = _hours_checker(MAX_TOTAL_HOURS)
    seen: dict[tuple, int] = {}
    buffer: list[str] = []
    for line, values in rows:
        outcome.rows += 1
        values = values + [""] * (width - len(values)) if len(values) < width else values
        external_id, start_text, end_text, category_text, hours_text = (
            values[i].strip() for i in (si, ai, bi, ci, hi))
        errors_before = outcome.error_count
        student = lookups.students.get(external_id)
        if student is None:
            _student_error(outcome.add, line, s_name, external_id, lookups.foreign)
        start, end = check_date(start_text), check_date(end_text)
        for value, text, name in ((start, start_text, a_name), (end, end_text, b_name)):
            if isinstance(value, str):
                outcome.add(line, name, text, value)
        hours = check_hours(hours_text)
        if isinstance(hours, str):
            outcome.add(line, h_name, hours_text, hours)
        category = lookups.categories.get(norm(category_text))
        if category is None:
            outcome.add(line, c_name, category_text, _unknown_category(category_text))
        if outcome.error_count > errors_before:
            continue
        if start[1] > end[1]:
            outcome.add(line, b_name, end_text, _("The period ends before it starts."))
            continue
        key = (student, start[1], end[1], category)
        if key in seen:
            outcome.add(line, s_name, external_id, _(
                "Pupil %(student)s has a second row for this period and category; the first is on line "
                "%(line)s.") % {"student": external_id, "line": seen[key]})
            continue
        seen[key] = line
        outcome.student_ids.add(student)
        outcome.category_ids.add(category)
        outcome.range_start = min(outcome.range_start or start[1], start[1])
        outcome.range_end = max(outcome.range_end or end[1], end[1])
        if not outcome.error_count:
            buffer.append(f"{line}\t{student}\t{start[0]}\t{end[0]}\t{category}\t{hours[0]}\n")
            if len(buffer) >= 5000:
                write("".join(buffer))
                buffer.clear()
    if buffer and not outcome.error_count:
        write("".join(buffer))
    return outcome


def _student_error(add, line, column, external_id, foreign) -> None:
    if not external_id:
        add(line, column, external_id, _("The student id is empty."))
    elif external_id in foreign:
        add(line, column, external_id, _("Pupil %(value)s is not a pupil of your school.") % {"value": external_id})
    else:
        add(line, column, external_id, _('Unknown student id "%(value)s": import the pupils from the register '
                                          "first.") % {"value": external_id})


def _unknown_category(text: str) -> str:
    if not text:
        return _("The category is empty.")
    return _('Unknown absence category "%(value)s": use the national categories (health, leave, '
             'other_explained, unexplained, unclassified) or their names.') % {"value": text}
