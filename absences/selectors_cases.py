"""Read queries of the absence case work: the worklist, the principal's school view, one case.

Every selector here starts from ``visible_cases`` (the permission policy's filter), so a caller
gets only cases whose pupil the user may see. The views audit-log what they show.

Reaction: a step "has a reaction" once an *action* entry (not a step or a correction) was
recorded after the step was reached (``absences.selectors.with_reaction``, re-exported here with
the other reaction rules for the case pages, forms and serializers).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, QuerySet, Sum

from absences.models import (
    AbsenceCase,
    AbsenceCategory,
    AbsencePeriodTotal,
    AbsenceRecord,
    CaseEntry,
    Escalation,
    EscalationStep,
    ThresholdUnit,
)

# The reaction rules live with the evaluation's selectors; re-exported for the case pages.
from absences.selectors import ACTION_KINDS, is_overdue, no_reaction, with_reaction  # noqa: F401
from welfare import policy
from welfare.models import Role
from welfare.policy import Action, Scope

# --- Who sees what -------------------------------------------------------------------------

def visible_cases(user, action: Action = Action.VIEW_PUPIL_ABSENCES) -> QuerySet:
    """Cases whose pupil the user may see for ``action`` (own group, own school, served schools)."""
    return policy.filter_queryset(user, action, AbsenceCase.objects.all(), school="student__school",
                                  group="student__group", student="student")


def roles_by_school(user) -> dict[int, set[str]]:
    """The user's active roles here, per school."""
    roles: dict[int, set[str]] = defaultdict(set)
    for grant in policy.active_roles(user):
        if grant.school_id:
            roles[grant.school_id].add(grant.role)
    return roles


def school_view_schools(user) -> list:
    """Schools whose whole absence picture the user may see: grants with school scope for
    VIEW_PUPIL_ABSENCES (the principal). Welfare staff and teachers use the worklist."""
    rules = policy.RULES[Action.VIEW_PUPIL_ABSENCES]
    schools = {grant.school_id: grant.school for grant in policy.active_roles(user)
               if grant.school_id and rules.get(grant.role) is Scope.SCHOOL}
    return sorted(schools.values(), key=lambda school: school.name)


def author_role(user, case: AbsenceCase) -> str:
    """The role an entry is recorded under: the responsible role of the case's latest step when the
    user holds it at the pupil's school, otherwise the user's first role there that may log actions."""
    held = roles_by_school(user).get(case.student.school_id, set()) & set(policy.RULES[Action.LOG_CASE_ACTION])
    latest = case.escalations.order_by("-reached_at", "-id").first()
    if latest is not None and latest.responsible_role in held:
        return latest.responsible_role
    return sorted(held)[0] if held else ""


# --- Hours -----------------------------------------------------------------------------------

def _counted_categories(case: AbsenceCase) -> list[str] | None:
    """The counted categories of the policy version of the case's latest escalation (None: all)."""
    escalations = sorted(case.escalations.all(), key=lambda e: (e.reached_at, e.pk))
    if not escalations:
        return None
    return list(escalations[-1].policy_version.counted_categories) or None


def _period_absences(student_ids: list[int], start: datetime.date, end: datetime.date,
                     categories: list[str] | None = None) -> tuple[QuerySet, QuerySet]:
    """The pupils' daily records in [start, end] and their period totals lying inside it, in
    ``categories`` (None: all). Both count, as in the threshold evaluation
    (absences.services.evaluation), so a case page shows the hours its steps were reached with."""
    records = AbsenceRecord.objects.filter(student_id__in=student_ids, date__gte=start, date__lte=end)
    totals = AbsencePeriodTotal.objects.filter(student_id__in=student_ids, period_start__gte=start,
                                               period_end__lte=end)
    if categories:
        records = records.filter(category__code__in=categories)
        totals = totals.filter(category__code__in=categories)
    return records, totals


