"""Reads of the annual clock, already narrowed by the permission policy (welfare.policy).

Clocks are communal data: Action.VIEW_ANNUAL_CLOCK lets school staff see their school's clocks
and the coordinator and administrator every school's; editing is the welfare group's
(Action.EDIT_ANNUAL_CLOCK); templates are the coordinator's (Action.MANAGE_CLOCK_TEMPLATES).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import partial

from django.db.models import Q, QuerySet

from annualclock.models import Activity, Clock, ClockTemplate, FeedToken, Ring, Status, TargetGroup, copy_changes
from annualclock.schedule import occurrences, span, terms_of
from welfare import policy
from welfare.clock import ClockEntry, entries_for_school
from welfare.models import Role, SchoolYear, StaffRole
from welfare.policy import Action
from welfare.selectors import user_names


def visible_clocks(user) -> QuerySet[Clock]:
    """Clocks the user may view (any user; the policy narrows)."""
    queryset = Clock.objects.select_related("school", "school_year", "template")
    return policy.filter_queryset(user, Action.VIEW_ANNUAL_CLOCK, queryset, school="school")


def visible_activities(user) -> QuerySet[Activity]:
    """Clock activities the user may view."""
    queryset = Activity.objects.filter(clock__isnull=False).select_related("ring", "clock__school",
                                                                           "clock__school_year")
    return policy.filter_queryset(user, Action.VIEW_ANNUAL_CLOCK, queryset, school="clock__school")


def may_edit(user, obj) -> bool:
    """May the user change this clock, activity or template (or a template's activity)?"""
    if isinstance(obj, ClockTemplate):
        return policy.can(user, Action.MANAGE_CLOCK_TEMPLATES)
    if isinstance(obj, Activity) and obj.template_id:
        return policy.can(user, Action.MANAGE_CLOCK_TEMPLATES)
    return policy.can(user, Action.EDIT_ANNUAL_CLOCK, obj)


def may_view(user, obj) -> bool:
    if isinstance(obj, ClockTemplate) or (isinstance(obj, Activity) and obj.template_id):
        return policy.can(user, Action.MANAGE_CLOCK_TEMPLATES) or policy.can(user, Action.EDIT_ANNUAL_CLOCK)
    return policy.can(user, Action.VIEW_ANNUAL_CLOCK, obj)


def editable_schools(user):
    """Schools whose clocks the user may edit (None: never municipal, EDIT has no M grant)."""
    from welfare.models import School

    allowed = policy.allowed_schools(user, Action.EDIT_ANNUAL_CLOCK)
    queryset = School.objects.order_by("name")
    return queryset if allowed is None else queryset.filter(pk__in=allowed)


def school_staff_ids(school_id: int) -> set[int]:
    """Users holding an active role at the school: the only people an activity may name as owners."""
    return set(StaffRole.objects.active().filter(school_id=school_id).values_list("user_id", flat=True))


def school_staff(school_id: int) -> list[tuple[int, str]]:
    """(user id, name) of the school's staff by name, for choosing and showing named owners.
    Callers have authorised the school (users live in the public schema: never name others)."""
    names = user_names(school_staff_ids(school_id))
    return sorted(names.items(), key=lambda pair: pair[1].lower())


def current_school_year(today: date) -> SchoolYear | None:
    return SchoolYear.objects.containing(today)


def rings() -> list[Ring]:
    return list(Ring.objects.filter(active=True))


def user_roles_by_school(user) -> dict[int, set[str]]:
    roles: dict[int, set[str]] = {}
    for grant in policy.active_roles(user):
        if grant.school_id:
            roles.setdefault(grant.school_id, set()).add(grant.role)
    return roles


def owned_condition(user) -> Q:
    """Activities the user owns: a named owner, or holding the owner role at the clock's school."""
    condition = Q(owner_ids__contains=[user.pk])
    for school_id, roles in user_roles_by_school(user).items():
        condition |= Q(clock__school_id=school_id, owner_role__in=sorted(roles))
    return condition


def my_tasks(user) -> QuerySet[Activity]:
    """"My tasks": the visible clock activities the user owns (named, or by role at that school)."""
    return visible_activities(user).filter(owned_condition(user)).select_related("evaluation")


# --- One clock's content ----------------------------------------------------------------------


@dataclass
class Filters:
    ring: int | None = None
    owner: str = ""  # a role value, or "me"
    status: str = ""
    target: str = ""

    @classmethod
    def from_query(cls, params) -> Filters:
        ring = params.get("ring", "")
        owner = params.get("owner", "")
        return cls(
            ring=int(ring) if ring.isdigit() and len(ring) < 10 else None,
            owner=owner if owner == "me" or owner in Role.values else "",
            status=params.get("status", "") if params.get("status", "") in Status.values else "",
            target=params.get("target", "") if params.get("target", "") in TargetGroup.values else "",
        )

    @property
    def active(self) -> bool:
        return bool(self.ring or self.owner or self.status or self.target)

    def apply(self, queryset: QuerySet[Activity], user) -> QuerySet[Activity]:
        if self.ring:
            queryset = queryset.filter(ring_id=self.ring)
        if self.owner == "me":
            queryset = queryset.filter(owned_condition(user))
        elif self.owner:
            queryset = queryset.filter(owner_role=self.owner)
        if self.status:
            queryset = queryset.filter(status=self.status)
        if self.target:
            queryset = queryset.filter(target_group=self.target)
        return queryset


@dataclass
class PlacedActivity:
    """An activity with its span and occurrences in the clock's school year."""

    activity: Activity
    start: date
    end: date
    occurrences: list

    @property
    def month(self) -> int:
        return self.start.month


def placed_activities(clock: Clock, queryset: QuerySet[Activity] | None = None) -> list[PlacedActivity]:
    queryset = clock.activities.all() if queryset is None else queryset
    activities = list(queryset.select_related("ring", "evaluation"))
    year = clock.school_year
    terms = terms_of(year)
    placed = []
    for activity in activities:
        start, end = span(activity, year)
        placed.append(PlacedActivity(activity, start, end, occurrences(activity, year, terms)))
    placed.sort(key=lambda item: (item.start, item.activity.ring.position, item.activity.pk))
    return placed


def provider_entries(clock: Clock) -> list[ClockEntry]:
    """Other modules' entries (group sessions, parent evenings) for the clock's school and year."""
    return entries_for_school(clock.school_id, clock.school_year.start_date, clock.school_year.end_date)


# --- Coordinator: adoptions of a template ------------------------------------------------------


@dataclass
class Adoption:
    clock: Clock
    added: list[Activity] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    changed: list[tuple[Activity, list[str]]] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _field_label(name: str) -> str:
    return str(Activity._meta.get_field(name.removesuffix("_id")).verbose_name)


def adoptions(template: ClockTemplate) -> list[Adoption]:
    """Which schools adopted ``template`` and what each changed since adopting it: activities
    added, template activities removed, copied activities with fields changed.
    Callers: Action.MANAGE_CLOCK_TEMPLATES (the coordinator sees every school's clock)."""
    originals = {a.pk: a for a in template.activities.all()}
    result = []
    clocks = template.adoptions.select_related("school", "school_year").prefetch_related("activities")
    for clock in clocks.order_by("-school_year__start_date", "school__name"):
        row = Adoption(clock)
        kept = set()
        adopted = set(clock.adopted_activity_ids)
        for activity in clock.activities.all():
            source, changed = copy_changes(activity.copied_values, adopted, partial(getattr, activity))
            if source is None:
                row.added.append(activity)
                continue
            kept.add(source)
            if changed:
                row.changed.append((activity, [_field_label(name) for name in changed]))
        for source in clock.adopted_activity_ids:
            if source not in kept:
                original = originals.get(source)
                row.removed.append({"id": source, "title": original.title if original else f"#{source}"})
        result.append(row)
    return result


# --- Year-end evaluation report ----------------------------------------------------------------


@dataclass
class RingSummary:
    ring: Ring
    planned: int = 0
    done: int = 0
    evaluated: int = 0
    cancelled: int = 0
    open_items: list[Activity] = field(default_factory=list)


def year_report(placed: list[PlacedActivity], today: date) -> list[RingSummary]:
    """Per ring, over one clock's ``placed_activities``: activities planned (all but cancelled), done,
    evaluated, cancelled, and the open items (still planned with their time passed, or done without
    an evaluation)."""
    summaries = {ring.pk: RingSummary(ring) for ring in Ring.objects.all()}
    for item in placed:
        activity = item.activity
        summary = summaries[activity.ring_id]
        evaluated = hasattr(activity, "evaluation")
        if activity.status == Status.CANCELLED:
            summary.cancelled += 1
            continue
        summary.planned += 1
        if activity.status == Status.DONE:
            summary.done += 1
        if evaluated:
            summary.evaluated += 1
        if (activity.status == Status.PLANNED and item.end < today) or (activity.status == Status.DONE
                                                                         and not evaluated):
            summary.open_items.append(activity)
    return [s for s in summaries.values() if s.planned or s.cancelled]


def feeds_of(user) -> QuerySet[FeedToken]:
    return FeedToken.objects.filter(user_id=user.pk).select_related("clock__school", "clock__school_year")
