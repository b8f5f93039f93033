"""Sessions on the annual clock (welfare.clock contract): their own ring, no pupil identities."""

from __future__ import annotations

import datetime

import pytest
from django.test import override_settings
from django.utils import translation

from groupsessions.clock import clock_entries
from groupsessions.models import SessionStatus
from tests.groupsessions.factories import GroupSessionFactory, at
from welfare.clock import entries_for_school

pytestmark = pytest.mark.django_db
D = datetime.date


def test_clock_entries_of_a_school(in_espoo, world):
    held = GroupSessionFactory(cohort_group=world["g7a"], starts_at=at(D(2026, 9, 10), 9), status=SessionStatus.HELD)
    planned = GroupSessionFactory(cohort_group=world["g7b"], starts_at=at(D(2026, 10, 20), 12))
    GroupSessionFactory(cohort_group=world["o7a"], starts_at=at(D(2026, 9, 11), 9))  # another school
    with translation.override("en"):
        entries = clock_entries(world["school"].pk, D(2026, 8, 1), D(2027, 7, 31))
    assert [(e.key, e.start, e.status) for e in entries] == [
        (f"session-{held.pk}", D(2026, 9, 10), "Held"),
        (f"session-{planned.pk}", D(2026, 10, 20), "Planned"),
        (f"deadline-{world['year'].pk}", D(2026, 10, 31), ""),
    ]
    assert {e.source for e in entries} == {"groupsessions"} and {e.ring_label for e in entries} == {"Group sessions"}
    assert entries[0].title == "Group session: 7A" and entries[0].url == f"/group-sessions/sessions/{held.pk}/"
    assert clock_entries(world["school"].pk, D(2026, 9, 11), D(2026, 10, 1)) == []


@override_settings(ANNUAL_CLOCK_PROVIDERS=["groupsessions.clock.clock_entries"])
def test_the_annual_clock_gets_them_through_the_provider_list(in_espoo, world):
    GroupSessionFactory(cohort_group=world["g7a"], starts_at=at(D(2026, 9, 10), 9))
    assert [e.source for e in entries_for_school(world["school"].pk, D(2026, 9, 1), D(2026, 9, 30))] == [
        "groupsessions"]
