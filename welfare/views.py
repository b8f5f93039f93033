"""Shell pages: the municipality's home, the public page, health and error pages."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token

from welfare import audit, selectors
from welfare.context_processors import tools_for
from welfare.models import AuditAction
from welfare.policy import is_municipality_staff


def public_home(request):
    """The bare host: what Yhdessä is and which municipalities use it. Nothing private."""
    return render(request, "welfare/public_home.html", {"municipalities": selectors.public_municipalities()})


def home(request):
    """A municipality's front page: sign-in for visitors, the modules for its staff."""
    context = {"is_staff_here": is_municipality_staff(request.user)}
    if context["is_staff_here"]:
        context["summary"] = selectors.municipality_summary()
        context["tools"] = tools_for(request.user)
    return render(request, "welfare/home.html", context)


@never_cache
def healthz(request):
    """JSON with the state of the database, Redis and Celery; 200 when all are up, else 503."""
    checks = {}
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except Exception as exc:  # noqa: BLE001 - a health check reports, it does not raise
        checks["database"] = {"ok": False, "error": exc.__class__.__name__}
    checks["redis"] = selectors.redis_health()
    checks["celery"] = selectors.celery_health()
    ok = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if ok else "degraded", "checks": checks,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1)}
    return JsonResponse(body, status=200 if ok else 503)


def _visitor_language(request) -> None:
    """An unknown host is refused before LocaleMiddleware runs: pick the language here."""
    if not getattr(request, "LANGUAGE_CODE", None):
        translation.activate(translation.get_language_from_request(request))


def unknown_municipality(request):
    """No municipality at this host: the normal 404 page (even with DEBUG), in the visitor's language."""
    port = request.get_port()
    suffix = "" if port in ("80", "443") else f":{port}"
    with translation.override(translation.get_language_from_request(request)):
        return render(request, "404.html", {"front_page_url": f"//{settings.BASE_DOMAIN}{suffix}/"}, status=404)


def permission_denied(request, exception=None):
    _visitor_language(request)
    audit.record(request, AuditAction.DENIED, object_type="page", detail={"method": request.method})
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    _visitor_language(request)
    return render(request, "404.html", status=404)


@requires_csrf_token
def server_error(request):
    # Rendered without the context processors: a failing database must not fail this page.
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("500.html").render({"request": request}))
