"""One municipality never sees another's data: pages, sessions and reused connections."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import schema_context, tenant_context

from tests.factories import SchoolFactory, StaffRoleFactory, UserFactory
from welfare.models import Role, School

pytestmark = pytest.mark.django_db
BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def two_municipalities_with_schools(espoo, vantaa):
    with schema_context(espoo.schema_name):
        espoo_school = SchoolFactory(name="Tapiolan koulu (Espoo)")
    with schema_context(vantaa.schema_name):
        vantaa_school = SchoolFactory(name="Tikkurilan koulu (Vantaa)")
    return espoo_school, vantaa_school


def _staff_in(municipality, role=Role.MUNICIPAL_COORDINATOR):
    user = UserFactory()
    with schema_context(municipality.schema_name):
        StaffRoleFactory(user=user, role=role, school=None)
    return user


def test_each_host_shows_only_its_own_schools(two_municipalities_with_schools, espoo, vantaa,
                                             espoo_client, vantaa_client):
    espoo_client.force_login(_staff_in(espoo))
    vantaa_client.force_login(_staff_in(vantaa))
    espoo_page = espoo_client.get("/dashboard/").content.decode()
    vantaa_page = vantaa_client.get("/dashboard/").content.decode()
    assert "Tapiolan koulu (Espoo)" in espoo_page and "Tikkurilan koulu (Vantaa)" not in espoo_page
    assert "Tikkurilan koulu (Vantaa)" in vantaa_page and "Tapiolan koulu (Espoo)" not in vantaa_page


def test_valid_session_on_another_municipalitys_host_is_refused(two_municipalities_with_schools, espoo,
                                                                espoo_client):
    """Host-header swap: the session is valid, but the user holds no role in Vantaa."""
    espoo_client.force_login(_staff_in(espoo))
    response = espoo_client.get("/dashboard/", headers={"host": "vantaa.localhost"})
    assert response.status_code == 403
    assert "Tikkurilan koulu" not in response.content.decode()
    assert "Tapiolan koulu" not in response.content.decode()


def test_county_user_works_in_each_municipality_they_serve(two_municipalities_with_schools, espoo, vantaa,
                                                           espoo_client):
    county_user = _staff_in(espoo)
    with schema_context(vantaa.schema_name):
        StaffRoleFactory(user=county_user, role=Role.MUNICIPAL_COORDINATOR, school=None)
    espoo_client.force_login(county_user)
    assert "Tapiolan koulu" in espoo_client.get("/dashboard/").content.decode()
    in_vantaa = espoo_client.get("/dashboard/", headers={"host": "vantaa.localhost"}).content.decode()
    assert "Tikkurilan koulu" in in_vantaa and "Tapiolan koulu" not in in_vantaa


def test_alternating_tenants_on_one_connection_never_leaks(two_municipalities_with_schools, espoo, vantaa):
    for _ in range(25):
        for municipality, expected in ((espoo, "Tapiolan koulu (Espoo)"), (vantaa, "Tikkurilan koulu (Vantaa)")):
            with tenant_context(municipality):
                assert list(School.objects.values_list("name", flat=True)) == [expected]
                with connection.cursor() as cursor:
                    cursor.execute("SHOW search_path")
                    assert cursor.fetchone()[0].startswith(municipality.schema_name)
    # Back in public: tenant tables are not reachable at all.
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('welfare_school')")
        assert cursor.fetchone()[0] is None


def test_alternating_requests_on_one_connection_never_leak(two_municipalities_with_schools, espoo, vantaa,
                                                           espoo_client):
    user = _staff_in(espoo)
    with schema_context(vantaa.schema_name):
        StaffRoleFactory(user=user, role=Role.MUNICIPAL_COORDINATOR, school=None)
    espoo_client.force_login(user)
    for _ in range(10):
        assert "Tikkurilan koulu" not in espoo_client.get("/dashboard/").content.decode()
        assert "Tapiolan koulu" not in espoo_client.get(
            "/dashboard/", headers={"host": "vantaa.localhost"}).content.decode()


def _database_url() -> str:
    settings_dict = connection.settings_dict
    return f"postgresql://{settings_dict['USER']}@/{settings_dict['NAME']}?host={settings_dict['HOST']}"


@pytest.fixture
def committed_schools(espoo, vantaa):
    """Rows a separate process can see: written on a connection of their own, so they are
    committed (the test's own transaction is invisible to other processes)."""
    import psycopg

    rows = [(espoo.schema_name, "POOL-E", "Pool Espoo"), (vantaa.schema_name, "POOL-V", "Pool Vantaa")]
    with psycopg.connect(_database_url(), autocommit=True) as conn:
        for schema, external_id, name in rows:
            conn.execute(
                f'INSERT INTO "{schema}".welfare_school (external_id, name, school_type, grade_min, grade_max, '
                "language, area) VALUES (%s, %s, 'basic', 1, 9, 'fi', '')",
                (external_id, name),
            )
    yield
    with psycopg.connect(_database_url(), autocommit=True) as conn:
        for schema, external_id, _ in rows:
            conn.execute(f'DELETE FROM "{schema}".welfare_school WHERE external_id = %s', (external_id,))


def test_pooled_connections_never_leak_between_tenants(committed_schools):
    """With the in-process psycopg pool (DATABASE_POOL=1), connections are reused across
    municipalities; every checkout must get the right search_path."""
    env = {**os.environ, "DATABASE_URL": _database_url(), "DATABASE_POOL": "1", "DATABASE_POOL_SIZE": "2",
           "YHDESSA_TESTING": "1"}
    result = subprocess.run(
        [sys.executable, str(BASE_DIR / "tests" / "scripts" / "pool_probe.py")],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["pooled"] is True
    assert report["checks"] >= 200
    assert report["leaks"] == []
