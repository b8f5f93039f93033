"""Parent evenings on the dashboards (welfare.dashboard, settings.DASHBOARD_PANELS).

Read from the rollup only (EveningLanguageRollup, kept by parentevenings.services.rollups): one
query per page whatever the number of schools or evenings. The scope's schools select the evenings
in which at least one of them takes part (an evening is regional: its figures are the whole
evening's); the school year or term selects by the evening's date. Cancelled evenings are left out.

Small numbers (domain.md A5): counts of people and of answers go through
welfare.aggregates.suppress_table, whose column totals are the tables' "Total" row; language groups
and interpreter bookings are not people and are shown as they are. suppress_table protects each
column on its own, so no published count of people is bound to another (families ≤ people, or
families asking for an interpreter ≤ people, would let a hidden cell be narrowed down): the
rollup's families and interpreter requests are not published. A mean score is shown only where the
number of answers is shown (a mean implies five answers or more); the mean over all languages is
hidden when the answers behind the hidden means number 1–4.
"""

from __future__ import annotations

from collections import defaultdict

from django.utils.translation import gettext as _

from parentevenings.languages import display_name
from parentevenings.models import EveningLanguageRollup, EveningStatus, ParentEvening
from welfare.aggregates import THRESHOLD, show_mean, shown_count, suppress_mean, suppress_table
from welfare.charts import bar_chart
from welfare.dashboard import DashboardScope, FigureTable, Panel


class _Language:
    """One language's figures over the selected evenings."""

    def __init__(self):
        self.offered = False
        self.people = self.attended = 0
        self.groups = self.needing = self.confirmed = 0
        self.responses = self.score_sum = 0

    def add(self, row: EveningLanguageRollup) -> None:
        self.offered |= row.offered
        self.people += row.people
        self.attended += row.attended
        self.groups += row.offered
        self.needing += row.offered and row.needs_interpreter
        self.confirmed += row.offered and row.needs_interpreter and row.interpreter_confirmed
        self.responses += row.feedback_responses
        self.score_sum += row.feedback_score_sum


def _languages(scope: DashboardScope) -> dict[str, _Language]:
    evenings = ParentEvening.schools.through.objects.filter(school_id__in=scope.school_ids).values("parentevening_id")
    rows = (EveningLanguageRollup.objects.filter(evening_id__in=evenings, evening__date__gte=scope.start,
                                                 evening__date__lte=scope.end)
            .exclude(evening__status=EveningStatus.CANCELLED))
    result: dict[str, _Language] = defaultdict(_Language)
    for row in rows:
        result[row.language_code].add(row)
    return result


def _label(code: str) -> str:
    return f"{display_name(code)} ({code})"



def panels(scope: DashboardScope) -> list[Panel]:
    if not scope.schools or scope.school_year is None:
        return []
    languages = _languages(scope)
    codes = sorted(languages, key=lambda code: (display_name(code).casefold(), code))
    section = _("Parent evenings")
    offered = [code for code in codes if languages[code].offered]
    answered = [code for code in codes if languages[code].responses]
    return [_attendance_panel(section, offered, languages), _interpreter_panel(section, offered, languages),
            _feedback_panel(section, answered, languages)]


def _with_total(labels: list[str], cells: list[list[str]], total: list[str]) -> tuple[list[str], list[list[str]]]:
    return (labels + [_("Total")], cells + [total]) if labels else ([], [])


