"""Read queries of group sessions, already narrowed by the permission policy where they take a user.

Who reads what (welfare/policy.py):

* coverage of a school: its welfare group (RECORD_GROUP_SESSION, EDIT_ANNUAL_CLOCK) and its
  principal (VIEW_AGGREGATES); the municipality's coverage: the coordinator and the administrator
  (VIEW_AGGREGATES, municipality-wide), with pupil and response counts suppressed under five;
* a session's page: the school's staff (VIEW_ANNUAL_CLOCK, as the annual clock links to it);
  planning and recording need RECORD_GROUP_SESSION; open answers VIEW_OPEN_FEEDBACK.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Count, QuerySet
from django.utils import timezone

from groupsessions.feedback import STATEMENTS
from groupsessions.models import (
    CohortGroup,
    FeedbackResponse,
    GroupSession,
    GroupSessionSettings,
    GroupState,
    SessionStaff,
    SessionStatus,
    group_progress,
)
from groupsessions.services import ATTENDING_ROLES
from welfare import policy
from welfare.aggregates import (
    HIDDEN_LABEL,
    THRESHOLD,
    SuppressedTable,
    suppress_count,
    suppress_mean,
    suppress_table,
)
from welfare.models import Role, School, SchoolYear, StaffRole
from welfare.policy import Action
from welfare.selectors import user_names

COVERAGE_ACTIONS = (Action.RECORD_GROUP_SESSION, Action.EDIT_ANNUAL_CLOCK, Action.VIEW_AGGREGATES)


# --- School years and schools -----------------------------------------------------------------------

def school_year_for(day: date) -> SchoolYear | None:
    """The school year containing ``day``; else the latest that has started; else the first one."""
    return (SchoolYear.objects.latest_started(day)
            or SchoolYear.objects.order_by("start_date").first())


def _union_schools(user, actions) -> set[int] | None:
    schools: set[int] = set()
    for action in actions:
        allowed = policy.allowed_schools(user, action)
        if allowed is None:
            return None
        schools |= allowed
    return schools


def coverage_school_ids(user) -> set[int] | None:
    """Schools whose coverage the user may see; None: every school (municipality-wide grant)."""
    return _union_schools(user, COVERAGE_ACTIONS)


def may_view_coverage(user, school) -> bool:
    return any(policy.can(user, action, school) for action in COVERAGE_ACTIONS)


# --- Coverage -------------------------------------------------------------------------------------

@dataclass
class GroupRow:
    group: CohortGroup
    state: str
    session: GroupSession | None  # the held one, else the next planned, else the latest
    met_by_deadline: bool
    overdue: bool  # not met and the deadline has passed, or planned after the deadline
    late_plan: bool


@dataclass
class SchoolCoverage:
    school: School
    school_year: SchoolYear
    deadline: date
    rows: list[GroupRow] = field(default_factory=list)

    @property
    def to_meet(self) -> int:
        return len(self.rows)

    @property
    def met(self) -> int:
        return sum(row.state == GroupState.MET for row in self.rows)

    @property
    def met_by_deadline(self) -> int:
        return sum(row.met_by_deadline for row in self.rows)

    @property
    def planned(self) -> int:
        return sum(row.state == GroupState.PLANNED for row in self.rows)

    @property
    def overdue(self) -> list[GroupRow]:
        return [row for row in self.rows if row.overdue]

    @property
    def pupils_present(self) -> int:
        return sum(row.session.pupils_present or 0 for row in self.rows if row.state == GroupState.MET)


def _row(group: CohortGroup, sessions: list[GroupSession], deadline: date, today: date) -> GroupRow:
    progress = group_progress(sessions, deadline)
    overdue = progress.state != GroupState.MET and (today > deadline or progress.late_plan)
    return GroupRow(group=group, state=progress.state, session=progress.session,
                    met_by_deadline=progress.met_by_deadline, overdue=overdue, late_plan=progress.late_plan)


def coverages(school_year: SchoolYear, today: date, school_ids: set[int] | None = None) -> list[SchoolCoverage]:
    """Coverage of each school with groups to meet in ``school_year`` (all schools when ids is None).
    Callers have narrowed ``school_ids`` to what the user may see (coverage_school_ids)."""
    deadline = GroupSessionSettings.current().deadline_for(school_year)
    groups = CohortGroup.objects.filter(school_year=school_year).select_related("school").order_by(
        "school__name", "name", "id")
    sessions = GroupSession.objects.filter(cohort_group__school_year=school_year).order_by("starts_at", "id")
    if school_ids is not None:
        groups = groups.filter(school_id__in=school_ids)
        sessions = sessions.filter(cohort_group__school_id__in=school_ids)
    by_group: dict[int, list[GroupSession]] = defaultdict(list)
    for session in sessions:
        by_group[session.cohort_group_id].append(session)
    result: dict[int, SchoolCoverage] = {}
    for group in groups:
        coverage = result.setdefault(group.school_id, SchoolCoverage(group.school, school_year, deadline))
        coverage.rows.append(_row(group, by_group.get(group.pk, []), deadline, today))
    return list(result.values())


def school_coverage(school: School, school_year: SchoolYear, today: date) -> SchoolCoverage:
    """One school's coverage (an empty one when it has no groups to meet)."""
    found = coverages(school_year, today, {school.pk})
    if found:
        return found[0]
    return SchoolCoverage(school, school_year, GroupSessionSettings.current().deadline_for(school_year))


