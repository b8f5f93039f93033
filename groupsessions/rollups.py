"""The dashboards' rollup of group sessions: coverage and feedback per school and school year.

The dashboards read ``GroupSessionRollup``, never sessions or responses, so a page costs the same
whatever the number of schools. ``refresh`` recomputes the rows of the given schools from the raw
rows, in the caller's transaction, so a rollup always equals a recomputation. The services call it
for the school concerned whenever

* a session is planned, rescheduled, recorded or deleted,
* a group to meet is added (by hand, or from the register by ``sync_cohort``),
* a pupil answers the feedback form;

and ``rebuild`` (every school) when the deadline changes, in the nightly task and in the
migration that created the table.

Concurrency: each refresh takes a transaction-level advisory lock per school before it reads. Under
READ COMMITTED its reads then see every transaction that refreshed the school before it, so when a
whole class answers at once the last refresh still counts every answer.

After commit, a refresh tells the dashboards' panel cache (welfare.dashboard.rollups_changed).

Called by services, tasks and migrations, never straight from a request; checks no permissions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.apps import apps as django_apps
from django.db.models import Count, Sum

from groupsessions.models import STATEMENT_FIELDS, GroupState, deadline_in, group_progress
from welfare.rollups import replace_rows

LOCK_NAMESPACE = ":groupsessions.rollup"


def _deadline_settings(apps) -> tuple[int, int]:
    model = apps.get_model("groupsessions", "GroupSessionSettings")
    row = model.objects.filter(pk=1).values_list("deadline_month", "deadline_day").first()
    if row is None:  # GroupSessionSettings.current() creates the row with the defaults
        return model._meta.get_field("deadline_month").default, model._meta.get_field("deadline_day").default
    return row


def compute(school_ids: list[int], *, apps=django_apps) -> list:
    """Unsaved rollup rows of these schools, from the raw rows (a row per school and school year
    with at least one group to meet)."""
    rollup = apps.get_model("groupsessions", "GroupSessionRollup")
    cohort_group = apps.get_model("groupsessions", "CohortGroup")
    group_session = apps.get_model("groupsessions", "GroupSession")
    feedback_response = apps.get_model("groupsessions", "FeedbackResponse")
    school_year = apps.get_model("welfare", "SchoolYear")

    groups = list(cohort_group.objects.filter(school_id__in=school_ids)
                  .values_list("pk", "school_id", "school_year_id").order_by("pk"))
    if not groups:
        return []
    sessions: dict[int, list] = defaultdict(list)
    for session in (group_session.objects.filter(cohort_group__school_id__in=school_ids)
                    .only("cohort_group_id", "status", "starts_at", "pupils_present", "pupils_enrolled")
                    .order_by("starts_at", "id")):
        sessions[session.cohort_group_id].append(session)
    month, day = _deadline_settings(apps)
    deadlines = {year.pk: deadline_in(month, day, year.start_date, year.end_date)
                 for year in school_year.objects.filter(pk__in={year_id for _g, _s, year_id in groups})}
    rows: dict[tuple[int, int], object] = {}
    for group_id, school_id, year_id in groups:
        row = rows.get((school_id, year_id))
        if row is None:
            row = rows[(school_id, year_id)] = rollup(school_id=school_id, school_year_id=year_id,
                                                      deadline=deadlines[year_id])
        row.groups_to_meet += 1
        progress = group_progress(sessions[group_id], row.deadline)  # the coverage page's rule
        if progress.state == GroupState.MET:
            row.groups_met += 1
            row.met_by_deadline += progress.met_by_deadline
            row.pupils_present += progress.session.pupils_present or 0
            row.pupils_enrolled += progress.session.pupils_enrolled or 0
        elif progress.state == GroupState.PLANNED:
            row.groups_planned += 1
            row.planned_after_deadline += progress.late_plan
    sums = {f"{name}_sum": Sum(name, default=0) for name in STATEMENT_FIELDS}
    answers = {f"{name}_answers": Count(name) for name in STATEMENT_FIELDS}
    for found in (feedback_response.objects.filter(session__cohort_group__school_id__in=school_ids)
                  .values("session__cohort_group__school_id", "session__cohort_group__school_year_id")
                  .annotate(responses=Count("id"), **sums, **answers).order_by()):
        row = rows[(found.pop("session__cohort_group__school_id"), found.pop("session__cohort_group__school_year_id"))]
        for name, value in found.items():
            setattr(row, name, value)
    return list(rows.values())


def refresh(school_ids: Iterable[int], *, apps=django_apps) -> int:
    """Recompute the rollup rows of these schools (every school year). Returns the rows written."""
    return replace_rows(apps.get_model("groupsessions", "GroupSessionRollup"), "school_id", school_ids,
                        lambda ids: compute(ids, apps=apps), lock_namespace=LOCK_NAMESPACE)


def rebuild(*, apps=django_apps) -> int:
    """Recompute the whole municipality's rollup (nightly, after a change of the deadline, in the
    migration). Returns the rows written."""
    school = apps.get_model("welfare", "School")
    return refresh(school.objects.values_list("pk", flat=True), apps=apps)
