"""Sign-in through the real allauth views on a municipality's host: password, email verification,
password reset, the second factor (enrolment, TOTP, recovery codes), inactivity expiry, lockout."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from axes.models import AccessAttempt
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.conftest import host
from tests.factories import StaffRoleFactory, UserFactory, totp_code
from welfare.models import AuditAction, AuditEvent, Role

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"  # tests.factories.UserFactory
LOGIN_URL = "/accounts/login/"
MFA_URL = "/accounts/2fa/authenticate/"


@pytest.fixture(autouse=True)
def _private_cache(settings):
    """allauth keeps rate limits and used TOTP codes in the cache; the shared Redis would let other
    test runs (same user ids, same codes) interfere, so each test gets an empty local cache."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"security-{id(object())}"}}
    yield


def make_staff(municipality, role: Role | None = Role.MUNICIPAL_COORDINATOR, *, verified: bool = True,
               totp: bool = False, email: str | None = None):
    """A user with ``role`` in ``municipality`` (municipal grant for municipal roles, else a school)."""
    user = UserFactory(**({"email": email} if email else {}))
    EmailAddress.objects.create(user=user, email=user.email, verified=verified, primary=True)
    if role is not None:
        with schema_context(municipality.schema_name):
            municipal = role in (Role.MUNICIPAL_COORDINATOR, Role.MUNICIPAL_ADMIN, Role.DATA_PROTECTION_OFFICER)
            StaffRoleFactory(user=user, role=role, **({"school": None} if municipal else {}))
    user.totp_secret = None
    if totp:
        user.totp_secret = generate_totp_secret()
        TOTP.activate(user, user.totp_secret)
    return user


def client_for(municipality) -> Client:
    return Client(headers={"host": host(municipality)})


def post_login(client, email, password=PASSWORD):
    return client.post(LOGIN_URL, {"login": email, "password": password})


def signed_in_user_id(client) -> str | None:
    return client.session.get("_auth_user_id")


def audit_entries(municipality, action, **filters):
    with schema_context(municipality.schema_name):
        return list(AuditEvent.objects.filter(action=action, **filters).order_by("id"))


# --- Password sign-in and email verification ---------------------------------------------------


def test_email_and_password_sign_in_opens_a_session_and_is_audited(espoo):
    user = make_staff(espoo)
    client = client_for(espoo)
    response = post_login(client, user.email.upper())  # addresses are matched case-insensitively
    assert response.status_code == 302 and response["Location"] == settings.LOGIN_REDIRECT_URL
    assert signed_in_user_id(client) == str(user.pk)
    assert client.get("/dashboard/").status_code == 200
    assert [e.user_id for e in audit_entries(espoo, AuditAction.LOGIN)] == [user.pk]


def test_wrong_password_opens_no_session_and_is_audited_in_the_municipality(espoo, vantaa):
    user = make_staff(espoo)
    client = client_for(espoo)
    response = post_login(client, user.email, "not the password")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert signed_in_user_id(client) is None
    assert [e.detail["login"] for e in audit_entries(espoo, AuditAction.LOGIN_FAILED)] == [user.email]
    assert audit_entries(vantaa, AuditAction.LOGIN_FAILED) == []


def test_unverified_address_gets_no_session_and_a_verification_mail(espoo):
    user = make_staff(espoo, verified=False)
    client = client_for(espoo)
    response = post_login(client, user.email)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert signed_in_user_id(client) is None
    assert client.get("/dashboard/").status_code == 302  # back to sign-in
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    key_url = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+)", mail.outbox[0].body).group(1)
    assert "espoo.localhost" in mail.outbox[0].body  # the link leads back to the municipality's host

    # Following the link verifies the address; then the password opens a session.
    assert client.post(key_url).status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    post_login(client, user.email)
    assert signed_in_user_id(client) == str(user.pk)


