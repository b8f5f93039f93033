"""Group sessions (ryhmäkeskustelut): welfare staff meet every new 7th-grade class and every
first-year group of upper-secondary and vocational schools (domain.md §4, seed 000).

Communal data only (domain.md A1): groups, times, staff by user id and role, counts, topic codes,
anonymous feedback. Nothing here refers to a pupil (welfare.Student or Guardian) and no model has
a field for a pupil's name or contact details; tests/groupsessions/test_privacy.py scans for it.
Feedback responses store a keyed hash of a random device id, never an IP address.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from welfare.models import Role, School, SchoolYear, SettingsRow, TeachingGroup


class GroupSessionSettings(SettingsRow):
    """The municipality's choices for group sessions (one row per schema)."""

    deadline_month = models.PositiveSmallIntegerField(_("deadline month"), default=10)
    deadline_day = models.PositiveSmallIntegerField(_("deadline day"), default=31)
    feedback_days = models.PositiveSmallIntegerField(
        _("feedback stays open (days after the session)"), default=14)

    class Meta:
        verbose_name = _("group session settings")
        verbose_name_plural = _("group session settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(deadline_month__gte=1, deadline_month__lte=12),
                                   name="gs_settings_month"),
            models.CheckConstraint(condition=models.Q(deadline_day__gte=1, deadline_day__lte=31),
                                   name="gs_settings_day"),
            models.CheckConstraint(condition=models.Q(feedback_days__gte=1, feedback_days__lte=90),
                                   name="gs_settings_feedback_days"),
        ]

    def __str__(self) -> str:
        return str(_("Group session settings"))

    def deadline_for(self, school_year: SchoolYear) -> date:
        """The deadline in ``school_year`` (default 31 October): see ``deadline_in``."""
        return deadline_in(self.deadline_month, self.deadline_day, school_year.start_date, school_year.end_date)


def deadline_in(month: int, day: int, start_date: date, end_date: date) -> date:
    """The first ``day``.``month`` on or after a school year's start; a day past the month's end
    (31 in a 30-day month) is the month's last day. A plain function so that the rollup's data
    migration can use it with historical models."""
    import calendar

    for year in (start_date.year, start_date.year + 1):
        candidate = date(year, month, min(day, calendar.monthrange(year, month)[1]))
        if candidate >= start_date:
            return candidate
    return end_date  # unreachable: a school year spans a year


