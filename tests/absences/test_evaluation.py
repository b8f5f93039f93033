"""Threshold evaluation: counting (periods, categories, grade bands, %), extra rules, escalations
raised exactly once (also under concurrent runs), versions kept, notifications to the right people."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from absences.models import (
    AbsenceCase,
    AbsencePeriodTotal,
    AbsenceRecord,
    CaseEntry,
    Escalation,
    PolicyVersion,
)
from absences.selectors import counting_window, no_reaction, weekdays_between
from absences.services import evaluation
from absences.services.evaluation import evaluate_students
from absences.services.policies import create_policy_from_preset, new_draft, publish_version
from tests.absences.factories import backdate, category, national_categories
from tests.dbutil import run_together
from tests.factories import (
    SchoolFactory,
    SchoolYearFactory,
    StaffRoleFactory,
    StudentFactory,
    TeachingGroupFactory,
    TermFactory,
    UserFactory,
)
from welfare.models import Notification, Role

TODAY = date(2026, 11, 23)  # a Monday in the autumn term
AUTUMN = (date(2026, 8, 12), date(2026, 12, 21))
SPRING = (date(2027, 1, 7), date(2027, 5, 29))


def make_calendar():
    year = SchoolYearFactory()
    TermFactory(school_year=year, name="syksy", start_date=AUTUMN[0], end_date=AUTUMN[1])
    TermFactory(school_year=year, name="kevät", start_date=SPRING[0], end_date=SPRING[1])
    national_categories()
    return year


@pytest.fixture
def calendar(in_espoo):
    return make_calendar()


def policy(preset: str, **changes) -> PolicyVersion:
    """Publish ``preset`` (with field changes on its version) as the municipality's active policy."""
    created = create_policy_from_preset(preset)
    version = created.versions.get()
    for name, value in changes.items():
        setattr(version, name, value)
    version.save()
    publish_version(version)
    return version


def add_hours(student, total, code: str = "health", start: date = date(2026, 9, 1)) -> list[AbsenceRecord]:
    """``total`` hours on weekdays from ``start``, at most 6 a day."""
    cat, left, day, rows = category(code), Decimal(str(total)), start, []
    while left > 0:
        if day.weekday() < 5:
            hours = min(left, Decimal("6"))
            rows.append(AbsenceRecord.objects.create(student=student, date=day, category=cat, hours=hours))
            left -= hours
        day += timedelta(days=1)
    return rows


def escalations(student, kind=Escalation.Kind.THRESHOLD) -> list[int]:
    return sorted(Escalation.objects.filter(case__student=student, kind=kind).values_list("level", flat=True))


pytestmark = pytest.mark.django_db


# --- Counting -------------------------------------------------------------------------------


def test_school_year_counting_raises_a_step_once_with_its_case_entry(calendar):
    version = policy("lape")
    below, over = StudentFactory(grade=7), StudentFactory(grade=7)
    add_hours(below, 29.5)
    add_hours(over, 31)
    first = evaluate_students(today=TODAY)
    assert escalations(below) == [] and escalations(over) == [1]
    escalation = Escalation.objects.get(case__student=over)
    assert escalation.counted_value == Decimal("31.00")
    assert escalation.hours_by_category == {"health": "31.00"}
    assert escalation.policy_version == version and escalation.step.threshold == 30
    assert escalation.responsible_role == Role.CLASS_TEACHER
    assert escalation.react_by == TODAY + timedelta(days=7)
    assert (escalation.case.period_start, escalation.case.period_end) == (date(2026, 8, 1), date(2027, 7, 31))
    assert list(CaseEntry.objects.filter(escalation=escalation).values_list("kind", flat=True)) == ["step_reached"]
    assert first.escalations_created == 1
    again = evaluate_students(today=TODAY)
    assert again.escalations_created == 0 and Escalation.objects.count() == 1 and CaseEntry.objects.count() == 1
    assert again.candidates == 0


