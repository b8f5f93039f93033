"""Pupil pages: need to know, step-up MFA before the record, and an audit entry for every pupil shown."""

from __future__ import annotations

import base64
import secrets
from urllib.parse import parse_qs, urlparse

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django_tenants.utils import schema_context

from tests.conftest import host
from tests.factories import (
    GuardianFactory,
    SchoolFactory,
    StaffRoleFactory,
    StudentFactory,
    TeachingGroupFactory,
    UserFactory,
    give_totp,
    sign_in,
    totp_code,
)
from welfare.models import AuditAction, AuditEvent, MunicipalSettings, Role, Student

pytestmark = pytest.mark.django_db


def client_for(municipality, user, *, mfa_age_seconds=60, **headers) -> Client:
    # A TOTP secret of the user's own: allauth remembers used codes by user id and code only, in a
    # Redis that parallel test runs share.
    if not Authenticator.objects.filter(user=user).exists():
        user.totp_secret = base64.b32encode(secrets.token_bytes(20)).decode()
        give_totp(user, user.totp_secret)
    return sign_in(Client(headers={"host": host(municipality), **headers}), user, mfa_age_seconds=mfa_age_seconds)


def reads(schema: str, **filters) -> list[AuditEvent]:
    with schema_context(schema):
        return list(AuditEvent.objects.filter(action=AuditAction.READ, **filters).order_by("id"))


@pytest.fixture
def world(espoo):
    """Espoo: school A with groups 7A (55 pupils, so the list has two pages) and 8A (2 pupils);
    school B (2 pupils). A principal of A, the class teacher of 7A, a coordinator."""
    with schema_context(espoo.schema_name):
        school_a, school_b = SchoolFactory(name="Kaivomäen koulu"), SchoolFactory(name="Lintuvaaran koulu")
        group_7a = TeachingGroupFactory(school=school_a, name="7A", grade=7)
        group_8a = TeachingGroupFactory(school=school_a, name="8A", grade=8, school_year=group_7a.school_year)
        group_b = TeachingGroupFactory(school=school_b, name="7B", grade=7, school_year=group_7a.school_year)
        pupils_7a = StudentFactory.create_batch(55, group=group_7a)
        pupils_8a = StudentFactory.create_batch(2, group=group_8a)
        pupils_b = StudentFactory.create_batch(2, group=group_b)
        named = StudentFactory(group=group_8a, first_name="Ainomaria", last_name="Zetterqvist", external_id="EXT-777")
        guardian = GuardianFactory(name="Maija Zetterqvist", language="fi")
        guardian.students.add(named)
        users = {"principal": UserFactory(first_name="Riikka", last_name="Rehtori"),
                 "teacher": UserFactory(first_name="Olli", last_name="Opettaja"),
                 "coordinator": UserFactory(first_name="Kaisa", last_name="Koordinaattori")}
        StaffRoleFactory(user=users["principal"], role=Role.PRINCIPAL, school=school_a)
        StaffRoleFactory(user=users["teacher"], role=Role.CLASS_TEACHER, school=school_a, groups=[group_7a])
        StaffRoleFactory(user=users["coordinator"], role=Role.MUNICIPAL_COORDINATOR, school=None)
    return {"a7": pupils_7a, "a8": [*pupils_8a, named], "b": pupils_b, "named": named, **users}


# --- The list -------------------------------------------------------------------------

def test_list_logs_every_pupil_it_returned(espoo, world):
    client = client_for(espoo, world["principal"])
    response = client.get("/pupils/")
    assert response.status_code == 200
    shown = list(response.context["page"].object_list)
    assert len(shown) == 50  # school A has 58 pupils: 50 on page one
    entries = reads(espoo.schema_name, user_id=world["principal"].pk)
    assert len(entries) == 50
    assert sorted(e.student_id for e in entries) == sorted(p.pk for p in shown)
    assert {e.object_type for e in entries} == {"welfare.student"}

    response = client.get("/pupils/?page=2")
    assert len(response.context["page"].object_list) == 8
    assert len(reads(espoo.schema_name, user_id=world["principal"].pk)) == 58


