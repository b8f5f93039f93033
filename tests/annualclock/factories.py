"""Factories of the annual clock's models (use inside a municipality's schema)."""

from __future__ import annotations

import datetime

import factory
from factory.django import DjangoModelFactory

from annualclock.models import Activity, Clock, ClockTemplate, Evaluation, Ring
from tests.factories import SchoolFactory, SchoolYearFactory


def ring(code: str = "communal") -> Ring:
    """One of the default rings (made again if a transactional test emptied the tables)."""
    from annualclock.defaults import ensure_default_rings

    if not Ring.objects.filter(code=code).exists():
        ensure_default_rings()
    return Ring.objects.get(code=code)


class ClockTemplateFactory(DjangoModelFactory):
    class Meta:
        model = ClockTemplate

    name = factory.Sequence(lambda n: f"Mallivuosikello {n}")
    school_type = "basic"


class ClockFactory(DjangoModelFactory):
    class Meta:
        model = Clock

    school = factory.SubFactory(SchoolFactory)
    school_year = factory.SubFactory(SchoolYearFactory)


class ActivityFactory(DjangoModelFactory):
    """A clock activity (pass template=... and clock=None for a template activity)."""

    class Meta:
        model = Activity

    clock = factory.SubFactory(ClockFactory)
    ring = factory.LazyFunction(ring)
    title_fi = factory.Sequence(lambda n: f"Toiminta {n}")
    month_start = 9
    month_end = 9


class EvaluationFactory(DjangoModelFactory):
    class Meta:
        model = Evaluation

    activity = factory.SubFactory(ActivityFactory)
    what_happened = "Toteutui."


def school_year_2026():
    """2026–2027 with its two terms."""
    from welfare.models import Term

    year = SchoolYearFactory()
    Term.objects.get_or_create(school_year=year, name="syksy", defaults={
        "start_date": datetime.date(2026, 8, 12), "end_date": datetime.date(2026, 12, 21)})
    Term.objects.get_or_create(school_year=year, name="kevät", defaults={
        "start_date": datetime.date(2027, 1, 7), "end_date": datetime.date(2027, 6, 5)})
    return year
