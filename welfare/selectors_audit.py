"""Read queries over the audit log. Callers have passed ``Action.VIEW_AUDIT_LOG`` (municipal
administrator, data protection officer); nothing here checks permissions."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet

from welfare.accounts.models import User
from welfare.models import AuditEvent, Role, School, Student
from welfare.selectors import search_students

MAX_PUPIL_MATCHES = 50


def log_timezone() -> ZoneInfo:
    """Times in the log are shown and exported in the municipality's time (domain.md A7)."""
    return ZoneInfo(settings.TIME_ZONE)


@dataclass
class AuditFilter:
    """The filters of the audit log page and of its CSV export (all optional)."""

    pupil: str = ""  # student register id, or words of the name
    user_email: str = ""
    action: str = ""
    object_type: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    matched_pupils: list[Student] = field(default_factory=list)

    def as_detail(self) -> dict:
        """The filter as it is written into the audit entry of a view or an export."""
        detail = {name: value for name, value in (
            ("pupil", self.pupil), ("user", self.user_email), ("action", self.action),
            ("object_type", self.object_type),
            ("from", self.date_from.isoformat() if self.date_from else ""),
            ("to", self.date_to.isoformat() if self.date_to else ""),
        ) if value}
        if self.pupil:
            detail["pupil_ids"] = [p.pk for p in self.matched_pupils]
        return detail


def find_pupils(query: str) -> list[Student]:
    """Pupils whose register id is ``query`` (any case) or whose names contain every word of it."""
    if not query.strip():
        return []
    return list(search_students(Student.objects.all(), query).order_by("last_name", "first_name", "id")
                [:MAX_PUPIL_MATCHES])


def audit_events(filters: AuditFilter) -> QuerySet[AuditEvent]:
    """Entries matching ``filters``, newest first. Resolves the pupil filter into
    ``filters.matched_pupils`` (no match: no entries)."""
    events = AuditEvent.objects.order_by("-occurred_at", "-id")
    if filters.pupil:
        filters.matched_pupils = find_pupils(filters.pupil)
        events = events.filter(student_id__in=[p.pk for p in filters.matched_pupils])
    if filters.user_email:
        # The email stored in the entry, or the user's current address (it may have changed since).
        user_ids = list(User.objects.filter(email__iexact=filters.user_email).values_list("pk", flat=True))
        events = events.filter(Q(user_email__iexact=filters.user_email) | Q(user_id__in=user_ids))
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.object_type:
        events = events.filter(object_type=filters.object_type)
    zone = log_timezone()
    if filters.date_from:
        events = events.filter(occurred_at__gte=datetime.datetime.combine(filters.date_from, datetime.time(), zone))
    if filters.date_to:
        day_after = filters.date_to + datetime.timedelta(days=1)
        events = events.filter(occurred_at__lt=datetime.datetime.combine(day_after, datetime.time(), zone))
    return events


def object_types() -> list[str]:
    """The object types present in the log, for the filter's choices."""
    return sorted(t for t in AuditEvent.objects.order_by().values_list("object_type", flat=True).distinct() if t)


@dataclass
class AuditRow:
    """One entry as the page and the CSV show it: pupil and roles resolved to names."""

    event: AuditEvent
    occurred_at: datetime.datetime
    pupil: Student | None
    roles: list[str]


def _role_labels(roles_text: str, schools: dict[int, str]) -> list[str]:
    labels = dict(Role.choices)
    result = []
    for part in filter(None, roles_text.split(",")):
        role, _sep, school_id = part.partition("@")
        label = str(labels.get(role, role))
        if school_id.isdigit():
            label = f"{label} ({schools.get(int(school_id), school_id)})"
        result.append(label)
    return result


def resolve_rows(events: Iterable[AuditEvent]) -> list[AuditRow]:
    """Rows for a page of entries: pupils in one query, schools (of the roles) in one query."""
    events = list(events)
    student_ids = {e.student_id for e in events if e.student_id is not None}
    pupils = Student.objects.in_bulk(student_ids) if student_ids else {}
    school_ids = {int(part.partition("@")[2]) for e in events for part in e.roles.split(",")
                  if part.partition("@")[2].isdigit()}
    schools = dict(School.objects.filter(pk__in=school_ids).values_list("pk", "name")) if school_ids else {}
    zone = log_timezone()
    return [AuditRow(event=e, occurred_at=e.occurred_at.astimezone(zone), pupil=pupils.get(e.student_id),
                     roles=_role_labels(e.roles, schools)) for e in events]


def iter_rows(events: QuerySet[AuditEvent], chunk_size: int = 2000) -> Iterator[AuditRow]:
    """Every entry of ``events`` as rows, resolved chunk by chunk (for streaming exports)."""
    chunk: list[AuditEvent] = []
    for event in events.iterator(chunk_size=chunk_size):
        chunk.append(event)
        if len(chunk) >= chunk_size:
            yield from resolve_rows(chunk)
            chunk = []
    if chunk:
        yield from resolve_rows(chunk)
