"""Demo data of absence follow-up for ``seed_demo`` (called inside the municipality's schema).

The capital-region LAPE staircase is published, and about one pupil in twelve of the current
school year gets absences from the start of the year to yesterday: most a few hours, some past
the 30 h and 50 h steps, a few on three days in a row or with an absence still unexplained. The
evaluation then raises their escalations and the dashboards' rollups are rebuilt, so the
worklists, case pages, the principal's view and the dashboards have something to show.
Deterministic (a fixed random seed) and idempotent (skipped when the municipality already has a
policy or absence records).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from absences.models import AbsenceCategory, AbsenceRecord, ThresholdPolicy
from absences.services.evaluation import evaluate_students
from absences.services.policies import create_policy_from_preset
from absences.services.rollups import refresh_all
from welfare.models import SchoolYear, Student

SHARE_OF_PUPILS = 12  # one pupil in twelve
PROFILES = [  # (weight, hours in the period so far)
    (60, (2, 20)),
    (25, (30, 45)),
    (10, (50, 65)),
    (5, (72, 90)),
]
CATEGORIES = [("health", 60), ("leave", 15), ("other_explained", 10), ("unexplained", 10), ("unclassified", 5)]


def seed(*, today: date) -> None:
    if ThresholdPolicy.objects.exists() or AbsenceRecord.objects.exists():
        return
    year = SchoolYear.objects.containing(today)
    if year is None:
        return
    create_policy_from_preset("lape", publish=True)
    categories = {c.code: c for c in AbsenceCategory.objects.all()}
    if not categories:
        return
    days = [year.start_date + timedelta(days=n) for n in range((today - year.start_date).days)]
    days = [day for day in days if day.weekday() < 5 and day.month not in (6, 7)]
    if not days:
        return
    rng = random.Random(2026)
    pupils = list(Student.objects.filter(group__school_year=year).order_by("pk").values_list("pk", flat=True))
    rows = []
    for student_id in pupils[::SHARE_OF_PUPILS]:
        low, high = rng.choices([p[1] for p in PROFILES], weights=[p[0] for p in PROFILES])[0]
        left = Decimal(rng.randint(low, high))
        used: set[date] = set()
        while left > 0 and len(used) < len(days):
            day = rng.choice(days)
            if day in used:
                continue
            used.add(day)
            hours = min(left, Decimal(rng.choice([1, 2, 2, 3, 4, 5, 6])))
            code = rng.choices([c[0] for c in CATEGORIES], weights=[c[1] for c in CATEGORIES])[0]
            rows.append(AbsenceRecord(student_id=student_id, date=day, category=categories.get(code) or
                                      next(iter(categories.values())), hours=hours))
            left -= hours
    AbsenceRecord.objects.bulk_create(rows, batch_size=5000)
    evaluate_students(today=today)
    refresh_all()  # the dashboards read rollups only; without this they stay empty until the nightly run