def counted_hours(cases: list[AbsenceCase]) -> dict[int, Decimal]:
    """Hours so far in each case's period, in its policy's counted categories: daily records plus the
    period totals inside the period. Two queries per distinct period."""
    result: dict[int, Decimal] = {}
    groups: dict[tuple, list[AbsenceCase]] = defaultdict(list)
    for case in cases:
        categories = _counted_categories(case)
        groups[(case.period_start, case.period_end, tuple(categories) if categories else None)].append(case)
    for (start, end, categories), members in groups.items():
        students = [case.student_id for case in members]
        records, totals = _period_absences(students, start, end, categories)
        by_student: dict[int, Decimal] = defaultdict(Decimal)
        for rows in (records, totals):
            for student_id, hours in rows.values_list("student_id").annotate(hours=Sum("hours")):
                by_student[student_id] += hours
        for case in members:
            result[case.pk] = by_student.get(case.student_id) or Decimal("0")
    return result


# --- The worklist ---------------------------------------------------------------------------

@dataclass
class WorklistRow:
    case: AbsenceCase
    highest: Escalation | None  # the highest hour step reached (None: only an extra rule)
    urgent: Escalation  # the escalation that sets the row's react-by date
    hours: Decimal
    overdue: bool  # "no reaction": past react-by with no action
    pending: bool  # waiting for an action, not yet overdue
    responsible: bool  # the user holds the responsible role (otherwise only notified)

    @property
    def student(self):
        return self.case.student

    @property
    def react_by(self) -> datetime.date:
        return self.urgent.react_by

    def sort_key(self):
        waiting = 0 if self.overdue else 1 if self.pending else 2
        level = self.highest.level if self.highest else 0
        return (waiting, self.react_by, -level, self.student.last_name, self.student.first_name, self.case.pk)


def _open_cases_with_escalations(queryset: QuerySet) -> QuerySet:
    escalations = with_reaction(Escalation.objects.select_related("step", "policy_version"))
    return (queryset.filter(status=AbsenceCase.Status.OPEN)
            .select_related("student", "student__group", "student__school")
            .prefetch_related(Prefetch("escalations", queryset=escalations.order_by("reached_at", "id"))))


def _highest_threshold(escalations: list[Escalation]) -> Escalation | None:
    thresholds = [e for e in escalations if e.kind == Escalation.Kind.THRESHOLD]
    return max(thresholds, key=lambda e: (e.level, e.reached_at)) if thresholds else None


def _row(case: AbsenceCase, escalations: list[Escalation], hours: Decimal, today, responsible: bool) -> WorklistRow:
    waiting = [e for e in escalations if not e.has_action]
    overdue = any(is_overdue(e, today) for e in waiting)
    urgent = (min(waiting, key=lambda e: (e.react_by, -e.level)) if waiting
              else max(escalations, key=lambda e: (e.reached_at, e.pk)))
    return WorklistRow(case=case, highest=_highest_threshold(list(case.escalations.all())), urgent=urgent,
                       hours=hours, overdue=overdue, pending=bool(waiting) and not overdue, responsible=responsible)


def worklist(user, today: datetime.date) -> list[WorklistRow]:
    """"My pupils needing action": open cases the user may see with an escalation whose responsible
    role the user holds at the pupil's school, or of which that role is notified. Sorted by urgency:
    no reaction first, then react-by date, then the highest step. For any user; empty without roles."""
    roles = roles_by_school(user)
    cases = list(_open_cases_with_escalations(visible_cases(user)))
    hours = counted_hours(cases)
    rows = []
    for case in cases:
        held = roles.get(case.student.school_id, set())
        mine, notified = [], []
        for escalation in case.escalations.all():
            if escalation.responsible_role in held:
                mine.append(escalation)
            elif escalation.step is not None and held & set(escalation.step.notified_roles):
                notified.append(escalation)
        if mine or notified:
            rows.append(_row(case, mine or notified, hours[case.pk], today, responsible=bool(mine)))
    return sorted(rows, key=WorklistRow.sort_key)


# --- The principal's school view ----------------------------------------------------------------