def test_a_jump_over_two_steps_raises_both_and_the_next_step_later(calendar):
    policy("lape")
    pupil = StudentFactory()
    add_hours(pupil, 55)
    evaluate_students(today=TODAY)
    assert escalations(pupil) == [1, 2]
    add_hours(pupil, 16, start=date(2026, 10, 1))
    evaluate_students([pupil.pk], today=TODAY)
    assert escalations(pupil) == [1, 2, 3]
    assert AbsenceCase.objects.filter(student=pupil).count() == 1


def test_term_period_counts_only_the_current_term_and_school_year_the_whole_year(calendar):
    pupil = StudentFactory()
    add_hours(pupil, 40)  # autumn
    add_hours(pupil, 10, start=date(2027, 1, 11))  # spring
    spring_day = date(2027, 2, 1)
    policy("lape", counting_period="term")
    assert evaluate_students(today=spring_day).escalations_created == 0
    case_window = counting_window(PolicyVersion.objects.get(counting_period="term"), spring_day)
    assert (case_window.start, case_window.end) == SPRING
    policy("lape")  # a newer policy becomes the active one
    evaluate_students(today=spring_day)
    assert escalations(pupil) == [1, 2]


def test_check_dates_count_from_the_year_start_to_the_last_check_date_passed(calendar):
    version = policy("lape", counting_period="check_dates", check_dates=["11-01", "03-01"])
    pupil = StudentFactory()
    add_hours(pupil, 24, start=date(2026, 10, 1))
    add_hours(pupil, 24, start=date(2026, 11, 2))  # after the check date: not counted on 23.11.
    assert counting_window(version, date(2026, 10, 15)) is None
    assert evaluate_students(today=date(2026, 10, 15)) is None
    window = counting_window(version, TODAY)
    assert (window.start, window.end, window.data_end) == (date(2026, 8, 1), date(2026, 11, 1), date(2026, 11, 1))
    evaluate_students(today=TODAY)
    assert escalations(pupil) == []
    evaluate_students(today=date(2027, 3, 2))  # the next check date counts everything so far
    assert escalations(pupil) == [1]
    assert AbsenceCase.objects.get(student=pupil).period_end == date(2027, 3, 1)


def test_kemi_leaves_out_leave_and_other_explained_absence(calendar):
    policy("kemi")
    travelling, sick = StudentFactory(), StudentFactory()
    add_hours(travelling, 20, code="leave")
    add_hours(travelling, 10, code="other_explained", start=date(2026, 10, 1))
    add_hours(travelling, 10, code="health", start=date(2026, 10, 12))
    add_hours(sick, 26, code="health")
    evaluate_students(today=TODAY)
    assert escalations(travelling) == []
    assert escalations(sick) == [1]


def test_vaasa_grade_bands_give_a_seventh_grader_higher_limits(calendar):
    policy("vaasa")
    fifth = StudentFactory(group=TeachingGroupFactory(grade=5))
    seventh = StudentFactory(group=TeachingGroupFactory(grade=7))
    for pupil in (fifth, seventh):
        add_hours(pupil, 35)
    evaluate_students(today=TODAY)
    assert escalations(fifth) == [1]
    assert escalations(seventh) == []
    add_hours(seventh, 6, start=date(2026, 10, 5))
    evaluate_students(today=TODAY)
    assert Escalation.objects.get(case__student=seventh).step.threshold == 40


def test_tampere_percent_of_the_scheduled_hours_so_far(calendar):
    version = policy("tampere")
    school_days = weekdays_between(AUTUMN[0], TODAY)
    assert counting_window(version, TODAY).school_days == school_days
    scheduled = Decimal(30) * school_days / 5  # grade 7: 30 h a week
    five_percent = scheduled * 5 / 100
    under, over = StudentFactory(grade=7), StudentFactory(grade=7)
    add_hours(under, (five_percent - Decimal("0.5")).quantize(Decimal("0.5")))
    add_hours(over, (five_percent + Decimal("0.5")).quantize(Decimal("0.5")))
    evaluate_students(today=TODAY)
    assert escalations(under) == []
    assert escalations(over) == [1]
    escalation = Escalation.objects.get(case__student=over)
    assert Decimal("5") <= escalation.counted_value < Decimal("5.5")  # stored in the policy's unit: %
    # a first grader (19 h a week) reaches 5 % with fewer hours
    first_grader = StudentFactory(group=TeachingGroupFactory(grade=1))
    add_hours(first_grader, (Decimal(19) * school_days / 5 * 5 / 100 + 1).quantize(Decimal("0.5")))
    evaluate_students([first_grader.pk], today=TODAY)
    assert escalations(first_grader) == [1]


