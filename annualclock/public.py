"""What the annual clock offers other module apps (they import this module, never its models).

``add_followup_activity``: the group sessions module turns a communal follow-up raised in a
session ("break-time bullying raised") into an activity on the school's clock in one click.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import translation


@transaction.atomic
def add_followup_activity(*, user, school_id: int, title: str, description: str, month: date,
                          source_label: str) -> str:
    """Add a planned activity to the school's clock of the school year containing ``month``
    (creating that clock if the school has none), owned by the school's welfare group, and
    return the URL of the new activity's page. Raises django.core.exceptions.PermissionDenied
    when ``user`` may not edit that school's clock (Action.EDIT_ANNUAL_CLOCK).

    The activity goes in the first ring ("communal welfare" by default), for the month of
    ``month`` only, owned by the principal role (who chairs the welfare group), with the title and
    description in the active language's field. Raises ValueError when no school year contains
    ``month``.
    """
    from annualclock.models import UI_LANGUAGES, Activity, Clock, Ring
    from annualclock.services import save_activity
    from welfare.models import Role, School, SchoolYear
    from welfare.policy import Action, Target, can

    if not can(user, Action.EDIT_ANNUAL_CLOCK, Target(school_id=school_id)):
        raise PermissionDenied
    school = School.objects.get(pk=school_id)
    year = SchoolYear.objects.containing(month)
    if year is None:
        raise ValueError(f"no school year contains {month}")
    clock, _created = Clock.objects.get_or_create(school=school, school_year=year,
                                                  defaults={"created_by_id": user.pk})
    ring = Ring.objects.filter(code="communal", active=True).first() or Ring.objects.filter(active=True).first()
    if ring is None:  # a municipality without rings configured gets the default ones
        from annualclock.defaults import ensure_default_rings

        ensure_default_rings()
        ring = Ring.objects.filter(code="communal").first()
    language = (translation.get_language() or "fi")[:2]
    language = language if language in UI_LANGUAGES else "fi"
    activity = save_activity(Activity(clock=clock, ring=ring, month_start=month.month, month_end=month.month,
                                      owner_role=Role.PRINCIPAL, source_label=source_label[:200],
                                      **{f"title_{language}": title[:200], f"description_{language}": description}),
                             user=user)
    return reverse("annualclock:activity_detail", args=[activity.pk])
