"""The REST API at /api/v1/: who gets in, what they see, and that one municipality never shows another's data."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import schema_context
from rest_framework.authtoken.models import Token

from tests.conftest import host
from tests.factories import (
    SchoolFactory,
    StaffRoleFactory,
    StudentFactory,
    TeachingGroupFactory,
    UserFactory,
)
from welfare.models import Role, School, Student

pytestmark = pytest.mark.django_db


def api_client(municipality, user=None, *, token: bool = False) -> Client:
    """A client on the municipality's host, signed in by session (default) or by token."""
    headers = {"host": host(municipality)}
    if user is not None and token:
        headers["authorization"] = f"Token {Token.objects.get_or_create(user=user)[0].key}"
    client = Client(headers=headers)
    if user is not None and not token:
        client.force_login(user)
    return client


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.fixture
def espoo_data(espoo):
    """Two schools in Espoo, a group in each, pupils, and one user per role under test."""
    with schema_context(espoo.schema_name):
        school_a = SchoolFactory(name="Espoon Kaivomäen koulu")
        school_b = SchoolFactory(name="Espoon Lintuvaaran koulu")
        group_a7 = TeachingGroupFactory(school=school_a, grade=7, name="7A")
        group_a8 = TeachingGroupFactory(school=school_a, grade=8, name="8A", school_year=group_a7.school_year)
        group_b7 = TeachingGroupFactory(school=school_b, grade=7, name="7B", school_year=group_a7.school_year)
        pupils = {
            "a7": StudentFactory.create_batch(3, group=group_a7),
            "a8": StudentFactory.create_batch(2, group=group_a8),
            "b7": StudentFactory.create_batch(2, group=group_b7),
        }
        users = {"principal": UserFactory(), "teacher": UserFactory(), "coordinator": UserFactory()}
        StaffRoleFactory(user=users["principal"], role=Role.PRINCIPAL, school=school_a)
        StaffRoleFactory(user=users["teacher"], role=Role.CLASS_TEACHER, school=school_a, groups=[group_a7])
        StaffRoleFactory(user=users["coordinator"], role=Role.MUNICIPAL_COORDINATOR, school=None)
    return {"schools": (school_a, school_b), "groups": (group_a7, group_a8, group_b7), "pupils": pupils, **users}


@pytest.fixture
def vantaa_principal(vantaa):
    """A user who holds a role in Vantaa only, principal of a school with a name Espoo does not use."""
    with schema_context(vantaa.schema_name):
        school = SchoolFactory(name="Vantaan Tikkurilan koulu")
        user = UserFactory()
        StaffRoleFactory(user=user, role=Role.PRINCIPAL, school=school)
    return user


def ids(rows) -> set[int]:
    return {row["id"] for row in rows}


# --- Who gets in ---------------------------------------------------------------------------


@pytest.mark.parametrize("token", [False, True], ids=["session", "token"])
def test_staff_list_schools_by_session_and_by_token(espoo, espoo_data, token):
    rows = results(api_client(espoo, espoo_data["principal"], token=token).get("/api/v1/schools/"))
    assert {row["name"] for row in rows} == {"Espoon Kaivomäen koulu", "Espoon Lintuvaaran koulu"}


def test_anonymous_is_refused(espoo, espoo_data):
    response = api_client(espoo).get("/api/v1/schools/")
    assert response.status_code in (401, 403)
    assert "Kaivomäen" not in response.content.decode()


def test_signed_in_user_without_a_role_here_is_refused(espoo, espoo_data):
    response = api_client(espoo, UserFactory()).get("/api/v1/schools/")
    assert response.status_code == 403


def test_vantaa_token_on_espoo_host_is_refused_and_shows_nothing(espoo, espoo_data, vantaa_principal):
    client = api_client(espoo, vantaa_principal, token=True)
    for path in ["/api/v1/schools/", "/api/v1/students/", f"/api/v1/schools/{espoo_data['schools'][0].pk}/"]:
        response = client.get(path)
        assert response.status_code == 403, path
        body = response.content.decode()
        assert "Espoon" not in body and "results" not in body


def test_revoked_role_no_longer_opens_the_api(espoo, espoo_data):
    from django.utils import timezone

    from welfare.models import StaffRole

    client = api_client(espoo, espoo_data["principal"], token=True)
    assert client.get("/api/v1/schools/").status_code == 200
    with schema_context(espoo.schema_name):
        StaffRole.objects.filter(user_id=espoo_data["principal"].pk).update(revoked_at=timezone.now())
    assert client.get("/api/v1/schools/").status_code == 403


# --- What each role sees -------------------------------------------------------------------


def test_class_teacher_sees_only_own_group(espoo, espoo_data):
    rows = results(api_client(espoo, espoo_data["teacher"]).get("/api/v1/students/"))
    assert ids(rows) == {pupil.pk for pupil in espoo_data["pupils"]["a7"]}


def test_principal_sees_own_school_only(espoo, espoo_data):
    rows = results(api_client(espoo, espoo_data["principal"]).get("/api/v1/students/"))
    pupils = espoo_data["pupils"]
    assert ids(rows) == {pupil.pk for pupil in pupils["a7"] + pupils["a8"]}


