"""Write verbs of group sessions. Each owns its transaction and checks the data's invariants;
authorisation is the caller's (views and the API call ``policy.require`` first, as each docstring
says). Every verb that changes what the dashboards show refreshes the school's rollup in its own
transaction (groupsessions.rollups).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

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
from welfare.models import Role, SchoolType, SchoolYear, StaffRole, TeachingGroup

# The groups every school year's sessions must reach (domain.md §4): 7th grade of basic education,
# the first year of upper-secondary and vocational schools (grade 1 in the register).
COHORT_RULE = (Q(school__school_type=SchoolType.BASIC, grade=7)
               | Q(school__school_type__in=[SchoolType.UPPER_SECONDARY, SchoolType.VOCATIONAL], grade=1))
# Who may be listed as attending: the school's welfare staff, principal and guidance counsellor.
ATTENDING_ROLES = (Role.PRINCIPAL, Role.GUIDANCE_COUNSELLOR, Role.SCHOOL_SOCIAL_WORKER, Role.PSYCHOLOGIST,
                   Role.SCHOOL_NURSE, Role.SCHOOL_DOCTOR)


def derived_groups(school_year: SchoolYear):
    """The register's teaching groups that must be met in ``school_year``."""
    return TeachingGroup.objects.filter(COHORT_RULE, school_year=school_year)


def sync_cohort(school_year: SchoolYear) -> int:
    """Add the register's new 7th-grade and first-year groups of ``school_year`` to the groups to
    meet (idempotent; groups added by hand stay). Returns how many were added.
    Callers: views and the API before showing coverage, the demo seed, tasks. No permission needed:
    it derives from the register only."""
    known = CohortGroup.objects.filter(school_year=school_year, teaching_group__isnull=False)
    missing = list(derived_groups(school_year).exclude(pk__in=known.values("teaching_group_id")))
    if not missing:  # the usual case on every page view: one query
        return 0
    with transaction.atomic():
        taken = set(CohortGroup.objects.filter(school_year=school_year).values_list("school_id", "name"))
        new = []
        for group in missing:
            name = group.name if (group.school_id, group.name) not in taken else f"{group.name} ({group.pk})"
            new.append(CohortGroup(school_id=group.school_id, school_year=school_year, teaching_group=group,
                                   name=name, source=CohortGroup.Source.REGISTER))
        CohortGroup.objects.bulk_create(new, ignore_conflicts=True)
        rollups.refresh({group.school_id for group in new})
    return len(new)


def add_cohort_group(*, user, school, school_year: SchoolYear, teaching_group: TeachingGroup | None = None,
                     name: str = "", reason: str = "") -> CohortGroup:
    """A group the school adds by hand (e.g. a preparatory class): a register group of the school
    or a name. Callers have checked RECORD_GROUP_SESSION on ``school``."""
    name = (teaching_group.name if teaching_group else name).strip()
    if teaching_group is not None and (teaching_group.school_id != school.pk
                                       or teaching_group.school_year_id != school_year.pk):
        raise ValidationError({"teaching_group": _("Choose a group of this school in this school year.")})
    if not name:
        raise ValidationError({"name": _("Give the group's name or choose a group.")})
    if teaching_group is not None and CohortGroup.objects.filter(school_year=school_year,
                                                                 teaching_group=teaching_group).exists():
        raise ValidationError({"teaching_group": _("This group is already among the groups to meet.")})
    if CohortGroup.objects.filter(school=school, school_year=school_year, name=name).exists():
        raise ValidationError({"name": _("A group with this name is already among the groups to meet.")})
    try:
        with transaction.atomic():
            group = CohortGroup.objects.create(
                school=school, school_year=school_year, teaching_group=teaching_group, name=name,
                source=CohortGroup.Source.MANUAL, reason=reason.strip(), added_by_id=user.pk)
            rollups.refresh([school.pk])
            return group
    except IntegrityError:  # a concurrent add of the same group
        raise ValidationError({"name": _("A group with this name is already among the groups to meet.")}) from None


def remove_cohort_group(group: CohortGroup) -> None:
    """Remove a group the school added by hand by mistake. Groups from the register are the
    law's list and stay; a group with a session (of any status) is history and stays.
    Callers have checked RECORD_GROUP_SESSION on the group's school."""
    with transaction.atomic():
        locked = CohortGroup.objects.select_for_update().get(pk=group.pk)
        if locked.source != CohortGroup.Source.MANUAL:
            raise ValidationError(_("Groups from the student register cannot be removed."))
        if locked.sessions.exists():
            raise ValidationError(_("The group has a session: it stays among the groups to meet."))
        school_id = locked.school_id
        locked.delete()
        rollups.refresh([school_id])