@dataclass
class MunicipalCoverage:
    """The coordinator's view: group counts per school (classes, not people) and the counts of
    people (pupils met, feedback responses) suppressed under five (welfare.aggregates)."""

    rows: list[SchoolCoverage]
    people: SuppressedTable
    deadline: date | None

    @property
    def totals(self) -> dict[str, int]:
        return {"to_meet": sum(r.to_meet for r in self.rows), "met": sum(r.met for r in self.rows),
                "met_by_deadline": sum(r.met_by_deadline for r in self.rows),
                "overdue": sum(len(r.overdue) for r in self.rows)}

    def table_rows(self):
        return list(zip(self.rows, self.people.cells, strict=True))


def municipal_coverage(school_year: SchoolYear, today: date, labels: tuple[str, str],
                       school_ids: set[int] | None = None) -> MunicipalCoverage:
    """Coverage of every school (or of ``school_ids``) with the people counts (pupils met, feedback
    responses; ``labels`` name them) suppressed as one table. Callers have narrowed ``school_ids``
    to what the user may see (coverage_school_ids; None: VIEW_AGGREGATES municipality-wide)."""
    rows = coverages(school_year, today, school_ids)
    responses = feedback_counts(school_year, school_ids)
    counts = [[row.pupils_present, responses.get(row.school.pk, 0)] for row in rows]
    table = suppress_table([row.school.name for row in rows], list(labels), counts)
    deadline = rows[0].deadline if rows else GroupSessionSettings.current().deadline_for(school_year)
    return MunicipalCoverage(rows=rows, people=table, deadline=deadline)


def feedback_counts(school_year: SchoolYear, school_ids: set[int] | None = None) -> dict[int, int]:
    """Feedback responses per school in a school year (raw: callers suppress before showing)."""
    responses = FeedbackResponse.objects.filter(session__cohort_group__school_year=school_year)
    if school_ids is not None:
        responses = responses.filter(session__cohort_group__school_id__in=school_ids)
    return dict(responses.values("session__cohort_group__school_id").annotate(n=Count("id"))
                .values_list("session__cohort_group__school_id", "n"))


# --- Double-booking ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Conflict:
    user_id: int
    name: str
    session: GroupSession


def double_bookings(user_ids, starts_at: datetime, ends_at: datetime, *, exclude: int | None = None) -> list[Conflict]:
    """Other sessions (any school of the municipality) that overlap in time and have one of these
    staff members attending. A warning for the planner, never a refusal."""
    user_ids = list(user_ids)
    if not user_ids or starts_at is None or ends_at is None:
        return []
    overlapping = (SessionStaff.objects.filter(user_id__in=user_ids, session__starts_at__lt=ends_at,
                                               session__ends_at__gt=starts_at)
                   .exclude(session__status=SessionStatus.NOT_HELD)
                   .select_related("session__cohort_group__school").order_by("session__starts_at"))
    if exclude is not None:
        overlapping = overlapping.exclude(session_id=exclude)
    names = user_names({row.user_id for row in overlapping})
    return [Conflict(row.user_id, names.get(row.user_id, ""), row.session) for row in overlapping]


# --- Staff ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StaffOption:
    user_id: int
    role: str
    name: str

    @property
    def value(self) -> str:
        return f"{self.user_id}:{self.role}"

    @property
    def label(self) -> str:
        return f"{self.name} – {Role(self.role).label}"


def staff_options(school: School) -> list[StaffOption]:
    """Who may be chosen as attending: active welfare-group grants at the school, by role then name."""
    grants = list(StaffRole.objects.active().filter(school=school, role__in=ATTENDING_ROLES)
                  .values_list("user_id", "role").distinct())
    names = user_names(uid for uid, _role in grants)
    order = {role: i for i, role in enumerate(ATTENDING_ROLES)}
    options = [StaffOption(uid, role, names.get(uid, str(uid))) for uid, role in grants]
    return sorted(options, key=lambda o: (order.get(o.role, 99), o.name))


