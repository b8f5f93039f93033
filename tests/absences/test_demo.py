"""The demo municipalities show absence follow-up at work (make run)."""

from __future__ import annotations

import pytest
from django.db.models import Sum
from django.utils import timezone
from django_tenants.utils import schema_context

from absences.models import AbsenceCase, AbsenceRecord, AbsenceRollup, Escalation, EscalationRollup
from absences.selectors import active_policy_version
from welfare.models import Term
from welfare.services.demo import seed_demo

pytestmark = pytest.mark.django_db


def test_demo_has_a_published_policy_absences_and_raised_steps(municipalities):
    seed_demo("small")
    seed_demo("small")  # idempotent: the second run adds nothing
    with schema_context("espoo"):
        assert active_policy_version() is not None
        records = AbsenceRecord.objects.count()
        assert records > 100
        assert not AbsenceRecord.objects.filter(date__gte=timezone.localdate()).exists()
        levels = set(Escalation.objects.filter(kind="threshold").values_list("level", flat=True))
        assert {1, 2} <= levels  # past 30 h and 50 h
        assert AbsenceCase.objects.count() < AbsenceRecord.objects.values("student").distinct().count()
        # The dashboards read rollups only: the demo's must already hold its hours and steps.
        in_terms = sum(AbsenceRecord.objects.filter(date__range=(term.start_date, term.end_date))
                       .aggregate(hours=Sum("hours"))["hours"] or 0 for term in Term.objects.all())
        assert in_terms and AbsenceRollup.objects.aggregate(hours=Sum("hours"))["hours"] == in_terms
        assert EscalationRollup.objects.filter(level=1).exists()
    seed_demo("small")
    with schema_context("espoo"):
        assert AbsenceRecord.objects.count() == records
