"""The one permission policy of Yhdessä (domain.md part A, decision 4: need to know).

Authorisation is data: ``RULES`` maps every action to the roles that may take it and
the *scope* in which each role's grant counts.  The same table answers

* ``can(user, action, obj)``: may this user do X to this object?  and
* ``filter_queryset(user, action, queryset)``: which rows may this user see?

so list views, API lists, exports, PDFs and Celery-generated files all go through it.
No view hand-writes a role check.

Scopes
------
``MUNICIPALITY``  the grant is municipality-wide (school=None): any object of the municipality.
``SCHOOL``        the grant's school is the object's school.
``GROUP``         a class teacher's grant lists the object's teaching group.
``SERVED``        welfare staff: the object's school, or only pupils on the user's caseload
                  when the municipality has chosen caseload scoping (MunicipalSettings).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import wraps

from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q, QuerySet

from welfare.models import Role, StaffRole


class Action(StrEnum):
    VIEW_SCHOOL = "view_school"
    VIEW_PUPIL = "view_pupil"  # a pupil's identity (lists, search)
    VIEW_PUPIL_ABSENCES = "view_pupil_absences"
    OPEN_ABSENCE_CASE = "open_absence_case"  # the confidential case log (step-up MFA)
    LOG_CASE_ACTION = "log_case_action"
    IMPORT_ABSENCES = "import_absences"
    MANAGE_POLICIES = "manage_policies"  # absence threshold policies
    VIEW_ANNUAL_CLOCK = "view_annual_clock"
    EDIT_ANNUAL_CLOCK = "edit_annual_clock"
    MANAGE_CLOCK_TEMPLATES = "manage_clock_templates"
    RECORD_GROUP_SESSION = "record_group_session"
    VIEW_OPEN_FEEDBACK = "view_open_feedback"  # pupils' open answers: the school's welfare staff
    MANAGE_PARENT_EVENINGS = "manage_parent_evenings"
    VIEW_AGGREGATES = "view_aggregates"  # suppressed figures, no names
    EXPORT = "export"  # aggregate tables to CSV/XLSX, PDF reports
    MANAGE_STAFF = "manage_staff"
    IMPORT_REGISTER = "import_register"  # schools, groups, pupils from the student register
    VIEW_AUDIT_LOG = "view_audit_log"
    EXPORT_PUPIL_DATA = "export_pupil_data"  # data subject access request
    MANAGE_RETENTION = "manage_retention"


class Scope(StrEnum):
    MUNICIPALITY = "municipality"
    SCHOOL = "school"
    GROUP = "group"
    SERVED = "served"


R = Role
WELFARE_STAFF = (R.SCHOOL_SOCIAL_WORKER, R.PSYCHOLOGIST, R.SCHOOL_NURSE, R.SCHOOL_DOCTOR)
SCHOOL_STAFF = (R.PRINCIPAL, R.CLASS_TEACHER, R.SPECIAL_NEEDS_TEACHER, R.GUIDANCE_COUNSELLOR, *WELFARE_STAFF)


def _grants(*pairs) -> dict[Role, Scope]:
    table: dict[Role, Scope] = {}
    for roles, scope in pairs:
        for role in roles if isinstance(roles, tuple) else (roles,):
            table[role] = scope
    return table


M, S, G, W = Scope.MUNICIPALITY, Scope.SCHOOL, Scope.GROUP, Scope.SERVED
PUPIL_READERS = _grants((R.CLASS_TEACHER, G), ((R.PRINCIPAL, R.SPECIAL_NEEDS_TEACHER, R.GUIDANCE_COUNSELLOR), S),
                        (WELFARE_STAFF, W))
CASE_WORKERS = _grants((R.CLASS_TEACHER, G), ((R.PRINCIPAL, R.SPECIAL_NEEDS_TEACHER), S), (WELFARE_STAFF, W))
WELFARE_GROUP = _grants(((R.PRINCIPAL, R.SPECIAL_NEEDS_TEACHER, R.GUIDANCE_COUNSELLOR), S), (WELFARE_STAFF, S))

RULES: dict[Action, dict[Role, Scope]] = {
    Action.VIEW_SCHOOL: _grants((SCHOOL_STAFF, S), ((R.MUNICIPAL_COORDINATOR, R.MUNICIPAL_ADMIN,
                                                      R.DATA_PROTECTION_OFFICER), M)),
    Action.VIEW_PUPIL: PUPIL_READERS,
    Action.VIEW_PUPIL_ABSENCES: PUPIL_READERS,
    Action.OPEN_ABSENCE_CASE: CASE_WORKERS,
    Action.LOG_CASE_ACTION: CASE_WORKERS,
    Action.IMPORT_ABSENCES: _grants((R.PRINCIPAL, S), (R.MUNICIPAL_ADMIN, M)),
    Action.MANAGE_POLICIES: _grants((R.MUNICIPAL_ADMIN, M)),
    Action.VIEW_ANNUAL_CLOCK: _grants((SCHOOL_STAFF, S), ((R.MUNICIPAL_COORDINATOR, R.MUNICIPAL_ADMIN), M)),
    Action.EDIT_ANNUAL_CLOCK: WELFARE_GROUP,
    Action.MANAGE_CLOCK_TEMPLATES: _grants((R.MUNICIPAL_COORDINATOR, M)),
    Action.RECORD_GROUP_SESSION: _grants(((R.PRINCIPAL, R.GUIDANCE_COUNSELLOR), S), (WELFARE_STAFF, S)),
    Action.VIEW_OPEN_FEEDBACK: _grants(((R.PRINCIPAL, R.GUIDANCE_COUNSELLOR), S), (WELFARE_STAFF, S)),
    Action.MANAGE_PARENT_EVENINGS: _grants((R.PRINCIPAL, S), (R.MUNICIPAL_COORDINATOR, M)),
    Action.VIEW_AGGREGATES: _grants((R.PRINCIPAL, S), ((R.MUNICIPAL_COORDINATOR, R.MUNICIPAL_ADMIN), M)),
    Action.EXPORT: _grants((R.PRINCIPAL, S), (R.MUNICIPAL_COORDINATOR, M)),
    Action.MANAGE_STAFF: _grants((R.MUNICIPAL_ADMIN, M)),
    Action.IMPORT_REGISTER: _grants((R.MUNICIPAL_ADMIN, M)),
    Action.VIEW_AUDIT_LOG: _grants(((R.MUNICIPAL_ADMIN, R.DATA_PROTECTION_OFFICER), M)),
    Action.EXPORT_PUPIL_DATA: _grants((R.PRINCIPAL, S), (R.DATA_PROTECTION_OFFICER, M)),
    Action.MANAGE_RETENTION: _grants(((R.MUNICIPAL_ADMIN, R.DATA_PROTECTION_OFFICER), M)),
}

# Actions that reveal an individual pupil's data: holding any of them requires MFA.
PUPIL_DATA_ACTIONS = {
    Action.VIEW_PUPIL, Action.VIEW_PUPIL_ABSENCES, Action.OPEN_ABSENCE_CASE, Action.LOG_CASE_ACTION,
    Action.IMPORT_ABSENCES, Action.IMPORT_REGISTER, Action.VIEW_AUDIT_LOG, Action.EXPORT_PUPIL_DATA,
}
MFA_REQUIRED_ROLES = frozenset(role for action in PUPIL_DATA_ACTIONS for role in RULES[action])


@dataclass(frozen=True)
class Target:
    """Where an object sits: the policy needs nothing else to decide."""

    school_id: int | None = None
    group_id: int | None = None
    student_id: int | None = None


# --- Who holds what -----------------------------------------------------------------

_MEMO = "_yhdessa_policy"


def _memoised(user, name: str, compute):
    """``compute()`` once per user object, municipality and ``name`` (a request's user lives one request)."""
    cache = user.__dict__.setdefault(_MEMO, {})
    key = (connection.schema_name, name)
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def active_roles(user) -> list[StaffRole]:
    """The user's active role grants in the current municipality (memoised per request user)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or connection.schema_name == "public":
        return []
    return _memoised(user, "roles", lambda: list(
        StaffRole.objects.active().filter(user_id=user.pk).select_related("school").prefetch_related("groups")
    ))


def forget_roles(user) -> None:
    """Drop everything memoised for the user (grants, caseload, scoping) after a change in the same request."""
    user.__dict__.pop(_MEMO, None)


def is_municipality_staff(user) -> bool:
    """A user enters only municipalities where they hold a role (domain.md A2)."""
    return bool(active_roles(user))


def requires_mfa(user) -> bool:
    """True when one of the user's roles here can open individual pupil data."""
    return any(grant.role in MFA_REQUIRED_ROLES for grant in active_roles(user))


def _caseload_scoping(user) -> bool:
    from welfare.models import MunicipalSettings

    return _memoised(user, "caseload_scoping", lambda: (
        MunicipalSettings.current().welfare_staff_scope == MunicipalSettings.Scope.CASELOAD))


def _caseload(user) -> set[int]:
    from welfare.models import CaseloadAssignment

    return _memoised(user, "caseload", lambda: set(
        CaseloadAssignment.objects.filter(user_id=user.pk).values_list("student_id", flat=True)))


# --- Decisions on one object --------------------------------------------------------

def _covers(grant: StaffRole, scope: Scope, target: Target | None, in_caseload) -> bool:
    """Does ``grant`` (counting in ``scope``) reach ``target``? ``in_caseload(student_id)`` is
    None when the municipality does not scope welfare staff by caseload."""
    if scope is Scope.MUNICIPALITY:
        return grant.school_id is None
    if grant.school_id is None:
        return False
    if target is None:  # "may the user do this anywhere?" (menus, landing pages)
        return True
    if target.school_id != grant.school_id:
        return False
    if scope is Scope.SCHOOL:
        return True
    if scope is Scope.GROUP:
        return target.group_id is not None and any(g.pk == target.group_id for g in grant.groups.all())
    # SERVED: the school's pupils, or only the caseload when the municipality scopes by caseload.
    if target.student_id is not None and in_caseload is not None:
        return in_caseload(target.student_id)
    return True


def _grant_covers(user, grant: StaffRole, scope: Scope, target: Target | None) -> bool:
    # The municipal setting is read only where it can matter (a pupil, a SERVED grant): most
    # pages' checks (menus, aggregates) then cost no query for it.
    in_caseload = None
    if scope is Scope.SERVED and target is not None and target.student_id is not None and _caseload_scoping(user):
        in_caseload = lambda student_id: student_id in _caseload(user)  # noqa: E731
    return _covers(grant, scope, target, in_caseload)


def can(user, action: Action, obj=None) -> bool:
    """May ``user`` take ``action`` on ``obj`` (a model instance or Target; None: anywhere)?"""
    rules = RULES[action]
    target = None if obj is None else target_of(obj)
    return any(
        grant.role in rules and _grant_covers(user, grant, rules[grant.role], target)
        for grant in active_roles(user)
    )


def allowed_schools(user, action: Action) -> set[int] | None:
    """School ids where the user may take ``action``; None means every school (municipal grant)."""
    rules = RULES[action]
    schools: set[int] = set()
    for grant in active_roles(user):
        if grant.role not in rules:
            continue
        if rules[grant.role] is Scope.MUNICIPALITY:
            if grant.school_id is None:
                return None
        elif grant.school_id:
            schools.add(grant.school_id)
    return schools


def require(user, action: Action, obj=None) -> None:
    """Raise PermissionDenied unless ``can(user, action, obj)``."""
    if not can(user, action, obj):
        raise PermissionDenied


def target_of(obj) -> Target:
    """Where an object sits. Models may define ``policy_target()``; Target passes through."""
    if isinstance(obj, Target):
        return obj
    if hasattr(obj, "policy_target"):
        return obj.policy_target()
    raise TypeError(f"The policy cannot place {type(obj).__name__}: give it a policy_target() method.")


def holders(action: Action, targets, *, roles=None) -> dict[Target, set[int]]:
    """The batch counterpart of ``can()``: for each target, the ids of the users who may take
    ``action`` on it (only through grants of ``roles``, when given). One query for the grants,
    one for the caseloads: used to address notifications to exactly the people who may open
    what they are told about."""
    from welfare.models import CaseloadAssignment, MunicipalSettings

    targets = list(dict.fromkeys(targets))
    rules = {role: scope for role, scope in RULES[action].items() if roles is None or role in roles}
    if not targets or not rules:
        return {target: set() for target in targets}
    schools = {t.school_id for t in targets if t.school_id is not None}
    grants = list(StaffRole.objects.active().filter(role__in=list(rules))
                  .filter(Q(school_id__in=schools) | Q(school__isnull=True)).prefetch_related("groups"))
    active_users = set(get_user_model().objects.filter(pk__in={g.user_id for g in grants}, is_active=True)
                       .values_list("pk", flat=True))
    grants = [grant for grant in grants if grant.user_id in active_users]
    in_caseload_of = lambda _user_id: None  # noqa: E731
    if MunicipalSettings.current().welfare_staff_scope == MunicipalSettings.Scope.CASELOAD:
        pairs = set(CaseloadAssignment.objects.filter(
            student_id__in={t.student_id for t in targets if t.student_id is not None},
            user_id__in={g.user_id for g in grants}).values_list("user_id", "student_id"))
        in_caseload_of = lambda user_id: lambda student_id: (user_id, student_id) in pairs  # noqa: E731
    by_school: dict[int | None, list[StaffRole]] = {}
    for grant in grants:
        by_school.setdefault(grant.school_id, []).append(grant)
    municipal = by_school.get(None, [])
    return {target: {grant.user_id for grant in (*by_school.get(target.school_id, ()), *municipal)
                     if _covers(grant, rules[grant.role], target, in_caseload_of(grant.user_id))}
            for target in targets}


# --- Filters on querysets -------------------------------------------------------------

def filter_queryset(user, action: Action, queryset: QuerySet, *, school: str = "school", group: str | None = None,
                    student: str | None = None) -> QuerySet:
    """Rows of ``queryset`` the user may take ``action`` on.

    ``school``, ``group`` and ``student`` name the lookups from the queryset's model to
    the school, teaching group and pupil (e.g. ``school="student__school"``).  The same
    rules as ``can()``, turned into one SQL predicate.
    """
    rules = RULES[action]
    condition = Q(pk__in=[])
    for grant in active_roles(user):
        scope = rules.get(grant.role)
        if scope is None:
            continue
        if scope is Scope.MUNICIPALITY:
            if grant.school_id is None:
                return queryset
            continue
        if grant.school_id is None:
            continue
        in_school = Q(**{f"{school}_id": grant.school_id}) if school else Q(pk__in=[])
        if scope is Scope.SCHOOL:
            condition |= in_school
        elif scope is Scope.GROUP:
            group_ids = [g.pk for g in grant.groups.all()]
            if group and group_ids:
                condition |= in_school & Q(**{f"{group}_id__in": group_ids})
        elif scope is Scope.SERVED:
            if student is not None and _caseload_scoping(user):
                condition |= in_school & Q(**{f"{student}_id__in" if student else "pk__in": list(_caseload(user))})
            else:
                condition |= in_school
    return queryset.filter(condition)


def visible_students(user, queryset=None):
    """Pupils whose identity the user may see in the current municipality."""
    from welfare.models import Student

    queryset = Student.objects.all() if queryset is None else queryset
    return filter_queryset(user, Action.VIEW_PUPIL, queryset, school="school", group="group", student="")


# --- View decorators ---------------------------------------------------------------------

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


def permission_required(action: Action):
    """Sign-in and a role allowing ``action`` somewhere in this municipality; object checks stay
    with ``require()`` once the view has loaded its object."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not can(request.user, action):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
