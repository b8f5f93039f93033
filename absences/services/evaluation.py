"""Threshold evaluation: count each pupil's absence hours against the active policy and raise
escalations (poissaolon portaat) exactly once, with their case entries and notifications.

Called after every import (only the pupils it touched, ``absences.tasks.evaluate_students_task``)
and nightly for all pupils (``evaluate_municipality_task``, locked per municipality). Runs in the
municipality's schema; checks no permissions (nobody's request is behind it).

Counting (domain.md §2.2), per pupil, in the policy's counting period (selectors.counting_window):

* daily AbsenceRecord rows dated from the period start to ``data_end`` = min(today, period end),
  plus AbsencePeriodTotal rows whose whole period lies inside the counting period;
* only the version's counted categories (Kemi leaves out leave and other explained absence);
* the pupil's grade picks the grade band (Vaasa 1–6 vs 7–9); a grade in no band is not evaluated;
* unit hours: the sum; unit %: the sum ÷ the pupil's scheduled hours **from the period start to
  data_end**, i.e. scheduled hours per week of the grade × school days so far ÷ 5, where school days
  are the weekdays of the stored terms. So 5 % in October means 5 % of the lessons held so far,
  and equals Tampere's 5 % of the year (≈ 50 h) by the end of the year. Grades without scheduled
  hours are not evaluated under the % unit.

One SQL statement, one pass over the period's records, computes everything per pupil: the counted
hours, the consecutive-days bit mask and the oldest unexplained day; it returns only pupils with
something not yet raised in this period, so a steady-state run returns almost nothing (a second,
small query reads those pupils' hours per category for the escalations' hours_by_category).
A pupil who jumps over several steps at once gets every step crossed. A step added below an
already raised one by a later version is not raised retroactively (the comparison is with the
highest step raised).

Extra rules (switched on per version):

* **consecutive days**: ``consecutive_days`` school days in a row (Monday–Friday; weekends are
  skipped, public holidays are not stored and so break a run only if there is no absence on them)
  on each of which the pupil has at least CONSECUTIVE_DAY_MIN_HOURS counted hours (about a whole
  school day for the youngest; a single missed lesson is not a day away). Only the school days of
  the last CONSECUTIVE_LOOKBACK_DAYS are examined (a back-filled run older than that is no longer
  news), and a run cut by that window's start is ignored because its first day is unknown. The
  escalation's level is the ordinal of the run's first day (one alert per run, however long). A
  run is raised when it starts after the latest run already raised in the period, so a run
  back-filled before an alert that was already given does not alert again.
* **unexplained**: an absence in a category that is not ``explained`` dated at least
  ``unexplained_after_days`` days before today; level = ordinal of the oldest such day, so the
  same absence alerts once and a later one alerts when the older is explained.

Exactly once: AbsenceCase is unique per pupil and period, Escalation per (case, kind, level);
both are inserted with ``ON CONFLICT DO NOTHING`` and only the escalation rows this run actually
inserted (``RETURNING``) get a CaseEntry and notifications, in the same transaction. A concurrent
run blocks on the other's uncommitted rows and then inserts nothing, so retries and overlapping
runs are harmless. E-mail goes out after commit (welfare.services.notifications).
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from absences.models import (
    AbsenceCategory,
    CaseEntry,
    Escalation,
    EscalationStep,
    PolicyVersion,
    ThresholdUnit,
)
from absences.selectors import CountingWindow, active_policy_version, counting_window
from welfare import policy
from welfare.models import Role, TeachingGroup
from welfare.policy import Action, Target
from welfare.services import notifications

log = logging.getLogger(__name__)

CONSECUTIVE_DAY_MIN_HOURS = Decimal("3")
CONSECUTIVE_LOOKBACK_DAYS = 28
EXTRA_RULE_DAYS_TO_REACT = 7
ANALYZE_AFTER_ROWS = 5_000
EVALUATION_WORK_MEM = "64MB"


@dataclass
class Candidate:
    student_id: int
    school_id: int
    group_id: int | None
    kind: str
    level: int
    counted_value: Decimal
    responsible_role: str
    notified_roles: list[str]
    days_to_react: int
    step: EscalationStep | None = None
    hours_by_category: dict = field(default_factory=dict)
    first_day: date | None = None


@dataclass
class EvaluationResult:
    version_id: int
    period_start: date
    period_end: date
    candidates: int = 0
    escalations_created: int = 0
    notifications_created: int = 0
    escalation_ids: list[int] = field(default_factory=list)


def evaluate_students(student_ids=None, *, today: date | None = None) -> EvaluationResult | None:
    """Evaluate the given pupils (None: all) against the active policy; None when there is no
    published policy or no counting period on ``today``. Idempotent and safe to run concurrently."""
    today = today or timezone.localdate()
    version = active_policy_version()
    if version is None:
        return None
    window = counting_window(version, today)
    if window is None:
        return None
    ids = None if student_ids is None else sorted({int(pk) for pk in student_ids})
    result = EvaluationResult(version.pk, window.start, window.end)
    if ids == []:
        return result
    categories = list(AbsenceCategory.objects.all())
    bands = list(version.bands.prefetch_related("steps"))
    with transaction.atomic():
        with connection.cursor() as cursor:
            # One aggregate over a year of records: sort and hash in memory, not on disk.
            cursor.execute("SET LOCAL work_mem = %s", [EVALUATION_WORK_MEM])
        candidates = _candidates(version, bands, window, today, categories, ids)
        result.candidates = len(candidates)
        if candidates:
            _raise(version, window, candidates, today, result)
    if result.escalations_created >= ANALYZE_AFTER_ROWS:
        # A first run can add hundreds of thousands of rows: without fresh statistics the next
        # run's "already raised?" joins are planned as if the tables were empty (seconds become
        # minutes). Autovacuum would get there too, but not before the next import's evaluation.
        # Outside a transaction (the Celery tasks) VACUUM also clears the case rows the summary
        # trigger rewrote and marks the pages all-visible, so the next run reads them at full speed.
        with connection.cursor() as cursor:
            if connection.in_atomic_block:
                cursor.execute("ANALYZE absences_absencecase, absences_escalation")
            else:
                cursor.execute("VACUUM (ANALYZE) absences_absencecase, absences_escalation")
    return result


# --- Counting --------------------------------------------------------------------------------

def _student_filter(column: str, ids) -> str:
    return f" AND {column} = ANY(%(ids)s)" if ids is not None else ""


def scheduled_hours(version: PolicyVersion, grade: int, window: CountingWindow) -> Decimal | None:
    """The grade's scheduled lesson hours from the period start to data_end (the base of the % unit);
    None when the grade has no scheduled hours or no school day has passed."""
    per_week = version.scheduled_hours_per_week.get(str(grade))
    if not per_week or not window.school_days:
        return None
    return Decimal(str(per_week)) * window.school_days / 5


def threshold_hours(version: PolicyVersion, bands, window: CountingWindow) -> dict[int, list[tuple]]:
    """Per grade, the steps as (level, threshold in hours, step), lowest first."""
    table: dict[int, list[tuple]] = {}
    for band in bands:
        for grade in range(band.grade_min, band.grade_max + 1):
            if version.unit == ThresholdUnit.PERCENT:
                scheduled = scheduled_hours(version, grade, window)
                if scheduled is None:
                    continue
                table[grade] = [(s.level, s.threshold * scheduled / 100, s) for s in band.steps.all()]
            else:
                table[grade] = [(s.level, s.threshold, s) for s in band.steps.all()]
            table[grade].sort(key=lambda row: row[1])
    return table


def business_days(first: date, last: date) -> list[date]:
    days, day = [], first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


SLOT_BITS, SLOTS_PER_SUM = 7, 4  # 4 school days of 7 bits in each int (sum(int) adds in a bigint)


def _consecutive_sql(version, window, counts_and: str = "") -> tuple[str, str, str, list[date], dict]:
    """SQL pieces of the consecutive-days rule, computed in the same pass as the hour totals.

    Each record in the lookback adds its hours, in whole quarter hours rounded down and capped at
    CONSECUTIVE_DAY_MIN_HOURS, to its school day's 7-bit slot of a packed sum (SLOTS_PER_SUM days per
    sum; a slot holds at least 10 capped records, so slots never overflow). A record's slot shift is
    looked up by its date in a small array (NULL on weekends, so they add nothing) and each sum only
    looks at its own date range, so rows outside the lookback cost two date comparisons.
    ``absent_mask`` then has bit i set when school day i (oldest first) reaches
    CONSECUTIVE_DAY_MIN_HOURS; ``qualifying`` keeps the first bit of every run of at least N days,
    except a run touching bit 0 when the lookback cuts the period (its true start is unknown).

    Returns (aggregate columns, mask expression, qualifying expression, school days, params).
    """
    n = version.consecutive_days or 0
    first = max(window.start, window.data_end - timedelta(days=CONSECUTIVE_LOOKBACK_DAYS))
    days = business_days(first, window.data_end)[-62:]  # a bigint holds the bits
    if not n or len(days) < n:
        return "", "0::bigint", "0::bigint", [], {}
    quarters = int(CONSECUTIVE_DAY_MIN_HOURS * 4)
    sums = (len(days) + SLOTS_PER_SUM - 1) // SLOTS_PER_SUM
    base = days[0]
    shifts: list[int | None] = [None] * ((days[-1] - base).days + 1)
    for i, day in enumerate(days):
        shifts[(day - base).days] = SLOT_BITS * (i % SLOTS_PER_SUM)
    params = {"slot_base": base, "slot_shifts": shifts}
    for k in range(sums):
        group = days[k * SLOTS_PER_SUM:(k + 1) * SLOTS_PER_SUM]
        params[f"slot_lo_{k}"], params[f"slot_hi_{k}"] = group[0], group[-1]
    columns = "".join(
        f", sum(least(floor(hours * 4), {quarters})::int"
        f" << (%(slot_shifts)s::int[])[date - %(slot_base)s::date + 1]) "
        f"FILTER (WHERE date >= %(slot_lo_{k})s AND date <= %(slot_hi_{k})s{counts_and}) AS packed_{k}"
        for k in range(sums))
    mask = " | ".join(
        f"(CASE WHEN ((coalesce(t.packed_{i // SLOTS_PER_SUM}, 0)::bigint >> {SLOT_BITS * (i % SLOTS_PER_SUM)}) "
        f"& {(1 << SLOT_BITS) - 1}) >= {quarters} THEN {1 << i}::bigint ELSE 0 END)" for i in range(len(days)))
    runs = " & ".join(f"(t.absent_mask >> {shift})" for shift in range(n))
    cut = days[0] > window.start
    qualifying = f"(t.absent_mask & ~(t.absent_mask << 1) & {runs}{' & ~1::bigint' if cut else ''})"
    return columns, f"({mask})", qualifying, days, params


def _hours_by_category(student_ids: list[int], window, categories) -> dict[int, dict[str, str]]:
    """Hours per category of the given pupils in the period (for the escalations they get)."""
    if not student_ids:
        return {}
    codes = {c.pk: c.code for c in categories}
    sql = """
        SELECT student_id, category_id, sum(hours) FROM (
            SELECT student_id, category_id, hours FROM absences_absencerecord
             WHERE student_id = ANY(%(ids)s) AND date >= %(start)s AND date <= %(data_end)s
            UNION ALL
            SELECT student_id, category_id, hours FROM absences_absenceperiodtotal
             WHERE student_id = ANY(%(ids)s) AND period_start >= %(start)s AND period_end <= %(end)s) x
         GROUP BY student_id, category_id
    """
    result: dict[int, dict[str, str]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ids": student_ids, "start": window.start, "end": window.end,
                             "data_end": window.data_end})
        for student_id, category_id, hours in cursor.fetchall():
            if hours:
                result[student_id][codes[category_id]] = str(hours)
    return result


def _candidates(version, bands, window, today, categories, ids) -> list[Candidate]:
    """One statement, one pass over the period's records: counted hours per pupil, the
    consecutive-days mask and the oldest unexplained day; returns only pupils with something not
    yet raised in this period (threshold above the highest step raised, a run
    or an unexplained day without its escalation)."""
    counted = [c.pk for c in categories if c.code in set(version.counted_categories)]
    unexplained = [c.pk for c in categories if not c.explained] if version.unexplained_after_days else []
    cutoff = min(today - timedelta(days=version.unexplained_after_days or 0), window.data_end)
    table = threshold_hours(version, bands, window) if counted else {}
    # The highest step level a pupil's count has crossed, per grade: width_bucket() counts the
    # thresholds (ascending) at or below the count; the running maximum of the levels up to there is
    # the highest level crossed (the same as "some crossed step is above the highest raised").
    top_level, step_params = [], {}
    for grade, rows in table.items():
        if not rows:
            continue
        running, tops = 0, []
        for level, _limit, _step in rows:
            running = max(running, level)
            tops.append(running)
        step_params[f"bounds_{grade}"] = [limit for _level, limit, _step in rows]
        step_params[f"tops_{grade}"] = tops
        top_level.append(f"WHEN {int(grade)} THEN (%(tops_{grade})s::int[])"
                         f"[width_bucket(f.counted, %(bounds_{grade})s::numeric[])]")
    top_level_sql = f"CASE f.grade {' '.join(top_level)} END" if top_level else "NULL::int"
    # Every category counted (e.g. LAPE): no per-row category test.
    all_counted = set(counted) >= {c.pk for c in categories}
    counts_filter = "" if all_counted else " FILTER (WHERE category_id = ANY(%(counted)s))"
    counts_and = "" if all_counted else " AND category_id = ANY(%(counted)s)"
    packed_sql, mask_sql, qualifying_sql, days, day_params = _consecutive_sql(version, window, counts_and)
    packed_columns = "".join(f", d.{name}" for name in re.findall(r"AS (packed_\d+)", packed_sql))
    # A run is new when it starts after the latest run already raised in this period (the summary's
    # sorted array ends with it): bits of the lookback days up to that start are masked out.
    runs_allowed_sql = ("-1::bigint" if not days else
                        "CASE WHEN cardinality(c.raised_consecutive) > 0 THEN ~((1::bigint << width_bucket("
                        "c.raised_consecutive[cardinality(c.raised_consecutive)], %(day_ordinals)s::int[])) - 1) "
                        "ELSE -1::bigint END")
    # Daily records and period totals are aggregated apart (period totals only add to the count)
    # so the big scan is a plain aggregate over the table, with no UNION in between.
    sql = f"""
        WITH daily AS (
            SELECT student_id, sum(hours){counts_filter} AS counted,
                   min(date) FILTER (WHERE category_id = ANY(%(unexplained)s) AND hours > 0
                                       AND date <= %(cutoff)s) AS unexplained_day{packed_sql}
              FROM absences_absencerecord
             WHERE date >= %(start)s AND date <= %(data_end)s{_student_filter("student_id", ids)}
             GROUP BY student_id
        ),
        period_totals AS (
            SELECT student_id, sum(hours){counts_filter} AS counted
              FROM absences_absenceperiodtotal
             WHERE period_start >= %(start)s AND period_end <= %(end)s{_student_filter("student_id", ids)}
             GROUP BY student_id
        ),
        totals AS (
            SELECT coalesce(d.student_id, p.student_id) AS student_id,
                   CASE WHEN p.counted IS NULL THEN d.counted WHEN d.counted IS NULL THEN p.counted
                        ELSE d.counted + p.counted END AS counted,
                   d.unexplained_day{packed_columns}
              FROM daily d FULL JOIN period_totals p ON p.student_id = d.student_id
        ),
        masked AS MATERIALIZED (
            SELECT t.*, {mask_sql} AS absent_mask FROM totals t
        ),
        raised AS (
            -- the case's summary of what was raised (kept by a trigger on absences_escalation)
            SELECT c.student_id, c.raised_threshold_level AS level, c.raised_unexplained AS unexplained,
                   {runs_allowed_sql} AS runs_allowed
              FROM absences_absencecase c
             WHERE c.period_start = %(start)s AND c.period_end = %(end)s{_student_filter("c.student_id", ids)}
        ),
        flagged AS (
            SELECT t.*, s.school_id, s.group_id, s.grade, r.level AS raised_level,
                   {qualifying_sql} & coalesce(r.runs_allowed, -1::bigint) AS new_runs,
                   CASE WHEN t.unexplained_day IS NOT NULL AND NOT coalesce(
                            (t.unexplained_day - DATE '0001-01-01') + 1 = ANY(r.unexplained), false)
                        THEN t.unexplained_day END AS new_unexplained
              FROM masked t JOIN welfare_student s ON s.id = t.student_id
              LEFT JOIN raised r ON r.student_id = t.student_id
        )
        SELECT student_id, school_id, group_id, grade, counted, raised_level, absent_mask, new_runs,
               new_unexplained
          FROM flagged f
         WHERE f.new_runs <> 0 OR f.new_unexplained IS NOT NULL
            OR coalesce({top_level_sql}, 0) > coalesce(f.raised_level, 0)
    """
    params = {**step_params, "start": window.start, "end": window.end,
              "data_end": window.data_end, "counted": counted, "unexplained": unexplained, "cutoff": cutoff,
              "day_ordinals": [day.toordinal() for day in days],
              "ids": ids, **day_params}
    candidates = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    hours_of = _hours_by_category([row[0] for row in rows], window, categories)
    for row in rows:
        student_id, school_id, group_id, grade, total, raised, mask, new_runs, new_unexplained = row
        where = {"student_id": student_id, "school_id": school_id, "group_id": group_id}
        by_category = hours_of.get(student_id, {})
        scheduled = scheduled_hours(version, grade, window) if version.unit == ThresholdUnit.PERCENT else None
        for level, limit, step in table.get(grade, []):
            if total is not None and total >= limit and level > (raised or 0):
                value = total if scheduled is None else (total * 100 / scheduled)
                candidates.append(Candidate(
                    **where, kind=Escalation.Kind.THRESHOLD, level=level, counted_value=round(value, 2),
                    responsible_role=step.responsible_role, notified_roles=list(step.notified_roles),
                    days_to_react=step.days_to_react, step=step, hours_by_category=by_category))
        for bit in range(len(days)):
            if new_runs and new_runs >> bit & 1:
                length = 0
                while bit + length < len(days) and mask >> (bit + length) & 1:
                    length += 1
                candidates.append(Candidate(
                    **where, kind=Escalation.Kind.CONSECUTIVE, level=days[bit].toordinal(),
                    counted_value=Decimal(length), responsible_role=Role.CLASS_TEACHER, notified_roles=[],
                    days_to_react=EXTRA_RULE_DAYS_TO_REACT, first_day=days[bit]))
        if new_unexplained is not None:
            candidates.append(Candidate(
                **where, kind=Escalation.Kind.UNEXPLAINED, level=new_unexplained.toordinal(),
                counted_value=Decimal(version.unexplained_after_days), responsible_role=Role.CLASS_TEACHER,
                notified_roles=[], days_to_react=EXTRA_RULE_DAYS_TO_REACT, first_day=new_unexplained))
    return candidates



# --- Raising ---------------------------------------------------------------------------------

def _raise(version, window, candidates: list[Candidate], today: date, result: EvaluationResult) -> None:
    """Insert cases and escalations (ON CONFLICT DO NOTHING); entries and notifications for the
    escalations this call inserted. Rows go in student order so concurrent runs lock alike."""
    candidates.sort(key=lambda c: (c.student_id, c.kind, c.level))
    student_ids = sorted({c.student_id for c in candidates})
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO absences_absencecase (student_id, period_start, period_end, status, opened_at)
               SELECT s, %s, %s, 'open', now() FROM unnest(%s::bigint[]) AS s ORDER BY s
               ON CONFLICT DO NOTHING""",
            [window.start, window.end, student_ids])
        if cursor.rowcount >= ANALYZE_AFTER_ROWS:
            # The escalations' statement trigger joins the new cases: planned on statistics of a
            # table that had none of them, that join once ran for 20 minutes instead of a second.
            cursor.execute("ANALYZE absences_absencecase")
        cursor.execute(
            """SELECT student_id, id FROM absences_absencecase
                WHERE period_start = %s AND period_end = %s AND student_id = ANY(%s)""",
            [window.start, window.end, student_ids])
        case_of = dict(cursor.fetchall())
        columns = {"case": [], "kind": [], "level": [], "step": [], "counted": [], "hours": [], "role": [],
                   "react_by": []}
        for c in candidates:
            columns["case"].append(case_of[c.student_id])
            columns["kind"].append(str(c.kind))
            columns["level"].append(c.level)
            columns["step"].append(c.step.pk if c.step else None)
            columns["counted"].append(c.counted_value)
            columns["hours"].append(json.dumps(c.hours_by_category))
            columns["role"].append(str(c.responsible_role))
            columns["react_by"].append(today + timedelta(days=c.days_to_react))
        cursor.execute(
            """INSERT INTO absences_escalation (case_id, kind, level, policy_version_id, step_id, reached_at,
                                                reached_on, counted_value, hours_by_category, responsible_role,
                                                react_by)
               SELECT e.case_id, e.kind, e.level, %(version)s, e.step_id, now(), %(today)s, e.counted,
                      e.hours::jsonb, e.role, e.react_by
                 FROM unnest(%(case)s::bigint[], %(kind)s::text[], %(level)s::int[], %(step)s::bigint[],
                             %(counted)s::numeric[], %(hours)s::text[], %(role)s::text[], %(react_by)s::date[])
                      AS e(case_id, kind, level, step_id, counted, hours, role, react_by)
               ON CONFLICT DO NOTHING
               RETURNING id, case_id, kind, level""",
            {**columns, "version": version.pk, "today": today})
        inserted = {(case_id, kind, level): pk for pk, case_id, kind, level in cursor.fetchall()}
    if not inserted:
        return
    new = []
    for c in candidates:
        pk = inserted.get((case_of[c.student_id], str(c.kind), c.level))
        if pk is not None:
            new.append((pk, case_of[c.student_id], c))
    CaseEntry.objects.bulk_create(
        CaseEntry(case_id=case_id, kind=CaseEntry.Kind.STEP_REACHED, occurred_on=today, escalation_id=pk,
                  author_role="system")
        for pk, case_id, _c in new)
    result.escalations_created = len(new)
    result.escalation_ids = [pk for pk, _case, _c in new]
    result.notifications_created = _notify(new, version, today)
    if result.notifications_created:
        notifications.request_delivery()


