"""Staff management: municipal administrators invite people, grant and revoke roles, deactivate."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django_tenants.utils import schema_context

from tests.conftest import host
from tests.factories import (
    SchoolFactory,
    SchoolYearFactory,
    StaffRoleFactory,
    TeachingGroupFactory,
    UserFactory,
    sign_in,
)
from welfare.accounts.models import User
from welfare.models import AuditAction, AuditEvent, Role, StaffRole

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Kuusi kuusta kuusessa 6"


def english_client(municipality, **kwargs) -> Client:
    """Messages are asserted in English: the client asks for English pages."""
    return Client(headers={"host": host(municipality), "accept-language": "en"}, **kwargs)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def permission_events(**filters):
    return list(AuditEvent.objects.filter(action=AuditAction.PERMISSION_CHANGE, **filters).order_by("id"))


@pytest.fixture
def schools(in_espoo):
    year = SchoolYearFactory()
    first = SchoolFactory(name="Aurinkolahden koulu")
    second = SchoolFactory(name="Kuitinmäen koulu")
    return {"first": first, "second": second, "year": year}


@pytest.fixture
def admin(in_espoo):
    user = UserFactory(email="paakayttaja@espoo.test", first_name="Paula", last_name="Pääkäyttäjä")
    StaffRoleFactory(user=user, role=Role.MUNICIPAL_ADMIN, school=None)
    return user


@pytest.fixture
def admin_client(espoo, admin):
    return sign_in(english_client(espoo), admin)


@pytest.fixture
def principal(schools):
    user = UserFactory(email="rehtori@espoo.test", first_name="Riikka", last_name="Rehtori")
    StaffRoleFactory(user=user, role=Role.PRINCIPAL, school=schools["first"])
    return user


@pytest.fixture
def county_worker(vantaa, in_espoo):
    """A counsellor of the wellbeing services county, with a role in Vantaa only (domain.md A2)."""
    user = UserFactory(email="kuraattori@vakehyva.test", first_name="Kalle", last_name="Kuraattori")
    with schema_context(vantaa.schema_name):
        school = SchoolFactory(name="Vantaan koulu")
        StaffRoleFactory(user=user, role=Role.SCHOOL_SOCIAL_WORKER, school=school)
    return user


def vantaa_roles(vantaa, user):
    with schema_context(vantaa.schema_name):
        return list(StaffRole.objects.filter(user_id=user.pk).values_list("role", "revoked_at"))


# --- The list -------------------------------------------------------------------------------


def test_admin_sees_the_staff_of_this_municipality_only(admin_client, principal, county_worker, schools, vantaa):
    with schema_context(vantaa.schema_name):
        StaffRoleFactory(user=UserFactory(email="rehtori@vantaa.test"), role=Role.PRINCIPAL,
                         school=SchoolFactory(name="Vantaankosken koulu"))
    response = admin_client.get("/staff/")
    assert response.status_code == 200
    page = text(response)
    assert "rehtori@espoo.test" in page and "Riikka Rehtori" in page
    assert "Principal, Aurinkolahden koulu" in page
    assert "paakayttaja@espoo.test" in page and "Municipal administrator, municipality-wide" in page
    assert "kuraattori@vakehyva.test" not in page  # works in Vantaa only
    assert "rehtori@vantaa.test" not in page
    assert "Vantaankosken koulu" not in page
    assert "2 people with a role" in page


def test_list_filters_by_school_and_role_and_shows_revoked_roles_as_history(admin_client, principal, schools):
    group = TeachingGroupFactory(school=schools["second"], school_year=schools["year"], name="7C")
    teacher = UserFactory(email="ope@espoo.test", first_name="Olli", last_name="Opettaja")
    StaffRoleFactory(user=teacher, role=Role.CLASS_TEACHER, school=schools["second"], groups=[group])
    nurse = UserFactory(email="th@espoo.test", first_name="Tiina", last_name="Terveydenhoitaja")
    StaffRoleFactory(user=nurse, role=Role.SCHOOL_NURSE, school=schools["second"], revoked_at="2026-09-01T12:00Z")

    by_school = text(admin_client.get("/staff/", {"school": schools["second"].pk}))
    assert "ope@espoo.test" in by_school and "Class teacher, Kuitinmäen koulu (7C)" in by_school
    assert "rehtori@espoo.test" not in by_school and "paakayttaja@espoo.test" not in by_school
    assert "Tiina Terveydenhoitaja" not in by_school  # revoked: not staff any more, and history is off

    by_role = text(admin_client.get("/staff/", {"role": Role.PRINCIPAL}))
    assert "rehtori@espoo.test" in by_role and "ope@espoo.test" not in by_role

    with_history = text(admin_client.get("/staff/", {"history": "on"}))
    assert "History: revoked roles" in with_history
    history = with_history.split("History: revoked roles", 1)[1]
    assert "Tiina Terveydenhoitaja" in history and "School nurse, Kuitinmäen koulu" in history
    assert "History: revoked roles" not in text(admin_client.get("/staff/"))


def test_the_list_fetches_users_in_one_query_however_many_people(admin_client, schools,
                                                                 django_assert_max_num_queries):
    def make_staff(count, offset):
        for n in range(count):
            group = TeachingGroupFactory(school=schools["first"], school_year=schools["year"])
            user = UserFactory(email=f"staff{offset + n}@espoo.test")
            StaffRoleFactory(user=user, role=Role.CLASS_TEACHER, school=schools["first"], groups=[group])
            StaffRoleFactory(user=user, role=Role.SCHOOL_NURSE, school=schools["second"],
                             revoked_at="2026-09-01T12:00Z")

    make_staff(2, 0)
    admin_client.get("/staff/")  # warm the session
    # 19: the page itself plus the header (roles, second-factor check, unread notifications).
    with django_assert_max_num_queries(19) as few:
        assert admin_client.get("/staff/", {"history": "on"}).status_code == 200
    make_staff(20, 100)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = admin_client.get("/staff/", {"history": "on"})
    page = text(response)
    assert "23 people with a role" in page and page.count("School nurse, Kuitinmäen koulu") == 22
    # Users come from the public schema by id: one query for the list, one for the history.
    user_queries = [q["sql"] for q in many.captured_queries if 'FROM "accounts_user"' in q["sql"]]
    assert len([sql for sql in user_queries if '"id" IN' in sql]) == 2


# --- Invitations ----------------------------------------------------------------------------


def invite(client, **overrides):
    data = {"email": "uusi.ope@espoo.test", "first_name": "Ulla", "last_name": "Uusi", "language": "fi",
            "role": Role.MUNICIPAL_COORDINATOR, "school": "", **overrides}
    return client.post("/staff/invite/", data)


@pytest.mark.parametrize(("language", "municipality_name"), [("fi", "Espoo"), ("sv", "Esbo")])
def test_inviting_a_new_email_creates_the_user_and_mails_a_working_set_password_link(
        admin_client, admin, espoo, schools, language, municipality_name, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(admin_client, language=language)
    user = User.objects.get(email="uusi.ope@espoo.test")
    assert response.status_code == 302 and response["Location"] == f"/staff/{user.pk}/"
    assert (user.first_name, user.last_name, user.preferred_language) == ("Ulla", "Uusi", language)
    assert not user.has_usable_password()
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == ("uusi.ope@espoo.test", False, True)
    assert StaffRole.objects.active().filter(user_id=user.pk, role=Role.MUNICIPAL_COORDINATOR,
                                             school=None).count() == 1
    assert "Invitation sent to uusi.ope@espoo.test." in text(admin_client.get(response["Location"]))

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["uusi.ope@espoo.test"]
    assert message.extra_headers["Content-Language"] == language
    assert municipality_name in message.subject and municipality_name in message.body
    assert "Paula Pääkäyttäjä" in message.body
    link = re.search(r"https?://\S+", message.body).group(0)
    assert urlsplit(link).netloc == "espoo.localhost"

    (event,) = permission_events(object_type="welfare.staffrole")
    assert event.user_id == admin.pk
    assert event.detail == {"change": "invite", "role": Role.MUNICIPAL_COORDINATOR, "school_id": None,
                            "target_user_id": user.pk, "new_user": True, "group_ids": []}

    # The invitee follows the link, sets a password, and can then sign in.
    invitee = english_client(espoo)
    form_page = invitee.get(urlsplit(link).path, follow=True)
    assert form_page.status_code == 200 and "password1" in text(form_page)
    set_password_url = form_page.redirect_chain[-1][0]
    done = invitee.post(set_password_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302, text(done)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert EmailAddress.objects.get(user=user).verified  # the link proved the address
    signed_in = invitee.post("/accounts/login/", {"login": "uusi.ope@espoo.test", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/"
    assert invitee.session["_auth_user_id"] == str(user.pk)
    assert invitee.get("/dashboard/").status_code == 200  # the coordinator is in
    # The link works once.
    assert "password1" not in text(english_client(espoo).get(urlsplit(link).path, follow=True))


def test_inviting_a_county_worker_of_another_municipality_grants_the_role_here_only(
        admin_client, county_worker, schools, vantaa, django_capture_on_commit_callbacks):
    users_before = User.objects.count()
    vantaa_before = vantaa_roles(vantaa, county_worker)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(admin_client, email="Kuraattori@VaKeHyva.test", first_name="Other", last_name="Name",
                          role=Role.SCHOOL_SOCIAL_WORKER, school=schools["first"].pk)
    assert response.status_code == 302 and response["Location"] == f"/staff/{county_worker.pk}/"
    assert User.objects.count() == users_before
    county_worker.refresh_from_db()
    assert (county_worker.first_name, county_worker.last_name) == ("Kalle", "Kuraattori")  # not renamed
    grant = StaffRole.objects.get(user_id=county_worker.pk)
    assert (grant.role, grant.school, grant.revoked_at) == (Role.SCHOOL_SOCIAL_WORKER, schools["first"], None)
    assert vantaa_roles(vantaa, county_worker) == vantaa_before
    assert mail.outbox == []
    page = text(admin_client.get(response["Location"]))
    assert "already has a Yhdessä account: the role was added to it and no invitation was sent" in page
    (event,) = permission_events()
    assert event.detail["change"] == "invite" and event.detail["new_user"] is False
    assert event.detail["target_user_id"] == county_worker.pk
    assert "kuraattori@vakehyva.test" in text(admin_client.get("/staff/"))


def test_invite_form_errors_are_tied_to_their_fields(admin_client, schools):
    response = invite(admin_client, email="not an address", role=Role.PRINCIPAL, school="")
    page = text(response)
    assert response.status_code == 200 and User.objects.filter(first_name="Ulla").count() == 0
    assert 'aria-describedby="id_email_helptext id_email_error"' in page and 'aria-invalid="true"' in page
    assert 'id="id_school_error"' in page and "Choose the school for this role." in page
    assert "<legend>Person</legend>" in page and "<legend>First role</legend>" in page


def test_a_class_teacher_gets_groups_of_the_chosen_school_in_the_current_school_year(admin_client, schools):
    mine = TeachingGroupFactory(school=schools["first"], school_year=schools["year"], name="5A")
    other = TeachingGroupFactory(school=schools["second"], school_year=schools["year"], name="5B")
    last_year = SchoolYearFactory(name="2025–2026", start_date="2025-08-01", end_date="2026-07-31")
    old = TeachingGroupFactory(school=schools["first"], school_year=last_year, name="4A")

    offered = text(admin_client.get("/staff/groups/", {"school": schools["first"].pk}))
    assert "5A" in offered and "5B" not in offered and "4A" not in offered

    wrong = invite(admin_client, role=Role.CLASS_TEACHER, school=schools["first"].pk, groups=[other.pk])
    assert "Select a valid choice" in text(wrong)
    none = invite(admin_client, role=Role.CLASS_TEACHER, school=schools["first"].pk)
    assert "Choose at least one group for a class teacher." in text(none)
    stale = invite(admin_client, role=Role.CLASS_TEACHER, school=schools["first"].pk, groups=[old.pk])
    assert "Select a valid choice" in text(stale)
    assert not User.objects.filter(email="uusi.ope@espoo.test").exists()

    ok = invite(admin_client, role=Role.CLASS_TEACHER, school=schools["first"].pk, groups=[mine.pk])
    assert ok.status_code == 302
    grant = StaffRole.objects.get(user_id=User.objects.get(email="uusi.ope@espoo.test").pk)
    assert list(grant.groups.all()) == [mine]


# --- Grant, revoke, deactivate ----------------------------------------------------------------


def test_grant_and_revoke_are_audited_and_the_revoked_row_is_kept(admin_client, admin, principal, schools):
    url = f"/staff/{principal.pk}/"
    response = admin_client.post(url + "grant/", {"role": Role.GUIDANCE_COUNSELLOR, "school": schools["second"].pk})
    assert response.status_code == 302
    page = text(admin_client.get(url))
    assert "Guidance counsellor granted to Riikka Rehtori." in page
    grant = StaffRole.objects.get(user_id=principal.pk, role=Role.GUIDANCE_COUNSELLOR)

    response = admin_client.post(f"{url}roles/{grant.pk}/revoke/")
    assert response.status_code == 302
    page = text(admin_client.get(url))
    assert "Guidance counsellor revoked from Riikka Rehtori." in page
    grant.refresh_from_db()
    assert grant.revoked_at is not None  # kept for the history
    assert "History: revoked roles" in page

    granted, revoked = permission_events()
    assert (granted.user_id, granted.object_type, granted.object_id) == (admin.pk, "welfare.staffrole", str(grant.pk))
    assert granted.detail == {"change": "grant", "role": Role.GUIDANCE_COUNSELLOR,
                              "school_id": schools["second"].pk, "target_user_id": principal.pk, "group_ids": []}
    assert revoked.user_id == admin.pk
    assert revoked.detail == {"change": "revoke", "role": Role.GUIDANCE_COUNSELLOR,
                              "school_id": schools["second"].pk, "target_user_id": principal.pk}


def test_a_duplicate_active_grant_is_refused(admin_client, principal, schools):
    response = admin_client.post(f"/staff/{principal.pk}/grant/", {"role": Role.PRINCIPAL,
                                                                    "school": schools["first"].pk})
    assert response.status_code == 200
    assert "Riikka Rehtori already holds this role here." in text(response)
    assert StaffRole.objects.filter(user_id=principal.pk).count() == 1
    assert permission_events() == []
    # The same role at another school is a different grant.
    assert admin_client.post(f"/staff/{principal.pk}/grant/", {"role": Role.PRINCIPAL,
                                                               "school": schools["second"].pk}).status_code == 302


def test_the_last_municipal_administrator_cannot_remove_their_own_admin_role(admin_client, admin, espoo):
    own = StaffRole.objects.get(user_id=admin.pk)
    page = text(admin_client.post(f"/staff/{admin.pk}/roles/{own.pk}/revoke/", follow=True))
    assert "last municipal administrator role" in page
    page = text(admin_client.post(f"/staff/{admin.pk}/deactivate/", follow=True))
    assert "last municipal administrator role" in page
    own.refresh_from_db()
    assert own.revoked_at is None and permission_events() == []
    assert admin_client.get("/staff/").status_code == 200

    # With a second administrator, giving up one's own admin role works (and ends access here).
    StaffRoleFactory(user=UserFactory(email="toinen@espoo.test"), role=Role.MUNICIPAL_ADMIN, school=None)
    response = admin_client.post(f"/staff/{admin.pk}/roles/{own.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert admin_client.get("/staff/").status_code == 403


def test_deactivating_revokes_every_role_here_and_none_elsewhere(admin_client, admin, county_worker, schools,
                                                               vantaa):
    for role, school in ((Role.SCHOOL_SOCIAL_WORKER, schools["first"]), (Role.SCHOOL_SOCIAL_WORKER,
                                                                          schools["second"])):
        StaffRoleFactory(user=county_worker, role=role, school=school)
    vantaa_before = vantaa_roles(vantaa, county_worker)
    url = f"/staff/{county_worker.pk}/deactivate/"
    confirm = text(admin_client.get(url))
    assert "Deactivate Kalle Kuraattori in this municipality?" in confirm
    response = admin_client.post(url)
    assert response.status_code == 302 and response["Location"] == f"/staff/{county_worker.pk}/"
    assert "Kalle Kuraattori no longer has any role in this municipality." in text(admin_client.get(
        response["Location"]))
    assert not StaffRole.objects.active().filter(user_id=county_worker.pk).exists()
    assert StaffRole.objects.filter(user_id=county_worker.pk).count() == 2
    assert vantaa_roles(vantaa, county_worker) == vantaa_before
    events = permission_events()
    assert [(e.user_id, e.detail["change"], e.detail["target_user_id"]) for e in events] == [
        (admin.pk, "deactivate", county_worker.pk)] * 2
    assert {e.detail["school_id"] for e in events} == {schools["first"].pk, schools["second"].pk}
    assert "kuraattori@vakehyva.test" not in text(admin_client.get("/staff/"))


def test_a_user_whose_role_is_revoked_gets_403_on_the_next_request(admin_client, espoo, principal):
    session = sign_in(english_client(espoo), principal)
    assert session.get("/dashboard/").status_code == 200
    grant = StaffRole.objects.get(user_id=principal.pk)
    assert admin_client.post(f"/staff/{principal.pk}/roles/{grant.pk}/revoke/").status_code == 302
    assert session.get("/dashboard/").status_code == 403
    assert session.get("/staff/").status_code == 403


# --- Who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.CLASS_TEACHER, Role.MUNICIPAL_COORDINATOR, Role.PRINCIPAL,
                                  Role.DATA_PROTECTION_OFFICER])
def test_other_roles_get_403_on_every_staff_page_and_action(espoo, schools, principal, role):
    school = None if role in (Role.MUNICIPAL_COORDINATOR, Role.DATA_PROTECTION_OFFICER) else schools["first"]
    user = UserFactory(email="someone@espoo.test")
    StaffRoleFactory(user=user, role=role, school=school)
    client = sign_in(english_client(espoo), user)
    grant = StaffRole.objects.get(user_id=principal.pk)
    base = f"/staff/{principal.pk}/"
    for url in ("/staff/", "/staff/invite/", "/staff/groups/", base, base + "deactivate/"):
        assert client.get(url).status_code == 403, url
    posts = {
        "/staff/invite/": {"email": "x@espoo.test", "first_name": "X", "last_name": "Y", "language": "fi",
                           "role": Role.MUNICIPAL_ADMIN},
        base + "grant/": {"role": Role.MUNICIPAL_ADMIN},
        f"{base}roles/{grant.pk}/revoke/": {},
        base + "deactivate/": {},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    assert StaffRole.objects.active().filter(role=Role.MUNICIPAL_ADMIN).count() == 0
    assert StaffRole.objects.get(pk=grant.pk).revoked_at is None
    assert not User.objects.filter(email="x@espoo.test").exists()


def test_visitors_are_sent_to_sign_in(espoo, in_espoo):
    response = english_client(espoo).get("/staff/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_post_without_the_csrf_token_is_refused(espoo, admin, principal, schools):
    client = sign_in(english_client(espoo, enforce_csrf_checks=True), admin)
    response = client.post(f"/staff/{principal.pk}/grant/", {"role": Role.PRINCIPAL, "school": schools["second"].pk})
    assert response.status_code == 403
    grant = StaffRole.objects.get(user_id=principal.pk)
    assert client.post(f"/staff/{principal.pk}/roles/{grant.pk}/revoke/").status_code == 403
    assert StaffRole.objects.filter(user_id=principal.pk).values_list("role", "revoked_at").get() == (
        Role.PRINCIPAL, None)
    # With the token from the page, the same form works.
    page = client.get(f"/staff/{principal.pk}/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = client.post(f"/staff/{principal.pk}/grant/", {"role": Role.PRINCIPAL, "school": schools["second"].pk,
                                                              "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_ids_from_another_municipality_are_not_found(admin_client, county_worker, principal, vantaa):
    with schema_context(vantaa.schema_name):
        vantaa_grant = StaffRole.objects.get(user_id=county_worker.pk)
        StaffRole.objects.filter(pk=vantaa_grant.pk).update(id=987654)
    assert not StaffRole.objects.filter(pk=987654).exists()
    base = f"/staff/{county_worker.pk}/"  # a user with no role in Espoo
    assert admin_client.get(base).status_code == 404
    assert admin_client.get(base + "deactivate/").status_code == 404
    assert admin_client.post(base + "deactivate/").status_code == 404
    assert admin_client.post(base + "grant/", {"role": Role.MUNICIPAL_ADMIN}).status_code == 404
    assert admin_client.post(f"{base}roles/987654/revoke/").status_code == 404
    # A Vantaa grant id under an Espoo person's address is not found either.
    assert admin_client.post(f"/staff/{principal.pk}/roles/987654/revoke/").status_code == 404
    assert vantaa_roles(vantaa, county_worker) == [(Role.SCHOOL_SOCIAL_WORKER, None)]
    assert not StaffRole.objects.filter(user_id=county_worker.pk).exists()
    assert permission_events() == []
