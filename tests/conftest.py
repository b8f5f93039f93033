"""Shared fixtures: municipalities are created once per test session (schemas are expensive)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from welfare.services.municipalities import create_municipality, ensure_public_tenant

ESPOO = {"slug": "espoo", "name_fi": "Espoo", "name_sv": "Esbo", "languages": ["fi", "sv"],
         "wellbeing_county": "Länsi-Uudenmaan hyvinvointialue"}
VANTAA = {"slug": "vantaa", "name_fi": "Vantaa", "name_sv": "Vanda", "languages": ["fi", "sv"],
          "wellbeing_county": "Vantaan ja Keravan hyvinvointialue"}


@pytest.fixture(scope="session")
def municipalities(django_db_setup, django_db_blocker):
    """Public tenant plus Espoo and Vantaa, committed once for the whole session."""
    with django_db_blocker.unblock():
        ensure_public_tenant()
        espoo = create_municipality(**ESPOO).municipality
        vantaa = create_municipality(**VANTAA).municipality
    return {"espoo": espoo, "vantaa": vantaa}


@pytest.fixture
def espoo(municipalities):
    return municipalities["espoo"]


@pytest.fixture
def vantaa(municipalities):
    return municipalities["vantaa"]


@pytest.fixture(autouse=True)
def _reset_schema_after_test():
    """In-process requests leave the connection on the tenant's schema; reset after each test."""
    yield
    connection.set_schema_to_public()


def host(municipality) -> str:
    return f"{municipality.slug}.localhost"


@pytest.fixture
def espoo_client(espoo):
    return Client(headers={"host": host(espoo)})


@pytest.fixture
def vantaa_client(vantaa):
    return Client(headers={"host": host(vantaa)})


@pytest.fixture
def in_espoo(espoo):
    with schema_context(espoo.schema_name):
        yield espoo


@pytest.fixture
def in_vantaa(vantaa):
    with schema_context(vantaa.schema_name):
        yield vantaa
