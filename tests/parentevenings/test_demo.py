"""The module's demo seed: quick, idempotent, and the evenings look alive (languages, RTL texts,
interpreters, registrations, head counts and feedback)."""

from __future__ import annotations

import datetime

import pytest

from parentevenings import demo
from parentevenings.models import EveningLanguage, Feedback, ParentEvening
from tests.factories import SchoolFactory

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent_and_fills_the_module(in_espoo):
    SchoolFactory(area="Tapiola")
    SchoolFactory(area="Leppävaara")
    today = datetime.date(2026, 9, 1)
    demo.seed(today=today)
    demo.seed(today=today)
    assert ParentEvening.objects.count() == 4
    assert ParentEvening.objects.filter(date__gt=today).count() == 2
    assert set(EveningLanguage.objects.values_list("code", flat=True)) == {"fi", "ar", "so", "ru", "prs", "ckb"}
    assert Feedback.objects.exists()
    assert EveningLanguage.objects.filter(head_count__isnull=False).exists()