def test_principal_sees_own_school_only(espoo, world):
    response = client_for(espoo, world["principal"]).get("/pupils/?page=2")
    body = response.content.decode()
    for pupil in world["b"]:
        assert pupil.external_id not in body
    assert response.context["page"].paginator.count == 58


def test_class_teacher_sees_own_group_only(espoo, world):
    response = client_for(espoo, world["teacher"]).get("/pupils/?page=2")
    assert response.context["page"].paginator.count == 55
    ids = {p.pk for p in response.context["page"].object_list}
    assert ids <= {p.pk for p in world["a7"]}


@pytest.mark.parametrize("query", ["EXT-777", "ext-777", "zetterqvist", "ainomaria zett"])
def test_search_by_register_id_or_name(espoo, world, query):
    client = client_for(espoo, world["principal"])
    response = client.get("/pupils/", {"q": query})
    assert [p.pk for p in response.context["page"].object_list] == [world["named"].pk]
    assert "Zetterqvist Ainomaria" in response.content.decode()
    assert [e.student_id for e in reads(espoo.schema_name)] == [world["named"].pk]


def test_search_does_not_reach_outside_need_to_know(espoo, world):
    response = client_for(espoo, world["teacher"]).get("/pupils/", {"q": "EXT-777"})  # 8A: not the teacher's
    assert response.context["page"].paginator.count == 0
    assert "Zetterqvist" not in response.content.decode()
    assert reads(espoo.schema_name) == []


