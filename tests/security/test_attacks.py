"""Attacks on tenancy, roles and forms: each is refused (403/404, never data) and, where the app
audits denials, leaves an entry in the municipality's audit log.

The URL lists are not hand-written: every pattern of config.urls (and config.urls_public) is
enumerated with django.urls.get_resolver, so pages and forms added later are covered too.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.conf import settings
from django.http import HttpResponseForbidden
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework.authtoken.models import Token

from tests.conftest import host
from tests.factories import SchoolFactory, StaffRoleFactory, StudentFactory, UserFactory, sign_in
from tests.security.test_signin import PASSWORD, client_for, make_staff, post_login, signed_in_user_id
from welfare.models import AuditAction, AuditEvent, Role, StaffRole

pytestmark = pytest.mark.django_db

CSRF_REFUSED = "csrf-refused-by-test-marker"


@pytest.fixture(autouse=True)
def _private_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"attacks-{id(object())}"}}


def csrf_failure(request, reason=""):
    """Stands in for Django's CSRF failure view so a test can tell a CSRF refusal from any other 403."""
    return HttpResponseForbidden(CSRF_REFUSED)


# --- URL enumeration ---------------------------------------------------------------------------

_CONVERTER_SAMPLES = {"int": "{id}", "str": "x", "slug": "x", "path": "x", "uuid": str(uuid.UUID(int=1)),
                      "drf_format_suffix": ".json"}


def _concrete(route: str) -> str:
    """A path that matches a route or regex, with ``{id}`` where an object id goes."""
    route = re.sub(r"\\\.\(\?P<format>[^)]*\)/\?", ".json", route)  # DRF format suffixes
    route = re.sub(r"\(\?P<format>[^)]*\)", "json", route)
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "{id}", route)  # regex groups (DRF routers, allauth keys)
    route = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: _CONVERTER_SAMPLES.get(m.group(1) or "str", "x"), route)
    route = route.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/")
    return route


def all_paths(urlconf: str) -> list[tuple[str, str]]:
    """(path template, view name) for every pattern of ``urlconf``; ``{id}`` marks an object id."""
    found: list[tuple[str, str]] = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + _concrete(str(pattern.pattern))
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                found.append(("/" + route, pattern.lookup_str))

    walk(get_resolver(urlconf).url_patterns, "")
    return sorted(set(found))


# The identity provider POSTs SAML responses and logout requests to these two endpoints; they are
# CSRF-exempt by design (python3-saml checks the IdP's signature instead). Nothing else may be.
IDP_POST_ENDPOINTS = {"/accounts/saml/{id}/acs/", "/accounts/saml/{id}/sls/"}
TENANT_PATHS = all_paths("config.urls")
PUBLIC_PATHS = all_paths("config.urls_public")
CSRF_CHECKED_TENANT_PATHS = [p for p, _ in TENANT_PATHS if p not in IDP_POST_ENDPOINTS]
CSRF_CHECKED_PUBLIC_PATHS = [p for p, _ in PUBLIC_PATHS if p not in IDP_POST_ENDPOINTS]
STAFF_PREFIXES = ("/dashboard/", "/staff/", "/audit/", "/pupils/", "/privacy/", "/annual-clock/",
                  "/group-sessions/", "/absences/", "/parent-evenings/")
STAFF_PAGES = [path for path, _ in TENANT_PATHS if path.startswith(STAFF_PREFIXES)]
# The router's root (/api/v1/) lists endpoint addresses only, no data: it is not in this list.
API_PATHS = [path for path, _ in TENANT_PATHS
             if path.startswith("/api/v1/") and path != "/api/v1/" and ".json" not in path]


def test_enumeration_finds_the_known_pages():
    """The walker must find what exists today, or every test below would pass on an empty list."""
    assert {"/dashboard/", "/dashboard/imports/", "/absences/", "/annual-clock/", "/group-sessions/",
            "/parent-evenings/"} <= set(STAFF_PAGES)
    assert "/api/v1/students/{id}/" in API_PATHS and "/accounts/login/" in dict(TENANT_PATHS)
    for path, view in TENANT_PATHS:
        concrete = path.format(id=1)
        assert resolve(concrete, "config.urls").func is not None, (path, view)


# --- Fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def vantaa_pupil(vantaa):
    """A Vantaa pupil whose id does not exist in Espoo, with a name Espoo's data never has."""
    with schema_context(vantaa.schema_name):
        school = SchoolFactory(name="Vantaan Salainen koulu")
        pupil = StudentFactory(id=987_654, first_name="Vantaalainen", last_name="Salaisuus",
                               group__school=school)
    return pupil


@pytest.fixture
def espoo_principal(espoo):
    """Espoo principal with TOTP and a fresh second factor, signed in by session."""
    with schema_context(espoo.schema_name):
        school = SchoolFactory(name="Espoon Oma koulu")
        user = UserFactory()
        StaffRoleFactory(user=user, role=Role.PRINCIPAL, school=school)
        StudentFactory(first_name="Espoolainen", last_name="Oppilas", group__school=school)
    return user