@dataclass(frozen=True)
class StaffPick:
    user_id: int
    role: str


def _check_staff(school, staff: list[StaffPick]) -> None:
    """Attending staff must hold that role at the school (active grant)."""
    grants = set(StaffRole.objects.active().filter(school=school, role__in=ATTENDING_ROLES)
                 .values_list("user_id", "role"))
    if any((pick.user_id, pick.role) not in grants for pick in staff):
        raise ValidationError({"staff": _("Choose staff members who work at this school in that role.")})


def _check_times(starts_at: datetime, ends_at: datetime, school_year: SchoolYear) -> None:
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The session must end after it starts.")})
    if (ends_at - starts_at).total_seconds() > 8 * 3600:
        raise ValidationError({"ends_at": _("A session lasts at most eight hours.")})
    if not school_year.contains(timezone.localtime(starts_at).date()):
        raise ValidationError({"starts_at": _("The session must be in the group's school year (%(year)s).")
                               % {"year": school_year.name}})


def plan_session(*, user, cohort_group: CohortGroup, starts_at: datetime, ends_at: datetime, place: str = "",
                 staff: list[StaffPick] = ()) -> GroupSession:
    """Schedule a session for a group to meet. Double-booking is a warning, not an error
    (selectors.double_bookings). Callers have checked RECORD_GROUP_SESSION on the group's school."""
    _check_times(starts_at, ends_at, cohort_group.school_year)
    _check_staff(cohort_group.school, list(staff))
    days = GroupSessionSettings.current().feedback_days
    with transaction.atomic():
        session = GroupSession.objects.create(
            cohort_group=cohort_group, starts_at=starts_at, ends_at=ends_at,
            place=place.strip(), feedback_token=GroupSession.new_token(),
            feedback_closes_at=GroupSession.closes_at(ends_at, days), planned_by_id=user.pk)
        _add_staff(session, staff)
        rollups.refresh([cohort_group.school_id])
    return session


def _add_staff(session: GroupSession, staff) -> None:
    """One row per person: the first role given for them."""
    seen, rows = set(), []
    for pick in staff:
        if pick.user_id not in seen:
            seen.add(pick.user_id)
            rows.append(SessionStaff(session=session, user_id=pick.user_id, role=pick.role))
    SessionStaff.objects.bulk_create(rows)


def reschedule_session(session: GroupSession, *, starts_at: datetime, ends_at: datetime, place: str = "",
                       staff: list[StaffPick] = ()) -> GroupSession:
    """Change a session's time, place and staff. Callers have checked RECORD_GROUP_SESSION."""
    _check_times(starts_at, ends_at, session.cohort_group.school_year)
    _check_staff(session.cohort_group.school, list(staff))
    days = GroupSessionSettings.current().feedback_days
    with transaction.atomic():
        session.starts_at, session.ends_at, session.place = starts_at, ends_at, place.strip()
        session.feedback_closes_at = GroupSession.closes_at(ends_at, days)
        session.save()
        session.staff.all().delete()
        _add_staff(session, staff)
        rollups.refresh([session.cohort_group.school_id])
    return session