def test_period_totals_inside_the_period_count_and_others_do_not(calendar):
    policy("lape")
    pupil = StudentFactory()
    add_hours(pupil, 12)
    AbsencePeriodTotal.objects.create(student=pupil, period_start=date(2026, 8, 12), period_end=date(2026, 10, 16),
                                      category=category("health"), hours=Decimal("20"))
    AbsencePeriodTotal.objects.create(student=pupil, period_start=date(2026, 1, 7), period_end=date(2026, 5, 30),
                                      category=category("health"), hours=Decimal("80"))  # last school year
    evaluate_students(today=TODAY)
    escalation = Escalation.objects.get(case__student=pupil)
    assert escalation.level == 1 and escalation.counted_value == Decimal("32.00")


def test_consecutive_school_days_across_a_weekend_raise_one_alert_per_run(calendar):
    policy("lape")  # consecutive_days = 3
    pupil, two_days, light = StudentFactory(), StudentFactory(), StudentFactory()
    cat = category("health")
    for day in (date(2026, 11, 12), date(2026, 11, 13), date(2026, 11, 16)):  # Thu, Fri, Mon
        AbsenceRecord.objects.create(student=pupil, date=day, category=cat, hours=Decimal("5"))
        AbsenceRecord.objects.create(student=light, date=day, category=cat, hours=Decimal("2"))  # < 3 h a day
    for day in (date(2026, 11, 12), date(2026, 11, 13)):
        AbsenceRecord.objects.create(student=two_days, date=day, category=cat, hours=Decimal("6"))
    evaluate_students(today=TODAY)
    assert escalations(pupil, "consecutive") == [date(2026, 11, 12).toordinal()]
    assert escalations(two_days, "consecutive") == [] and escalations(light, "consecutive") == []
    AbsenceRecord.objects.create(student=pupil, date=date(2026, 11, 17), category=cat, hours=Decimal("6"))
    again = evaluate_students(today=TODAY)  # the same run got longer: no second alert
    assert Escalation.objects.filter(kind="consecutive").count() == 1
    assert again.candidates == 0  # recognised as raised in SQL, not only by the unique constraint


def test_an_absence_still_unexplained_after_seven_days_alerts_once(calendar):
    policy("kemi")
    old, recent = StudentFactory(), StudentFactory()
    AbsenceRecord.objects.create(student=old, date=TODAY - timedelta(days=9), category=category("unexplained"),
                                 hours=Decimal("2"))
    AbsenceRecord.objects.create(student=recent, date=TODAY - timedelta(days=3), category=category("unexplained"),
                                 hours=Decimal("2"))
    evaluate_students(today=TODAY)
    assert escalations(old, "unexplained") == [(TODAY - timedelta(days=9)).toordinal()]
    assert escalations(recent, "unexplained") == []
    assert evaluate_students(today=TODAY + timedelta(days=1)).candidates == 0
    assert Escalation.objects.filter(kind="unexplained").count() == 1
    evaluate_students(today=TODAY + timedelta(days=5))
    assert escalations(recent, "unexplained") == [(TODAY - timedelta(days=3)).toordinal()]


