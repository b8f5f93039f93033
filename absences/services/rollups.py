"""Rollups for the dashboards: absence hours and escalations per school and grade, no names.

The dashboards (and the coordinator's reports) read ``AbsenceRollup`` and ``EscalationRollup``,
never the daily rows, so a page costs the same with 3,000,000 records as with 3,000. Each refresh
rebuilds the rows of the given schools (and terms) from the raw data in one transaction, so a
rollup always equals a recomputation; what changed decides how much is rebuilt:

* an import: the hours of the schools and terms of its rows (``absences.tasks.refresh_rollups_task``
  after commit);
* an evaluation that raised escalations, or a case action: the escalation rows of those schools;
* a pupil deleted: their school (a signal handler).

Each refresh locks the schools it rebuilds (welfare.locks, as welfare.rollups.replace_rows does), so
two refreshes of one school (an import's task beside the nightly run) never interleave.

Called by tasks and services, never by a request; checks no permissions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db import connection, transaction

from absences.models import CaseEntry, EscalationRollup
from welfare.dashboard import rollups_changed
from welfare.locks import advisory_locks
from welfare.rollups import replace_rows

MAX_DAYS = 60  # days to the first action: 60 stands for "60 or more" in the histograms
HOURS_LOCK, ESCALATIONS_LOCK = "absences.hour-rollup", "absences.escalation-rollup"

ABSENCE_SQL = """
    INSERT INTO absences_absencerollup (school_id, grade, term_id, category_id, pupils, hours)
    SELECT school_id, grade, term_id, category_id, count(*), sum(hours)
      FROM (SELECT s.school_id, s.grade, t.id AS term_id, x.category_id, x.student_id, sum(x.hours) AS hours
              FROM (SELECT student_id, date AS first_day, date AS last_day, category_id, hours
                      FROM absences_absencerecord
                    UNION ALL
                    SELECT student_id, period_start, period_end, category_id, hours
                      FROM absences_absenceperiodtotal) x
              JOIN welfare_student s ON s.id = x.student_id
              JOIN welfare_term t ON x.first_day >= t.start_date AND x.last_day <= t.end_date
             WHERE {where}
             GROUP BY 1, 2, 3, 4, 5) per_pupil
     WHERE hours > 0
     GROUP BY 1, 2, 3, 4
"""

ESCALATION_COLUMNS = ("school_id", "grade", "period_start", "period_end", "level", "pupils_at_level",
                      "escalations", "reacted_in_time", "days_to_action", "mar_convened")
ESCALATION_SQL = """
    WITH cases AS (
        SELECT c.id, c.period_start, c.period_end, c.raised_threshold_level, s.school_id, s.grade,
               EXISTS (SELECT 1 FROM absences_caseentry m WHERE m.case_id = c.id AND m.kind = %(mar)s) AS mar
          FROM absences_absencecase c JOIN welfare_student s ON s.id = c.student_id
         WHERE s.school_id = ANY(%(schools)s)
    ),
    steps AS (
        SELECT c.school_id, c.grade, c.period_start, c.period_end, e.level,
               count(*) AS escalations,
               count(*) FILTER (WHERE e.first_action_at IS NOT NULL
                                  AND (e.first_action_at AT TIME ZONE %(tz)s)::date <= e.react_by) AS reacted,
               count(*) FILTER (WHERE c.mar) AS mar
          FROM cases c JOIN absences_escalation e ON e.case_id = c.id AND e.kind = 'threshold'
         GROUP BY 1, 2, 3, 4, 5
    ),
    days AS (
        SELECT c.school_id, c.grade, c.period_start, c.period_end, e.level,
               least((e.first_action_at AT TIME ZONE %(tz)s)::date - (e.reached_at AT TIME ZONE %(tz)s)::date,
                     %(max_days)s) AS days, count(*) AS n
          FROM cases c JOIN absences_escalation e ON e.case_id = c.id AND e.kind = 'threshold'
         WHERE e.first_action_at IS NOT NULL
         GROUP BY 1, 2, 3, 4, 5, 6
    ),
    histograms AS (
        SELECT school_id, grade, period_start, period_end, level, jsonb_object_agg(days::text, n) AS days
          FROM days GROUP BY 1, 2, 3, 4, 5
    ),
    levels AS (
        SELECT school_id, grade, period_start, period_end, raised_threshold_level AS level, count(*) AS pupils
          FROM cases WHERE raised_threshold_level > 0
         GROUP BY 1, 2, 3, 4, 5
    )
    SELECT st.school_id, st.grade, st.period_start, st.period_end, st.level, coalesce(l.pupils, 0),
           st.escalations, st.reacted, coalesce(h.days, '{}'::jsonb)::text, st.mar
      FROM steps st LEFT JOIN levels l USING (school_id, grade, period_start, period_end, level)
      LEFT JOIN histograms h USING (school_id, grade, period_start, period_end, level)