def test_nobody_can_sign_themselves_up(espoo):
    client = client_for(espoo)
    response = client.post("/accounts/signup/", {"email": "stranger@example.fi", "password1": "Vahva salasana 123",
                                                 "password2": "Vahva salasana 123"})
    assert response.status_code == 200
    assert "account/signup_closed" in " ".join(t.name for t in response.templates if t.name)
    from welfare.accounts.models import User

    assert not User.objects.filter(email="stranger@example.fi").exists()


def test_password_reset_mail_and_flow(espoo):
    user = make_staff(espoo)
    client = client_for(espoo)
    response = client.post("/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    link = re.search(r"https?://espoo\.localhost(/accounts/password/reset/key/[^\s]+)", mail.outbox[0].body).group(1)

    # allauth moves the key into the session and redirects to a key-less address.
    response = client.get(link)
    assert response.status_code == 302
    response = client.post(response["Location"], {"password1": "Uusi vahva salasana 2026",
                                                  "password2": "Uusi vahva salasana 2026"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Uusi vahva salasana 2026")

    fresh = client_for(espoo)
    post_login(fresh, user.email, PASSWORD)
    assert signed_in_user_id(fresh) is None  # the old password no longer works
    post_login(fresh, user.email, "Uusi vahva salasana 2026")
    assert signed_in_user_id(fresh) == str(user.pk)


def test_password_reset_for_an_unknown_address_sends_no_reset_link(espoo):
    client = client_for(espoo)
    assert client.post("/accounts/password/reset/", {"email": "nobody@example.fi"}).status_code == 302
    assert all("/password/reset/key/" not in message.body for message in mail.outbox)


# --- Second factor -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.PRINCIPAL, Role.CLASS_TEACHER, Role.SCHOOL_SOCIAL_WORKER,
                                  Role.DATA_PROTECTION_OFFICER, Role.MUNICIPAL_ADMIN])
def test_role_that_opens_pupil_data_is_led_to_totp_setup_first(espoo, role):
    user = make_staff(espoo, role)
    client = client_for(espoo)
    post_login(client, user.email)
    assert signed_in_user_id(client) == str(user.pk)
    for path in ["/", "/dashboard/", "/absences/", "/annual-clock/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/2fa/totp/activate/?next="), path
    activate = client.get("/accounts/2fa/totp/activate/")
    assert activate.status_code == 200

    # Setting it up (the code from the secret shown on the page) opens the app.
    secret = client.session["mfa.totp.secret"]
    response = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert client.get("/dashboard/").status_code == 200


def test_coordinator_without_pupil_data_is_not_forced_to_set_up_totp(espoo):
    user = make_staff(espoo, Role.MUNICIPAL_COORDINATOR)
    client = client_for(espoo)
    post_login(client, user.email)
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/").status_code == 200


def test_principal_in_one_municipality_is_not_forced_to_totp_in_another_where_he_coordinates(espoo, vantaa):
    """The requirement follows the roles held *here* (a county user may work in several places)."""
    user = make_staff(espoo, Role.PRINCIPAL)
    with schema_context(vantaa.schema_name):
        StaffRoleFactory(user=user, role=Role.MUNICIPAL_COORDINATOR, school=None)
    client = client_for(vantaa)
    post_login(client, user.email)
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/dashboard/", headers={"host": host(espoo)}).status_code == 302


def test_user_with_totp_must_give_a_code_wrong_refused_right_accepted(espoo):
    user = make_staff(espoo, Role.PRINCIPAL, totp=True)
    client = client_for(espoo)
    response = post_login(client, user.email)
    assert response.status_code == 302 and response["Location"] == MFA_URL
    assert signed_in_user_id(client) is None  # the password alone opens nothing
    assert client.get("/dashboard/").status_code == 302

    wrong = f"{(int(totp_code(user.totp_secret)) + 1) % 1_000_000:06d}"
    response = client.post(MFA_URL, {"code": wrong})
    assert response.status_code == 200 and response.context["form"].errors
    assert signed_in_user_id(client) is None

    response = client.post(MFA_URL, {"code": totp_code(user.totp_secret)})
    assert response.status_code == 302 and response["Location"] == settings.LOGIN_REDIRECT_URL
    assert signed_in_user_id(client) == str(user.pk)
    assert client.get("/dashboard/").status_code == 200
    methods = [record["method"] for record in client.session["account_authentication_methods"]]
    assert methods == ["password", "mfa"]  # step-up (welfare.mfa) reads the mfa record's time
    assert len(audit_entries(espoo, AuditAction.LOGIN, user_id=user.pk)) == 1


def test_code_from_the_window_just_ended_is_accepted_older_refused(espoo):
    user = make_staff(espoo, Role.PRINCIPAL, totp=True)
    client = client_for(espoo)
    post_login(client, user.email)
    response = client.post(MFA_URL, {"code": totp_code(user.totp_secret, offset_seconds=-60)})
    assert response.status_code == 200 and response.context["form"].errors
    assert signed_in_user_id(client) is None

    response = client.post(MFA_URL, {"code": totp_code(user.totp_secret, offset_seconds=-30)})
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.pk)


