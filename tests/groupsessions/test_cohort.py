"""Cohort derivation (7th grade of basic education, first year of upper-secondary and vocational
schools, groups added by hand), the deadline, and the coverage figures."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from groupsessions import selectors, services
from groupsessions.models import CohortGroup, GroupSessionSettings, SessionStatus
from tests.factories import SchoolFactory, SchoolYearFactory, TeachingGroupFactory, UserFactory
from tests.groupsessions.factories import GroupSessionFactory, at
from welfare.models import SchoolType, SchoolYear

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def year(in_espoo):
    return SchoolYearFactory()


@pytest.fixture
def register(year):
    """Groups of every kind of school; only 7A, 7B, 25A (upper secondary, 1st year) and SOTE26
    (vocational, 1st year) are to be met."""
    basic = SchoolFactory(name="Tapiolan koulu", school_type=SchoolType.BASIC)
    upper = SchoolFactory(name="Tapiolan lukio", school_type=SchoolType.UPPER_SECONDARY, grade_max=3)
    vocational = SchoolFactory(name="Omnia", school_type=SchoolType.VOCATIONAL, grade_max=3)
    primary = SchoolFactory(name="Saunalahden koulu", school_type=SchoolType.BASIC, grade_max=6)
    groups = {
        "7A": TeachingGroupFactory(school=basic, school_year=year, name="7A", grade=7),
        "7B": TeachingGroupFactory(school=basic, school_year=year, name="7B", grade=7),
        "8A": TeachingGroupFactory(school=basic, school_year=year, name="8A", grade=8),
        "1A": TeachingGroupFactory(school=basic, school_year=year, name="1A", grade=1),
        "26A": TeachingGroupFactory(school=upper, school_year=year, name="26A", grade=1),
        "25A": TeachingGroupFactory(school=upper, school_year=year, name="25A", grade=2),
        "SOTE26": TeachingGroupFactory(school=vocational, school_year=year, name="SOTE26", grade=1),
        "AUTO25": TeachingGroupFactory(school=vocational, school_year=year, name="AUTO25", grade=2),
        "6A": TeachingGroupFactory(school=primary, school_year=year, name="6A", grade=6),
    }
    other_year = SchoolYearFactory(name="2025–2026", start_date=D(2025, 8, 1), end_date=D(2026, 7, 31))
    TeachingGroupFactory(school=basic, school_year=other_year, name="7A", grade=7)
    return {"basic": basic, "upper": upper, "vocational": vocational, "primary": primary, "groups": groups}


def names(school_year) -> set[str]:
    return set(CohortGroup.objects.filter(school_year=school_year).values_list("name", flat=True))


def test_cohort_is_7th_grade_of_basic_and_first_year_of_upper_secondary_and_vocational(year, register):
    assert services.sync_cohort(year) == 4
    assert names(year) == {"7A", "7B", "26A", "SOTE26"}
    assert all(g.source == CohortGroup.Source.REGISTER for g in CohortGroup.objects.all())


def test_sync_is_idempotent_and_picks_up_groups_added_to_the_register_later(year, register):
    services.sync_cohort(year)
    assert services.sync_cohort(year) == 0
    TeachingGroupFactory(school=register["basic"], school_year=year, name="7C", grade=7)
    assert services.sync_cohort(year) == 1
    assert names(year) == {"7A", "7B", "7C", "26A", "SOTE26"}


def test_a_school_adds_groups_by_hand(year, register):
    services.sync_cohort(year)
    user = UserFactory()
    by_register = services.add_cohort_group(user=user, school=register["basic"], school_year=year,
                                            teaching_group=register["groups"]["8A"], reason="Uusi ryhmä")
    by_name = services.add_cohort_group(user=user, school=register["basic"], school_year=year,
                                        name="Valmistava luokka")
    assert {by_register.source, by_name.source} == {CohortGroup.Source.MANUAL}
    assert names(year) == {"7A", "7B", "26A", "SOTE26", "8A", "Valmistava luokka"}
    assert services.sync_cohort(year) == 0  # hand-added register groups are not added twice
    with pytest.raises(ValidationError):
        services.add_cohort_group(user=user, school=register["basic"], school_year=year, name="Valmistava luokka")
    with pytest.raises(ValidationError):  # another school's group
        services.add_cohort_group(user=user, school=register["basic"], school_year=year,
                                  teaching_group=register["groups"]["6A"])
    with pytest.raises(ValidationError):
        services.add_cohort_group(user=user, school=register["basic"], school_year=year, name="  ")


@pytest.mark.parametrize(("month", "day", "expected"), [
    (10, 31, D(2026, 10, 31)),  # the default
    (9, 30, D(2026, 9, 30)),
    (11, 31, D(2026, 11, 30)),  # past the month's end: its last day
    (2, 15, D(2027, 2, 15)),  # spring: the calendar year after the start
])
def test_deadline_is_a_municipal_setting_defaulting_to_31_october(year, month, day, expected):
    row = GroupSessionSettings.current()
    assert (row.deadline_month, row.deadline_day) == (10, 31)
    services.update_settings(deadline_month=month, deadline_day=day, feedback_days=14)
    assert GroupSessionSettings.current().deadline_for(year) == expected


def test_coverage_counts_met_planned_overdue_by_the_deadline(year, register):
    services.sync_cohort(year)
    cohort = {g.name: g for g in CohortGroup.objects.all()}
    GroupSessionFactory(cohort_group=cohort["7A"], starts_at=at(D(2026, 9, 10), 9), status=SessionStatus.HELD,
                        pupils_present=18, pupils_enrolled=20)
    GroupSessionFactory(cohort_group=cohort["7B"], starts_at=at(D(2026, 11, 5), 9), status=SessionStatus.HELD,
                        pupils_present=19, pupils_enrolled=21)  # met, but late
    GroupSessionFactory(cohort_group=cohort["26A"], starts_at=at(D(2026, 11, 20), 9))  # planned after deadline
    GroupSessionFactory(cohort_group=cohort["SOTE26"], starts_at=at(D(2026, 10, 1), 9),
                        status=SessionStatus.NOT_HELD, not_held_reason="cancelled")

    before = {c.school.name: c for c in selectors.coverages(year, D(2026, 10, 15))}
    basic = before["Tapiolan koulu"]
    assert (basic.to_meet, basic.met, basic.met_by_deadline) == (2, 2, 1)
    assert basic.overdue == [] and basic.pupils_present == 37
    upper = before["Tapiolan lukio"]
    assert (upper.to_meet, upper.met, upper.planned) == (1, 0, 1)
    assert [row.group.name for row in upper.overdue] == ["26A"]  # planned after the deadline
    assert before["Omnia"].overdue == []  # not met, deadline not yet passed

    after = {c.school.name: c for c in selectors.coverages(year, D(2026, 11, 1))}
    assert [row.group.name for row in after["Omnia"].overdue] == ["SOTE26"]
    assert "Saunalahden koulu" not in after  # nothing to meet there


def test_municipal_coverage_suppresses_people_counts_under_five(year, register):
    services.sync_cohort(year)
    cohort = {g.name: g for g in CohortGroup.objects.all()}
    GroupSessionFactory(cohort_group=cohort["7A"], status=SessionStatus.HELD, pupils_present=18, pupils_enrolled=20)
    GroupSessionFactory(cohort_group=cohort["26A"], status=SessionStatus.HELD, pupils_present=3, pupils_enrolled=4)
    coverage = selectors.municipal_coverage(year, D(2026, 10, 1), ("Pupils met", "Feedback responses"))
    cells = {row.school.name: people for row, people in coverage.table_rows()}
    assert cells["Tapiolan lukio"][0] == "<5"
    assert cells["Tapiolan koulu"][0] == "×"  # hidden too, or 3 could be worked out from the total
    assert coverage.people.column_totals[0] == "21"
    assert coverage.totals == {"to_meet": 4, "met": 2, "met_by_deadline": 2, "overdue": 0}


def test_school_year_for_a_day(year):
    later = SchoolYear.objects.create(name="2027–2028", start_date=D(2027, 8, 1), end_date=D(2028, 7, 31))
    assert selectors.school_year_for(D(2026, 12, 1)) == year
    assert selectors.school_year_for(D(2027, 9, 1)) == later
    assert selectors.school_year_for(D(2030, 1, 1)) == later
