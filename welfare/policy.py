"""The one permission policy of Yhdessä.

Every view, API endpoint, export and task asks this module; nothing else
hand-writes a role check.  The full action × role table comes with the
identity-and-privacy issue; this first part answers the question every page
needs: does the signed-in user hold any role in the municipality being served?
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import connection

from welfare.models import StaffRole


def active_roles(user) -> list[StaffRole]:
    """The user's active roles in the current municipality (cached on the user object per schema)."""
    if not getattr(user, "is_authenticated", False) or connection.schema_name == "public":
        return []
    cache = user.__dict__.setdefault("_yhdessa_roles", {})
    if connection.schema_name not in cache:
        cache[connection.schema_name] = list(
            StaffRole.objects.active().filter(user_id=user.pk).select_related("school").prefetch_related("groups")
        )
    return cache[connection.schema_name]


def is_municipality_staff(user) -> bool:
    """A user enters only municipalities where they hold a role (domain.md A2)."""
    return bool(active_roles(user))


def municipality_staff_required(view):
    """Sign-in required; then 403 unless the user holds a role in this municipality."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_municipality_staff(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


# --- Queryset filters --------------------------------------------------------------
# Need to know (domain.md A4): class teacher → own groups' pupils; principal → own school;
# welfare staff → pupils of the schools they serve; coordinators, admins, DPO → no names.
SCHOOL_WIDE_PUPIL_ROLES = {
    "rehtori", "erityisopettaja", "opinto-ohjaaja", "kuraattori", "psykologi", "terveydenhoitaja", "koululaakari",
}


def visible_students(user, queryset=None):
    """Students whose identity the user may see in the current municipality."""
    from django.db.models import Q

    from welfare.models import Student

    queryset = Student.objects.all() if queryset is None else queryset
    condition = Q(pk__in=[])
    for grant in active_roles(user):
        if grant.role in SCHOOL_WIDE_PUPIL_ROLES and grant.school_id:
            condition |= Q(school_id=grant.school_id)
        elif grant.role == "luokanopettaja":
            group_ids = [group.pk for group in grant.groups.all()]
            if group_ids:
                condition |= Q(group_id__in=group_ids)
    return queryset.filter(condition)