def test_the_case_summary_of_raised_escalations_follows_every_insert(calendar):
    """The nightly run compares counts with the case's summary (a trigger keeps it), so an
    escalation written outside the evaluation also stops a lower step from being raised."""
    version = policy("lape")
    pupil, other = StudentFactory(), StudentFactory()
    add_hours(pupil, 55)
    evaluate_students(today=TODAY)
    case = AbsenceCase.objects.get(student=pupil)
    assert (case.raised_threshold_level, case.raised_consecutive, case.raised_unexplained) == (2, [], [])
    add_hours(other, 35)  # past step 1 (30 h) only
    other_case = AbsenceCase.objects.create(student=other, period_start=case.period_start,
                                            period_end=case.period_end)
    step3 = version.bands.get().steps.get(level=3)
    Escalation.objects.bulk_create([
        Escalation(case=other_case, kind="threshold", level=3, policy_version=version, step=step3,
                   reached_on=TODAY, counted_value=Decimal("71"), responsible_role=step3.responsible_role,
                   react_by=TODAY),
        Escalation(case=other_case, kind="unexplained", level=TODAY.toordinal(), policy_version=version,
                   reached_on=TODAY, counted_value=Decimal("7"), responsible_role=Role.CLASS_TEACHER,
                   react_by=TODAY)])
    other_case.refresh_from_db()
    assert (other_case.raised_threshold_level, other_case.raised_unexplained) == (3, [TODAY.toordinal()])
    assert evaluate_students([other.pk], today=TODAY).candidates == 0
    assert escalations(other) == [3]


def test_old_escalations_keep_their_version_after_a_new_one_is_published(calendar):
    v1 = policy("lape")
    pupil, later = StudentFactory(), StudentFactory()
    add_hours(pupil, 31)
    evaluate_students(today=TODAY)
    draft = new_draft(v1.policy)
    assert draft.number == 2 and draft.bands.get().steps.count() == 4
    draft.bands.get().steps.filter(level=1).update(threshold=20)
    publish_version(draft)
    add_hours(later, 21)
    evaluate_students(today=TODAY)
    assert Escalation.objects.get(case__student=pupil).policy_version == v1
    new = Escalation.objects.get(case__student=later)
    assert new.policy_version == draft and new.step.threshold == 20
    assert v1.bands.get().steps.get(level=1).threshold == 30  # the published version was not touched


def test_no_published_policy_means_no_evaluation(calendar):
    create_policy_from_preset("lape")  # a draft only
    add_hours(StudentFactory(), 40)
    assert evaluate_students(today=TODAY) is None
    assert not Escalation.objects.exists()


# --- Notifications --------------------------------------------------------------------------


def test_notifications_go_to_the_steps_roles_at_the_pupils_school_and_group_only(calendar):
    policy("lape")
    school, other_school = SchoolFactory(), SchoolFactory()
    group, other_group = TeachingGroupFactory(school=school), TeachingGroupFactory(school=school)
    pupil = StudentFactory(group=group)

    def grant(role, where, groups=None):
        user = UserFactory()
        StaffRoleFactory(user=user, role=role, school=where, groups=groups or [])
        return user.pk

    principal = grant(Role.PRINCIPAL, school)
    teacher = grant(Role.CLASS_TEACHER, school, [group])
    grant(Role.CLASS_TEACHER, school, [other_group])  # another group's teacher
    kuraattori = grant(Role.SCHOOL_SOCIAL_WORKER, school)
    grant(Role.PRINCIPAL, other_school)  # another school's principal
    grant(Role.PSYCHOLOGIST, school)  # not named in steps 1–2
    revoked = UserFactory()
    StaffRoleFactory(user=revoked, role=Role.PRINCIPAL, school=school).__class__.objects.filter(
        user_id=revoked.pk).update(revoked_at=timezone.now())
    add_hours(pupil, 55)
    result = evaluate_students(today=TODAY)
    assert result.escalations_created == 2
    by_level = {e.level: e for e in Escalation.objects.filter(case__student=pupil)}
    got = {(n.dedupe_key.split(":")[2], n.recipient_id) for n in Notification.objects.all()}
    assert got == {(str(by_level[1].pk), teacher), (str(by_level[1].pk), principal),
                   (str(by_level[2].pk), teacher), (str(by_level[2].pk), principal),
                   (str(by_level[2].pk), kuraattori)}
    notification = Notification.objects.filter(recipient_id=teacher).order_by("id").first()
    assert notification.dedupe_key == f"escalation:{connection.schema_name}:{by_level[1].pk}:{teacher}"
    assert notification.email_status == Notification.EmailStatus.PENDING
    assert pupil.last_name not in notification.title + notification.body  # the group, never the name
    assert group.name in notification.body
    assert notification.url == f"/absences/cases/{by_level[1].case_id}/"
    assert "30 h" in notification.body  # the threshold as written (Decimal("30").normalize() prints 3E+1)
    assert result.notifications_created == 5
    evaluate_students(today=TODAY)
    assert Notification.objects.count() == 5


