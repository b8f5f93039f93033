"""Data subject access (GDPR Art. 15): everything this municipality holds about one pupil.

The core contributes the register data, guardians, caseload assignments and the audit trail
of the pupil; module apps add their own sections through ``welfare.registry`` (absence cases,
escalations…).  The same export is given as JSON (machine-readable) and as a PDF.

The principal answers data-subject requests (domain.md §1.3, [ESPOO-PRIV]); the policy
(Action.EXPORT_PUPIL_DATA) lets the pupil's principal and the data protection officer in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from welfare import registry
from welfare.models import AuditEvent, CaseloadAssignment, Student
from welfare.registry import Section
from welfare.selectors import user_names

SCHEMA = "yhdessa.subject-access"
SCHEMA_VERSION = 1


@dataclass
class SubjectAccessExport:
    student: Student
    generated_at: datetime
    language: str
    municipality: dict
    sections: list[Section] = field(default_factory=list)

    def section(self, key: str) -> Section | None:
        return next((section for section in self.sections if section.key == key), None)

    def as_dict(self) -> dict:
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "generated_at": self.generated_at,
            "language": self.language,
            "municipality": self.municipality,
            "student": {"id": self.student.pk, "register_id": self.student.external_id},
            "sections": [
                {
                    "key": section.key,
                    "title": str(section.title),
                    "columns": [{"key": key, "label": label} for key, label in section.column_pairs()],
                    "rows": section.rows,
                }
                for section in self.sections
            ],
        }

    def as_json(self) -> bytes:
        return json.dumps(self.as_dict(), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode("utf-8")


def _register_section(student: Student) -> Section:
    group = student.group
    return Section(
        key="register",
        title=_("Register data"),
        columns=[("register_id", _("Student register id")), ("last_name", _("Last name")),
                 ("first_name", _("First name")), ("school", _("School")), ("grade", _("Grade")),
                 ("group", _("Teaching group")), ("school_year", _("School year")),
                 ("home_language", _("Home language"))],
        rows=[{
            "register_id": student.external_id,
            "last_name": student.last_name,
            "first_name": student.first_name,
            "school": student.school.name,
            "grade": student.grade,
            "group": group.name if group else None,
            "school_year": group.school_year.name if group else None,
            "home_language": student.home_language or None,
        }],
    )


def _guardian_section(student: Student) -> Section:
    return Section(
        key="guardians",
        title=_("Guardians"),
        columns=[("name", _("Name")), ("language", _("Language")), ("contact_preference", _("Contact preference"))],
        rows=[
            {"name": guardian.name, "language": guardian.language or None,
             "contact_preference": guardian.get_contact_preference_display()}
            for guardian in student.guardians.order_by("name", "pk")
        ],
    )


def _caseload_section(student: Student) -> Section:
    assignments = list(CaseloadAssignment.objects.filter(student=student).order_by("assigned_at", "pk"))
    names = user_names(a.user_id for a in assignments)
    rows = [{"staff_id": a.user_id, "staff_name": names.get(a.user_id), "assigned_at": a.assigned_at}
            for a in assignments]
    return Section(
        key="caseload",
        title=_("Welfare staff assigned to the pupil"),
        columns=[("staff_id", _("Staff id")), ("staff_name", _("Name")), ("assigned_at", _("Assigned"))],
        rows=rows,
    )


def _audit_section(student: Student) -> Section:
    events = AuditEvent.objects.filter(student_id=student.pk).order_by("occurred_at", "pk")
    return Section(
        key="audit_trail",
        title=_("Who has read or changed the pupil's data"),
        columns=[("occurred_at", _("When")), ("user_id", _("Staff id")), ("user_email", _("Staff email")),
                 ("roles", _("Roles")), ("action", _("Action")), ("object_type", _("Data"))],
        rows=[
            {"occurred_at": event.occurred_at, "user_id": event.user_id, "user_email": event.user_email or None,
             "roles": event.roles or None, "action": event.get_action_display(), "object_type": event.object_type}
            for event in events.iterator()
        ],
    )


CORE_SECTIONS = (_register_section, _guardian_section, _caseload_section, _audit_section)


def _as_sections(result) -> list[Section]:
    if result is None:
        return []
    if isinstance(result, Section):
        return [result]
    return [section for section in result if section is not None]


def build_subject_access(student: Student, *, language: str | None = None) -> SubjectAccessExport:
    """Everything held about ``student`` in the current municipality, titles in ``language``.

    Callers have authorised the export (policy.require(user, Action.EXPORT_PUPIL_DATA, student))
    and audit it; this only collects.  A failing module section raises: an export that
    silently leaves data out would be worse than none.
    """
    from welfare.municipalities.models import Municipality

    language = language or translation.get_language() or "fi"
    student = Student.objects.select_related("school", "group__school_year").get(pk=student.pk)
    municipality = Municipality.objects.filter(schema_name=connection.schema_name).first()
    with translation.override(language):
        sections = [provider(student) for provider in CORE_SECTIONS]
        for provider in registry.subject_access_sections:
            sections.extend(_as_sections(provider(student)))
        return SubjectAccessExport(
            student=student,
            generated_at=timezone.now(),
            language=language,
            municipality={"slug": getattr(municipality, "slug", connection.schema_name),
                          "name": str(municipality) if municipality else connection.schema_name},
            sections=sections,
        )