def test_coordinator_gets_an_empty_list_and_no_names(espoo, espoo_data):
    client = api_client(espoo, espoo_data["coordinator"])
    response = client.get("/api/v1/students/")
    assert results(response) == []
    body = response.content.decode()
    for pupil in sum(espoo_data["pupils"].values(), []):
        assert pupil.last_name not in body
    assert client.get(f"/api/v1/students/{espoo_data['pupils']['a7'][0].pk}/").status_code == 404


def test_pupil_outside_need_to_know_is_404_not_shown(espoo, espoo_data):
    other_school_pupil = espoo_data["pupils"]["b7"][0]
    response = api_client(espoo, espoo_data["principal"]).get(f"/api/v1/students/{other_school_pupil.pk}/")
    assert response.status_code == 404
    assert other_school_pupil.last_name not in response.content.decode()


# --- One municipality never shows another's data -----------------------------------------------


def test_each_host_lists_only_its_own_schools(espoo, vantaa, espoo_data, vantaa_principal):
    # One person with a role in both municipalities: the host, not the user, picks the data.
    user = espoo_data["principal"]
    with schema_context(vantaa.schema_name):
        StaffRoleFactory(user=user, role=Role.PRINCIPAL, school=School.objects.get(name="Vantaan Tikkurilan koulu"))
    vantaa_names = {row["name"] for row in results(api_client(vantaa, user, token=True).get("/api/v1/schools/"))}
    espoo_names = {row["name"] for row in results(api_client(espoo, user, token=True).get("/api/v1/schools/"))}
    assert vantaa_names == {"Vantaan Tikkurilan koulu"}
    assert espoo_names == {"Espoon Kaivomäen koulu", "Espoon Lintuvaaran koulu"}


def test_espoo_student_id_on_vantaa_host_is_404(vantaa, espoo_data, vantaa_principal):
    espoo_pupil = espoo_data["pupils"]["a7"][0]
    with schema_context(vantaa.schema_name):
        assert not Student.objects.filter(pk=espoo_pupil.pk).exists()  # ids are schema-local
    response = api_client(vantaa, vantaa_principal, token=True).get(f"/api/v1/students/{espoo_pupil.pk}/")
    assert response.status_code == 404
    assert espoo_pupil.last_name not in response.content.decode()


# --- Filters and pagination ----------------------------------------------------------------


def test_student_filters(espoo, espoo_data):
    client = api_client(espoo, espoo_data["principal"])
    group_a7, group_a8, _ = espoo_data["groups"]
    pupils = espoo_data["pupils"]
    assert ids(results(client.get("/api/v1/students/", {"grade": 8}))) == ids_of(pupils["a8"])
    assert ids(results(client.get("/api/v1/students/", {"group": group_a7.pk}))) == ids_of(pupils["a7"])
    # A filter never widens what the policy allows: the other school's pupils stay out.
    school_b = espoo_data["schools"][1]
    assert results(client.get("/api/v1/students/", {"school": school_b.pk})) == []


def test_group_filters(espoo, espoo_data):
    client = api_client(espoo, espoo_data["coordinator"])
    school_a, school_b = espoo_data["schools"]
    group_a7, group_a8, group_b7 = espoo_data["groups"]
    assert ids(results(client.get("/api/v1/groups/", {"school": school_a.pk}))) == {group_a7.pk, group_a8.pk}
    assert ids(results(client.get("/api/v1/groups/", {"grade": 7}))) == {group_a7.pk, group_b7.pk}
    assert ids(results(client.get("/api/v1/groups/", {"school": school_b.pk, "grade": 7}))) == {group_b7.pk}
    year = group_a7.school_year_id
    assert len(results(client.get("/api/v1/groups/", {"school_year": year}))) == 3
    assert results(client.get("/api/v1/groups/", {"school_year": year + 1000})) == []


@pytest.mark.parametrize(
    ("path", "query", "param"),
    [
        ("/api/v1/students/", "grade=seventh", "grade"),
        ("/api/v1/students/", "school=-1", "school"),
        ("/api/v1/students/", "group=99999999999999999999999", "group"),
        ("/api/v1/groups/", "school_year=2026-2027", "school_year"),
        ("/api/v1/groups/", "grade=1e400", "grade"),
    ],
)
def test_bad_filter_value_is_a_400_naming_the_parameter(espoo, espoo_data, path, query, param):
    response = api_client(espoo, espoo_data["principal"]).get(f"{path}?{query}")
    assert response.status_code == 400
    assert param in response.json()


def test_pagination(espoo, espoo_data):
    with schema_context(espoo.schema_name):
        SchoolFactory.create_batch(55)
    client = api_client(espoo, espoo_data["coordinator"], token=True)
    first = client.get("/api/v1/schools/").json()
    assert first["count"] == 57 and len(first["results"]) == 50 and first["previous"] is None
    assert "page=2" in first["next"]
    second = client.get("/api/v1/schools/", {"page": 2}).json()
    assert len(second["results"]) == 7 and second["next"] is None
    assert not ids(first["results"]) & ids(second["results"])
    assert client.get("/api/v1/schools/", {"page": 9}).status_code == 404


def ids_of(objects) -> set[int]:
    return {obj.pk for obj in objects}