def test_coordinator_sees_no_names_and_cannot_open_a_pupil(espoo, world):
    client = client_for(espoo, world["coordinator"])
    response = client.get("/pupils/", headers={"accept-language": "en"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "aggregates only" in body
    for pupil in [*world["a7"], world["named"]]:
        assert pupil.external_id not in body
    assert "Zetterqvist" not in body
    response = client.get(f"/pupils/{world['named'].pk}/")
    assert response.status_code == 404
    assert "Zetterqvist" not in response.content.decode()
    assert reads(espoo.schema_name) == []
    with schema_context(espoo.schema_name):
        denied = list(AuditEvent.objects.filter(action=AuditAction.DENIED))
    assert [(d.user_id, d.student_id) for d in denied] == [(world["coordinator"].pk, world["named"].pk)]


def test_anonymous_is_sent_to_sign_in(espoo, world):
    response = Client(headers={"host": host(espoo)}).get("/pupils/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- The record -----------------------------------------------------------------------

def test_record_with_fresh_second_factor_shows_register_data_and_logs_the_read(espoo, world):
    client = client_for(espoo, world["principal"], mfa_age_seconds=60, x_request_id="req-pupil-123")
    named = world["named"]
    response = client.get(f"/pupils/{named.pk}/", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("Zetterqvist Ainomaria", "EXT-777", "Kaivomäen koulu", "8A", "Maija Zetterqvist"):
        assert text in body
    assert response["X-Request-ID"] == "req-pupil-123"
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    [entry] = reads(espoo.schema_name)
    assert entry.student_id == named.pk
    assert (entry.object_type, entry.object_id) == ("welfare.student", str(named.pk))
    assert entry.user_id == world["principal"].pk
    assert entry.user_email == world["principal"].email
    assert entry.roles.startswith(f"{Role.PRINCIPAL.value}@")
    assert entry.ip_address == "10.1.2.3"
    assert entry.request_id == "req-pupil-123"
    assert entry.path == f"/pupils/{named.pk}/"


def test_record_with_an_old_second_factor_asks_for_it_again(espoo, world):
    client = client_for(espoo, world["principal"], mfa_age_seconds=20 * 60)
    path = f"/pupils/{world['named'].pk}/"
    response = client.get(path)
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert location.path == "/accounts/2fa/reauthenticate/"
    assert parse_qs(location.query) == {"next": [path]}
    assert reads(espoo.schema_name) == []  # nothing was shown, nothing logged


def test_step_up_follows_the_municipal_setting(espoo, world):
    with schema_context(espoo.schema_name):
        MunicipalSettings.objects.update_or_create(pk=1, defaults={"step_up_minutes": 30})
    path = f"/pupils/{world['named'].pk}/"
    response = client_for(espoo, world["principal"], mfa_age_seconds=20 * 60).get(path)
    assert response.status_code == 200 and world["named"].last_name in response.content.decode()
    stale = client_for(espoo, world["principal"], mfa_age_seconds=40 * 60).get(path)
    assert stale.status_code == 302 and "reauthenticate" in stale["Location"]


def test_a_code_on_the_reauthenticate_page_leads_back_to_the_record(espoo, world):
    client = client_for(espoo, world["principal"], mfa_age_seconds=20 * 60)
    path = f"/pupils/{world['named'].pk}/"
    reauth = client.get(path)["Location"]
    page = client.get(reauth)
    assert page.status_code == 200
    assert 'name="next"' in page.content.decode()  # allauth passes ?next= on in a hidden field
    response = client.post(reauth, {"code": totp_code(world["principal"].totp_secret), "next": path})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == path
    response = client.get(path)
    assert response.status_code == 200
    assert len(reads(espoo.schema_name, student_id=world["named"].pk)) == 1


def test_wrong_code_keeps_the_record_closed(espoo, world):
    client = client_for(espoo, world["principal"], mfa_age_seconds=20 * 60)
    path = f"/pupils/{world['named'].pk}/"
    reauth = client.get(path)["Location"]
    right = totp_code(world["principal"].totp_secret)
    response = client.post(reauth, {"code": "000000" if right != "000000" else "111111", "next": path})
    assert response.status_code == 200  # the form again, with an error
    assert client.get(path).status_code == 302
    assert reads(espoo.schema_name) == []


def test_pupil_outside_need_to_know_and_missing_pupil_look_the_same(espoo, world):
    client = client_for(espoo, world["teacher"])
    other = client.get(f"/pupils/{world['named'].pk}/")  # 8A, not the teacher's group
    with schema_context(espoo.schema_name):
        missing_pk = (Student.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    missing = client.get(f"/pupils/{missing_pk}/")
    assert other.status_code == missing.status_code == 404
    assert "Zetterqvist" not in other.content.decode()
    assert reads(espoo.schema_name) == []


def test_vantaa_pupil_on_espoo_host_is_404_and_shows_nothing(espoo, vantaa, world):
    with schema_context(espoo.schema_name):
        espoo_visible = set(Student.objects.filter(school__name="Kaivomäen koulu").values_list("pk", flat=True))
    with schema_context(vantaa.schema_name):
        # A Vantaa pupil whose id is not one of the principal's Espoo pupils (ids are per schema).
        pupil = StudentFactory(first_name="Vantaalainen", last_name="Oppilas", external_id="VANTAA-1")
        while pupil.pk in espoo_visible:
            pupil = StudentFactory(first_name="Vantaalainen", last_name="Oppilas")
    response = client_for(espoo, world["principal"]).get(f"/pupils/{pupil.pk}/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Vantaalainen" not in body and "VANTAA-1" not in body
    assert reads(vantaa.schema_name) == []
    assert reads(espoo.schema_name) == []


def test_user_without_role_here_gets_403(espoo, vantaa, world):
    with schema_context(vantaa.schema_name):
        vantaa_principal = UserFactory()
        StaffRoleFactory(user=vantaa_principal, role=Role.PRINCIPAL)
    client = client_for(espoo, vantaa_principal)
    assert client.get("/pupils/").status_code == 403
    assert client.get(f"/pupils/{world['named'].pk}/").status_code == 403
