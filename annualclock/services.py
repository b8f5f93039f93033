"""Write verbs of the annual clock. Each owns its transaction; callers authorise first
(views and the API through welfare.policy; ``annualclock.public`` checks for its callers).

Copies, never links: adopting a template or the previous year's clock copies every activity, so
later edits of the source do not change the adopted clock (``copied_values`` keeps what was
copied, so the coordinator can see what a school changed).

Every verb that changes a school's clock refreshes that school's dashboard rollup in its own
transaction (``annualclock.rollups``).
"""

from __future__ import annotations

import secrets
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from annualclock import rollups
from annualclock.models import (
    COPY_FIELDS,
    Activity,
    Clock,
    ClockSettings,
    ClockTemplate,
    Evaluation,
    FeedToken,
    Ring,
    SchoolYear,
    Status,
    token_hash,
)
from welfare.models import School


def copied_values(activity: Activity) -> dict:
    values = {name: getattr(activity, name) for name in COPY_FIELDS}
    values["source"] = activity.pk
    return values


def _copy(source: Activity, clock: Clock, *, shift_years: int = 0, keep_owners: bool = False) -> Activity:
    copy = Activity(clock=clock, copied_from=source, copied_values=copied_values(source),
                    **{name: getattr(source, name) for name in COPY_FIELDS})
    if keep_owners:
        copy.owner_ids = list(source.owner_ids)
    if source.start_date is not None:
        copy.start_date, copy.end_date = _shift(source.start_date, shift_years), _shift(source.end_date, shift_years)
    return copy