def denied_entries(municipality, user=None) -> list[AuditEvent]:
    with schema_context(municipality.schema_name):
        entries = AuditEvent.objects.filter(action=AuditAction.DENIED)
        if user is not None:
            entries = entries.filter(user_id=user.pk)
        return list(entries)


def assert_refused(response, *secrets: str, statuses=(403,)) -> None:
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    body = response.content.decode(errors="replace")
    for secret in secrets:
        assert secret not in body


# --- Host-header swap ---------------------------------------------------------------------------


def test_host_swap_with_a_valid_session_is_refused_on_pages_and_api(espoo, vantaa, espoo_principal, vantaa_pupil):
    client = sign_in(client_for(espoo), espoo_principal)
    assert client.get("/dashboard/").status_code == 200  # the session is valid where the role is
    to_vantaa = {"host": host(vantaa)}
    for path in ["/dashboard/", "/absences/", "/api/v1/students/", "/api/v1/schools/",
                 f"/api/v1/students/{vantaa_pupil.pk}/"]:
        assert_refused(client.get(path, headers=to_vantaa), "Salainen", "Salaisuus", "Espoolainen")


def test_host_swap_is_audited_in_the_municipality_attacked(espoo, vantaa, espoo_principal):
    client = sign_in(client_for(espoo), espoo_principal)
    client.get("/dashboard/", headers={"host": host(vantaa)})
    client.get("/api/v1/students/", headers={"host": host(vantaa)})
    entries = denied_entries(vantaa, espoo_principal)
    assert {entry.path for entry in entries} == {"/dashboard/", "/api/v1/students/"}
    assert denied_entries(espoo) == []


# --- Another municipality's object id ----------------------------------------------------------


def test_vantaa_pupil_id_on_espoos_host_shows_nothing(espoo, espoo_principal, vantaa_pupil):
    client = sign_in(client_for(espoo), espoo_principal)
    response = client.get(f"/api/v1/students/{vantaa_pupil.pk}/")
    assert_refused(response, "Vantaalainen", "Salaisuus", statuses=(404,))
    listing = client.get("/api/v1/students/")
    assert listing.status_code == 200
    assert "Espoolainen" in listing.content.decode() and "Vantaalainen" not in listing.content.decode()


@pytest.mark.parametrize("path", [p for p in TENANT_PATHS if "{id}" in p[0] and not p[0].startswith("/accounts/")],
                         ids=lambda p: p[0])
def test_every_page_with_an_object_id_refuses_another_municipalitys_id(espoo, espoo_principal, vantaa_pupil, path):
    client = sign_in(client_for(espoo), espoo_principal)
    response = client.get(path[0].format(id=vantaa_pupil.pk))
    assert_refused(response, "Vantaalainen", "Salaisuus", "Salainen", statuses=(403, 404, 405))


# --- API token of another municipality's user -------------------------------------------------------


def test_vantaa_only_token_on_espoos_host_is_refused(espoo, vantaa, espoo_principal):
    with schema_context(vantaa.schema_name):
        vantaa_user = UserFactory()
        StaffRoleFactory(user=vantaa_user, role=Role.PRINCIPAL, school=SchoolFactory())
    token = Token.objects.create(user=vantaa_user).key
    client = Client(headers={"host": host(espoo), "authorization": f"Token {token}"})
    for path in API_PATHS:
        assert_refused(client.get(path.format(id=1)), "Espoolainen", "Espoon Oma koulu", statuses=(403,))
    # The same token works where the user has a role: the host decides, not the token.
    at_home = Client(headers={"host": host(vantaa), "authorization": f"Token {token}"})
    assert at_home.get("/api/v1/schools/").status_code == 200


def test_foreign_token_is_audited(espoo, vantaa):
    with schema_context(vantaa.schema_name):
        vantaa_user = UserFactory()
        StaffRoleFactory(user=vantaa_user, role=Role.PRINCIPAL, school=SchoolFactory())
    token = Token.objects.create(user=vantaa_user).key
    Client(headers={"host": host(espoo), "authorization": f"Token {token}"}).get("/api/v1/students/")
    assert [entry.path for entry in denied_entries(espoo, vantaa_user)] == ["/api/v1/students/"]


# --- Revoked role -----------------------------------------------------------------------------------


def test_revoked_role_with_a_live_session_is_refused_on_the_next_request(espoo, espoo_principal):
    client = sign_in(client_for(espoo), espoo_principal)
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/api/v1/students/").status_code == 200
    with schema_context(espoo.schema_name):
        StaffRole.objects.filter(user_id=espoo_principal.pk).update(revoked_at=timezone.now())
    assert_refused(client.get("/dashboard/"), "Espoon Oma koulu")
    assert_refused(client.get("/api/v1/students/"), "Espoolainen")
    assert_refused(client.get("/absences/"))


