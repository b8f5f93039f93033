"""Core data of one municipality (tenant schema).

Keeps to the minimum domain.md allows: the register id, name, grade, group and
home language of a pupil; name, language and contact preference of a guardian.
Users are referred to by plain integer id (users live in the public schema;
anchors.md D5: no cross-schema foreign keys).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class SchoolType(models.TextChoices):
    PRE_PRIMARY = "pre_primary", _("Pre-primary education")
    BASIC = "basic", _("Basic education")
    UPPER_SECONDARY = "upper_secondary", _("General upper secondary")
    VOCATIONAL = "vocational", _("Vocational")


class InstructionLanguage(models.TextChoices):
    FI = "fi", _("Finnish")
    SV = "sv", _("Swedish")


class School(models.Model):
    """A school or institution of the municipality."""

    external_id = models.CharField(_("school id"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    school_type = models.CharField(_("type"), max_length=20, choices=SchoolType.choices)
    grade_min = models.PositiveSmallIntegerField(_("lowest grade"), default=1)
    grade_max = models.PositiveSmallIntegerField(_("highest grade"), default=9)
    language = models.CharField(_("language of instruction"), max_length=2, choices=InstructionLanguage.choices)
    area = models.CharField(_("area"), max_length=100, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(grade_min__lte=models.F("grade_max")), name="school_grades_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def grades(self) -> range:
        return range(self.grade_min, self.grade_max + 1)

    def policy_target(self):
        from welfare.policy import Target

        return Target(school_id=self.pk)


class SchoolYearQuerySet(models.QuerySet):
    def containing(self, day) -> SchoolYear | None:
        """The school year ``day`` falls in; None in the summer between two years."""
        return self.filter(start_date__lte=day, end_date__gte=day).order_by("-start_date").first()

    def latest_started(self, day) -> SchoolYear | None:
        """The school year containing ``day``, else (summer) the one that ended last."""
        return self.filter(start_date__lte=day).order_by("-start_date").first()


class SchoolYear(models.Model):
    """A school year (lukuvuosi), e.g. 2026–2027. Dates are data (domain.md A7)."""

    name = models.CharField(_("name"), max_length=20, unique=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))

    objects = SchoolYearQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date"]
        verbose_name = _("school year")
        verbose_name_plural = _("school years")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_date__lt=models.F("end_date")), name="school_year_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def contains(self, day) -> bool:
        return self.start_date <= day <= self.end_date


class Term(models.Model):
    """A term of a school year (autumn, spring)."""

    school_year = models.ForeignKey(SchoolYear, on_delete=models.CASCADE, related_name="terms")
    name = models.CharField(_("name"), max_length=40)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))

    class Meta:
        ordering = ["start_date"]
        verbose_name = _("term")
        verbose_name_plural = _("terms")
        constraints = [
            models.UniqueConstraint(fields=["school_year", "name"], name="term_unique_name"),
            models.CheckConstraint(condition=models.Q(start_date__lt=models.F("end_date")), name="term_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.school_year} {self.name}"

    def clean(self) -> None:
        if self.school_year_id and not (
            self.school_year.start_date <= self.start_date and self.end_date <= self.school_year.end_date
        ):
            raise ValidationError(_("A term must lie within its school year."))


class TeachingGroup(models.Model):
    """A class or group (luokka, ryhmä) of one school in one school year."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="groups")
    school_year = models.ForeignKey(SchoolYear, on_delete=models.PROTECT, related_name="groups")
    name = models.CharField(_("name"), max_length=40)
    grade = models.PositiveSmallIntegerField(_("grade"))

    class Meta:
        ordering = ["grade", "name"]
        verbose_name = _("teaching group")
        verbose_name_plural = _("teaching groups")
        constraints = [
            models.UniqueConstraint(fields=["school", "school_year", "name"], name="group_unique_per_school_year"),
        ]

    def __str__(self) -> str:
        return self.name

    def policy_target(self):
        from welfare.policy import Target

        return Target(school_id=self.school_id, group_id=self.pk)


class Student(models.Model):
    """A pupil or student, as far as the register gives (minimum data)."""

    external_id = models.CharField(_("student register id"), max_length=40, unique=True)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="students")
    grade = models.PositiveSmallIntegerField(_("grade"))
    group = models.ForeignKey(
        TeachingGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="students"
    )
    home_language = models.CharField(_("home language"), max_length=8, blank=True, help_text=_("ISO 639 code"))

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("student")
        verbose_name_plural = _("students")
        indexes = [models.Index(fields=["school", "grade"])]

    def __str__(self) -> str:
        return f"{self.last_name} {self.first_name}"

    def policy_target(self):
        from welfare.policy import Target

        return Target(school_id=self.school_id, group_id=self.group_id, student_id=self.pk)


class ContactPreference(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message")
    WILMA = "wilma", _("Wilma message")
    LETTER = "letter", _("Letter")


class Guardian(models.Model):
    """A guardian (huoltaja) of one or more students."""

    name = models.CharField(_("name"), max_length=200)
    language = models.CharField(_("language"), max_length=8, blank=True, help_text=_("ISO 639 code"))
    contact_preference = models.CharField(
        _("contact preference"), max_length=10, choices=ContactPreference.choices, default=ContactPreference.WILMA
    )
    students = models.ManyToManyField(Student, related_name="guardians", verbose_name=_("students"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("guardian")
        verbose_name_plural = _("guardians")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """Staff roles (domain.md §1.2). The value is also the demo login: <value>@<slug>.demo."""

    PRINCIPAL = "rehtori", _("Principal")
    CLASS_TEACHER = "luokanopettaja", _("Class teacher")
    SPECIAL_NEEDS_TEACHER = "erityisopettaja", _("Special-needs teacher")
    GUIDANCE_COUNSELLOR = "opinto-ohjaaja", _("Guidance counsellor")
    SCHOOL_SOCIAL_WORKER = "kuraattori", _("School social worker (kuraattori)")
    PSYCHOLOGIST = "psykologi", _("Psychologist")
    SCHOOL_NURSE = "terveydenhoitaja", _("School nurse")
    SCHOOL_DOCTOR = "koululaakari", _("School doctor")
    MUNICIPAL_COORDINATOR = "koordinaattori", _("Municipal coordinator")
    MUNICIPAL_ADMIN = "paakayttaja", _("Municipal administrator")
    DATA_PROTECTION_OFFICER = "tietosuojavastaava", _("Data protection officer")


MUNICIPAL_ROLES = {Role.MUNICIPAL_COORDINATOR, Role.MUNICIPAL_ADMIN, Role.DATA_PROTECTION_OFFICER}


class StaffRoleQuerySet(models.QuerySet):
    def active(self) -> StaffRoleQuerySet:
        return self.filter(revoked_at__isnull=True)


class StaffRole(models.Model):
    """A role granted to a user in this municipality, for one school or municipality-wide.

    ``user_id`` refers to accounts.User in the public schema (no cross-schema FK).
    Revoking sets ``revoked_at``; the row stays for the audit trail.
    """

    user_id = models.BigIntegerField(_("user"), db_index=True)
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, null=True, blank=True, related_name="staff_roles", verbose_name=_("school")
    )
    groups = models.ManyToManyField(TeachingGroup, blank=True, related_name="teacher_roles", verbose_name=_("groups"))
    granted_by_id = models.BigIntegerField(null=True, blank=True)
    granted_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = StaffRoleQuerySet.as_manager()

    class Meta:
        ordering = ["role"]
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(school__isnull=False) | models.Q(role__in=sorted(r.value for r in MUNICIPAL_ROLES)),
                name="staff_role_school_unless_municipal",
            ),
        ]

    def __str__(self) -> str:
        where = self.school.name if self.school_id else _("municipality")
        return f"{self.get_role_display()} ({where})"


class SettingsRow(models.Model):
    """A module's settings for the municipality: one row per schema, made on first use."""

    class Meta:
        abstract = True

    @classmethod
    def current(cls):
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class MunicipalSettings(SettingsRow):
    """Settings a municipality chooses for itself (one row per schema)."""

    class Scope(models.TextChoices):
        SCHOOL = "school", _("The pupils of the schools they serve")
        CASELOAD = "caseload", _("Only the pupils assigned to them (caseload)")

    welfare_staff_scope = models.CharField(
        _("welfare staff see"), max_length=10, choices=Scope.choices, default=Scope.SCHOOL
    )
    step_up_minutes = models.PositiveSmallIntegerField(
        _("ask for the second factor again after (minutes)"), default=15
    )

    class Meta:
        verbose_name = _("municipal settings")
        verbose_name_plural = _("municipal settings")

    def __str__(self) -> str:
        return str(_("Municipal settings"))


class CaseloadAssignment(models.Model):
    """A pupil assigned to a welfare staff member (used when the municipality scopes by caseload)."""

    user_id = models.BigIntegerField(db_index=True)
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="caseload_assignments")
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user_id", "student"], name="caseload_unique")]

    def __str__(self) -> str:
        return f"{self.student_id} → user {self.user_id}"


class AuditAction(models.TextChoices):
    READ = "read", _("Read")
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")
    EXPORT = "export", _("Export")
    LOGIN = "login", _("Sign-in")
    LOGIN_FAILED = "login_failed", _("Failed sign-in")
    PERMISSION_CHANGE = "permission_change", _("Permission change")
    DENIED = "denied", _("Access denied")


class AuditEvent(models.Model):
    """One entry of the municipality's audit log. Append-only: a database trigger refuses
    UPDATE and DELETE (migration 0003), so not even the admin site can change history.

    Written only through welfare.audit; rows refer to users and pupils by plain id so that
    entries outlive both.
    """

    occurred_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    user_id = models.BigIntegerField(_("user"), null=True, blank=True, db_index=True)
    user_email = models.CharField(_("user email"), max_length=254, blank=True)
    roles = models.CharField(_("roles"), max_length=300, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    student_id = models.BigIntegerField(_("pupil"), null=True, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    path = models.CharField(_("address"), max_length=300, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.user_email} {self.action} {self.object_type}:{self.object_id}"


class RetentionAction(models.TextChoices):
    DELETE = "delete", _("Delete")
    ANONYMISE = "anonymise", _("Anonymise")


RETENTION_MIN_DAYS = 30


class RetentionRule(models.Model):
    """The municipality's own retention period for one record type (welfare.registry codes).

    Record types without a rule keep their registered default. ``updated_by_id`` refers to
    accounts.User in the public schema.
    """

    record_type = models.CharField(_("record type"), max_length=60, unique=True)
    days = models.PositiveIntegerField(_("retention period (days)"))
    action = models.CharField(_("afterwards"), max_length=10, choices=RetentionAction.choices,
                              default=RetentionAction.DELETE)
    updated_by_id = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["record_type"]
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        constraints = [
            models.CheckConstraint(condition=models.Q(days__gte=RETENTION_MIN_DAYS), name="retention_rule_min_days"),
        ]

    def __str__(self) -> str:
        return f"{self.record_type}: {self.days} d, {self.action}"


class RetentionRun(models.Model):
    """One nightly retention run in this municipality: what each record type removed."""

    started_at = models.DateTimeField(_("started"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    counts = models.JSONField(_("records removed or anonymised"), default=dict, blank=True)
    ok = models.BooleanField(_("succeeded"), default=False)
    error = models.TextField(_("errors"), blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'failed'}"


class Notification(models.Model):
    """An in-app notification (the header's notification centre) with e-mail delivery.

    Written in the same transaction as the event it announces (an escalation, a reminder) and
    delivered afterwards by welfare.services.notifications: the row is the outbox, so a Redis or
    mail outage delays a message but loses none. ``dedupe_key`` makes creation idempotent.
    """

    class EmailStatus(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Not sent by e-mail")

    recipient_id = models.BigIntegerField(_("recipient"), db_index=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    kind = models.CharField(_("kind"), max_length=60)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    email_status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient_id", "read_at"], name="notification_unread"),
            models.Index(fields=["email_status", "created_at"], name="notification_outbox"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.title}"


class GeneratedDocument(models.Model):
    """A document (PDF report) rendered in Celery for one user: queued → running → done or failed.

    Written by welfare.services.documents; the renderer for each ``kind`` is registered by the app
    that owns the report (welfare imports no module app). Only the requester downloads it, with the
    renderer's permission checked again, and only until ``expires_at``; expired rows are deleted.
    ``requested_by_id`` refers to accounts.User in the public schema.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Being made")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=60)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    requested_by_id = models.BigIntegerField(_("requested by"), db_index=True)
    school_id = models.BigIntegerField(_("school"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    title = models.CharField(_("title"), max_length=200, blank=True)
    content = models.BinaryField(_("content"), null=True, blank=True, editable=False)
    content_type = models.CharField(max_length=100, default="application/pdf")
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("generated document")
        verbose_name_plural = _("generated documents")

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
