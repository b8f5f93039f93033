"""Absence follow-up on the dashboards (welfare.dashboard, settings.DASHBOARD_PANELS).

Read from the rollups only (AbsenceRollup, EscalationRollup, kept by absences.services.rollups):
six queries per page whatever the number of schools. Counts go through welfare.aggregates; rates
and medians are shown only where they rest on at least five escalations, hours per pupil only
for schools with at least five pupils.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict

from django.db.models import Count, Subquery, Sum
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from absences.models import AbsenceCategory, AbsenceRollup, EscalationRollup, EscalationStep, PolicyVersion
from absences.services.rollups import median_days
from welfare.aggregates import HIDDEN_LABEL, THRESHOLD, shown_count, suppress_table
from welfare.charts import bar_chart
from welfare.dashboard import DashboardScope, FigureTable, Panel, share, show_share
from welfare.models import Student


def _step_labels() -> dict[int, str]:
    """The active policy version's step names by level, in one query."""
    active = (PolicyVersion.objects.filter(published_at__isnull=False)
              .order_by("-policy__created_at", "-policy_id", "-number").values("pk")[:1])
    steps = EscalationStep.objects.filter(band__version=Subquery(active)).order_by("level", "threshold")
    labels: dict[int, str] = {}
    for step in steps:
        labels.setdefault(step.level, _("Step %(level)s: %(name)s") % {"level": step.level, "name": step.name})
    return labels


def _at_highest_step(rows, key, levels: list[int]) -> dict:
    """key(row) → [pupils whose highest step reached is L, for L in levels]; a level the active
    version no longer has counts at the highest of its steps below it.

    Disjoint columns, so the row total is the pupils past the first step and the suppression's
    rule holds: "pupils past each step" (cumulative) columns would bound one another, and a hidden
    cell of one could be worked out from the next (past step 1 ≥ past step 2)."""
    counts: dict = defaultdict(lambda: [0] * len(levels))
    for row in rows:
        position = bisect_right(levels, row["level"]) - 1
        if position >= 0 and row["pupils_at_level"]:
            counts[key(row)][position] += row["pupils_at_level"]
    return counts


def _with_percent(table, enrolled: list[int]):
    """Append each shown count's share of the row's pupils to its cell and to the row's total."""
    def with_share(cell: str, whole: int) -> str:
        return f"{cell} ({show_share(share(count, whole))})" if (count := shown_count(cell)) else cell

    table.cells = [[with_share(cell, whole) for cell in cells] for cells, whole in zip(table.cells, enrolled,
                                                                                      strict=True)]
    table.row_totals = [with_share(total, whole) for total, whole in zip(table.row_totals, enrolled, strict=True)]
    return table


def panels(scope: DashboardScope) -> list[Panel]:
    if not scope.schools or scope.school_year is None:
        return []
    section = _("Absences")
    school_ids = scope.school_ids
    enrolment = list(Student.objects.filter(school_id__in=school_ids).values("school_id", "grade")
                     .annotate(n=Count("id")).order_by())
    by_school, by_grade = defaultdict(int), defaultdict(int)
    for row in enrolment:
        by_school[row["school_id"]] += row["n"]
        by_grade[row["grade"]] += row["n"]
    steps = _step_labels()
    levels = sorted(steps)
    escalations = list(EscalationRollup.objects.filter(
        school_id__in=school_ids, period_start__lte=scope.end, period_end__gte=scope.start).values(
        "school_id", "grade", "level", "pupils_at_level", "escalations", "reacted_in_time", "days_to_action",
        "mar_convened"))
    result = []
    if levels:
        result += _step_panels(scope, section, escalations, levels, steps, by_school, by_grade)
    result += _hour_panels(scope, section, by_school)
    if levels:
        result += _reaction_panels(section, escalations, levels, steps)
    return result


def _past_first_step_shares(table, enrolled: list[int]) -> list[float | None]:
    """The chart's figure per row: the share past the first step (the row's total), only where the
    table shows that count (a share of a hidden "<5" or "×" count would give it away)."""
    return [share(count, whole) if (count := shown_count(total)) is not None else None
            for total, whole in zip(table.row_totals, enrolled, strict=True)]


