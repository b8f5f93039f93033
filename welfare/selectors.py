"""Read queries of the core. Callers are views that have already passed the policy."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count

from welfare.models import School, Student, TeachingGroup
from welfare.municipalities.models import Municipality


def public_municipalities():
    """Municipalities whose schema is ready, for the public page (names and hosts only)."""
    return (
        Municipality.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
        .filter(ready=True)
        .prefetch_related("domains")
        .order_by("name_fi")
    )


def municipality_summary() -> dict:
    """Counts for the front page of the municipality currently served (no names)."""
    by_type = dict(School.objects.values_list("school_type").annotate(n=Count("id")))
    return {
        "schools": sum(by_type.values()),
        "schools_by_type": by_type,
        "groups": TeachingGroup.objects.count(),
        "students": Student.objects.count(),
    }


def school_overview():
    """Schools with their group and pupil counts, one query (enrolment figures, not welfare data)."""
    return School.objects.annotate(
        group_count=Count("groups", distinct=True), student_count=Count("students", distinct=True)
    ).order_by("name")


def redis_health() -> dict:
    try:
        client = cache._cache.get_client()  # the django RedisCache's redis-py client
        client.ping()
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": exc.__class__.__name__}


def celery_health(timeout: float = 1.0) -> dict:
    """Asks the workers to answer a ping; none answering is 'down'."""
    from config.celery import app

    if app.conf.task_always_eager:
        return {"ok": True, "mode": "eager"}
    try:
        replies = app.control.ping(timeout=timeout) or []
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": bool(replies), "workers": len(replies)}
