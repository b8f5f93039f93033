"""factory_boy factories for group sessions. Use inside a municipality's schema (the ``in_espoo``
fixture or django_tenants.utils.schema_context)."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from groupsessions.feedback import device_hash
from groupsessions.models import CohortGroup, FeedbackResponse, FollowUp, GroupSession, SessionStaff
from tests.factories import SchoolFactory, SchoolYearFactory


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """An aware Helsinki time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


class CohortGroupFactory(DjangoModelFactory):
    class Meta:
        model = CohortGroup

    school = factory.SubFactory(SchoolFactory)
    school_year = factory.SubFactory(SchoolYearFactory)
    teaching_group = None
    name = factory.Sequence(lambda n: f"7G{n}")
    source = CohortGroup.Source.MANUAL


class GroupSessionFactory(DjangoModelFactory):
    class Meta:
        model = GroupSession

    cohort_group = factory.SubFactory(CohortGroupFactory)
    starts_at = factory.LazyFunction(lambda: at(datetime.date(2026, 9, 15), 9))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(minutes=75))
    place = "luokka 214"
    feedback_token = factory.LazyFunction(GroupSession.new_token)
    feedback_closes_at = factory.LazyAttribute(lambda o: o.ends_at + datetime.timedelta(days=14))


class SessionStaffFactory(DjangoModelFactory):
    class Meta:
        model = SessionStaff

    session = factory.SubFactory(GroupSessionFactory)
    user_id = 1
    role = "kuraattori"


class FollowUpFactory(DjangoModelFactory):
    class Meta:
        model = FollowUp

    session = factory.SubFactory(GroupSessionFactory)
    title = "Välituntikiusaaminen nousi esiin"
    month = datetime.date(2026, 11, 1)


class FeedbackResponseFactory(DjangoModelFactory):
    class Meta:
        model = FeedbackResponse

    session = factory.SubFactory(GroupSessionFactory)
    device_hash = factory.LazyAttributeSequence(lambda o, n: device_hash(o.session.feedback_token, f"device-{n}"))
    language = "fi"
    statement_1 = 4
    statement_2 = 5
    statement_3 = 3
    statement_4 = 4