def _step_panels(scope, section, escalations, levels, steps, by_school, by_grade) -> list[Panel]:
    at_by_school = _at_highest_step(escalations, lambda r: r["school_id"], levels)
    at_by_grade = _at_highest_step(escalations, lambda r: r["grade"], levels)
    columns = [steps[level] for level in levels]
    none = [0] * len(levels)
    schools = scope.schools
    school_pupils = [by_school.get(s.pk, 0) for s in schools]
    school_table = suppress_table([s.name for s in schools], columns, [at_by_school.get(s.pk, none) for s in schools])
    school_shares = _past_first_step_shares(school_table, school_pupils)
    _with_percent(school_table, school_pupils)
    grades = sorted(by_grade)
    grade_labels = [_("Grade %(grade)s") % {"grade": g} for g in grades]
    grade_pupils = [by_grade[g] for g in grades]
    grade_table = suppress_table(grade_labels, columns, [at_by_grade.get(g, none) for g in grades])
    grade_shares = _past_first_step_shares(grade_table, grade_pupils)
    _with_percent(grade_table, grade_pupils)
    first = levels[0]

    return [
        Panel(key="absences-steps-by-school", section=section, row_heading=_("School"),
              title=_("Pupils by the highest step reached, by school"),
              description=_("Pupils counted at the highest step their absences reached in the period, with "
                            "their share of the school's pupils; the total is the pupils past the first step."),
              table=school_table,
              chart=bar_chart(key="absences-steps-by-school", title=_("Share of pupils past the first step"),
                              description=_("Per school, %% of pupils past %(step)s.") % {"step": steps[first]},
                              labels=[s.name for s in schools], unit=" %",
                              series=[(steps[first], school_shares)])),
        Panel(key="absences-steps-by-grade", section=section, row_heading=_("Grade"),
              title=_("Pupils by the highest step reached, by grade"),
              description=_("The same by grade over the selected schools."),
              table=grade_table,
              chart=bar_chart(key="absences-steps-by-grade", title=_("Share of pupils past the first step"),
                              description=_("Per grade, %% of pupils past %(step)s.") % {"step": steps[first]},
                              labels=grade_labels, unit=" %", series=[(steps[first], grade_shares)])),
    ]


def _terms(scope: DashboardScope, year) -> list[int]:
    terms = scope.terms_of(year)
    if scope.term is None:
        return [t.pk for t in terms]
    position = [t.pk for t in scope.terms_of(scope.school_year)].index(scope.term.pk)
    return [terms[position].pk] if position < len(terms) else []


def _hours(school_ids, *term_sets: list[int]) -> list[dict]:
    """Hours per school and category for each set of terms, in one query."""
    every = [pk for terms in term_sets for pk in terms]
    rows = (AbsenceRollup.objects.filter(school_id__in=school_ids, term_id__in=every)
            .values("school_id", "category_id", "term_id").annotate(hours=Sum("hours")).order_by())
    results: list[dict] = [defaultdict(dict) for _terms in term_sets]
    for row in rows:
        for terms, result in zip(term_sets, results, strict=True):
            if row["term_id"] in terms:
                by_category = result[row["school_id"]]
                by_category[row["category_id"]] = by_category.get(row["category_id"], 0) + row["hours"]
    return results


def _hour_panels(scope, section, by_school) -> list[Panel]:
    categories = list(AbsenceCategory.objects.order_by("sort_order", "code"))
    previous_year = scope.previous_school_year()
    current, previous = _hours(scope.school_ids, _terms(scope, scope.school_year),
                               _terms(scope, previous_year) if previous_year else [])

    def per_pupil(hours, school) -> float | None:
        pupils = by_school.get(school.pk, 0)
        return round(float(hours) / pupils, 1) if pupils >= THRESHOLD else None

    def show(value) -> str:
        return HIDDEN_LABEL if value is None else number_format(value, 1)

    cells, totals, change_cells, now_values, before_values = [], [], [], [], []
    for school in scope.schools:
        values = [per_pupil(current[school.pk].get(c.pk, 0), school) if school.pk in current else
                  per_pupil(0, school) for c in categories]
        cells.append([show(v) for v in values])
        now = per_pupil(sum(current.get(school.pk, {}).values()), school)
        before = per_pupil(sum(previous.get(school.pk, {}).values()), school) if previous_year else None
        now_values.append(now)
        before_values.append(before)
        change = (f"{'+' if now >= before else ''}{number_format(100 * (now - before) / before, 1)} %"
                  if now is not None and before else "–")
        change_cells.append([show(now), show(before) if previous_year else "–", change])
        totals.append(now)
    notes = [_("×: not shown for a school with fewer than five pupils.")] if None in totals else []
    labels = [s.name for s in scope.schools]
    year_name = str(scope.school_year)
    previous_name = str(previous_year) if previous_year else _("previous year")
    return [
        Panel(key="absences-hours-by-category", section=section, row_heading=_("School"),
              title=_("Absence hours per pupil by category"),
              description=_("Lesson hours of absence in the period divided by the school's pupils."),
              table=FigureTable(labels, [c.name for c in categories], cells, notes),
              chart=bar_chart(key="absences-hours-by-category", title=_("Absence hours per pupil"),
                              description=_("Per school and category, hours per pupil."), labels=labels,
                              series=[(c.name, [per_pupil(current.get(s.pk, {}).get(c.pk, 0), s)
                                                for s in scope.schools]) for c in categories])),
        Panel(key="absences-trend", section=section, row_heading=_("School"),
              title=_("Absence hours per pupil against the previous year"),
              description=_("The same terms of %(year)s and %(previous)s, hours per pupil of today's pupils.") % {
                  "year": year_name, "previous": previous_name},
              table=FigureTable(labels, [year_name, previous_name, _("Change")], change_cells, notes),
              chart=bar_chart(key="absences-trend", title=_("Absence hours per pupil, this and the previous year"),
                              description=_("Per school, hours per pupil in %(year)s and %(previous)s.") % {
                                  "year": year_name, "previous": previous_name},
                              labels=labels, series=[(year_name, now_values), (previous_name, before_values)])),
    ]


