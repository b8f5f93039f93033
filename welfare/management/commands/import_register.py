"""``manage.py import_register --municipality espoo --kind students oppilaat.csv``"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from welfare import audit
from welfare.models import AuditAction
from welfare.municipalities.models import Municipality
from welfare.services.imports import KINDS, import_register


class Command(BaseCommand):
    help = (
        "Import schools, teaching groups or students of one municipality from a register CSV export. "
        "Nothing is written when any row has an error; the errors are listed and the exit code is 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("--municipality", required=True, help="slug, e.g. espoo")
        parser.add_argument("--kind", required=True, choices=KINDS)
        parser.add_argument("--school-year", default=None,
                            help="students: school year of the groups, e.g. 2026-2027 (default: the current one)")
        parser.add_argument("path", help="CSV file (UTF-8 or Windows-1252; ; , or tab separated)")

    def handle(self, *args, **opts):
        municipality = Municipality.objects.filter(slug=opts["municipality"], ready=True).first()
        if municipality is None or municipality.schema_name == "public":
            raise CommandError(f"No municipality {opts['municipality']!r}.")
        try:
            file = open(opts["path"], "rb")  # closed by the with below
        except OSError as exc:
            raise CommandError(f"Cannot read {opts['path']}: {exc.strerror}") from exc
        with file, schema_context(municipality.schema_name):
            result = import_register(opts["kind"], file, school_year=opts["school_year"])
            audit.record(None, AuditAction.UPDATE, object_type="register_import", object_id=result.kind,
                         detail={**result.summary(), "via": "manage.py import_register"})
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {_describe(warning)}"))
        if not result.ok:
            self.stderr.write(_table(result.errors))
            raise CommandError(
                f"{len(result.errors)} error(s) in {opts['path']}: nothing was imported.", returncode=1
            )
        for year in result.created_school_years:
            self.stdout.write(f"Created school year {year} (1.8.–31.7.)")
        self.stdout.write(self.style.SUCCESS(
            f"{municipality.slug} {result.kind}: created {result.created}, updated {result.updated}, "
            f"unchanged {result.unchanged}"
        ))


def _describe(issue) -> str:
    where = f"line {issue.line}" if issue.line else "file"
    column = f", column {issue.column!r}" if issue.column else ""
    return f"{where}{column}: {issue.message}"


def _table(errors) -> str:
    rows = [("line", "column", "value", "message")]
    rows += [(str(e.line or "–"), e.column, e.value, e.message) for e in errors]
    widths = [min(max(len(row[i]) for row in rows), 40) for i in range(3)]
    return "\n".join(
        "  ".join(cell[:40].ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
        for row in rows
    )
