"""Read queries for staff management (the municipality's people and their role grants).

Callers are views that have already passed ``welfare.policy`` for ``Action.MANAGE_STAFF``
(municipal administrators, paakayttaja). Users live in the public schema and grants in the
municipality's schema (domain.md A2), so a list is two steps: the grants here, then the users
by id in one query.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from django.http import Http404

from welfare.models import School, StaffRole, TeachingGroup
from welfare.selectors import users_by_id
from welfare.services.imports import default_school_year


@dataclass
class StaffMember:
    """One person as this municipality sees them: the shared user and the grants held here."""

    user: object  # accounts.User (public schema)
    roles: list[StaffRole] = field(default_factory=list)  # active grants here
    revoked: list[StaffRole] = field(default_factory=list)  # revoked grants here (history)

    @property
    def sort_key(self) -> tuple[str, str, str]:
        return (self.user.last_name.casefold(), self.user.first_name.casefold(), self.user.email)


def _grants() -> QuerySet:
    return StaffRole.objects.select_related("school").prefetch_related(
        Prefetch("groups", queryset=TeachingGroup.objects.order_by("grade", "name"))
    )


def staff_list(*, school: School | None = None, role: str | None = None) -> list[StaffMember]:
    """Everyone with an active role in this municipality, with all of their active roles here.

    ``school`` and ``role`` keep only the people holding a matching active grant. For
    municipal administrators (``Action.MANAGE_STAFF``) only. Three queries: grants, their
    groups, users.
    """
    matching = StaffRole.objects.active()
    if school is not None:
        matching = matching.filter(school=school)
    if role:
        matching = matching.filter(role=role)
    grants = list(_grants().active().filter(user_id__in=matching.values("user_id")).order_by("role", "school__name"))
    users = users_by_id(grant.user_id for grant in grants)
    members: dict[int, StaffMember] = {}
    for grant in grants:
        user = users.get(grant.user_id)
        if user is None:  # the user was deleted from the shared schema; the grant is inert
            continue
        members.setdefault(user.pk, StaffMember(user=user)).roles.append(grant)
    return sorted(members.values(), key=lambda member: member.sort_key)


def revoked_grants(*, school: School | None = None, role: str | None = None) -> list[tuple[StaffRole, object]]:
    """Revoked grants of this municipality (newest first) with their users: the history.

    For municipal administrators (``Action.MANAGE_STAFF``) only.
    """
    grants = _grants().filter(revoked_at__isnull=False)
    if school is not None:
        grants = grants.filter(school=school)
    if role:
        grants = grants.filter(role=role)
    grants = list(grants.order_by("-revoked_at", "-pk"))
    users = users_by_id(grant.user_id for grant in grants)
    return [(grant, users[grant.user_id]) for grant in grants if grant.user_id in users]


def staff_member(user_id: int) -> StaffMember:
    """One person with their grants here, active and revoked.

    Raises Http404 unless the user has ever held a role in *this* municipality: an admin
    cannot look up people of other municipalities by id. For ``Action.MANAGE_STAFF`` only.
    """
    grants = list(_grants().filter(user_id=user_id).order_by("role", "school__name", "-revoked_at"))
    user = get_user_model().objects.filter(pk=user_id).first() if grants else None
    if user is None:
        raise Http404
    member = StaffMember(user=user)
    for grant in grants:
        (member.roles if grant.revoked_at is None else member.revoked).append(grant)
    member.revoked.sort(key=lambda grant: grant.revoked_at, reverse=True)
    return member


def grantable_groups(school: School | int | None = None) -> QuerySet:
    """Teaching groups a class teacher's grant may list: the current school year's groups,
    of one school when given. For ``Action.MANAGE_STAFF`` (the grant and invite forms)."""
    year = default_school_year()
    if year is None:
        return TeachingGroup.objects.none()
    groups = TeachingGroup.objects.filter(school_year=year).select_related("school")
    if school is not None:
        groups = groups.filter(school=school)
    return groups.order_by("school__name", "grade", "name")
