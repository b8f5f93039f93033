"""A small Espoo world for the group session tests: a basic school with 7A and 7B, another
school, and one user per role (school roles at the first school)."""

from __future__ import annotations

import base64
import datetime
import secrets

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django_tenants.utils import schema_context

from groupsessions import services
from groupsessions.models import CohortGroup
from tests.conftest import host
from tests.factories import (
    SchoolFactory,
    SchoolYearFactory,
    StaffRoleFactory,
    StudentFactory,
    TeachingGroupFactory,
    UserFactory,
    give_totp,
    sign_in,
)
from welfare.models import MUNICIPAL_ROLES, Role


def client_for(municipality, user, *, language: str = "en") -> Client:
    if user is not None and not Authenticator.objects.filter(user=user).exists():
        give_totp(user, base64.b32encode(secrets.token_bytes(20)).decode())
    client = Client(headers={"host": host(municipality), "accept-language": language})
    return sign_in(client, user, mfa_age_seconds=60) if user is not None else client


@pytest.fixture
def world(espoo):
    with schema_context(espoo.schema_name):
        year = SchoolYearFactory(start_date=datetime.date(2026, 8, 1), end_date=datetime.date(2027, 7, 31))
        school = SchoolFactory(name="Kaivomäen koulu")
        other = SchoolFactory(name="Lintuvaaran koulu")
        g7a = TeachingGroupFactory(school=school, school_year=year, name="7A", grade=7)
        g7b = TeachingGroupFactory(school=school, school_year=year, name="7B", grade=7)
        o7a = TeachingGroupFactory(school=other, school_year=year, name="7A", grade=7)
        for _ in range(3):
            StudentFactory(group=g7a)
        users = {}
        for role in Role:
            user = UserFactory(first_name=role.label.split(" ")[0], last_name=f"Testi-{role.value}")
            StaffRoleFactory(user=user, role=role, school=None if role in MUNICIPAL_ROLES else school,
                             groups=[g7a] if role == Role.CLASS_TEACHER else None)
            users[role] = user
        other_kuraattori = UserFactory(first_name="Toinen", last_name="Kuraattori")
        StaffRoleFactory(user=other_kuraattori, role=Role.SCHOOL_SOCIAL_WORKER, school=other)
        services.sync_cohort(year)
        cohort = {(g.school_id, g.name): g for g in CohortGroup.objects.all()}
    return {"year": year, "school": school, "other": other, "users": users, "other_kuraattori": other_kuraattori,
            "g7a": cohort[(school.pk, "7A")], "g7b": cohort[(school.pk, "7B")],
            "o7a": cohort[(other.pk, "7A")], "teaching_7a": g7a, "teaching_o7a": o7a, "teaching_7b": g7b}