class CohortGroup(models.Model):
    """A group welfare staff must meet in a school year: derived from the register (7th grade of
    basic education, first year of upper-secondary and vocational schools) or added by hand."""

    class Source(models.TextChoices):
        REGISTER = "register", _("From the group register")
        MANUAL = "manual", _("Added by the school")

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="session_cohort",
                               verbose_name=_("school"))
    school_year = models.ForeignKey(SchoolYear, on_delete=models.PROTECT, related_name="session_cohort",
                                    verbose_name=_("school year"))
    teaching_group = models.ForeignKey(TeachingGroup, on_delete=models.SET_NULL, null=True, blank=True,
                                       related_name="session_cohort", verbose_name=_("teaching group"))
    name = models.CharField(_("group"), max_length=60)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.REGISTER)
    reason = models.CharField(_("why the group was added"), max_length=200, blank=True)
    added_by_id = models.BigIntegerField(null=True, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["school__name", "name"]
        verbose_name = _("group to meet")
        verbose_name_plural = _("groups to meet")
        constraints = [
            models.UniqueConstraint(fields=["school_year", "teaching_group"], name="gs_cohort_one_per_group",
                                    condition=models.Q(teaching_group__isnull=False)),
            models.UniqueConstraint(fields=["school", "school_year", "name"], name="gs_cohort_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.school})"

    def policy_target(self):
        from welfare.policy import Target

        return Target(school_id=self.school_id)


class SessionStatus(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("group session", "Planned")
    HELD = "held", pgettext_lazy("group session", "Held")
    NOT_HELD = "not_held", pgettext_lazy("group session", "Not held")


class GroupState:
    MET = "met"
    PLANNED = "planned"
    NOT_PLANNED = "not_planned"


@dataclass(frozen=True)
class GroupProgress:
    state: str  # a GroupState
    session: object | None  # the first held session, else the first planned one, else the latest
    met_by_deadline: bool
    late_plan: bool  # not met, and planned for a day after the deadline


def group_progress(sessions, deadline: date) -> GroupProgress:
    """How far one group to meet is, from its sessions in time order (anything with ``status``
    and ``starts_at``, historical models included). The one rule behind the coverage page
    (selectors.coverages) and the dashboards' rollup (rollups.compute): the first held session
    meets the group, else the first planned one plans it; days are the municipality's local days."""
    held = [s for s in sessions if s.status == SessionStatus.HELD]
    planned = [s for s in sessions if s.status == SessionStatus.PLANNED]
    if held:
        state, session = GroupState.MET, held[0]
    elif planned:
        state, session = GroupState.PLANNED, planned[0]
    else:
        state, session = GroupState.NOT_PLANNED, (sessions[-1] if sessions else None)
    day = timezone.localtime(session.starts_at, timezone.get_default_timezone()).date() if session else None
    return GroupProgress(state=state, session=session,
                         met_by_deadline=state == GroupState.MET and day <= deadline,
                         late_plan=state == GroupState.PLANNED and day > deadline)


class NotHeldReason(models.TextChoices):
    CANCELLED = "cancelled", _("Cancelled by the school")
    STAFF_ABSENT = "staff_absent", _("Welfare staff could not attend")
    GROUP_UNAVAILABLE = "group_unavailable", _("The group was not available")
    MOVED = "moved", _("Moved to another date")
    OTHER = "other", _("Other reason")


class Topic(models.TextChoices):
    """The three-part frame of the session (domain.md §4 [HYVKESK])."""

    INTRODUCTIONS = "introductions", _("Introductions: who we are and what we do")
    SERVICES_INDIVIDUAL = "services_individual", _("Welfare services for each pupil (individual welfare)")
    SERVICES_COMMUNAL = "services_communal", _("Welfare work for the whole school (communal welfare)")
    OWN_WELLBEING = "own_wellbeing", _("Own wellbeing: the mental health hand")
    WHERE_TO_GET_HELP = "where_to_get_help", _("Where to get help, in school and outside it")


class GroupSession(models.Model):
    """One meeting of welfare staff with one group: planned, then recorded as held or not held.

    ``feedback_token`` opens the anonymous feedback form (no sign-in); the form closes at
    ``feedback_closes_at``. The school is the group's (``cohort_group.school``), never stored twice.
    """

    cohort_group = models.ForeignKey(CohortGroup, on_delete=models.PROTECT, related_name="sessions",
                                     verbose_name=_("group"))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    place = models.CharField(_("place"), max_length=120, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=SessionStatus.choices,
                              default=SessionStatus.PLANNED)
    not_held_reason = models.CharField(_("reason it was not held"), max_length=20, choices=NotHeldReason.choices,
                                       blank=True)
    pupils_present = models.PositiveSmallIntegerField(_("pupils present"), null=True, blank=True)
    pupils_enrolled = models.PositiveSmallIntegerField(_("pupils in the group"), null=True, blank=True)
    topics = models.JSONField(_("topics"), default=list, blank=True)
    other_topics = models.TextField(_("other topics the group raised"), max_length=1000, blank=True)
    feedback_token = models.CharField(max_length=64, unique=True, editable=False)
    feedback_closes_at = models.DateTimeField(_("feedback closes"))
    planned_by_id = models.BigIntegerField(null=True, blank=True)
    recorded_by_id = models.BigIntegerField(null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("group session")
        verbose_name_plural = _("group sessions")
        constraints = [
            models.CheckConstraint(condition=models.Q(starts_at__lt=models.F("ends_at")), name="gs_session_times"),
            models.CheckConstraint(
                condition=models.Q(pupils_present__isnull=True) | models.Q(pupils_enrolled__isnull=True)
                | models.Q(pupils_present__lte=models.F("pupils_enrolled")),
                name="gs_session_present_le_enrolled"),
        ]

    def __str__(self) -> str:
        return f"{self.cohort_group.name} {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"

    def policy_target(self):
        from welfare.policy import Target

        return Target(school_id=self.cohort_group.school_id)

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(24)

    @staticmethod
    def closes_at(ends_at, days: int):
        return ends_at + timedelta(days=days)

    def feedback_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status != SessionStatus.NOT_HELD and now < self.feedback_closes_at


class SessionStaff(models.Model):
    """A welfare staff member attending a session (user id in the public schema, role at the time)."""

    session = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="staff")
    user_id = models.BigIntegerField(_("staff member"), db_index=True)
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)

    class Meta:
        ordering = ["role", "id"]
        verbose_name = _("attending staff member")
        verbose_name_plural = _("attending staff")
        constraints = [models.UniqueConstraint(fields=["session", "user_id"], name="gs_staff_once")]

    def __str__(self) -> str:
        return f"{self.get_role_display()} ({self.user_id})"


class FollowUp(models.Model):
    """Communal work the session raised ("break-time bullying raised"), which may become an activity
    on the school's annual clock (annualclock.public.add_followup_activity)."""

    session = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="follow_ups")
    title = models.CharField(_("follow-up"), max_length=150)
    description = models.TextField(_("details"), max_length=1000, blank=True)
    month = models.DateField(_("month for the annual clock"))
    clock_url = models.CharField(_("annual clock activity"), max_length=300, blank=True)
    added_to_clock_at = models.DateTimeField(null=True, blank=True)
    added_to_clock_by_id = models.BigIntegerField(null=True, blank=True)
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")

    def __str__(self) -> str:
        return self.title

    def policy_target(self):
        from welfare.policy import Target

        return Target(school_id=self.session.cohort_group.school_id)


STATEMENT_FIELDS = ("statement_1", "statement_2", "statement_3", "statement_4")


class FeedbackResponse(models.Model):
    """One anonymous answer to a session's feedback form. ``device_hash`` is an HMAC of a random
    id kept in the device's signed cookie, keyed per session: one response per device, and answers
    to two sessions cannot be linked. No IP address, no sign-in, no name."""

    session = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="feedback")
    device_hash = models.CharField(max_length=64)
    language = models.CharField(_("language"), max_length=2)
    statement_1 = models.PositiveSmallIntegerField(null=True, blank=True)
    statement_2 = models.PositiveSmallIntegerField(null=True, blank=True)
    statement_3 = models.PositiveSmallIntegerField(null=True, blank=True)
    statement_4 = models.PositiveSmallIntegerField(null=True, blank=True)
    open_answer = models.TextField(_("open answer"), max_length=600, blank=True)
    submitted_on = models.DateField(_("submitted"), default=timezone.localdate)

    class Meta:
        ordering = ["id"]
        verbose_name = _("feedback response")
        verbose_name_plural = _("feedback responses")
        constraints = [
            models.UniqueConstraint(fields=["session", "device_hash"], name="gs_feedback_once_per_device"),
            *[models.CheckConstraint(condition=models.Q(**{f"{name}__isnull": True})
                                     | models.Q(**{f"{name}__gte": 1, f"{name}__lte": 5}),
                                     name=f"gs_feedback_{name}_range") for name in STATEMENT_FIELDS],
        ]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.pk}"


