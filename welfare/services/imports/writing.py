"""Writing validated register rows: bulk upserts on the natural keys, unchanged rows left alone."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from welfare.models import School, SchoolYear, Student, TeachingGroup
from welfare.services.imports.columns import _school_years_by_name
from welfare.services.imports.constants import BATCH_SIZE
from welfare.services.imports.result import ImportResult
from welfare.services.imports.validation import Records

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
