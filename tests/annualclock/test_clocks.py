"""Templates, adoption and copying, recurrence expansion, and the follow-up hook for other modules."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation

from annualclock import public, services
from annualclock.models import Activity, Clock, Recurrence, Status
from annualclock.schedule import occurrences, span
from annualclock.selectors import adoptions
from tests.annualclock.factories import ActivityFactory, ClockTemplateFactory, ring, school_year_2026
from tests.factories import SchoolFactory, SchoolYearFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def test_adopting_copies_the_template_and_later_template_edits_do_not_reach_the_clock(in_espoo, world):
    template = ClockTemplateFactory(name="Perusopetus")
    original = ActivityFactory(clock=None, template=template, title_fi="Ryhmäytyminen", month_start=8, month_end=9)
    ActivityFactory(clock=None, template=template, title_fi="Turvallisuuskävely", ring=ring("safety"))
    school = SchoolFactory()
    clock = services.adopt_template(template, school=school, school_year=world.year, user=world.principal)

    copies = {a.title_fi: a for a in clock.activities.all()}
    assert set(copies) == {"Ryhmäytyminen", "Turvallisuuskävely"}
    assert copies["Ryhmäytyminen"].pk != original.pk and copies["Ryhmäytyminen"].month_end == 9

    original.title_fi, original.month_end = "Ryhmäytyminen (uusi)", 10
    original.save()
    ActivityFactory(clock=None, template=template, title_fi="Myöhemmin lisätty")
    template.activities.filter(title_fi="Turvallisuuskävely").delete()

    clock.refresh_from_db()
    assert sorted(clock.activities.values_list("title_fi", "month_end")) == [("Ryhmäytyminen", 9),
                                                                             ("Turvallisuuskävely", 9)]


def test_coordinator_sees_what_an_adopting_school_changed(in_espoo, world):
    template = ClockTemplateFactory()
    kept = ActivityFactory(clock=None, template=template, title_fi="Pidetään")
    ActivityFactory(clock=None, template=template, title_fi="Poistetaan")
    ActivityFactory(clock=None, template=template, title_fi="Muutetaan", month_start=10, month_end=10)
    clock = services.adopt_template(template, school=SchoolFactory(), school_year=world.year, user=world.principal)
    untouched = services.adopt_template(template, school=SchoolFactory(), school_year=world.year,
                                        user=world.principal)
    clock.activities.get(title_fi="Poistetaan").delete()
    changed = clock.activities.get(title_fi="Muutetaan")
    changed.month_start = changed.month_end = 11
    changed.save()
    ActivityFactory(clock=clock, title_fi="Oma lisäys")

    with translation.override("en"):
        rows = {row.clock.pk: row for row in adoptions(template)}
    assert rows[untouched.pk].unchanged
    row = rows[clock.pk]
    assert [a.title_fi for a in row.added] == ["Oma lisäys"]
    assert [r["title"] for r in row.removed] == ["Poistetaan"]
    assert [(a.title_fi, fields) for a, fields in row.changed] == [("Muutetaan", ["first month", "last month"])]
    assert kept.pk not in [r["id"] for r in row.removed]


def test_copying_last_years_clock_moves_dates_and_resets_status(in_espoo, world):
    last_year = SchoolYearFactory(name="2025–2026", start_date=D(2025, 8, 1), end_date=D(2026, 7, 31))
    old = Clock.objects.create(school=world.other_school, school_year=last_year)
    done = ActivityFactory(clock=old, title_fi="Poistumisharjoitus", start_date=D(2025, 9, 17),
                           end_date=D(2025, 9, 17), status=Status.DONE, owner_ids=[world.principal.pk])
    services.complete_activity(done, user=world.principal, what_happened="Hyvin meni")

    new = services.copy_clock(old, school_year=world.year, user=world.other_principal)

    copy = new.activities.get()
    assert (copy.start_date, copy.end_date, copy.status) == (D(2026, 9, 17), D(2026, 9, 17), Status.PLANNED)
    assert copy.owner_ids == [world.principal.pk] and not hasattr(copy, "evaluation")
    with pytest.raises(ValueError):
        services.copy_clock(old, school_year=world.year, user=world.other_principal)


@pytest.mark.parametrize(("fields", "expected"), [
    ({"month_start": 9, "month_end": 10}, [(D(2026, 9, 1), D(2026, 10, 31))]),
    ({"month_start": 12, "month_end": 1}, [(D(2026, 12, 1), D(2027, 1, 31))]),
    ({"month_start": 11, "month_end": 2, "recurrence": Recurrence.MONTHLY},
     [(D(2026, 11, 1), D(2026, 11, 30)), (D(2026, 12, 1), D(2026, 12, 31)), (D(2027, 1, 1), D(2027, 1, 31)),
      (D(2027, 2, 1), D(2027, 2, 28))]),
    ({"start_date": D(2026, 10, 31), "end_date": D(2027, 1, 15), "recurrence": Recurrence.MONTHLY},
     [(D(2026, 10, 31), D(2026, 10, 31)), (D(2026, 11, 30), D(2026, 11, 30)), (D(2026, 12, 31), D(2026, 12, 31))]),
    ({"month_start": 8, "month_end": 7, "recurrence": Recurrence.TERMLY},
     [(D(2026, 8, 12), D(2026, 12, 21)), (D(2027, 1, 7), D(2027, 6, 5))]),
    ({"month_start": 10, "month_end": 2, "recurrence": Recurrence.TERMLY},
     [(D(2026, 10, 1), D(2026, 12, 21)), (D(2027, 1, 7), D(2027, 2, 28))]),
    ({"month_start": 9, "month_end": 9, "recurrence": Recurrence.TERMLY}, [(D(2026, 9, 1), D(2026, 9, 30))]),
], ids=["months", "over-new-year", "monthly", "monthly-dates-clamped", "each-term", "each-term-partial",
        "each-term-one-term"])
def test_recurrence_expansion(in_espoo, world, fields, expected):
    activity = Activity(clock=world.clock, ring=ring(), **{"month_start": 1, "month_end": 1, **fields})
    if activity.start_date:
        activity.month_start, activity.month_end = activity.start_date.month, activity.end_date.month
    from annualclock.schedule import terms_of

    found = occurrences(activity, world.year, terms_of(world.year))
    assert [(o.start, o.end) for o in found] == expected
    assert [o.index for o in found] == list(range(len(expected)))


def test_span_of_a_month_range_follows_the_school_year(in_espoo):
    year = school_year_2026()
    activity = Activity(month_start=5, month_end=6)
    assert span(activity, year) == (D(2027, 5, 1), D(2027, 6, 30))


def test_follow_up_from_another_module_lands_on_the_schools_clock(in_espoo, world):
    with translation.override("sv"):
        url = public.add_followup_activity(user=world.kuraattori, school_id=world.school.pk,
                                           title="Mobbning på rasterna", description="Togs upp i 7A",
                                           month=D(2026, 10, 5), source_label="Gruppsamtal 7A, 1.10.2026")
    activity = Activity.objects.get(title_sv="Mobbning på rasterna")
    assert url == f"/annual-clock/activities/{activity.pk}/"
    assert activity.clock == world.clock and (activity.month_start, activity.month_end) == (10, 10)
    assert activity.status == Status.PLANNED and activity.source_label == "Gruppsamtal 7A, 1.10.2026"
    assert activity.owner_role == "rehtori" and activity.ring.code == "communal"


def test_follow_up_creates_the_clock_when_the_school_has_none(in_espoo, world):
    public.add_followup_activity(user=world.other_principal, school_id=world.other_school.pk, title="Kiusaaminen",
                                 description="", month=D(2027, 2, 1), source_label="Ryhmäkeskustelu")
    clock = Clock.objects.get(school=world.other_school)
    assert clock.school_year == world.year and clock.activities.get().title_fi == "Kiusaaminen"


@pytest.mark.parametrize("who", ["teacher", "coordinator", "other_principal"])
def test_follow_up_refused_without_edit_rights_on_that_school(in_espoo, world, who):
    with pytest.raises(PermissionDenied):
        public.add_followup_activity(user=getattr(world, who), school_id=world.school.pk, title="x", description="",
                                     month=D(2026, 10, 5), source_label="x")
    assert not Activity.objects.filter(title_fi="x").exists()