def test_a_code_is_never_accepted_twice_not_later_nor_in_another_municipality(espoo, vantaa, settings, monkeypatch):
    """MFA_TOTP_TOLERANCE accepts a code for three windows: it stays refused after its first use for
    all that time, and on the address of every municipality (the cache keys carry the schema)."""
    import time

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"security-{id(object())}",
                                   "KEY_FUNCTION": "django_tenants.cache.make_key"}}
    user = make_staff(espoo, Role.PRINCIPAL, totp=True)
    with schema_context(vantaa.schema_name):
        StaffRoleFactory(user=user, role=Role.PRINCIPAL)
    code = totp_code(user.totp_secret)
    first = client_for(espoo)
    post_login(first, user.email)
    assert first.post(MFA_URL, {"code": code}).status_code == 302

    def replay(municipality) -> str | None:
        client = client_for(municipality)
        post_login(client, user.email)
        response = client.post(MFA_URL, {"code": code})
        assert response.status_code == 200 and response.context["form"].errors
        return signed_in_user_id(client)

    assert replay(vantaa) is None
    real = time.time
    shift = 30 - real() % 30 + 1  # into the next window, where the code is still within the tolerance
    monkeypatch.setattr(time, "time", lambda: real() + shift)
    assert replay(espoo) is None


def test_recovery_code_works_once_as_the_second_factor(espoo):
    user = make_staff(espoo, Role.PRINCIPAL, totp=True)
    codes = RecoveryCodes.activate(user).generate_codes()
    client = client_for(espoo)
    post_login(client, user.email)
    assert client.post(MFA_URL, {"code": codes[0]}).status_code == 302
    assert signed_in_user_id(client) == str(user.pk)

    again = client_for(espoo)
    post_login(again, user.email)
    response = again.post(MFA_URL, {"code": codes[0]})  # a used recovery code is spent
    assert response.status_code == 200 and signed_in_user_id(again) is None
    assert again.post(MFA_URL, {"code": codes[1]}).status_code == 302
    assert signed_in_user_id(again) == str(user.pk)


# --- Session ---------------------------------------------------------------------------------------


def test_session_expires_after_inactivity_not_while_in_use(espoo, monkeypatch):
    assert "welfare.middleware.SessionTouchMiddleware" in settings.MIDDLEWARE
    assert settings.SESSION_TOUCH_SECONDS <= 60
    age = settings.SESSION_COOKIE_AGE
    assert 0 < age <= 60 * 60, "staff sessions should end within an hour of inactivity"
    user = make_staff(espoo)
    client = client_for(espoo)
    post_login(client, user.email)
    start = timezone.now()

    def travel(seconds):
        monkeypatch.setattr(timezone, "now", lambda: start + timedelta(seconds=seconds))

    travel(age - 60)
    assert client.get("/dashboard/").status_code == 200  # active use moves the expiry on ...
    travel(2 * age - 120)
    assert client.get("/dashboard/").status_code == 200  # ... past the first session age
    travel(3 * age)  # idle for longer than the session age
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN_URL)