@dataclass
class StepGroup:
    level: int | None  # None: only an extra rule (consecutive days, still unexplained)
    names: list[str] = field(default_factory=list)
    rows: list[WorklistRow] = field(default_factory=list)


@dataclass
class SchoolView:
    school: object
    groups: list[StepGroup]
    no_reaction: list[tuple[WorklistRow, Escalation]]

    @property
    def rows(self) -> list[WorklistRow]:
        return [row for group in self.groups for row in group.rows]


def school_view(user, school, today: datetime.date) -> SchoolView:
    """The school's open cases by the highest step reached, and every step past its react-by date
    with no action (Primus's "absence and reaction report"). For users ``school_view_schools`` lists."""
    cases = list(_open_cases_with_escalations(visible_cases(user).filter(student__school=school)))
    hours = counted_hours(cases)
    groups: dict[int | None, StepGroup] = {}
    flagged = []
    for case in cases:
        escalations = list(case.escalations.all())
        if not escalations:
            continue
        row = _row(case, escalations, hours[case.pk], today, responsible=True)
        level = row.highest.level if row.highest else None
        group = groups.setdefault(level, StepGroup(level=level))
        group.rows.append(row)
        if row.highest and row.highest.step and row.highest.step.name not in group.names:
            group.names.append(row.highest.step.name)
        flagged.extend((row, e) for e in escalations if is_overdue(e, today))
    ordered = sorted(groups.values(), key=lambda g: (g.level is None, -(g.level or 0)))
    for group in ordered:
        group.rows.sort(key=WorklistRow.sort_key)
    flagged.sort(key=lambda pair: (pair[1].react_by, pair[0].student.last_name, pair[0].student.first_name))
    return SchoolView(school=school, groups=ordered, no_reaction=flagged)


# --- One case ------------------------------------------------------------------------------------

def case_for_view(pk: int) -> AbsenceCase | None:
    """The case with its pupil, or None (the view then checks the policy and answers 404)."""
    return AbsenceCase.objects.select_related("student", "student__group", "student__school").filter(pk=pk).first()


def effective_kind(entry: CaseEntry, by_id: dict[int, CaseEntry]) -> str:
    """A correction's kind is the kind of the entry its chain started from."""
    seen = set()
    while entry.kind == CaseEntry.Kind.CORRECTION and entry.corrects_id in by_id and entry.pk not in seen:
        seen.add(entry.pk)
        entry = by_id[entry.corrects_id]
    return entry.kind


@dataclass
class TimelineItem:
    when: datetime.datetime
    date: datetime.date
    escalation: Escalation | None = None
    entry: CaseEntry | None = None
    kind: str = ""  # for entries: the effective kind (a correction: what it corrects)
    corrected_by: list[CaseEntry] = field(default_factory=list)
    overdue: bool = False

    correction_form: object = None

    @property
    def anchor(self) -> str:
        return f"entry-{self.entry.pk}" if self.entry else f"step-{self.escalation.pk}"

    @property
    def kind_label(self) -> str:
        return CaseEntry.Kind(self.kind).label if self.kind in CaseEntry.Kind.values else self.kind

    @property
    def author_role_label(self) -> str:
        role = self.entry.author_role if self.entry else ""
        return Role(role).label if role in Role.values else role

    @property
    def is_correction(self) -> bool:
        return bool(self.entry and self.entry.kind == CaseEntry.Kind.CORRECTION)

    @property
    def correctable(self) -> bool:
        """Actions and corrections not yet corrected (a step reached comes from the evaluation)."""
        return bool(self.entry and self.entry.kind != CaseEntry.Kind.STEP_REACHED and not self.corrected_by)


@dataclass
class CaseDetail:
    case: AbsenceCase
    escalations: list[Escalation]
    timeline: list[TimelineItem]
    highest: Escalation | None
    hours: Decimal
    hours_by_category: list[dict]
    steps: list[EscalationStep]
    unit: str
    series: list[tuple[datetime.date, Decimal, Decimal]]
    overdue: list[Escalation]
    waiting: list[Escalation]


