"""How django-allauth and django-axes fit Yhdessä's rules on who may sign in.

* Staff are invited by a municipal administrator: nobody registers themselves, with a password
  or through single sign-on (``AccountAdapter`` and ``SocialAccountAdapter`` close sign-up).
* django-axes is the one sign-in lockout (docs/privacy.md, "Sign-in"): it counts failures per
  account *and* address, in the public schema, so a lockout holds on every municipality's host.
  These helpers give it the address the audit log records and the email allauth's form posts.
* Single sign-on through municipality X's identity provider opens a session only for a user who
  already holds a role in X, matched by the verified email address (docs/sso.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils.translation import gettext_lazy as _

LOCKOUT_MESSAGE = _("Too many failed sign-in attempts. For your protection this account is locked on this "
                    "device for %(minutes)s minutes. Try again later, or ask your municipality's "
                    "administrator for help.")


# --- django-axes ------------------------------------------------------------------------

def axes_username(request, credentials: dict | None = None) -> str | None:
    """The address a sign-in attempt was for.

    allauth authenticates with ``email=`` (not ``username=``) and its form field is ``login``;
    axes looks in the credentials first, then in the posted form. Lower-cased, as allauth and the
    User model store addresses, so "Maija@..." and "maija@..." count as one account.
    """
    value = None
    if credentials:
        value = credentials.get("email") or credentials.get("login") or credentials.get("username")
    if not value and request is not None:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        value = data.get("login") or data.get("email") or data.get("username")
    value = str(value or "").strip().lower()
    return value or None


def axes_client_ip(request) -> str | None:
    """The same client address the audit log records (welfare.audit.client_ip)."""
    from welfare.audit import client_ip

    return client_ip(request)


def lockout_response(request, original_response=None, credentials=None):
    """A locked-out sign-in gets the sign-in page again, with the reason, and HTTP 429."""
    from allauth.account.forms import LoginForm
    from django.conf import settings
    from django.shortcuts import render

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    form = LoginForm(request=request, initial={"login": axes_username(request, credentials) or ""})
    form.cleaned_data = {}  # an unbound form: add_error() needs this to exist
    form.add_error(None, LOCKOUT_MESSAGE % {"minutes": minutes})
    return render(request, "account/login.html", {"form": form, "axes_locked_out": True}, status=429)


# --- allauth ----------------------------------------------------------------------------

class AccountAdapter(DefaultAccountAdapter):
    """Nobody signs themselves up: a municipal administrator invites staff."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """allauth asks for the password again before any second-factor change. Someone who signed
        in with it moments ago and is setting up a first authenticator (MfaEnrollmentMiddleware
        sent them there) is not asked twice; removing or replacing a factor still asks."""
        from allauth.core import context

        required = super().is_reauthentication_required(app=app, **kwargs)
        request = self.request or getattr(context, "request", None)  # allauth asks without one
        if required and app == "allauth.mfa" and request is not None and _enrolling_after_sign_in(request):
            return False
        return required


def _enrolling_after_sign_in(request) -> bool:
    import time

    from allauth.account import app_settings as account_settings
    from allauth.account.authentication import get_authentication_records
    from allauth.mfa.models import Authenticator

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or Authenticator.objects.filter(user=user).exists():
        return False
    signed_in = [r.get("at") for r in get_authentication_records(request, user)
                 if r.get("method") == "password"]
    signed_in = [at for at in signed_in if isinstance(at, int | float)]
    return bool(signed_in) and time.time() - max(signed_in) < account_settings.REAUTHENTICATION_TIMEOUT


@dataclass(frozen=True)
class SsoDecision:
    allowed: bool
    reason: str  # for the audit log and the person's message


def sso_decision(*, user, email_verified: bool, municipality_slug: str | None) -> SsoDecision:
    """May a single sign-on through an identity provider of ``municipality_slug`` open a session?

    Run on the municipality's host (connection on its schema). ``user`` is the existing account
    with the asserted email, or None. The rules, in order:

    1. the identity provider belongs to the municipality whose host this is (SocialApp rows live
       in the public schema, so without this Espoo's Entra ID could be used to enter Vantaa);
    2. the provider vouches for the email (an unverified address could be anyone's);
    3. an account with that address exists: nobody is created by signing in;
    4. the account is active and holds an active role in this municipality.
    """
    from welfare import policy

    tenant_slug = getattr(getattr(connection, "tenant", None), "slug", None)
    if connection.schema_name == "public" or not municipality_slug or municipality_slug != tenant_slug:
        return SsoDecision(False, "identity provider of another municipality")
    if not email_verified:
        return SsoDecision(False, "email address not verified by the identity provider")
    if user is None:
        return SsoDecision(False, "no account with this email address")
    if not user.is_active:
        return SsoDecision(False, "account disabled")
    policy.forget_roles(user)
    if not policy.is_municipality_staff(user):
        return SsoDecision(False, "no role in this municipality")
    return SsoDecision(True, "role in this municipality")


def municipality_of_app(app) -> str | None:
    """Which municipality a SocialApp (one identity provider) belongs to.

    ``settings["municipality"]`` names it; a SAML app without it falls back to its organisation
    slug (``client_id``, the <organization_slug> of /accounts/saml/<organization_slug>/...).
    """
    if app is None:
        return None
    configured = (getattr(app, "settings", None) or {}).get("municipality")
    if configured:
        return configured
    return app.client_id if getattr(app, "provider", "") == "saml" else None


def _app_of(sociallogin):
    provider = getattr(sociallogin, "provider", None)
    if provider is None:
        provider = sociallogin.account.get_provider()
    return getattr(provider, "app", None)


def _verified_email(sociallogin) -> tuple[str | None, bool]:
    for address in sociallogin.email_addresses:
        if address.verified:
            return address.email.lower(), True
    email = getattr(sociallogin.user, "email", "") or ""
    return (email.lower() or None), False


try:  # the socialaccount app is optional: see docs/sso.md for how to switch SSO on
    from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
except Exception:  # noqa: BLE001 - without the extra, password sign-in still works
    DefaultSocialAccountAdapter = object  # type: ignore[misc,assignment]


class SocialAccountAdapter(DefaultSocialAccountAdapter):  # type: ignore[misc,valid-type]
    """Single sign-on never creates an account and opens only municipalities where the person works."""

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False

    def pre_social_login(self, request, sociallogin) -> None:
        from welfare import audit
        from welfare.accounts.models import User
        from welfare.models import AuditAction

        email, verified = _verified_email(sociallogin)
        user = User.objects.filter(email__iexact=email).first() if email else None
        decision = sso_decision(user=user, email_verified=verified,
                                municipality_slug=municipality_of_app(_app_of(sociallogin)))
        if not decision.allowed:
            audit.record(request, AuditAction.LOGIN_FAILED, object_type="accounts.user",
                         detail={"login": (email or "")[:254], "sso": sociallogin.account.provider,
                                 "reason": decision.reason})
            messages.error(request, _("Single sign-on did not open Yhdessä: your account has no role in this "
                                      "municipality. Ask your municipality's administrator."))
            raise PermissionDenied(decision.reason)
        if not sociallogin.is_existing:
            # Link the identity to the invited account (matched by the provider-verified email).
            sociallogin.connect(request, user)
