"""The demo seed: a template adopted by two schools, with changes and evaluations; idempotent."""

from __future__ import annotations

import datetime

import pytest

from annualclock import demo
from annualclock.models import Activity, Clock, ClockTemplate, Evaluation
from annualclock.selectors import adoptions
from tests.factories import SchoolFactory
from welfare.services.demo.school_years import ensure_school_years

pytestmark = pytest.mark.django_db


def test_demo_seed_makes_the_module_look_alive_and_runs_once(in_espoo):
    today = datetime.date(2026, 11, 20)
    ensure_school_years(today)
    SchoolFactory.create_batch(2)
    demo.seed(today=today)
    template = ClockTemplate.objects.get(name=demo.TEMPLATE_NAME)
    assert template.activities.count() == len(demo.ACTIVITIES)
    assert Clock.objects.count() == 3  # two schools this year, the first one last year too
    rows = {row.clock.school_id: row for row in adoptions(template) if row.clock.school_year.contains(today)}
    assert sum(not row.unchanged for row in rows.values()) == 1
    assert Evaluation.objects.exists()
    count = Activity.objects.count()
    demo.seed(today=today)
    assert Activity.objects.count() == count
