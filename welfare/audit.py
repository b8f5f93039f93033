"""The one audit mechanism: every read and change of individual data is written here.

* ``record()`` / ``record_many()``: the write path (template views call them after selecting).
* ``AuditedViewSetMixin``: the same for DRF viewsets; a list logs every pupil it returned.
* Sign-in signals: successful and failed sign-ins on a municipality's host.

Entries live in the municipality's schema and are append-only (migration 0003).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import connection
from django.dispatch import receiver

from welfare.models import AuditAction, AuditEvent, Student


def client_ip(request) -> str | None:
    """The client's address: behind our proxies (AUDIT_TRUST_X_FORWARDED_FOR), the entry of
    X-Forwarded-For that the first of our TRUSTED_PROXY_COUNT proxies appended; everything left of
    it was written by the client and can be anything. Used by the audit log and the rate limits."""
    if request is None:
        return None
    if getattr(settings, "AUDIT_TRUST_X_FORWARDED_FOR", False):
        entries = [entry.strip() for entry in request.headers.get("X-Forwarded-For", "").split(",") if entry.strip()]
        count = getattr(settings, "TRUSTED_PROXY_COUNT", 1)
        if len(entries) >= count:
            try:
                return str(ipaddress.ip_address(entries[-count]))
            except ValueError:
                pass
    return request.META.get("REMOTE_ADDR") or None


def _roles_text(user) -> str:
    from welfare.policy import active_roles

    return ",".join(
        f"{grant.role}@{grant.school_id}" if grant.school_id else grant.role for grant in active_roles(user)
    )[:300]


def _student_id(obj) -> int | None:
    if isinstance(obj, Student):
        return obj.pk
    return getattr(obj, "student_id", None)


def _object_id(pk) -> str:
    """A key as text; a composite key (e.g. an absence record's pupil, date, category) joined by "/"."""
    return "/".join(str(part) for part in pk) if isinstance(pk, tuple) else str(pk)


def _event(request, action, *, obj=None, object_type="", object_id="", student_id=None, detail=None,
           user=None) -> AuditEvent:
    user = user if user is not None else getattr(request, "user", None)
    authenticated = bool(user is not None and getattr(user, "is_authenticated", False))
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or _object_id(obj.pk)
        student_id = student_id if student_id is not None else _student_id(obj)
    return AuditEvent(
        user_id=user.pk if authenticated else None,
        user_email=(user.email if authenticated else "")[:254],
        roles=_roles_text(user) if authenticated else "",
        action=action,
        object_type=object_type[:60],
        object_id=str(object_id)[:64],
        student_id=student_id,
        ip_address=client_ip(request),
        request_id=getattr(request, "request_id", "")[:64] if request is not None else "",
        path=request.get_full_path()[:300] if request is not None else "",
        detail=detail or {},
    )


def record(request, action: str, *, obj=None, object_type: str = "", object_id: str = "", student_id=None,
           detail: dict | None = None, user=None) -> AuditEvent | None:
    """Write one audit entry in the current municipality (no-op on the public schema)."""
    if connection.schema_name == "public":
        return None
    event = _event(request, action, obj=obj, object_type=object_type, object_id=object_id,
                   student_id=student_id, detail=detail, user=user)
    event.save()
    return event


def record_many(request, action: str, objects: Iterable, *, detail: dict | None = None) -> int:
    """One entry per object (a list view logs every pupil it returned); one INSERT."""
    if connection.schema_name == "public":
        return 0
    events = [_event(request, action, obj=obj, detail=detail) for obj in objects]
    AuditEvent.objects.bulk_create(events)
    return len(events)


_METHOD_ACTIONS = {"POST": AuditAction.CREATE, "PUT": AuditAction.UPDATE, "PATCH": AuditAction.UPDATE,
                   "DELETE": AuditAction.DELETE}


class AuditedViewSetMixin:
    """For DRF viewsets over individual data: logs every object a request returned or changed.

    Collects objects from ``get_object`` and ``paginate_queryset`` (linkedevents' pattern) and
    writes them when the response is a success.
    """

    def _audit_collect(self, objects) -> None:
        self.__dict__.setdefault("_audit_objects", []).extend(objects)

    def get_object(self):
        obj = super().get_object()
        self._audit_collect([obj])
        return obj

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            self._audit_collect(page)
        return page

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        objects = self.__dict__.pop("_audit_objects", [])
        if objects and 200 <= response.status_code < 300:
            action = _METHOD_ACTIONS.get(request.method, AuditAction.READ)
            record_many(request, action, objects)
        return response


@receiver(user_logged_in, dispatch_uid="yhdessa_audit_login")
def _audit_login(sender, request, user, **kwargs):
    record(request, AuditAction.LOGIN, user=user, object_type="accounts.user", object_id=str(user.pk))


@receiver(user_login_failed, dispatch_uid="yhdessa_audit_login_failed")
def _audit_login_failed(sender, credentials, request=None, **kwargs):
    attempted = str(credentials.get("email") or credentials.get("username") or credentials.get("login") or "")
    record(request, AuditAction.LOGIN_FAILED, object_type="accounts.user", detail={"login": attempted[:254]})
