"""Nightly reminders: before an activity, and asking for an evaluation; each sent once."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail

from annualclock.models import Clock, ClockSettings, Status
from annualclock.reminders import send_reminders
from annualclock.tasks import nightly_reminders
from tests.annualclock.factories import ActivityFactory, EvaluationFactory
from welfare.models import Notification

pytestmark = pytest.mark.django_db

D = datetime.date


def titles(user) -> list[str]:
    return sorted(Notification.objects.filter(recipient_id=user.pk).values_list("title", flat=True))


def test_owners_are_reminded_n_days_before_once(in_espoo, world, django_capture_on_commit_callbacks):
    world.nurse.preferred_language = "sv"
    world.nurse.save()
    ActivityFactory(clock=world.clock, title_fi="Terveystarkastukset", title_sv="Hälsokontroller",
                    owner_role="terveydenhoitaja", start_date=D(2026, 10, 5), end_date=D(2026, 10, 9))
    ActivityFactory(clock=world.clock, title_fi="Liian kaukana", owner_role="terveydenhoitaja",
                    start_date=D(2026, 10, 20), end_date=D(2026, 10, 20))
    with django_capture_on_commit_callbacks(execute=True):
        first = send_reminders(D(2026, 9, 29))  # 6 days before, default 7
    assert first["reminders"] == 1
    assert titles(world.nurse) == ["Kommer på årsklockan: Hälsokontroller"]
    assert [m.to for m in mail.outbox] == [[world.nurse.email]]
    # The next nights and a retry send nothing more.
    for day in (D(2026, 9, 29), D(2026, 9, 30), D(2026, 10, 5)):
        assert send_reminders(day)["reminders"] == 0
    assert Notification.objects.filter(recipient_id=world.nurse.pk).count() == 1


def test_reminder_days_come_from_the_clock_or_the_municipality(in_espoo, world):
    ActivityFactory(clock=world.clock, owner_ids=[world.principal.pk], start_date=D(2026, 10, 20),
                    end_date=D(2026, 10, 20))
    settings_row = ClockSettings.current()
    settings_row.reminder_days = 3
    settings_row.save()
    assert send_reminders(D(2026, 10, 16))["reminders"] == 0
    Clock.objects.filter(pk=world.clock.pk).update(reminder_days=14)
    assert send_reminders(D(2026, 10, 16))["reminders"] == 1


def test_monthly_activity_is_reminded_before_each_occurrence(in_espoo, world):
    ActivityFactory(clock=world.clock, title_fi="OHR", owner_role="rehtori", month_start=9, month_end=10,
                    recurrence="monthly")
    assert send_reminders(D(2026, 8, 28))["reminders"] == 1
    assert send_reminders(D(2026, 9, 28))["reminders"] == 1
    assert send_reminders(D(2026, 9, 29))["reminders"] == 0


def test_evaluation_is_asked_once_when_the_time_has_passed(in_espoo, world, monkeypatch):
    ActivityFactory(clock=world.clock, title_fi="Ryhmäytyminen", owner_ids=[world.kuraattori.pk], month_start=8,
                    month_end=9)
    evaluated = ActivityFactory(clock=world.clock, title_fi="Arvioitu", owner_ids=[world.kuraattori.pk],
                                month_start=8, month_end=8, status=Status.DONE)
    EvaluationFactory(activity=evaluated)
    ActivityFactory(clock=world.clock, title_fi="Peruttu", owner_ids=[world.kuraattori.pk], month_start=8,
                    month_end=8, status=Status.CANCELLED)
    assert send_reminders(D(2026, 9, 30))["evaluation_requests"] == 0
    assert send_reminders(D(2026, 10, 1))["evaluation_requests"] == 1
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args: D(2026, 10, 2))
    assert nightly_reminders.apply().get()["evaluation_requests"] == 0  # the nightly task: nothing more
    assert titles(world.kuraattori) == ["Arvioi: Ryhmäytyminen"]


def test_without_owners_the_principal_is_asked(in_espoo, world):
    ActivityFactory(clock=world.clock, title_fi="Kenen?", month_start=8, month_end=8)
    send_reminders(D(2026, 9, 2))
    assert titles(world.principal) == ["Arvioi: Kenen?"]
    assert titles(world.teacher) == []


def test_nightly_queries_do_not_grow_with_activities_not_yet_due(in_espoo, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert send_reminders(D(2026, 8, 20)) == {"reminders": 0, "evaluation_requests": 0}
        return len([query for query in captured.captured_queries if "SAVEPOINT" not in query["sql"]])

    ActivityFactory(clock=world.clock, owner_role="rehtori", month_start=5, month_end=5, recurrence="termly")
    queries()  # the first run also makes the municipality's settings row
    before = queries()
    for _n in range(5):
        ActivityFactory(clock=world.clock, owner_role="rehtori", month_start=5, month_end=5, recurrence="termly")
    assert queries() == before