def _shift(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@transaction.atomic
def adopt_template(template: ClockTemplate, *, school: School, school_year: SchoolYear, user) -> Clock:
    """The school's clock for ``school_year`` as a copy of ``template``.

    Callers: those who may edit the school's clock (Action.EDIT_ANNUAL_CLOCK on the school).
    Raises ValueError when the school already has a clock for that year.
    """
    if Clock.objects.filter(school=school, school_year=school_year).exists():
        raise ValueError("clock exists")
    sources = list(template.activities.all())
    clock = Clock.objects.create(school=school, school_year=school_year, template=template,
                                 adopted_activity_ids=[a.pk for a in sources], created_by_id=user.pk)
    Activity.objects.bulk_create([_copy(source, clock) for source in sources])
    rollups.refresh([school.pk])
    return clock


@transaction.atomic
def copy_clock(source: Clock, *, school_year: SchoolYear, user) -> Clock:
    """The same school's clock for ``school_year`` as a copy of an earlier clock (statuses reset to
    planned, evaluations not copied, dates moved by the years between the school years).

    Callers: those who may edit the school's clock. Raises ValueError when a clock exists already.
    """
    if Clock.objects.filter(school_id=source.school_id, school_year=school_year).exists():
        raise ValueError("clock exists")
    shift = school_year.start_date.year - source.school_year.start_date.year
    clock = Clock.objects.create(school_id=source.school_id, school_year=school_year, template=source.template,
                                 copied_from=source, reminder_days=source.reminder_days, created_by_id=user.pk)
    copies = []
    for activity in source.activities.all():
        copy = _copy(activity, clock, shift_years=shift, keep_owners=True)
        copy.source_label = activity.source_label
        copies.append(copy)
    Activity.objects.bulk_create(copies)
    rollups.refresh([clock.school_id])
    return clock


@transaction.atomic
def empty_clock(*, school: School, school_year: SchoolYear, user) -> Clock:
    """An empty clock. Callers: those who may edit the school's clock."""
    if Clock.objects.filter(school=school, school_year=school_year).exists():
        raise ValueError("clock exists")
    clock = Clock.objects.create(school=school, school_year=school_year, created_by_id=user.pk)
    rollups.refresh([school.pk])
    return clock


@transaction.atomic
def create_template(*, name: str, school_type: str = "", description: str = "", user=None) -> ClockTemplate:
    """A new template clock. Callers: Action.MANAGE_CLOCK_TEMPLATES (the coordinator)."""
    return ClockTemplate.objects.create(name=name, school_type=school_type, description=description)


@transaction.atomic
def save_activity(activity: Activity, *, user=None) -> Activity:
    """Validate and save a new or edited activity (model ``clean`` included).

    Callers: Action.EDIT_ANNUAL_CLOCK on the activity's school for clock activities,
    Action.MANAGE_CLOCK_TEMPLATES for template activities. Raises ValidationError.
    """
    activity.full_clean(exclude=["copied_values", "copied_from"])
    activity.save()
    if activity.template_id:
        ClockTemplate.objects.filter(pk=activity.template_id).update(updated_at=timezone.now())
    else:
        rollups.refresh([activity.clock.school_id])
    return activity


@transaction.atomic
def complete_activity(activity: Activity, *, user, what_happened: str, reach: int | None = None,
                      next_year: str = "") -> Evaluation:
    """Mark a clock activity done with its evaluation (a second call updates the evaluation).

    Callers: Action.EDIT_ANNUAL_CLOCK on the activity's school. Template activities have no evaluation.
    """
    if activity.clock_id is None:
        raise ValueError("template activities are not evaluated")
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    evaluation, _created = Evaluation.objects.update_or_create(
        activity=activity,
        defaults={"what_happened": what_happened, "reach": reach, "next_year": next_year},
        create_defaults={"what_happened": what_happened, "reach": reach, "next_year": next_year,
                         "created_by_id": user.pk},
    )
    if activity.status != Status.DONE:
        activity.status = Status.DONE
        activity.save(update_fields=["status", "updated_at"])
    rollups.refresh([activity.clock.school_id])
    return evaluation


@transaction.atomic
def delete_activity(activity: Activity, *, user) -> None:
    """Remove an activity. Callers: the editors of its clock or template."""
    school_id = activity.clock.school_id if activity.clock_id else None
    activity.delete()
    if school_id is not None:
        rollups.refresh([school_id])


# --- Calendar feeds ------------------------------------------------------------------------------

def new_token() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def create_feed(*, user, kind: str, clock: Clock | None = None) -> tuple[FeedToken, str]:
    """A new feed and its secret (returned once; only its hash is stored).

    Callers: for a clock feed, users who may view the clock (Action.VIEW_ANNUAL_CLOCK); a personal
    feed, any user who may view some clock. The owner is ``user``.
    """
    token = new_token()
    feed = FeedToken.objects.create(kind=kind, clock=clock if kind == FeedToken.Kind.CLOCK else None,
                                    user_id=user.pk, token_hash=token_hash(token))
    return feed, token


@transaction.atomic
def revoke_feed(feed: FeedToken, *, user) -> FeedToken:
    """Revoke a feed: its address answers 404 from now on. Callers: the feed's owner."""
    if feed.revoked_at is None:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
    return feed


@transaction.atomic
def regenerate_feed(feed: FeedToken, *, user) -> tuple[FeedToken, str]:
    """Revoke a feed and make a new one of the same kind (new address). Callers: the feed's owner."""
    revoke_feed(feed, user=user)
    return create_feed(user=user, kind=feed.kind, clock=feed.clock)


# --- The municipality's settings (the coordinator) ---------------------------------------------

def _lock_settings() -> ClockSettings:
    ClockSettings.current()  # the row exists before it is locked
    return ClockSettings.objects.select_for_update().get(pk=1)


@transaction.atomic
def update_clock_settings(*, reminder_days: int, user=None) -> ClockSettings:
    """The municipality's default reminder days (1–60). Callers: Action.MANAGE_CLOCK_TEMPLATES.
    Raises ValidationError."""
    row = _lock_settings()
    row.reminder_days = reminder_days
    row.full_clean()
    row.save(update_fields=["reminder_days"])
    return row


def set_clock_reminder_days(clock: Clock, reminder_days: int | None) -> Clock:
    """A school's own reminder days for its clock (1–60; None: the municipality's setting).
    Callers have checked EDIT_ANNUAL_CLOCK on the clock. Raises ValidationError."""
    clock.reminder_days = reminder_days
    clock.full_clean(validate_unique=False, validate_constraints=False)
    clock.save(update_fields=["reminder_days"])
    return clock


def ring_code(name: str, *, taken: set[str]) -> str:
    """A new ring's code: its Finnish name as a slug ("Kodin ja koulun yhteistyö" →
    "kodin-ja-koulun-yhteistyo"), made unique with -2, -3, … (at most 40 characters)."""
    base = slugify(name)[:34].strip("-") or "ring"
    code, number = base, 1
    while code in taken:
        number += 1
        code = f"{base}-{number}"
    return code


@transaction.atomic
def save_rings(rings, *, user=None) -> tuple[list[Ring], list[Ring]]:
    """Save edited rings and add new ones (no ``pk``: their code comes from the Finnish name).
    Rings are never deleted here: activities refer to them; ``active=False`` retires one.

    Callers: Action.MANAGE_CLOCK_TEMPLATES. Raises ValidationError (nothing is saved then).
    Returns (changed, created).
    """
    changed, created = [], []
    rings = list(rings)
    taken: set[str] = set()
    if any(ring.pk is None for ring in rings):
        # The settings row is the lock: two coordinators adding rings at once get unique codes
        # (the codes are read after the lock, so the other's committed rings are seen).
        _lock_settings()
        taken = set(Ring.objects.values_list("code", flat=True))
    for ring in rings:
        new = ring.pk is None
        if new:
            ring.code = ring_code(ring.name_fi, taken=taken)
            taken.add(ring.code)
        ring.color = ring.color.lower()
        ring.full_clean()
        ring.save()
        (created if new else changed).append(ring)
    return changed, created