def _attendance_panel(section: str, codes: list[str], languages) -> Panel:
    labels = [_label(code) for code in codes]
    table = suppress_table(labels, [_("People registered"), _("People attended")],
                           [[languages[c].people, languages[c].attended] for c in codes])
    row_labels, cells = _with_total(labels, table.cells, table.column_totals)
    return Panel(
        key="parentevenings-attendance", section=section, row_heading=_("Language"),
        title=_("Parent evenings: registrations and attendance per language"),
        description=_("People (adults and children) with a confirmed place, and the people who came to each "
                      "language group: its head count, or the families checked in where no head count was "
                      "recorded. Evenings of the selected schools in the selected period."),
        table=FigureTable(row_labels, table.column_labels, cells, list(table.notes)),
        chart=bar_chart(key="parentevenings-attendance", title=_("People registered and attended per language"),
                        description=_("Per language, people registered and people who attended; numbers under "
                                      "five draw no bar."),
                        labels=labels, series=[(_("Registered"), [shown_count(row[0]) for row in table.cells]),
                                               (_("Attended"), [shown_count(row[1]) for row in table.cells])])
        if labels else "",
    )


def _interpreter_panel(section: str, codes: list[str], languages) -> Panel:
    labels = [_label(code) for code in codes]
    figures = [[languages[c].groups, languages[c].needing, languages[c].confirmed,
                languages[c].needing - languages[c].confirmed] for c in codes]
    row_labels, cells = _with_total(labels, [[str(n) for n in row] for row in figures],
                                    [str(sum(column)) for column in zip(*figures, strict=True)])
    lacking = [_label(code) for code in codes if languages[code].needing > languages[code].confirmed]
    notes = [_("Languages without a confirmed interpreter: %(languages)s.") % {"languages": ", ".join(lacking)}
             if lacking else _("Every language group that needs an interpreter has one confirmed.")]
    return Panel(
        key="parentevenings-interpreters", section=section, row_heading=_("Language"),
        title=_("Parent evenings: interpreter coverage per language"),
        description=_("Language groups of the evenings, those that need an interpreter or cultural mediator, and "
                      "how many of them have a confirmed booking."),
        table=FigureTable(row_labels, [_("Language groups"), _("Need an interpreter"), _("Interpreter confirmed"),
                                       _("Without a confirmed interpreter")], cells, notes),
        chart=bar_chart(key="parentevenings-interpreters", title=_("Interpreters needed and confirmed per language"),
                        description=_("Per language, the language groups that need an interpreter and those with "
                                      "a confirmed booking."),
                        labels=labels, series=[(_("Need an interpreter"), [languages[c].needing for c in codes]),
                                               (_("Interpreter confirmed"), [languages[c].confirmed for c in codes])])
        if labels else "",
    )


def _feedback_panel(section: str, codes: list[str], languages) -> Panel:
    labels = [_label(code) for code in codes]
    responses = suppress_table(labels, [_("Responses")], [[languages[code].responses] for code in codes])
    cells, means, hidden_answers = [], [], 0
    for code, response_cells in zip(codes, responses.cells, strict=True):
        language = languages[code]
        mean = suppress_mean(language.score_sum, language.responses) if response_cells[0].isdigit() else None
        if mean is None:
            hidden_answers += language.responses
        means.append(mean)
        cells.append([*response_cells, show_mean(mean, language.responses)])
    answers = sum(languages[code].responses for code in codes)
    total_mean = (suppress_mean(sum(languages[c].score_sum for c in codes), answers)
                  if responses.column_totals[0].isdigit() and not 0 < hidden_answers < THRESHOLD else None)
    row_labels, cells = _with_total(labels, cells, [*responses.column_totals, show_mean(total_mean, answers)])
    notes = list(responses.notes)
    if None in means or total_mean is None:
        notes.append(_("×: a mean is shown only where the number of answers is shown (five or more)."))
    return Panel(
        key="parentevenings-feedback", section=section, row_heading=_("Language"),
        title=_("Parent evenings: feedback per language"),
        description=_("Anonymous feedback of the families in each language: the number of answers and the mean "
                      "score from 1 to 10."),
        table=FigureTable(row_labels, [responses.column_labels[0], _("Mean score (1–10)")], cells, notes),
        chart=bar_chart(key="parentevenings-feedback", title=_("Mean score per language"),
                        description=_("Per language, the families' mean score from 1 to 10."),
                        labels=labels, series=[(_("Mean score"), means)])
        if labels else "",
    )
