"""The dashboards' rollups equal a recomputation from the raw rows after imports, new
escalations, case actions and deletions (absences.services.rollups)."""

from __future__ import annotations

import io
import time
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from absences.models import (
    AbsenceCase,
    AbsencePeriodTotal,
    AbsenceRecord,
    AbsenceRollup,
    CaseEntry,
    Escalation,
    EscalationRollup,
)
from absences.services import rollups
from absences.services.cases import log_action
from absences.services.evaluation import evaluate_students
from absences.services.imports import import_file
from tests.absences.factories import category
from tests.absences.test_evaluation import TODAY, add_hours, committed, make_calendar, policy  # noqa: F401
from tests.dbutil import run_together
from tests.factories import SchoolFactory, StudentFactory, TeachingGroupFactory, UserFactory
from welfare.models import Role, Term

pytestmark = pytest.mark.django_db


def recomputed_absences() -> dict[tuple, tuple[int, Decimal]]:
    """(school, grade, term, category) → (pupils with hours, hours), from the raw rows in Python."""
    terms = list(Term.objects.all())
    per_pupil: dict[tuple, Decimal] = defaultdict(Decimal)
    rows = [(r.student, r.date, r.date, r.category_id, r.hours)
            for r in AbsenceRecord.objects.select_related("student")]
    rows += [(t.student, t.period_start, t.period_end, t.category_id, t.hours)
             for t in AbsencePeriodTotal.objects.select_related("student")]
    for student, first, last, category_id, hours in rows:
        for term in terms:
            if term.start_date <= first and last <= term.end_date:
                per_pupil[(student.school_id, student.grade, term.pk, category_id, student.pk)] += hours
    result: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0)])
    for (school, grade, term, category_id, _pupil), hours in per_pupil.items():
        if hours > 0:
            result[(school, grade, term, category_id)][0] += 1
            result[(school, grade, term, category_id)][1] += hours
    return {key: (pupils, hours) for key, (pupils, hours) in result.items()}


def stored_absences() -> dict[tuple, tuple[int, Decimal]]:
    return {(r.school_id, r.grade, r.term_id, r.category_id): (r.pupils, r.hours) for r in AbsenceRollup.objects.all()}


def recomputed_escalations() -> dict[tuple, tuple]:
    tz = timezone.get_default_timezone()
    groups: dict[tuple, list[Escalation]] = defaultdict(list)
    for escalation in Escalation.objects.filter(kind="threshold").select_related("case__student"):
        case = escalation.case
        groups[(case.student.school_id, case.student.grade, case.period_start, case.period_end,
                escalation.level)].append(escalation)
    levels: dict[tuple, int] = defaultdict(int)
    for case in AbsenceCase.objects.select_related("student"):
        if case.raised_threshold_level:
            levels[(case.student.school_id, case.student.grade, case.period_start, case.period_end,
                    case.raised_threshold_level)] += 1
    mar = set(CaseEntry.objects.filter(kind="mar_convened").values_list("case_id", flat=True))
    result = {}
    for key, escalations in groups.items():
        acted = [e for e in escalations if e.first_action_at]
        days = [min((e.first_action_at.astimezone(tz).date() - e.reached_at.astimezone(tz).date()).days, 60)
                for e in acted]
        result[key] = (levels.get(key, 0), len(escalations),
                       sum(1 for e in acted if e.first_action_at.astimezone(tz).date() <= e.react_by),
                       {str(d): days.count(d) for d in set(days)},
                       sum(1 for e in escalations if e.case_id in mar))
    return result


def stored_escalations() -> dict[tuple, tuple]:
    return {(r.school_id, r.grade, r.period_start, r.period_end, r.level):
            (r.pupils_at_level, r.escalations, r.reacted_in_time, r.days_to_action, r.mar_convened)
            for r in EscalationRollup.objects.all()}