def steps_for_case(case: AbsenceCase, escalations: list[Escalation]) -> list[EscalationStep]:
    """The hour steps of the pupil's grade band in the policy version of the latest escalation."""
    if not escalations:
        return []
    version_id = escalations[-1].policy_version_id
    return list(EscalationStep.objects.filter(band__version_id=version_id, band__grade_min__lte=case.student.grade,
                                              band__grade_max__gte=case.student.grade).order_by("level"))


def cumulative_series(case: AbsenceCase, categories: list[str] | None) -> list[tuple[datetime.date, Decimal, Decimal]]:
    """(date, hours that day, cumulative hours) for each day with counted absence in the period; a
    period total counts on the last day of its period."""
    records, totals = _period_absences([case.student_id], case.period_start, case.period_end, categories)
    by_day: dict[datetime.date, Decimal] = defaultdict(Decimal)
    for date, hours in [*records.values_list("date").annotate(hours=Sum("hours")),
                        *totals.values_list("period_end").annotate(hours=Sum("hours"))]:
        by_day[date] += hours
    series, running = [], Decimal("0")
    for date in sorted(by_day):
        running += by_day[date]
        series.append((date, by_day[date], running))
    return series


def hours_by_category(case: AbsenceCase, categories: list[str] | None) -> list[dict]:
    """Hours per category in the period, each marked counted or not by the policy."""
    records, totals = _period_absences([case.student_id], case.period_start, case.period_end)
    sums: dict[int, Decimal] = defaultdict(Decimal)
    for rows in (records, totals):
        for category_id, hours in rows.values_list("category_id").annotate(hours=Sum("hours")):
            sums[category_id] += hours
    rows = []
    for category in AbsenceCategory.objects.filter(pk__in=sums):
        rows.append({"category": category, "hours": sums[category.pk],
                     "counted": categories is None or category.code in categories})
    return rows


def case_detail(case: AbsenceCase, today: datetime.date) -> CaseDetail:
    """Everything the case page shows. The view has already checked OPEN_ABSENCE_CASE."""
    escalations = list(with_reaction(case.escalations.select_related("step", "policy_version"))
                       .order_by("reached_at", "id"))
    entries = list(case.entries.select_related("corrects"))  # the page links each correction to its original
    by_id = {entry.pk: entry for entry in entries}
    corrections: dict[int, list[CaseEntry]] = defaultdict(list)
    for entry in entries:
        if entry.corrects_id:
            corrections[entry.corrects_id].append(entry)
    shown_steps = {e.pk for e in escalations}
    timeline = [TimelineItem(when=e.reached_at, date=e.reached_on, escalation=e, overdue=is_overdue(e, today))
                for e in escalations]
    for entry in entries:
        # The evaluation may record "step reached" entries too: the escalation row already shows them.
        if entry.kind == CaseEntry.Kind.STEP_REACHED and entry.escalation_id in shown_steps:
            continue
        timeline.append(TimelineItem(when=entry.created_at, date=entry.occurred_on, entry=entry,
                                     kind=effective_kind(entry, by_id), corrected_by=corrections.get(entry.pk, [])))
    timeline.sort(key=lambda item: (item.when, 0 if item.escalation else 1))
    categories = list(escalations[-1].policy_version.counted_categories) if escalations else None
    categories = categories or None
    series = cumulative_series(case, categories)
    unit = escalations[-1].policy_version.unit if escalations else ThresholdUnit.HOURS
    return CaseDetail(
        case=case, escalations=escalations, timeline=timeline, highest=_highest_threshold(escalations),
        hours=series[-1][2] if series else Decimal("0"), hours_by_category=hours_by_category(case, categories),
        steps=steps_for_case(case, escalations), unit=unit, series=series,
        overdue=[e for e in escalations if is_overdue(e, today)],
        waiting=[e for e in escalations if not e.has_action],
    )
