"""Reminders of the annual clock (nightly, per municipality; annualclock.tasks.nightly_reminders).

* N days before each occurrence of a planned activity (``Clock.reminder_days``, else the
  municipality's ``ClockSettings.reminder_days``), its owners get an in-app notification and an
  e-mail in their own language;
* once an activity's time has passed and it has no evaluation, its owners are asked for one.

Owners: the named owners and everyone holding the owner role at the clock's school, as long as
they still hold a role there; when an activity has no owner, the school's principals.
Exactly once: every notification has a dedupe key (activity, occurrence, kind), so a retried or
repeated run sends nothing more (welfare.services.notifications).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from annualclock.models import Activity, ClockSettings, Status
from annualclock.schedule import occurrences, span, terms_of
from welfare.models import Role, StaffRole
from welfare.services.notifications import Message, notify, request_delivery, user_languages

EVALUATION_LOOKBACK = timedelta(days=120)  # no requests about last year's forgotten items


def _staff_by_school(school_ids) -> dict[int, dict[int, set[str]]]:
    """school id → user id → roles held there (active grants)."""
    staff: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for user_id, school_id, role in StaffRole.objects.active().filter(school_id__in=school_ids).values_list(
            "user_id", "school_id", "role"):
        staff[school_id][user_id].add(role)
    return staff


def owners_of(activity: Activity, staff: dict[int, set[str]]) -> list[int]:
    owners = {user_id for user_id in activity.owner_ids if user_id in staff}
    if activity.owner_role:
        owners |= {user_id for user_id, roles in staff.items() if activity.owner_role in roles}
    if not owners and not activity.owner_ids and not activity.owner_role:
        owners = {user_id for user_id, roles in staff.items() if Role.PRINCIPAL in roles}
    return sorted(owners)


def send_reminders(today: date) -> dict[str, int]:
    """Send what is due today in the current municipality; returns the notifications created."""
    default_days = ClockSettings.current().reminder_days
    activities = list(Activity.objects.filter(
        clock__isnull=False, clock__school_year__end_date__gte=today - EVALUATION_LOOKBACK,
        clock__school_year__start_date__lte=today + timedelta(days=60),
    ).exclude(status=Status.CANCELLED).select_related("clock__school_year", "ring", "evaluation"))
    staff = _staff_by_school({activity.clock.school_id for activity in activities})
    # Every recipient holds a role at the activity's school: their languages are read once, not per notification.
    languages = user_languages({user_id for users in staff.values() for user_id in users})
    terms_cache: dict[int, list] = {}
    counts = {"reminders": 0, "evaluation_requests": 0}
    for activity in activities:
        clock, year = activity.clock, activity.clock.school_year
        recipients = owners_of(activity, staff.get(clock.school_id, {}))
        if not recipients:
            continue
        url = reverse("annualclock:activity_detail", args=[activity.pk])
        if year.pk not in terms_cache:  # not setdefault(): its argument would be read every time
            terms_cache[year.pk] = terms_of(year)
        terms = terms_cache[year.pk]
        days = clock.reminder_days or default_days
        with transaction.atomic():
            if activity.status == Status.PLANNED:
                for occurrence in occurrences(activity, year, terms):
                    if today <= occurrence.start <= today + timedelta(days=days):
                        counts["reminders"] += notify(
                            recipients, kind="annualclock.reminder", url=url, languages=languages,
                            dedupe_prefix=f"annualclock:reminder:{activity.pk}:{occurrence.index}:{occurrence.start}",
                            render=_reminder(activity, occurrence.start))
            _start, end = span(activity, year)
            if end < today and today - end <= EVALUATION_LOOKBACK and not hasattr(activity, "evaluation"):
                counts["evaluation_requests"] += notify(
                    recipients, kind="annualclock.evaluation_request", url=url, languages=languages,
                    dedupe_prefix=f"annualclock:evaluate:{activity.pk}", render=_evaluation_request(activity))
    if any(counts.values()):
        request_delivery()
    return counts


def _reminder(activity: Activity, start: date):
    def render() -> Message:
        return Message(
            title=_("Coming up on the annual clock: %(title)s") % {"title": activity.title},
            body=_("%(title)s (%(ring)s) starts on %(date)s. You are one of its owners.") % {
                "title": activity.title, "ring": activity.ring.name, "date": date_format(start, "SHORT_DATE_FORMAT")})
    return render


def _evaluation_request(activity: Activity):
    def render() -> Message:
        return Message(
            title=_("Evaluate: %(title)s") % {"title": activity.title},
            body=_("The time of %(title)s has passed. Mark it done and write a short evaluation: what "
                   "happened, whom it reached, what to change next year.") % {"title": activity.title})
    return render
