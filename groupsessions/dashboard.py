"""Group sessions on the dashboards (welfare.dashboard, settings.DASHBOARD_PANELS).

Read from the rollup only (GroupSessionRollup, kept by groupsessions.rollups): one query per page
whatever the number of schools. The figures are per school year (the sessions' deadline is in the
autumn; a term filter does not split them).

Small numbers (domain.md A5), as on the module's own coverage page: group counts are classes, not
people, and are shown as they are; counts of pupils and of feedback responses go through
welfare.aggregates.suppress_table, whose column totals are the tables' "Total" row, so no "<5"
can be worked out from it. suppress_table protects each column on its own, so no table publishes
two counts of people bound to each other (pupils present ≤ pupils in the group would let a hidden
cell be narrowed down), and nothing else gives a hidden count away: a school's means are shown only
where its number of responses is shown (a mean implies five answers or more), and only for the
statements at least five pupils answered. The mean over all schools is hidden when the answers
behind the hidden means number 1–4 (their mean could otherwise be worked out from the others).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from groupsessions.feedback import STATEMENTS
from groupsessions.models import STATEMENT_FIELDS, GroupSessionRollup
from welfare.aggregates import THRESHOLD, show_mean, suppress_mean, suppress_table
from welfare.charts import bar_chart
from welfare.dashboard import DashboardScope, FigureTable, Panel, share, show_share


def panels(scope: DashboardScope) -> list[Panel]:
    if not scope.schools or scope.school_year is None:
        return []
    rows = {row.school_id: row for row in GroupSessionRollup.objects.filter(
        school_year=scope.school_year, school_id__in=scope.school_ids)}
    schools = [school for school in scope.schools if school.pk in rows]
    section = _("Group sessions")
    return [_coverage_panel(section, schools, rows), _feedback_panel(section, schools, rows)]


def _coverage_panel(section: str, schools, rows) -> Panel:
    today = timezone.localdate()
    labels = [school.name for school in schools]
    people = suppress_table(labels, [_("Pupils present")], [[rows[s.pk].pupils_present] for s in schools])
    cells, met_share, deadline_share = [], [], []
    totals = {"to_meet": 0, "met": 0, "by_deadline": 0, "overdue": 0}
    for school, people_cells in zip(schools, people.cells, strict=True):
        row = rows[school.pk]
        overdue = row.overdue(today)
        totals["to_meet"] += row.groups_to_meet
        totals["met"] += row.groups_met
        totals["by_deadline"] += row.met_by_deadline
        totals["overdue"] += overdue
        by_deadline = share(row.met_by_deadline, row.groups_to_meet)
        met_share.append(share(row.groups_met, row.groups_to_meet))
        deadline_share.append(by_deadline)
        cells.append([str(row.groups_to_meet), str(row.groups_met), str(row.met_by_deadline), show_share(by_deadline),
                      str(overdue), *people_cells])
    if schools:
        cells.append([str(totals["to_meet"]), str(totals["met"]), str(totals["by_deadline"]),
                      show_share(share(totals["by_deadline"], totals["to_meet"])), str(totals["overdue"]),
                      *people.column_totals])
    deadlines = sorted({rows[s.pk].deadline for s in schools})
    deadline = date_format(deadlines[0], "SHORT_DATE_FORMAT") if deadlines else ""
    columns = [_("Groups to meet"), _("Groups met"), _("Met by the deadline"), _("Share met by the deadline"),
               _("Overdue"), *people.column_labels]
    return Panel(
        key="groupsessions-coverage", section=section, row_heading=_("School"),
        title=_("Group sessions: coverage by the deadline"),
        description=(_("New 7th-grade classes and first-year groups met by the school's welfare staff in the school "
                       "year, and those met by the deadline (%(deadline)s). Overdue: not met after the deadline, or "
                       "planned after it. Groups are classes, shown as they are; pupils present are counted in each "
                       "group's session, and numbers under five are not shown.") % {"deadline": deadline}),
        table=FigureTable(labels + [_("Total")] if schools else [], columns, cells, list(people.notes)),
        chart=bar_chart(key="groupsessions-coverage", title=_("Share of groups met"),
                        description=_("Per school, the share of the groups to meet that were met by the deadline "
                                      "and in the whole school year."),
                        labels=labels, unit=" %",
                        series=[(_("By the deadline"), deadline_share), (_("In the school year"), met_share)])
        if schools else "",
    )


def _feedback_panel(section: str, schools, rows) -> Panel:
    labels = [school.name for school in schools]
    responses = suppress_table(labels, [_("Responses")], [[rows[s.pk].responses] for s in schools])
    cells, chart_series = [], [[] for _name in STATEMENT_FIELDS]
    totals = {name: [0, 0] for name in STATEMENT_FIELDS}  # sum, answers
    hidden_answers = dict.fromkeys(STATEMENT_FIELDS, 0)  # answers behind the schools' hidden means
    for school, response_cells in zip(schools, responses.cells, strict=True):
        row = rows[school.pk]
        means = []
        for k, name in enumerate(STATEMENT_FIELDS):
            total, answers = getattr(row, f"{name}_sum"), getattr(row, f"{name}_answers")
            totals[name][0] += total
            totals[name][1] += answers
            mean = suppress_mean(total, answers) if response_cells[0].isdigit() else None
            if mean is None:
                hidden_answers[name] += answers
            means.append(show_mean(mean, answers))
            chart_series[k].append(mean)
        cells.append([*response_cells, *means])
    if schools:
        cells.append([*responses.column_totals,
                      *[show_mean(suppress_mean(*totals[name]) if responses.column_totals[0].isdigit()
                                   and not 0 < hidden_answers[name] < THRESHOLD else None,
                                   totals[name][1]) for name in STATEMENT_FIELDS]])
    notes = list(responses.notes)
    if any(hidden_answers.values()):
        notes.append(_("×: a mean is shown only where the number of responses is shown (five or more) and at "
                       "least five pupils answered the statement."))
    short = [_("Statement %(number)s") % {"number": k} for k in range(1, len(STATEMENT_FIELDS) + 1)]
    columns = [responses.column_labels[0],
               *[f"{label}: {STATEMENTS[name]}" for label, name in zip(short, STATEMENT_FIELDS, strict=True)]]
    return Panel(
        key="groupsessions-feedback", section=section, row_heading=_("School"),
        title=_("Group sessions: pupils' feedback"),
        description=_("Anonymous feedback of the pupils after the sessions of the school year: the number of "
                      "responses and the mean answer to each statement on a scale of 1 (not true) to 5 (very "
                      "true)."),
        table=FigureTable(labels + [_("Total")] if schools else [], columns, cells, notes),
        chart=bar_chart(key="groupsessions-feedback", title=_("Mean answer per statement"),
                        description=_("Per school, the mean answer (1–5) to each statement: ") + " ".join(
                            f"{label}: {STATEMENTS[name]}" for label, name in zip(short, STATEMENT_FIELDS,
                                                                                 strict=True)),
                        labels=labels, series=list(zip(short, chart_series, strict=True)))
        if schools else "",
    )