def test_no_reaction_lists_escalations_past_react_by_without_an_action(calendar):
    policy("lape")
    quiet, handled, fresh = StudentFactory(), StudentFactory(), StudentFactory()
    for pupil in (quiet, handled, fresh):
        add_hours(pupil, 31)
    evaluate_students(today=TODAY)
    for pupil in (quiet, handled):
        backdate(Escalation.objects.get(case__student=pupil), 10)
    handled_case = AbsenceCase.objects.get(student=handled)
    CaseEntry.objects.create(case=handled_case, kind=CaseEntry.Kind.GUARDIAN_CONTACTED, occurred_on=TODAY,
                             contact_method=CaseEntry.ContactMethod.PHONE)
    late = no_reaction(Escalation.objects.all(), TODAY)
    assert [e.case.student_id for e in late] == [quiet.pk]


# --- Concurrency: two evaluations at once against committed data --------------------------------


@pytest.fixture
def committed(espoo):
    """Committed data in Espoo for tests that use several connections (emptied afterwards)."""
    return espoo


@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluations_raise_each_escalation_once(committed, monkeypatch):
    with schema_context(committed.schema_name):
        make_calendar()
        policy("lape")
        school = SchoolFactory()
        group = TeachingGroupFactory(school=school)
        teacher = UserFactory()
        StaffRoleFactory(user=teacher, role=Role.CLASS_TEACHER, school=school, groups=[group])
        pupils = [StudentFactory(group=group) for _ in range(5)]
        for pupil in pupils:
            add_hours(pupil, 52)

    real_notify = evaluation._notify

    def slow_notify(*args, **kwargs):
        # The first run holds its uncommitted escalations while the second one tries to insert.
        created = real_notify(*args, **kwargs)
        import time

        time.sleep(0.5)
        return created

    monkeypatch.setattr(evaluation, "_notify", slow_notify)
    results = run_together(committed.schema_name, lambda: evaluate_students(today=TODAY))
    assert sorted(r.escalations_created for r in results) == [0, 10]
    with schema_context(committed.schema_name):
        assert Escalation.objects.count() == 10
        assert CaseEntry.objects.count() == 10
        assert AbsenceCase.objects.count() == 5
        assert Notification.objects.count() == 10  # the class teacher, once per escalation


def test_the_case_page_counts_the_hours_the_step_was_reached_with(calendar):
    """Daily records and a period total inside the period both count, in the evaluation and on
    the case page (counted hours, hours by category, the cumulative chart)."""
    from absences import selectors_cases
    from absences.models import AbsencePeriodTotal

    policy("lape")
    pupil = StudentFactory()
    add_hours(pupil, 20)
    AbsencePeriodTotal.objects.create(student=pupil, period_start=date(2026, 10, 1), period_end=date(2026, 10, 31),
                                      category=category("leave"), hours=Decimal("12"))
    evaluate_students(today=TODAY)
    escalation = Escalation.objects.get(case__student=pupil)
    assert escalation.counted_value == Decimal("32.00")
    case = escalation.case
    assert selectors_cases.counted_hours([case]) == {case.pk: Decimal("32")}
    by_category = {row["category"].code: row["hours"] for row in selectors_cases.hours_by_category(case, None)}
    assert by_category == {"health": Decimal("20"), "leave": Decimal("12")}
    series = selectors_cases.cumulative_series(case, None)
    assert series[-1][2] == Decimal("32") and (date(2026, 10, 31), Decimal("12")) in [s[:2] for s in series]
