"""Shared fixtures: municipalities are created once per test session (schemas are expensive)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tests.dbutil import FLUSH_SCHEMA, empty_committed_data
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


def _commits_data(request) -> bool:
    """Transactional tests (live_server, django_db(transaction=True)) commit what they create."""
    if {"live_server", "transactional_db"} & set(request.fixturenames):
        return True
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction"))


@pytest.fixture(autouse=True)
def _reset_schema_after_test(request):
    """In-process requests leave the connection on the tenant's schema; reset after each test.

    After a transactional test, pytest-django flushes the tables of the connection's current
    schema, which would be public: the session-wide municipalities would go. So such a test's
    committed rows are emptied here (tests/dbutil.py) and the flush is pointed at an empty schema.
    """
    yield
    if _commits_data(request):
        empty_committed_data()
        connection.set_schema(FLUSH_SCHEMA)
    else:
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