# --- No role here --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", STAFF_PAGES, ids=str)
def test_user_without_a_role_here_is_refused_every_staff_page(espoo, vantaa, path):
    """A real user with a role in Vantaa (and a second factor) gets nothing from Espoo's pages."""
    user = UserFactory()
    with schema_context(vantaa.schema_name):
        StaffRoleFactory(user=user, role=Role.PRINCIPAL, school=SchoolFactory())
    client = sign_in(client_for(espoo), user)
    response = client.get(path.format(id=1))
    if response.status_code == 405:  # a POST-only action (export, revoke): the POST is refused
        response = client.post(path.format(id=1))
    assert_refused(response, statuses=(403,) if "{id}" not in path else (403, 404))


def test_refusal_for_lack_of_a_role_is_audited(espoo):
    user = UserFactory()
    client = sign_in(client_for(espoo), user)
    for path in STAFF_PAGES:
        if "{id}" not in path and client.get(path).status_code == 405:
            client.post(path)
    entries = denied_entries(espoo, user)
    assert {entry.path for entry in entries} == {p for p in STAFF_PAGES if "{id}" not in p}
    assert all(entry.user_email == user.email for entry in entries)


def test_anonymous_visitor_is_sent_to_sign_in_from_every_staff_page(espoo):
    client = client_for(espoo)
    for path in STAFF_PAGES:
        response = client.get(path.format(id=1))
        assert response.status_code in (302, 404, 405), path
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/"), path


# --- CSRF on every POST -------------------------------------------------------------------------------


def _signed_in_admin(municipality) -> Client:
    """A municipal administrator (widest forms) with a fresh second factor, CSRF checks on."""
    user = UserFactory()
    with schema_context(municipality.schema_name):
        StaffRoleFactory(user=user, role=Role.MUNICIPAL_ADMIN, school=None)
    return sign_in(Client(enforce_csrf_checks=True, headers={"host": host(municipality)}), user)


def _is_csrf_refusal(response) -> bool:
    if response.status_code != 403:
        return False
    if CSRF_REFUSED in response.content.decode(errors="replace"):
        return True  # Django's CsrfViewMiddleware
    detail = str((getattr(response, "data", None) or {}).get("detail", ""))
    return detail.startswith("CSRF Failed")  # DRF's SessionAuthentication (any renderer)


@override_settings(CSRF_FAILURE_VIEW="tests.security.test_attacks.csrf_failure")
@pytest.mark.parametrize("path", CSRF_CHECKED_TENANT_PATHS, ids=str)
def test_every_url_refuses_a_post_without_csrf_token(espoo, path):
    client = _signed_in_admin(espoo)
    response = client.post(path.format(id=1), {"anything": "1"})
    assert _is_csrf_refusal(response), (path, response.status_code, response.content[:200])


@override_settings(CSRF_FAILURE_VIEW="tests.security.test_attacks.csrf_failure")
@pytest.mark.parametrize("path", CSRF_CHECKED_PUBLIC_PATHS, ids=str)
def test_every_public_url_refuses_a_post_without_csrf_token(espoo, path):
    client = Client(enforce_csrf_checks=True, headers={"host": "localhost"})
    response = client.post(path.format(id=1), {"anything": "1"})
    assert _is_csrf_refusal(response), (path, response.status_code, response.content[:200])


@override_settings(CSRF_FAILURE_VIEW="tests.security.test_attacks.csrf_failure")
def test_only_the_saml_idp_endpoints_skip_the_csrf_check():
    """The exemption list must name real endpoints, so it cannot silently grow stale."""
    assert IDP_POST_ENDPOINTS <= {p for p, _ in TENANT_PATHS}


@override_settings(CSRF_FAILURE_VIEW="tests.security.test_attacks.csrf_failure")
def test_the_csrf_check_can_tell_a_token_from_none(espoo):
    """Control: the same POST with the token is not a CSRF refusal, so the test above can fail."""
    client = _signed_in_admin(espoo)
    client.get("/dashboard/imports/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post("/dashboard/imports/", {"kind": "schools", "csrfmiddlewaretoken": token})
    assert response.status_code == 200 and not _is_csrf_refusal(response)
    response = client.post("/accounts/logout/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302


# --- Brute force ----------------------------------------------------------------------------------------


def test_password_list_attack_ends_in_lockout_on_every_municipalitys_host(espoo, vantaa):
    """Attempts are counted in the public schema: switching host does not reset the count."""
    user = make_staff(espoo)
    guesses = ["salasana123", "Kesä2026!", "qwerty12345", "espoo2026", "Salasana1!"]
    for index, guess in enumerate(guesses):
        target = espoo if index % 2 == 0 else vantaa
        post_login(client_for(target), user.email, guess)
    for target in (espoo, vantaa):
        client = client_for(target)
        response = post_login(client, user.email, PASSWORD)
        assert response.status_code == 429 and signed_in_user_id(client) is None
    with schema_context(espoo.schema_name):
        espoo_failed = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count()
    with schema_context(vantaa.schema_name):
        vantaa_failed = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count()
    assert (espoo_failed, vantaa_failed) == (4, 3)  # each municipality logs the attempts on its host
    assert settings.AXES_FAILURE_LIMIT == len(guesses)
