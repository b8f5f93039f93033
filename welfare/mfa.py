"""Second factor: enrolment is required for roles that can open pupil data, and opening a
confidential record asks for it again when the last one is older than the municipality's limit."""

from __future__ import annotations

import time
from functools import wraps

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.db import connection
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from welfare import policy

EXEMPT_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/healthz", "/media/", "/api/")


def has_totp(user) -> bool:
    cache = user.__dict__
    if "_yhdessa_has_totp" not in cache:
        cache["_yhdessa_has_totp"] = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    return cache["_yhdessa_has_totp"]


def remember_used_codes_while_valid() -> None:
    """Called once from WelfareConfig.ready(). allauth refuses a TOTP code it has seen, but
    remembers it for one period only (in this municipality's cache keys), while
    MFA_TOTP_TOLERANCE accepts a code for 2·tolerance+1 periods and a user signs in to every
    municipality where they hold a role: a code seen once could be replayed 30 s later, or on
    another municipality's address. Remember it for as long as it is accepted, for every
    municipality."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import TOTP
    from django.core.cache import cache
    from django_tenants.utils import schema_context

    def mark_code_used(self, code: str) -> bool:
        with schema_context("public"):  # the cache key carries the schema: one key for every municipality
            return cache.add(self._get_used_cache_key(code), "y",
                             timeout=app_settings.TOTP_PERIOD * (2 * app_settings.TOTP_TOLERANCE + 1))

    if not hasattr(TOTP, "_mark_code_used"):  # an allauth upgrade renamed it: fail loudly, not silently
        raise RuntimeError("allauth's TOTP._mark_code_used is gone: review welfare.mfa.remember_used_codes_while_valid")
    TOTP._mark_code_used = mark_code_used


class MfaEnrollmentMiddleware:
    """A user whose role here can open pupil data sets up the second factor before anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and connection.schema_name != "public"
            and not request.path.startswith(EXEMPT_PREFIXES)
            and policy.requires_mfa(user)
            and not has_totp(user)
        ):
            return redirect(f"{reverse('mfa_activate_totp')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


def last_mfa_at(request) -> float | None:
    """When the second factor was last given in this session (epoch seconds)."""
    # allauth returns no records unless it is given the user whose records they are.
    records = get_authentication_records(request, getattr(request, "user", None))
    times = [record.get("at") for record in records if record.get("method") == "mfa"]
    times = [t for t in times if isinstance(t, int | float)]
    return max(times) if times else None


def step_up_max_age_seconds() -> int:
    from welfare.models import MunicipalSettings

    minutes = MunicipalSettings.current().step_up_minutes
    return int(settings.STEP_UP_MINUTES if minutes is None else minutes) * 60


def needs_step_up(request) -> bool:
    last = last_mfa_at(request)
    return last is None or time.time() - last > step_up_max_age_seconds()


def step_up_required(view):
    """Before a confidential record opens: a second factor given within the last N minutes.

    Otherwise the user goes to allauth's reauthenticate page with ``?next=`` (the page passes it on
    in a hidden field); after a valid code allauth records a fresh "mfa" authentication and
    redirects back to ``next`` (allauth.account.internal.flows.reauthentication.resume_request).
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated and needs_step_up(request):
            return redirect(f"{reverse('mfa_reauthenticate')}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapper
