"""Absence follow-up (poissaolojen seuranta ja puuttuminen): the only module holding
individual pupils' welfare data (domain.md part A, decisions 1, 3 and 6).

* Absence data: daily records (lesson hours per category) and period totals, each from an import.
* Threshold policies: municipal configuration, versioned; an escalation keeps the version it was
  raised under.
* Escalations (poissaolon portaat): raised once per pupil, period and step.
* The case: one per pupil per period, a timeline of append-only entries (minimum data, A3).
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from welfare.models import Role, Student

MAX_HOURS_PER_DAY = Decimal("12")


class AbsenceCategory(models.Model):
    """A category of the national absence classification, as the municipality configures it."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_fi = models.CharField(_("name in Finnish"), max_length=100)
    name_sv = models.CharField(_("name in Swedish"), max_length=100)
    name_en = models.CharField(_("name in English"), max_length=100)
    # Unexplained and unclassified absences are what the "still unexplained after N days" rule watches.
    explained = models.BooleanField(_("explained"), default=True)
    # Other spellings a register export may use (Wilma/Primus column values), matched case-insensitively.
    aliases = ArrayField(models.CharField(max_length=100), default=list, blank=True, verbose_name=_("aliases"))
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("absence category")
        verbose_name_plural = _("absence categories")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return {"sv": self.name_sv, "en": self.name_en}.get((get_language() or "fi")[:2], self.name_fi)


class AbsenceImport(models.Model):
    """One uploaded file (browser or API): who imported what, when, and what it changed."""

    class Kind(models.TextChoices):
        DAILY = "daily", _("Daily absence records")
        PERIOD_TOTALS = "period_totals", _("Period totals")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Rejected")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.DAILY)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    user_id = models.BigIntegerField(_("user"), null=True, blank=True)
    user_email = models.CharField(_("imported by"), max_length=254, blank=True)
    file_name = models.CharField(_("file"), max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    range_start = models.DateField(_("first date"), null=True, blank=True)
    range_end = models.DateField(_("last date"), null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_created = models.PositiveIntegerField(_("added"), default=0)
    rows_replaced = models.PositiveIntegerField(_("replaced"), default=0)
    rows_removed = models.PositiveIntegerField(_("removed"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    error_count = models.PositiveIntegerField(default=0)
    # The first errors (line, column, value, message) for the report; the full list is in the file's re-run.
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("absence import")
        verbose_name_plural = _("absence imports")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"


class AbsenceRecord(models.Model):
    """Lesson hours of one pupil on one day in one category.

    Millions of rows arrive per import, so the table carries no per-row foreign-key triggers and
    one index: the primary key (pupil, date, category), which every reader uses (a pupil's days,
    the pupils of an import, the date range an import replaces) or which a whole-period scan does
    not need. Each further index cost more than the rows themselves: a surrogate id and a
    (date, pupil) index made a 3,000,000-row insert 20 s instead of 6 s, and deferred FK checks
    were half of the import. Integrity is kept where rows are written instead: the import
    validates every pupil and category and holds ``FOR KEY SHARE`` locks on them until it commits
    (absences.services.imports.writing), and Django's on_delete still cascades when a pupil,
    category or import is deleted through the ORM, as every deletion here is.
    """

    pk = models.CompositePrimaryKey("student", "date", "category")

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="absence_records",
                                db_constraint=False, db_index=False)
    date = models.DateField(_("date"))
    category = models.ForeignKey(AbsenceCategory, on_delete=models.PROTECT, related_name="+",
                                 db_constraint=False, db_index=False)
    hours = models.DecimalField(
        _("lesson hours"), max_digits=4, decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_HOURS_PER_DAY)],
    )
    source_import = models.ForeignKey(AbsenceImport, on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+", db_constraint=False, db_index=False)

    class Meta:
        verbose_name = _("absence record")
        verbose_name_plural = _("absence records")
        constraints = [
            models.CheckConstraint(condition=models.Q(hours__gte=0) & models.Q(hours__lte=MAX_HOURS_PER_DAY),
                                   name="absence_record_hours_in_day"),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.date} {self.hours} h"


class AbsencePeriodTotal(models.Model):
    """Hours of one pupil in one category over a period, for municipalities exporting reports only."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="absence_totals")
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    category = models.ForeignKey(AbsenceCategory, on_delete=models.PROTECT, related_name="+")
    hours = models.DecimalField(_("lesson hours"), max_digits=7, decimal_places=2,
                                validators=[MinValueValidator(Decimal("0"))])
    source_import = models.ForeignKey(AbsenceImport, on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+")

    class Meta:
        verbose_name = _("absence period total")
        verbose_name_plural = _("absence period totals")
        constraints = [
            models.UniqueConstraint(fields=["student", "period_start", "period_end", "category"],
                                    name="absence_total_unique"),
            models.CheckConstraint(condition=models.Q(period_start__lte=models.F("period_end")),
                                   name="absence_total_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.period_start}–{self.period_end} {self.hours} h"


# --- Threshold policies ----------------------------------------------------------------------------

class CountingPeriod(models.TextChoices):
    TERM = "term", _("Term")
    SCHOOL_YEAR = "school_year", _("School year")
    CHECK_DATES = "check_dates", _("Check dates")


class ThresholdUnit(models.TextChoices):
    HOURS = "hours", _("Lesson hours")
    # xgettext:no-python-format
    PERCENT = "percent", _("% of scheduled hours")


class ThresholdPolicy(models.Model):
    """The municipality's absence threshold model. Its content lives in versions."""

    name = models.CharField(_("name"), max_length=120)
    preset = models.CharField(_("based on preset"), max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("threshold policy")
        verbose_name_plural = _("threshold policies")

    def __str__(self) -> str:
        return self.name

    def current_version(self) -> PolicyVersion | None:
        return self.versions.filter(published_at__isnull=False).order_by("-number").first()


class PolicyVersion(models.Model):
    """One version of a policy. Published versions are never edited: a change is a new version,
    which applies from the next evaluation; escalations keep the version they were raised under."""

    policy = models.ForeignKey(ThresholdPolicy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by_id = models.BigIntegerField(null=True, blank=True)
    published_at = models.DateTimeField(_("in use from"), null=True, blank=True)
    counting_period = models.CharField(_("counting period"), max_length=20, choices=CountingPeriod.choices,
                                       default=CountingPeriod.SCHOOL_YEAR)
    # Check dates as "MM-DD" (e.g. Tuusula 11-01 and 03-01): the count runs from the school year's start.
    check_dates = ArrayField(models.CharField(max_length=5), default=list, blank=True,
                             verbose_name=_("check dates"))
    counted_categories = ArrayField(models.SlugField(max_length=40), default=list,
                                    verbose_name=_("counted categories"))
    unit = models.CharField(_("unit"), max_length=10, choices=ThresholdUnit.choices, default=ThresholdUnit.HOURS)
    # Scheduled lesson hours per week by grade ({"1": 19, "7": 30}), for the % unit.
    scheduled_hours_per_week = models.JSONField(_("scheduled hours per week by grade"), default=dict, blank=True)
    consecutive_days = models.PositiveSmallIntegerField(_("alert after this many consecutive school days absent"),
                                                        null=True, blank=True)
    unexplained_after_days = models.PositiveSmallIntegerField(
        _("alert when an absence is still unexplained after this many days"), null=True, blank=True)

    class Meta:
        ordering = ["policy", "-number"]
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        constraints = [models.UniqueConstraint(fields=["policy", "number"], name="policy_version_unique")]

    def __str__(self) -> str:
        return f"{self.policy} v{self.number}"


class GradeBand(models.Model):
    """Grades sharing one set of steps (e.g. Vaasa's primary 1–6 vs lower secondary 7–9)."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="bands")
    name = models.CharField(_("name"), max_length=60, blank=True)
    grade_min = models.PositiveSmallIntegerField(_("from grade"))
    grade_max = models.PositiveSmallIntegerField(_("to grade"))

    class Meta:
        ordering = ["grade_min"]
        verbose_name = _("grade band")
        verbose_name_plural = _("grade bands")
        constraints = [models.CheckConstraint(condition=models.Q(grade_min__lte=models.F("grade_max")),
                                              name="grade_band_ordered")]

    def __str__(self) -> str:
        return self.name or f"{self.grade_min}–{self.grade_max}"


class EscalationStep(models.Model):
    """A step of the absence staircase: threshold, who owns it, who is told, what must happen."""

    band = models.ForeignKey(GradeBand, on_delete=models.CASCADE, related_name="steps")
    level = models.PositiveSmallIntegerField(_("step"))
    threshold = models.DecimalField(_("threshold"), max_digits=7, decimal_places=2)
    name = models.CharField(_("name"), max_length=120)
    responsible_role = models.CharField(_("responsible role"), max_length=30, choices=Role.choices)
    notified_roles = ArrayField(models.CharField(max_length=30, choices=Role.choices), default=list, blank=True,
                                verbose_name=_("notified roles"))
    required_action = models.TextField(_("required action"), blank=True)
    days_to_react = models.PositiveSmallIntegerField(_("days to react"), default=7)

    class Meta:
        ordering = ["band", "level"]
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        constraints = [models.UniqueConstraint(fields=["band", "level"], name="escalation_step_level_unique")]

    def __str__(self) -> str:
        return f"{self.level}. {self.name} ({self.threshold})"


# --- Cases and escalations -------------------------------------------------------------------------

class AbsenceCase(models.Model):
    """One pupil's follow-up in one counting period: the container of escalations and actions."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("absence case status", "Open")
        CLOSED = "closed", _("Closed")

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="absence_cases")
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    # What has been raised in this case, kept by a database trigger on absences_escalation
    # (migration 0004) whoever inserts the escalation: the nightly evaluation compares a pupil's
    # count with these instead of reading every escalation of the municipality.
    raised_threshold_level = models.PositiveIntegerField(default=0, editable=False)
    raised_consecutive = ArrayField(models.IntegerField(), default=list, editable=False)
    raised_unexplained = ArrayField(models.IntegerField(), default=list, editable=False)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("absence case")
        verbose_name_plural = _("absence cases")
        constraints = [models.UniqueConstraint(fields=["student", "period_start", "period_end"],
                                               name="absence_case_unique_per_period")]

    def __str__(self) -> str:
        return f"{self.student_id} {self.period_start}–{self.period_end}"

    def policy_target(self):
        from welfare.policy import Target

        return Target(school_id=self.student.school_id, group_id=self.student.group_id, student_id=self.student_id)


class Escalation(models.Model):
    """A step (or an extra rule) reached by a pupil in a period. Raised exactly once: the unique
    constraint makes concurrent or repeated evaluations harmless."""

    class Kind(models.TextChoices):
        THRESHOLD = "threshold", _("Hour threshold")
        CONSECUTIVE = "consecutive", _("Consecutive days absent")
        UNEXPLAINED = "unexplained", _("Absence still unexplained")

    case = models.ForeignKey(AbsenceCase, on_delete=models.CASCADE, related_name="escalations")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.THRESHOLD)
    # The step's level for thresholds; for extra rules the ordinal of the incident's first date.
    level = models.PositiveIntegerField(_("level"))
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")
    step = models.ForeignKey(EscalationStep, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reached_at = models.DateTimeField(_("reached"), auto_now_add=True)
    reached_on = models.DateField(_("reached on (data date)"))
    counted_value = models.DecimalField(_("counted"), max_digits=8, decimal_places=2)
    hours_by_category = models.JSONField(_("hours by category"), default=dict)
    responsible_role = models.CharField(_("responsible role"), max_length=30, choices=Role.choices)
    react_by = models.DateField(_("react by"))
    first_action_at = models.DateTimeField(_("first action"), null=True, blank=True)

    class Meta:
        ordering = ["case", "kind", "level"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        constraints = [models.UniqueConstraint(fields=["case", "kind", "level"], name="escalation_once")]

    def __str__(self) -> str:
        return f"{self.case} {self.kind} {self.level}"


class CaseEntry(models.Model):
    """One entry of a case's timeline. Append-only (a database trigger refuses UPDATE and DELETE):
    a correction is a new entry pointing to the one it corrects. Minimum data (domain.md A3)."""

    class Kind(models.TextChoices):
        STEP_REACHED = "step_reached", _("Step reached")
        GUARDIAN_CONTACTED = "guardian_contacted", _("Guardian contacted")
        MEETING = "meeting", _("Meeting with pupil and guardian")
        MAR_CONVENED = "mar_convened", _("Multidisciplinary expert group convened")
        REFERRAL = "referral", _("Referral")
        SUPPORT_AGREED = "support_agreed", _("Support agreed")
        CLOSED = "closed", _("Closed")
        CORRECTION = "correction", _("Correction")

    class ContactMethod(models.TextChoices):
        PHONE = "phone", _("Phone")
        MESSAGE = "message", _("Wilma message")
        EMAIL = "email", _("Email")
        MEETING = "meeting", _("In person")
        LETTER = "letter", _("Letter")

    class ReferralTarget(models.TextChoices):
        HEALTH_CARE = "health_care", _("School health care")
        KURAATTORI = "kuraattori", _("School social worker")
        PSYCHOLOGIST = "psychologist", _("Psychologist")
        FAMILY_SERVICES = "family_services", _("Family social services")
        CHILD_WELFARE = "child_welfare", _("Child welfare notification")

    class CloseReason(models.TextChoices):
        RECOVERED = "recovered", _("Attendance recovered")
        MOVED = "moved", _("Moved to another school")
        IN_TREATMENT = "in_treatment", _("In treatment")
        OTHER = "other", _("Other")

    case = models.ForeignKey(AbsenceCase, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    occurred_on = models.DateField(_("date"))
    author_id = models.BigIntegerField(null=True, blank=True)
    author_role = models.CharField(max_length=30, blank=True)
    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    contact_method = models.CharField(_("method"), max_length=10, choices=ContactMethod.choices, blank=True)
    referral_target = models.CharField(_("referred to"), max_length=20, choices=ReferralTarget.choices, blank=True)
    close_reason = models.CharField(_("reason"), max_length=15, choices=CloseReason.choices, blank=True)
    # Short and optional; the form warns not to write health or family details (domain.md A3).
    note = models.CharField(_("short note"), max_length=300, blank=True)
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="corrections")

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("case entry")
        verbose_name_plural = _("case entries")

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.occurred_on}"


# --- Rollups for dashboards (kept by absences.services.rollups) ------------------------------

class AbsenceRollup(models.Model):
    """Hours per school, grade, term and category, with the number of pupils who have any: what
    the dashboards read instead of millions of daily rows. No pupil identities. Rebuilt per school
    and term after imports and deletions (absences.services.rollups)."""

    school = models.ForeignKey("welfare.School", on_delete=models.CASCADE, related_name="+")
    grade = models.PositiveSmallIntegerField()
    term = models.ForeignKey("welfare.Term", on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(AbsenceCategory, on_delete=models.CASCADE, related_name="+")
    pupils = models.PositiveIntegerField()
    hours = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "grade", "term", "category"],
                                               name="absence_rollup_unique")]

    def __str__(self) -> str:
        return f"{self.school_id}/{self.grade}/{self.term_id}/{self.category_id}: {self.hours} h"


class EscalationRollup(models.Model):
    """Per school, grade, counting period and threshold step: pupils whose highest raised step is
    this one, the step's escalations, those with a logged action within their days to react, how
    many days it took from reaching the step to the first action (a histogram {days: escalations},
    60 meaning 60 or more, so that medians over any set of schools are exact), and escalations of
    cases where a multidisciplinary expert group was convened. No pupil identities. Rebuilt per
    school after evaluations and case actions (absences.services.rollups)."""

    school = models.ForeignKey("welfare.School", on_delete=models.CASCADE, related_name="+")
    grade = models.PositiveSmallIntegerField()
    period_start = models.DateField()
    period_end = models.DateField()
    level = models.PositiveSmallIntegerField()
    pupils_at_level = models.PositiveIntegerField()
    escalations = models.PositiveIntegerField()
    reacted_in_time = models.PositiveIntegerField()
    days_to_action = models.JSONField(default=dict)
    mar_convened = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "grade", "period_start", "period_end", "level"],
                                               name="escalation_rollup_unique")]

    def __str__(self) -> str:
        return f"{self.school_id}/{self.grade}/{self.period_start}/{self.level}: {self.pupils_at_level}"
