"""A school's clock world in Espoo: two schools, the welfare group, a teacher, a coordinator."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from tests.annualclock.factories import ClockFactory, school_year_2026
from tests.conftest import host
from tests.factories import SchoolFactory, StaffRoleFactory, UserFactory, sign_in
from welfare.models import Role


@pytest.fixture
def world(espoo):
    with schema_context(espoo.schema_name):
        year = school_year_2026()
        school = SchoolFactory(name="Kaivomäen koulu")
        other_school = SchoolFactory(name="Lintuvaaran koulu")
        users = {name: UserFactory(first_name=name.capitalize(), last_name="Testinen")
                 for name in ("principal", "kuraattori", "teacher", "coordinator", "admin", "other_principal",
                              "nurse")}
        StaffRoleFactory(user=users["principal"], role=Role.PRINCIPAL, school=school)
        StaffRoleFactory(user=users["kuraattori"], role=Role.SCHOOL_SOCIAL_WORKER, school=school)
        StaffRoleFactory(user=users["nurse"], role=Role.SCHOOL_NURSE, school=school)
        StaffRoleFactory(user=users["teacher"], role=Role.CLASS_TEACHER, school=school)
        StaffRoleFactory(user=users["coordinator"], role=Role.MUNICIPAL_COORDINATOR, school=None)
        StaffRoleFactory(user=users["admin"], role=Role.MUNICIPAL_ADMIN, school=None)
        StaffRoleFactory(user=users["other_principal"], role=Role.PRINCIPAL, school=other_school)
        clock = ClockFactory(school=school, school_year=year)
    return SimpleNamespace(year=year, school=school, other_school=other_school, clock=clock, **users)


@pytest.fixture
def client_for(espoo):
    def make(user):
        return sign_in(Client(headers={"host": host(espoo)}), user)

    return make
