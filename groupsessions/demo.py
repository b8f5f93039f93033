"""Demo data of this module for ``seed_demo`` (called inside the municipality's schema).

For the current school year: the groups to meet from the register, sessions held in the past weeks
(with counts, topics, anonymous feedback and a follow-up), sessions planned for the coming weeks,
and a few groups still without a session, so coverage, overdue lists and suppression all show.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from groupsessions import rollups
from groupsessions.feedback import STATEMENTS, device_hash
from groupsessions.models import (
    CohortGroup,
    FeedbackResponse,
    FollowUp,
    GroupSession,
    GroupSessionSettings,
    SessionStaff,
    SessionStatus,
    Topic,
)
from groupsessions.selectors import school_year_for
from groupsessions.services import ATTENDING_ROLES, sync_cohort
from welfare.models import Role, StaffRole

PLACES = ("luokka 214", "kirjasto", "auditorio", "luokka B112", "terveydenhoitajan vastaanoton viereinen luokka")
OPEN_ANSWERS = (
    "Kiva että kävitte, nyt tiedän kenen luo voi mennä.",
    "Välitunneilla jotkut kiusaa pienempiä, siitä pitäis puhua.",
    "Voisitteko tulla uudestaan keväällä?",
    "En tiennyt että kuraattorille voi mennä ilman syytä.",
    "Mielenterveyden käsi oli hyvä juttu.",
    "Ruokalassa on liian kova meteli.",
    "",
    "",
    "",
)
OTHER_TOPICS = (
    "Välituntikiusaaminen ja se, miten siitä voi kertoa aikuiselle.",
    "Koulumatkat ja bussit, ruokalan jonot.",
    "Uni ja pelaaminen iltaisin.",
    "",
)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)), timezone.get_current_timezone())


def _weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def seed(*, today: date) -> None:
    """Idempotent: creates this module's demo data when it has none."""
    if GroupSession.objects.exists():
        return
    year = school_year_for(today)
    if year is None:
        return
    sync_cohort(year)
    settings_row = GroupSessionSettings.current()
    first_day = year.start_date + timedelta(days=14)
    with transaction.atomic():
        groups = list(CohortGroup.objects.filter(school_year=year).select_related("school").order_by(
            "school__name", "name"))
        by_school: dict[int, list[CohortGroup]] = {}
        for group in groups:
            by_school.setdefault(group.school_id, []).append(group)
        for position, (school_id, school_groups) in enumerate(sorted(by_school.items())):
            rng = random.Random(f"groupsessions-{school_groups[0].school.external_id}")
            staff = list(StaffRole.objects.active().filter(school_id=school_id, role__in=ATTENDING_ROLES)
                         .exclude(role=Role.PRINCIPAL).values_list("user_id", "role").distinct()[:2])
            for index, group in enumerate(school_groups):
                # The last group of every third school is left without a session (overdue after the deadline).
                if position % 3 == 2 and index == len(school_groups) - 1:
                    continue
                day = _weekday(first_day + timedelta(days=7 * index + 2 * position))
                _session(group, day, staff, rng, today, settings_row.feedback_days,
                         small=(position == 1 and index == 0), follow_up=(position == 0 and index == 0))
        rollups.rebuild()  # the demo writes rows directly, not through the services


def _session(group, day, staff, rng, today, feedback_days, *, small: bool, follow_up: bool) -> None:
    start = _at(day, rng.choice((8, 9, 10, 12)), rng.choice((0, 15, 30)))
    end = start + timedelta(minutes=rng.choice((45, 60, 75, 90)))
    session = GroupSession.objects.create(
        cohort_group=group, starts_at=start, ends_at=end, place=rng.choice(PLACES),
        feedback_token=GroupSession.new_token(), feedback_closes_at=end + timedelta(days=feedback_days))
    SessionStaff.objects.bulk_create([SessionStaff(session=session, user_id=uid, role=role) for uid, role in staff])
    if day >= today:
        return
    enrolled = rng.randint(17, 24)
    session.status = SessionStatus.HELD
    session.pupils_enrolled, session.pupils_present = enrolled, enrolled - rng.randint(0, 3)
    session.topics = list(Topic.values)
    session.other_topics = rng.choice(OTHER_TOPICS)
    session.recorded_at = end + timedelta(hours=2)
    session.save()
    count = 3 if small else rng.randint(6, min(16, session.pupils_present))
    FeedbackResponse.objects.bulk_create([
        FeedbackResponse(session=session, device_hash=device_hash(session.feedback_token, f"demo-device-{i}"),
                         language="fi", open_answer=rng.choice(OPEN_ANSWERS), submitted_on=day,
                         **{key: rng.choice((3, 4, 4, 5, 5, None if i % 7 == 6 else 4)) for key in STATEMENTS})
        for i in range(count)])
    if follow_up:
        month = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        FollowUp.objects.create(session=session, title="Välituntikiusaaminen nousi esiin",
                                description="Ryhmä toi esiin kiusaamista välitunneilla. Koko koulun "
                                            "välituntivalvonta ja oppilaskunnan kanssa tehtävä kampanja.",
                                month=month)