# --- Lockout (django-axes) ----------------------------------------------------------------------------


def test_sixth_attempt_with_the_right_password_is_refused(espoo):
    user = make_staff(espoo)
    client = client_for(espoo)
    for attempt in range(1, settings.AXES_FAILURE_LIMIT + 1):
        response = post_login(client, user.email, "guessing wrong")
        # the failure that reaches the limit already answers with the lockout
        assert response.status_code == (429 if attempt == settings.AXES_FAILURE_LIMIT else 200)
        assert signed_in_user_id(client) is None
    response = post_login(client, user.email, PASSWORD)
    assert response.status_code == 429
    assert signed_in_user_id(client) is None
    assert "15" in response.content.decode()  # the page says how long the lock lasts
    assert client.get("/dashboard/").status_code == 302

    # The attempts are counted in the public schema, per account; the audit log is Espoo's.
    with schema_context("public"):
        attempt = AccessAttempt.objects.get(username=user.email)
    assert attempt.failures_since_start >= settings.AXES_FAILURE_LIMIT
    failed = audit_entries(espoo, AuditAction.LOGIN_FAILED)
    assert len(failed) == settings.AXES_FAILURE_LIMIT + 1
    assert {e.detail["login"] for e in failed} == {user.email}
    assert connection.schema_name in ("public", espoo.schema_name)


def test_lockout_is_per_account_and_address(espoo):
    """Another person signing in from the same school network is not locked out."""
    victim, colleague = make_staff(espoo), make_staff(espoo)
    client = client_for(espoo)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, victim.email, "guessing wrong")
    other = client_for(espoo)
    post_login(other, colleague.email)
    assert signed_in_user_id(other) == str(colleague.pk)
    elsewhere = Client(headers={"host": host(espoo)}, REMOTE_ADDR="192.0.2.7")
    post_login(elsewhere, victim.email)
    assert signed_in_user_id(elsewhere) == str(victim.pk)  # the owner, from another address


def test_lockout_ends_after_the_cool_off(espoo):
    user = make_staff(espoo)
    client = client_for(espoo)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, user.email, "guessing wrong")
    assert post_login(client, user.email).status_code == 429
    with schema_context("public"):
        AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(minutes=1))
    post_login(client, user.email)
    assert signed_in_user_id(client) == str(user.pk)


def _request_with_session_of(client, user, municipality):
    from django.test import RequestFactory

    request = RequestFactory().get("/", headers={"host": host(municipality)})
    request.session, request.user = client.session, user
    return request


def test_second_factor_at_sign_in_counts_as_recent_for_step_up(espoo):
    from welfare.mfa import needs_step_up

    user = make_staff(espoo, Role.PRINCIPAL, totp=True)
    client = client_for(espoo)
    post_login(client, user.email)
    client.post(MFA_URL, {"code": totp_code(user.totp_secret)})
    with schema_context(espoo.schema_name):
        assert not needs_step_up(_request_with_session_of(client, user, espoo))


def test_step_up_is_needed_when_the_second_factor_is_old(espoo):
    from tests.factories import sign_in
    from welfare.mfa import needs_step_up

    user = make_staff(espoo, Role.PRINCIPAL)
    client = sign_in(client_for(espoo), user, mfa_age_seconds=settings.STEP_UP_MINUTES * 60 + 60)
    with schema_context(espoo.schema_name):
        assert needs_step_up(_request_with_session_of(client, user, espoo))


# --- Single sign-on: the adapter's decisions (docs/sso.md) ----------------------------------------


def _sso_request(municipality, user=None):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    request = RequestFactory().get("/accounts/saml/x/acs/", headers={"host": host(municipality)})
    request.session, request.user = SessionStore(), user or AnonymousUser()
    request._messages = FallbackStorage(request)
    return request


