"""What this module shows on a school's annual clock (welfare.clock contract): each session of
the school in its own ring, and the municipality's deadline for meeting the new groups. No pupil
identities: a group's name, the time and the status only."""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from groupsessions.models import CohortGroup, GroupSessionSettings
from groupsessions.selectors import sessions_between
from welfare.clock import ClockEntry
from welfare.models import SchoolYear

SOURCE = "groupsessions"


def clock_entries(school_id: int, start: date, end: date) -> list[ClockEntry]:
    """The school's sessions starting between ``start`` and ``end`` (inclusive), and the deadline of
    each school year in that range in which the school has groups to meet. Callers (annualclock)
    have checked VIEW_ANNUAL_CLOCK on the school."""
    ring = _("Group sessions")
    entries = []
    for session in sessions_between(school_id, start, end):
        day = timezone.localtime(session.starts_at).date()
        entries.append(ClockEntry(
            source=SOURCE, ring_label=ring, key=f"session-{session.pk}",
            title=_("Group session: %(group)s") % {"group": session.cohort_group.name},
            start=day, end=day, url=reverse("groupsessions:session", args=[session.pk]),
            status=str(session.get_status_display())))
    settings_row = GroupSessionSettings.current()
    for year in SchoolYear.objects.filter(start_date__lte=end, end_date__gte=start):
        deadline = settings_row.deadline_for(year)
        if start <= deadline <= end and CohortGroup.objects.filter(school_id=school_id, school_year=year).exists():
            entries.append(ClockEntry(
                source=SOURCE, ring_label=ring, key=f"deadline-{year.pk}",
                title=_("Deadline: every new group met"), start=deadline, end=deadline,
                url=reverse("groupsessions:school", args=[school_id]) + f"?year={year.pk}"))
    return sorted(entries, key=lambda entry: (entry.start, entry.key))