class GroupSessionRollup(models.Model):
    """What the dashboards show of one school's group sessions in one school year, kept by
    ``groupsessions.rollups`` in the same transaction as every change (equal to a recomputation).

    Group counts are classes, not people. "Overdue" depends on the day it is read: after the
    deadline every group not met, before it the groups planned after the deadline. Statement sums
    and answer counts make means exact over any set of schools. No pupil identity.
    """

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    school_year = models.ForeignKey(SchoolYear, on_delete=models.CASCADE, related_name="+")
    deadline = models.DateField()
    groups_to_meet = models.PositiveIntegerField(default=0)
    groups_met = models.PositiveIntegerField(default=0)
    met_by_deadline = models.PositiveIntegerField(default=0)
    groups_planned = models.PositiveIntegerField(default=0)  # not met, a session planned
    planned_after_deadline = models.PositiveIntegerField(default=0)
    pupils_present = models.PositiveIntegerField(default=0)  # in each met group's (first) held session
    pupils_enrolled = models.PositiveIntegerField(default=0)
    responses = models.PositiveIntegerField(default=0)
    statement_1_sum = models.PositiveIntegerField(default=0)
    statement_1_answers = models.PositiveIntegerField(default=0)
    statement_2_sum = models.PositiveIntegerField(default=0)
    statement_2_answers = models.PositiveIntegerField(default=0)
    statement_3_sum = models.PositiveIntegerField(default=0)
    statement_3_answers = models.PositiveIntegerField(default=0)
    statement_4_sum = models.PositiveIntegerField(default=0)
    statement_4_answers = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school_year", "school"], name="gs_rollup_unique")]

    def __str__(self) -> str:
        return f"{self.school_id}/{self.school_year_id}"

    def overdue(self, today: date) -> int:
        if today > self.deadline:
            return self.groups_to_meet - self.groups_met
        return self.planned_after_deadline
