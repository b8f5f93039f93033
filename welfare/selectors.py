"""Read queries of the core. Callers are views that have already passed the policy."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

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
    """Schools with their group and pupil counts, one query (enrolment figures, not welfare data).
    Counted per school through the foreign-key indexes: a join of every pupil would cost a third
    of a second at Helsinki's size."""
    groups = (TeachingGroup.objects.filter(school=OuterRef("pk")).order_by().values("school")
              .annotate(n=Count("*")).values("n"))
    students = (Student.objects.filter(school=OuterRef("pk")).order_by().values("school")
                .annotate(n=Count("*")).values("n"))
    return School.objects.annotate(
        group_count=Coalesce(Subquery(groups), 0), student_count=Coalesce(Subquery(students), 0)
    ).order_by("name")


def users_by_id(user_ids) -> dict[int, object]:
    """The users behind ``user_ids`` (accounts.User, public schema): one query however many ids."""
    from welfare.accounts.models import User

    user_ids = set(user_ids)
    return {user.pk: user for user in User.objects.filter(pk__in=user_ids)} if user_ids else {}


def user_names(user_ids) -> dict[int, str]:
    """Staff members' display names (full name, else email) by user id: one query."""
    return {pk: user.get_full_name() or user.email for pk, user in users_by_id(user_ids).items()}


def search_students(queryset: QuerySet[Student], query: str) -> QuerySet[Student]:
    """Pupils of ``queryset`` whose register id is ``query`` (any case) or whose names contain every
    word of it (at most five words). An empty query keeps them all. Callers pass a queryset the
    policy has already narrowed (the pupil list) or are the audit log (every pupil)."""
    query = query.strip()
    if not query:
        return queryset
    by_name = Q()
    for word in query.split()[:5]:
        by_name &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    return queryset.filter(Q(external_id__iexact=query) | by_name)


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