def record_session(session: GroupSession, *, user, status: str, not_held_reason: str = "",
                   pupils_present: int | None = None, pupils_enrolled: int | None = None,
                   topics: list[str] = (), other_topics: str = "") -> GroupSession:
    """Record a session as held (counts and topics, no names) or not held (with the reason).
    Callers have checked RECORD_GROUP_SESSION on the session's school."""
    errors: dict[str, list[str]] = {}
    if status == SessionStatus.HELD:
        if session.starts_at > timezone.now():
            errors["status"] = [_("A session cannot be recorded as held before it has started.")]
        if pupils_present is None:
            errors["pupils_present"] = [_("Give the number of pupils present.")]
        if pupils_enrolled is None:
            errors["pupils_enrolled"] = [_("Give the number of pupils in the group.")]
        if pupils_present is not None and pupils_enrolled is not None and pupils_present > pupils_enrolled:
            errors["pupils_present"] = [_("More pupils present than in the group: check the numbers.")]
        unknown = set(topics) - set(Topic.values)
        if unknown:
            errors["topics"] = [_("Unknown topic.")]
        not_held_reason = ""
    elif status == SessionStatus.NOT_HELD:
        if not not_held_reason:
            errors["not_held_reason"] = [_("Give the reason the session was not held.")]
        pupils_present = pupils_enrolled = None
        topics, other_topics = [], ""
    else:
        errors["status"] = [_("Choose whether the session was held.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        session.status = status
        session.not_held_reason = not_held_reason
        session.pupils_present, session.pupils_enrolled = pupils_present, pupils_enrolled
        session.topics = [code for code in Topic.values if code in set(topics)]
        session.other_topics = other_topics.strip()
        session.recorded_by_id, session.recorded_at = user.pk, timezone.now()
        session.save()
        rollups.refresh([session.cohort_group.school_id])
    return session


def delete_session(session: GroupSession) -> None:
    """Remove a session planned by mistake (with its staff). A session already recorded, or one
    pupils have answered, is the school's history: it stays (record it as not held instead).
    Callers have checked RECORD_GROUP_SESSION on the session's school."""
    with transaction.atomic():
        locked = GroupSession.objects.select_for_update().get(pk=session.pk)
        if locked.status != SessionStatus.PLANNED or locked.feedback.exists() or locked.follow_ups.exists():
            raise ValidationError(_("Only a planned session without feedback or follow-ups can be removed; "
                                    "record it as not held instead."))
        school_id = session.cohort_group.school_id
        locked.delete()
        rollups.refresh([school_id])


def add_follow_up(session: GroupSession, *, user, title: str, description: str = "",
                  month: date) -> FollowUp:
    """A communal follow-up the session raised. Callers have checked RECORD_GROUP_SESSION."""
    if not title.strip():
        raise ValidationError({"title": _("Write what should be followed up.")})
    with transaction.atomic():
        return FollowUp.objects.create(session=session, title=title.strip(), description=description.strip(),
                                       month=month.replace(day=1), created_by_id=user.pk)


def follow_up_to_clock(follow_up: FollowUp, *, user) -> str:
    """Turn a follow-up into an activity on the school's annual clock (one click) and return the
    activity's URL. Idempotent: a follow-up already on the clock returns its URL. The annual clock
    decides whether ``user`` may edit the clock (PermissionDenied otherwise). Callers have checked
    RECORD_GROUP_SESSION on the follow-up's school."""
    from annualclock.public import add_followup_activity

    with transaction.atomic():
        locked = FollowUp.objects.select_for_update().select_related("session__cohort_group").get(pk=follow_up.pk)
        if locked.clock_url:
            return locked.clock_url
        session = locked.session
        when = timezone.localtime(session.starts_at)
        url = add_followup_activity(
            user=user, school_id=session.cohort_group.school_id, title=locked.title,
            description=locked.description or _("Raised in the group session of %(group)s on %(date)s.") % {
                "group": session.cohort_group.name, "date": when.strftime("%d.%m.%Y")},
            month=locked.month, source_label=_("Group session %(group)s") % {"group": session.cohort_group.name})
        if not url:
            raise PermissionDenied
        locked.clock_url = str(url)[:300]
        locked.added_to_clock_at, locked.added_to_clock_by_id = timezone.now(), user.pk
        locked.save(update_fields=["clock_url", "added_to_clock_at", "added_to_clock_by_id"])
    return locked.clock_url


def update_settings(*, deadline_month: int, deadline_day: int, feedback_days: int) -> GroupSessionSettings:
    """The municipality's deadline and feedback period. Callers have checked MANAGE_CLOCK_TEMPLATES
    (the coordinator sets the municipality's annual schedule)."""
    with transaction.atomic():
        row = GroupSessionSettings.current()
        row.deadline_month, row.deadline_day, row.feedback_days = deadline_month, deadline_day, feedback_days
        row.full_clean()
        row.save()
        rollups.rebuild()  # the deadline decides "met by the deadline" in every school
    return row


class FeedbackClosed(Exception):
    """The session's feedback form has closed (or the session was not held)."""


class AlreadyAnswered(Exception):
    """This device has already answered this session's form."""


def submit_feedback(session: GroupSession, *, device_id: str, language: str, answers: dict[str, int | None],
                    open_answer: str = "") -> FeedbackResponse:
    """Store one anonymous response. Anyone with the session's link may call it (the public form);
    raises FeedbackClosed after closing and AlreadyAnswered on a second response from the device."""
    if not session.feedback_open():
        raise FeedbackClosed
    values = {name: answers.get(name) for name in STATEMENTS}
    if any(value is not None and not 1 <= value <= 5 for value in values.values()):
        raise ValidationError(_("Answers are on a scale of 1 to 5."))
    if all(value is None for value in values.values()) and not open_answer.strip():
        raise ValidationError(_("Answer at least one question."))
    try:
        with transaction.atomic():
            response = FeedbackResponse.objects.create(
                session=session, device_hash=device_hash(session.feedback_token, device_id),
                language=language[:2], open_answer=open_answer.strip()[:600], **values)
            rollups.refresh([session.cohort_group.school_id])
            return response
    except IntegrityError:
        raise AlreadyAnswered from None
