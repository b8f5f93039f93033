"""The demo seed makes the module look alive, once."""

from __future__ import annotations

import datetime

import pytest

from groupsessions import demo
from groupsessions.models import (
    CohortGroup,
    FeedbackResponse,
    FollowUp,
    GroupSession,
    GroupSessionRollup,
    SessionStatus,
)
from tests.factories import SchoolFactory, TeachingGroupFactory

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent_and_shows_every_state(in_espoo, world):
    # A third school: the demo leaves the last group of every third school without a session.
    TeachingGroupFactory(school=SchoolFactory(name="Yhteiskoulu"), school_year=world["year"], name="7A", grade=7)
    demo.seed(today=datetime.date(2026, 8, 20))  # sessions from 17.8 (held) and 24.8 (planned)
    sessions = GroupSession.objects.all()
    assert set(sessions.values_list("status", flat=True)) == {SessionStatus.HELD, SessionStatus.PLANNED}
    assert CohortGroup.objects.filter(sessions__isnull=True).count() == 1
    assert FeedbackResponse.objects.exists() and FollowUp.objects.exists()
    assert all(s.staff.exists() for s in sessions)
    # The dashboards see the demo (it writes rows directly, then rebuilds the rollup).
    assert GroupSessionRollup.objects.get(school=world["school"]).groups_met == 1
    count = sessions.count()
    demo.seed(today=datetime.date(2026, 8, 20))
    assert GroupSession.objects.count() == count