def _part_of(part: int, whole: int, whole_shown: bool) -> str:
    """A count of a step's escalations that had something (an action in time, an expert group).

    The step's escalations are known (shown here, and they follow from the steps tables), so a part
    gives the rest away too: it is shown only when neither it nor the rest is a number from one to
    four. No column totals are published, so a hidden part cannot be worked out from the others."""
    if not whole_shown or 0 < part < THRESHOLD or 0 < whole - part < THRESHOLD:
        return HIDDEN_LABEL
    return str(part)


def _reaction_panels(section, escalations, levels, steps) -> list[Panel]:
    per_level = {level: {"escalations": 0, "reacted": 0, "mar": 0, "days": []} for level in levels}
    for row in escalations:
        if row["level"] in per_level:
            data = per_level[row["level"]]
            data["escalations"] += row["escalations"]
            data["reacted"] += row["reacted_in_time"]
            data["mar"] += row["mar_convened"]
            data["days"].append(row["days_to_action"])
    labels = [steps[level] for level in levels]
    # Escalations per step on their own (they also follow from the steps tables); the escalations
    # with an action in time, or with an expert group, are a part of them: see _part_of.
    escalation_cells = suppress_table(labels, [_("Escalations")], [[per_level[level]["escalations"]]
                                                                  for level in levels])
    cells = []
    for level, (escalations_shown,) in zip(levels, escalation_cells.cells, strict=True):
        data = per_level[level]
        shown = escalations_shown.isdigit()
        cells.append([escalations_shown, _part_of(data["reacted"], data["escalations"], shown),
                      _part_of(data["mar"], data["escalations"], shown)])
    notes = list(escalation_cells.notes)
    if any(HIDDEN_LABEL in row[1:] for row in cells):
        notes.append(_("×: not shown where it, or the rest of the step's escalations, is fewer than five."))
    counts = FigureTable(labels, [_("Escalations"), _("Action in time"), _("Expert group convened")], cells, notes)
    rates, rate_values = [], []
    for level, shown in zip(levels, counts.cells, strict=True):
        data = per_level[level]
        # A rate or median only from counts the table shows: from a hidden one ("<5", "×") it would
        # give the count away (reacted = rate × escalations).
        enough = shown[0].isdigit() and data["escalations"] >= THRESHOLD
        median = median_days(data["days"]) if enough else None
        rate = round(100 * data["reacted"] / data["escalations"], 1) if enough and shown[1].isdigit() else None
        rate_values.append(rate)
        rates.append([HIDDEN_LABEL if rate is None else number_format(rate, 1) + " %",
                      HIDDEN_LABEL if median is None else number_format(median, 1)])
    rate_notes = [_("×: shown only where the counts it rests on are shown.")] if None in rate_values else []
    return [
        Panel(key="absences-escalations", section=section, row_heading=_("Step"),
              title=_("Escalations and reactions per step"),
              description=_("Steps reached in the period, whether an action was logged within the step's days "
                            "to react, and cases where a multidisciplinary expert group was convened."),
              table=counts,
              chart=bar_chart(key="absences-escalations", title=_("Escalations per step"),
                              description=_("Escalations and those with an action in time, per step."),
                              labels=labels, series=[
                                  (_("Escalations"), [shown_count(c) for c in (row[0] for row in counts.cells)]),
                                  (_("Action in time"), [shown_count(c) for c in (row[1] for row in counts.cells)])])),
        Panel(key="absences-reaction", section=section, row_heading=_("Step"),
              title=_("Reaction rate and days to the first action"),
              description=_("Share of escalations with an action within the step's days to react, and the "
                            "median days from reaching the step to the first action."),
              table=FigureTable(labels, [_("Reaction rate"), _("Median days to first action")], rates, rate_notes),
              chart=bar_chart(key="absences-reaction", title=_("Reaction rate per step"),
                              description=_("Per step, the share of escalations with an action in time."),
                              labels=labels, unit=" %", series=[(_("Reaction rate"), rate_values)])),
    ]