def _recipients_finder(candidates: list[Candidate]):
    """A function (candidate, roles) → ids of the users holding one of ``roles`` who may see the
    pupil's absences (the policy's rule: the pupil's school; a class teacher only for their own
    groups; welfare staff only for their caseload when the municipality scopes by caseload).
    One policy lookup for all candidates per distinct set of roles (a policy has a few steps)."""
    def target(candidate: Candidate) -> Target:
        return Target(school_id=candidate.school_id, group_id=candidate.group_id, student_id=candidate.student_id)

    targets = [target(c) for c in candidates]
    by_roles: dict[frozenset, dict[Target, set[int]]] = {}

    def find(candidate: Candidate, roles: set[str]) -> set[int]:
        key = frozenset(roles)
        if key not in by_roles:
            by_roles[key] = policy.holders(Action.VIEW_PUPIL_ABSENCES, targets, roles=key)
        return by_roles[key][target(candidate)]

    return find


def _message(candidate: Candidate, group_name: str, react_by: date, version_unit: str):
    def render() -> notifications.Message:
        where = _("A pupil of group %(group)s") % {"group": group_name} if group_name else _("A pupil")
        if candidate.kind == Escalation.Kind.THRESHOLD:
            step = candidate.step
            title = _("Absence step %(level)s reached: %(name)s") % {"level": step.level, "name": step.name}
            unit = "%" if version_unit == ThresholdUnit.PERCENT else " h"
            lines = [_("%(where)s has reached step %(level)s (%(threshold)s%(unit)s); counted %(value)s%(unit)s.")
                     % {"where": where, "level": step.level, "threshold": f"{step.threshold.normalize():f}",
                        "value": candidate.counted_value, "unit": unit}]
            if step.required_action:
                lines.append(_("Required action: %(action)s") % {"action": step.required_action})
        elif candidate.kind == Escalation.Kind.CONSECUTIVE:
            title = _("Consecutive school days absent")
            lines = [_("%(where)s has been absent %(days)s school days in a row from %(date)s.")
                     % {"where": where, "days": candidate.counted_value, "date": candidate.first_day}]
        else:
            title = _("Absence still unexplained")
            lines = [_("%(where)s has an absence on %(date)s that is still unexplained after %(days)s days.")
                     % {"where": where, "date": candidate.first_day, "days": candidate.counted_value}]
        lines.append(_("React by %(date)s.") % {"date": react_by})
        return notifications.Message(title=title, body="\n".join(lines))

    return render


def _notify(new: list[tuple[int, int, Candidate]], version: PolicyVersion, today: date) -> int:
    """Notifications (no pupil names: the e-mail names the group only) for new escalations."""
    find = _recipients_finder([c for _pk, _case, c in new])
    groups = dict(TeachingGroup.objects.filter(pk__in={c.group_id for _p, _c, c in new if c.group_id})
                  .values_list("pk", "name"))
    plans = []
    for pk, case_id, candidate in new:
        users = find(candidate, {candidate.responsible_role, *candidate.notified_roles})
        if users:
            plans.append((pk, case_id, candidate, users))
    languages = notifications.user_languages({u for *_rest, users in plans for u in users})
    schema = connection.schema_name
    created = 0
    for pk, case_id, candidate, users in plans:
        created += notifications.notify(
            users, kind=f"absences.escalation.{candidate.kind}", dedupe_prefix=f"escalation:{schema}:{pk}",
            render=_message(candidate, groups.get(candidate.group_id, ""),
                            today + timedelta(days=candidate.days_to_react), version.unit),
            url=reverse("absences:case_detail", args=[case_id]), languages=languages,
        )
    return created