"""


def _school_ids(school_ids: Iterable[int] | None) -> list[int]:
    if school_ids is None:
        from welfare.models import School

        return list(School.objects.order_by("pk").values_list("pk", flat=True))
    return sorted({int(pk) for pk in school_ids})


def refresh_absences(school_ids: Iterable[int] | None = None, term_ids: Iterable[int] | None = None) -> int:
    """Rebuild the hour rollup of these schools (None: all) and terms (None: all). Returns rows.
    In SQL (INSERT … SELECT over the daily rows) rather than through replace_rows, so that an
    import rebuilds only its own terms, not every year of its schools."""
    params: dict = {"schools": _school_ids(school_ids)}
    if not params["schools"]:
        return 0
    delete_where, insert_where = "school_id = ANY(%(schools)s)", "s.school_id = ANY(%(schools)s)"
    if term_ids is not None:
        params["terms"] = sorted({int(pk) for pk in term_ids})
        delete_where += " AND term_id = ANY(%(terms)s)"
        insert_where += " AND t.id = ANY(%(terms)s)"
    with transaction.atomic(), connection.cursor() as cursor:
        advisory_locks(HOURS_LOCK, params["schools"])
        cursor.execute(f"DELETE FROM absences_absencerollup WHERE {delete_where}", params)
        cursor.execute(ABSENCE_SQL.format(where=insert_where), params)
        transaction.on_commit(rollups_changed)
        return cursor.rowcount


def _escalation_rows(school_ids: list[int]) -> list[EscalationRollup]:
    from django.conf import settings

    params = {"schools": school_ids, "mar": CaseEntry.Kind.MAR_CONVENED, "tz": settings.TIME_ZONE,
              "max_days": MAX_DAYS}
    with connection.cursor() as cursor:
        cursor.execute(ESCALATION_SQL, params)
        rows = [dict(zip(ESCALATION_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    return [EscalationRollup(**{**row, "days_to_action": json.loads(row["days_to_action"])}) for row in rows]


def refresh_escalations(school_ids: Iterable[int] | None = None) -> int:
    """Rebuild the escalation rollup of these schools (None: all). Returns rows."""
    return replace_rows(EscalationRollup, "school_id", _school_ids(school_ids), _escalation_rows,
                        lock_namespace=ESCALATIONS_LOCK)


def schools_of(student_ids: Iterable[int]) -> list[int]:
    from welfare.models import Student

    return sorted(set(Student.objects.filter(pk__in=list(student_ids)).values_list("school_id", flat=True)))


def terms_between(first_day, last_day) -> list[int]:
    from welfare.models import Term

    return list(Term.objects.filter(start_date__lte=last_day, end_date__gte=first_day).values_list("pk", flat=True))


def refresh_all() -> dict[str, int]:
    """Both rollups of the whole municipality (nightly, after the evaluation)."""
    return {"absences": refresh_absences(), "escalations": refresh_escalations()}


def median_days(histograms: Iterable[dict]) -> float | None:
    """The exact median of days to the first action over several rollup rows' histograms."""
    counts: dict[int, int] = {}
    for histogram in histograms:
        for days, n in histogram.items():
            counts[int(days)] = counts.get(int(days), 0) + int(n)
    total = sum(counts.values())
    if not total:
        return None
    ordered = sorted(counts.items())

    def nth(k: int) -> int:  # the k-th smallest value, 0-based
        seen = 0
        for days, n in ordered:
            seen += n
            if k < seen:
                return days
        return ordered[-1][0]

    return (nth((total - 1) // 2) + nth(total // 2)) / 2
