import copy
import re
import time
import uuid

from django.conf import settings
from django.utils import timezone
from django_tenants.middleware.main import TenantMainMiddleware

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Gives every request an id (X-Request-ID, or a new one), echoed in the response.

    The audit log records it, so one request can be followed through the logs.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


class CachedTenantMiddleware(TenantMainMiddleware):
    """django-tenants' TenantMainMiddleware with the host → municipality lookup kept in the
    process for ``settings.TENANT_CACHE_SECONDS`` (0 switches it off, as in tests): on a warm
    worker a request costs no public-schema query. Unknown hosts are never cached; a renamed or
    removed host is noticed within that many seconds."""

    def get_tenant(self, domain_model, hostname):
        ttl = getattr(settings, "TENANT_CACHE_SECONDS", 0)
        if ttl <= 0:
            return super().get_tenant(domain_model, hostname)
        now = time.monotonic()
        hit = _TENANTS.get(hostname)
        if hit is None or hit[1] <= now:
            hit = (super().get_tenant(domain_model, hostname), now + ttl)
            _TENANTS[hostname] = hit
        return copy.copy(hit[0])  # each request sets its own attributes on it


_TENANTS: dict = {}


class SessionTouchMiddleware:
    """Sessions expire after SESSION_COOKIE_AGE of inactivity without a database write on every
    request: a signed-in session is saved again (its expiry moved on) once its last save is at
    least ``settings.SESSION_TOUCH_SECONDS`` old. Must come after SessionMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.modified and session.get("_auth_user_id"):
            now = int(timezone.now().timestamp())
            if now - int(session.get("_touched", 0)) >= settings.SESSION_TOUCH_SECONDS:
                session["_touched"] = now
        return response