def session_staff(session: GroupSession) -> list[StaffOption]:
    rows = list(session.staff.all())
    names = user_names(row.user_id for row in rows)
    return [StaffOption(row.user_id, row.role, names.get(row.user_id, str(row.user_id))) for row in rows]


# --- Feedback ------------------------------------------------------------------------------------

@dataclass
class StatementResult:
    key: str
    label: str
    answered: int
    mean: float | None  # None: not shown (fewer than five answered, or ``withheld``)
    distribution: list[int]  # answers 1..5
    withheld: bool = False  # five or more answered, but hidden to protect a session's few answers

    @property
    def answered_label(self) -> str:
        return HIDDEN_LABEL if self.withheld else suppress_count(self.answered)


@dataclass
class FeedbackSummary:
    """Per-question results only from five responses up (domain.md A5); below that the number of
    responses shows as "<5" and nothing else. ``withheld``: five responses or more, but among them
    one to four from sessions whose own results are hidden, which the summary would give away."""

    responses: int
    statements: list[StatementResult]
    withheld: bool = False

    @property
    def shown(self) -> bool:
        return self.responses >= THRESHOLD and not self.withheld

    @property
    def responses_label(self) -> str:
        return HIDDEN_LABEL if self.withheld else suppress_count(self.responses)


def _hidden_part(counts: Counter, hidden_sessions: set[int]) -> bool:
    """True when the answers of the sessions not shown on their own number 1–4: subtracting the
    sessions that are shown from a total over several would then reveal them."""
    return 0 < sum(n for session_id, n in counts.items() if session_id in hidden_sessions) < THRESHOLD


def feedback_summary(responses: QuerySet) -> FeedbackSummary:
    """Results of a set of responses (one session's or a school's). A session's results are hidden
    under five responses, and a statement's under five answers; a school's figure is also hidden when
    the hidden sessions' part of it is 1–4 (it would follow from the school's figure minus the
    session pages). Callers have checked that the user may read the session or the school's coverage."""
    rows = list(responses.values_list("session_id", *STATEMENTS))
    per_session = Counter(row[0] for row in rows)
    hidden_sessions = {session_id for session_id, n in per_session.items() if n < THRESHOLD}
    if len(rows) < THRESHOLD or _hidden_part(per_session, hidden_sessions):
        return FeedbackSummary(responses=len(rows), statements=[], withheld=len(rows) >= THRESHOLD)
    statements = []
    for index, (key, label) in enumerate(STATEMENTS.items(), start=1):
        answered = [row for row in rows if row[index] is not None]
        answers = [row[index] for row in answered]
        per_statement = Counter(row[0] for row in answered)
        hidden = hidden_sessions | {session_id for session_id, n in per_statement.items() if n < THRESHOLD}
        mean = suppress_mean(sum(answers), len(answers))  # a question most skipped is hidden on its own
        withheld = mean is not None and _hidden_part(per_statement, hidden)
        if mean is None or withheld:
            statements.append(StatementResult(key, str(label), len(answers), None, [], withheld=withheld))
        else:
            statements.append(StatementResult(key, str(label), len(answers), mean,
                                              [answers.count(value) for value in range(1, 6)]))
    return FeedbackSummary(responses=len(rows), statements=statements)


def open_answers(responses: QuerySet) -> list[FeedbackResponse]:
    """The open answers, newest first, only from five responses up (like the per-question results).
    Callers have checked VIEW_OPEN_FEEDBACK on the school."""
    if responses.count() < THRESHOLD:
        return []
    return list(responses.exclude(open_answer="").order_by("-submitted_on", "-id"))


def school_feedback(school: School, school_year: SchoolYear) -> QuerySet:
    return FeedbackResponse.objects.filter(session__cohort_group__school=school,
                                           session__cohort_group__school_year=school_year)


def sessions_between(school_id: int, start: date, end: date) -> QuerySet:
    """A school's sessions starting on these days (local time), for the annual clock."""
    tz = timezone.get_current_timezone()
    low = timezone.make_aware(datetime.combine(start, datetime.min.time()), tz)
    high = timezone.make_aware(datetime.combine(end, datetime.max.time()), tz)
    return (GroupSession.objects.filter(cohort_group__school_id=school_id, starts_at__gte=low, starts_at__lte=high)
            .select_related("cohort_group").order_by("starts_at", "id"))