@pytest.fixture
def town(in_espoo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    year = make_calendar()
    schools = [SchoolFactory(external_id="R1"), SchoolFactory(external_id="R2")]
    pupils = []
    for index, school in enumerate(schools):
        for grade in (7, 8):
            group = TeachingGroupFactory(school=school, school_year=year, grade=grade)
            pupils += [StudentFactory(school=school, group=group, grade=grade, external_id=f"P{index}{grade}{n}")
                       for n in range(3)]
    return {"year": year, "schools": schools, "pupils": pupils}


def test_hours_rollup_equals_a_recomputation_after_imports_and_deletions(town, django_capture_on_commit_callbacks):
    policy("lape")
    pupils = town["pupils"]
    for n, pupil in enumerate(pupils):
        add_hours(pupil, 4 + 7 * n, code=("health", "unexplained", "leave")[n % 3])
    AbsenceRecord.objects.create(student=pupils[0], date=date(2027, 2, 3), category=category("health"),
                                 hours=Decimal("3"))  # the spring term
    AbsencePeriodTotal.objects.create(student=pupils[1], period_start=date(2026, 9, 1), period_end=date(2026, 9, 30),
                                      category=category("health"), hours=Decimal("12.5"))
    rollups.refresh_all()
    assert stored_absences() == recomputed_absences() and len(stored_absences()) > 6

    # An import through the real path: the task after commit rebuilds the file's schools and terms.
    content = ("Oppilasnumero;Päivämäärä;Tunnit;Poissaolon syy\r\n"
               f"{pupils[2].external_id};2.11.2026;5;sairaus\r\n{pupils[8].external_id};3.11.2026;2,5;sairaus\r\n")
    with django_capture_on_commit_callbacks(execute=True):
        record = import_file(io.BytesIO(content.encode("cp1252")), file_name="poissaolot.csv")
    assert record.status == "done", record.errors
    assert stored_absences() == recomputed_absences()

    # A pupil without a case can be deleted (one with a case is kept by its append-only log).
    gone = pupils[0]
    before = AbsenceRollup.objects.get(school=gone.school, grade=gone.grade, term__name="kevät")
    assert before.pupils == 1
    with django_capture_on_commit_callbacks(execute=True):
        gone.delete()
    assert stored_absences() == recomputed_absences()
    assert not AbsenceRollup.objects.filter(school=gone.school, grade=gone.grade, term__name="kevät").exists()


def test_escalation_rollup_equals_a_recomputation_after_evaluation_and_actions(
        town, django_capture_on_commit_callbacks):
    from absences.tasks import evaluate_students_task

    policy("lape")
    pupils = town["pupils"]
    for n, pupil in enumerate(pupils):
        add_hours(pupil, 25 + 6 * n)  # from under 30 h to past 70 h
    evaluate_students_task([p.pk for p in pupils])
    assert stored_escalations() == recomputed_escalations()
    assert {level for (*_key, level) in stored_escalations()} >= {1, 2, 3}

    user = UserFactory()
    cases = list(AbsenceCase.objects.order_by("pk"))
    with django_capture_on_commit_callbacks(execute=True):
        log_action(cases[0], user=user, author_role=Role.CLASS_TEACHER, kind="guardian_contacted",
                   occurred_on=TODAY, contact_method="phone")
        log_action(cases[1], user=user, author_role=Role.PRINCIPAL, kind="mar_convened", occurred_on=TODAY)
    Escalation.objects.filter(case=cases[2]).update(first_action_at=timezone.now() + timedelta(days=30))
    rollups.refresh_escalations([cases[2].student.school_id])
    stored, expected = stored_escalations(), recomputed_escalations()
    assert stored == expected
    assert sum(row[2] for row in stored.values()) >= 2  # reacted in time
    assert sum(row[4] for row in stored.values()) >= 1  # expert group convened


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_of_one_school_at_once_both_succeed(committed):  # noqa: F811
    """An import's task and the nightly run rebuilding one school side by side: each waits for the
    other's lock (without it the second INSERT would fail on the rollups' unique keys)."""
    with schema_context(committed.schema_name):
        make_calendar()
        policy("lape")
        school = SchoolFactory()
        for n in range(3):
            add_hours(StudentFactory(school=school, group=TeachingGroupFactory(school=school)), 35 + n)
        evaluate_students(today=TODAY)
        rollups.refresh_all()  # rows to replace

    def refresh():
        with transaction.atomic():
            rollups.refresh_absences([school.pk])
            rollups.refresh_escalations([school.pk])
            time.sleep(1)  # the other refresh is under way before this one commits

    run_together(committed.schema_name, refresh)
    with schema_context(committed.schema_name):
        assert stored_absences() == recomputed_absences() != {}
        assert stored_escalations() == recomputed_escalations() != {}


@pytest.mark.parametrize(("histograms", "expected"), [
    ([], None),
    ([{"0": 1}], 0),
    ([{"1": 2}, {"3": 1}], 1),
    ([{"1": 1}, {"4": 1}], 2.5),
    ([{"2": 3, "60": 2}, {"10": 1}], 6),
])
def test_median_days_over_several_schools_is_exact(histograms, expected):
    assert rollups.median_days(histograms) == expected


def test_the_steps_table_gives_no_small_count_away(town):
    """School A has 1 pupil past step 1; all 5 pupils of school B past step 1 went past step 2.
    Published as "pupils past each step", B's hidden step-1 count would be at least its step-2 count
    (5) and the column total 6 would pin A's "<5" to exactly 1. Counted at the highest step
    reached, the columns are disjoint and the row total is the pupils past the first step."""
    from absences.dashboard import panels
    from welfare.dashboard import scope_of

    policy("lape")
    a, b = town["schools"]
    period = {"period_start": date(2026, 8, 1), "period_end": date(2027, 7, 31)}
    counts = {"reacted_in_time": 0, "mar_convened": 0, "days_to_action": {}}
    EscalationRollup.objects.bulk_create([
        EscalationRollup(school=a, grade=7, level=1, pupils_at_level=1, escalations=1, **period, **counts),
        EscalationRollup(school=b, grade=7, level=1, pupils_at_level=0, escalations=5, **period, **counts),
        EscalationRollup(school=b, grade=7, level=2, pupils_at_level=5, escalations=5, **period, **counts),
    ])
    scope = scope_of(sorted(town["schools"], key=lambda s: s.name), town["year"])
    table = next(p for p in panels(scope) if p.key == "absences-steps-by-school").table
    rows = {label: (cells[:2], total) for label, cells, total in table.rows()}
    assert rows[a.name] == (["<5", "0"], "×")
    (b_step1, b_step2), b_total = rows[b.name]
    assert b_step1 == "0" and b_step2.startswith("5 (83") and b_total.startswith("5 (83")  # 5 of B's 6 pupils
    assert table.column_totals[:2] == ["×", "5"]  # the step-1 total (1) would be A's count