def _sociallogin(email, *, verified=True, municipality="espoo", provider="saml", existing=False):
    from types import SimpleNamespace

    app = SimpleNamespace(provider=provider, client_id=municipality if provider == "saml" else "entra-app-id",
                          settings={} if provider == "saml" else {"municipality": municipality})
    connected = []
    login = SimpleNamespace(
        provider=SimpleNamespace(app=app), email_addresses=[SimpleNamespace(email=email, verified=verified)],
        user=SimpleNamespace(email=email), account=SimpleNamespace(provider=provider), is_existing=existing,
        connect=lambda request, user: connected.append(user))
    login.connected = connected
    return login


@pytest.mark.parametrize(("case", "allowed"), [
    ("role here", True),
    ("idp of another municipality", False),
    ("email not verified", False),
    ("no account", False),
    ("account disabled", False),
    ("role only in vantaa", False),
    ("role revoked", False),
])
def test_sso_decision(espoo, vantaa, case, allowed):
    from welfare.adapters import sso_decision
    from welfare.models import StaffRole

    user = make_staff(vantaa if case == "role only in vantaa" else espoo, Role.PRINCIPAL)
    if case == "account disabled":
        user.is_active = False
    if case == "role revoked":
        with schema_context(espoo.schema_name):
            StaffRole.objects.filter(user_id=user.pk).update(revoked_at=timezone.now())
    with schema_context(espoo.schema_name):
        connection.tenant = espoo
        decision = sso_decision(user=None if case == "no account" else user,
                                email_verified=case != "email not verified",
                                municipality_slug="vantaa" if case == "idp of another municipality" else "espoo")
    assert decision.allowed is allowed, decision.reason


def test_sso_never_signs_anybody_up(espoo):
    from welfare.adapters import SocialAccountAdapter

    assert SocialAccountAdapter().is_open_for_signup(_sso_request(espoo), _sociallogin("x@example.fi")) is False


@pytest.mark.parametrize("provider", ["saml", "openid_connect"])
def test_sso_links_the_invited_account_by_verified_email(espoo, provider):
    from welfare.adapters import SocialAccountAdapter

    user = make_staff(espoo, Role.PRINCIPAL)
    login = _sociallogin(user.email.upper(), provider=provider)
    with schema_context(espoo.schema_name):
        connection.tenant = espoo
        SocialAccountAdapter().pre_social_login(_sso_request(espoo), login)
    assert login.connected == [user]


@pytest.mark.parametrize("trick", ["other municipality's idp", "unverified email", "no role here"])
def test_sso_refusal_is_a_403_and_audited(espoo, vantaa, trick):
    from django.core.exceptions import PermissionDenied

    from welfare.adapters import SocialAccountAdapter

    user = make_staff(vantaa if trick == "no role here" else espoo, Role.PRINCIPAL)
    login = _sociallogin(user.email, verified=trick != "unverified email",
                         municipality="vantaa" if trick == "other municipality's idp" else "espoo")
    with schema_context(espoo.schema_name):
        connection.tenant = espoo
        with pytest.raises(PermissionDenied):
            SocialAccountAdapter().pre_social_login(_sso_request(espoo), login)
    assert login.connected == []
    [entry] = audit_entries(espoo, AuditAction.LOGIN_FAILED)
    assert entry.detail["login"] == user.email and entry.detail["sso"] == login.account.provider


def test_which_municipality_an_identity_provider_serves():
    from types import SimpleNamespace

    from welfare.adapters import municipality_of_app

    assert municipality_of_app(SimpleNamespace(provider="saml", client_id="espoo", settings={})) == "espoo"
    assert municipality_of_app(SimpleNamespace(provider="saml", client_id="espoo-suomifi",
                                               settings={"municipality": "espoo"})) == "espoo"
    assert municipality_of_app(SimpleNamespace(provider="openid_connect", client_id="3f2a", settings={})) is None
    assert municipality_of_app(None) is None
