"""The school welfare group's annual clock (opiskeluhuollon vuosikello), domain.md §3.

* ``Ring``: a category of the clock (yhteisöllinen hyvinvointi, turvallisuus, …): municipal
  configuration with fi/sv/en names; defaults come from a data migration.
* ``ClockTemplate``: the municipal coordinator's template clock for a school type.
* ``Clock``: one school's clock for one school year: a copy of a template or of the school's
  previous clock, edited freely afterwards (copies, never links: later template edits do not
  change an adopted clock).
* ``Activity``: one planned thing on a template or a clock; ``Evaluation``: how it went.
* ``FeedToken``: the secret of an iCalendar subscription (stored only as a SHA-256 hash).
* ``ClockSettings``: the municipality's reminder settings.
* ``ClockRollup``: what the dashboards show of one clock (counts only), kept by
  ``annualclock.rollups``.

Communal data only (domain.md A1): no pupil identities anywhere in this app. Users are referred
to by plain id (they live in the public schema).
"""

from __future__ import annotations

import hashlib
from datetime import date

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from welfare.models import Role, School, SchoolType, SchoolYear, SettingsRow

# School-year order of the months: August first (the year runs 1 Aug – 31 Jul).
SCHOOL_YEAR_MONTHS = (8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7)
UI_LANGUAGES = ("fi", "sv", "en")
# The fields a copy of an activity takes over, and the ones compared to tell what a school changed
# (annualclock.services copies them, annualclock.selectors and annualclock.rollups compare them).
COPY_FIELDS = ("ring_id", "title_fi", "title_sv", "title_en", "description_fi", "description_sv",
               "description_en", "month_start", "month_end", "recurrence", "owner_role", "target_group",
               "target_grades", "target_note", "links")


def copy_changes(copied_values: dict | None, adopted_ids, value) -> tuple[int | None, list[str]]:
    """How a clock activity differs from the template activity it was copied from at adoption:
    (that template activity's id, the ``COPY_FIELDS`` changed since), or (None, []) when the school
    added it (not a copy of one of ``adopted_ids``). ``value(name)`` reads the activity's field.
    The one rule behind the coordinator's adoption page and the dashboards' rollup."""
    source = copied_values.get("source") if copied_values else None
    if source is None or source not in adopted_ids:
        return None, []
    return source, [name for name in COPY_FIELDS if copied_values.get(name) != value(name)]


def month_position(month: int) -> int:
    """0 for August … 11 for July."""
    return SCHOOL_YEAR_MONTHS.index(month)


def localized(obj, field: str) -> str:
    """``obj.<field>_<language>`` in the active language, else the first one given (fi, sv, en)."""
    language = (translation.get_language() or "fi")[:2]
    order = [language] + [code for code in UI_LANGUAGES if code != language]
    for code in order:
        value = getattr(obj, f"{field}_{code}", "")
        if value:
            return value
    return ""


class Ring(models.Model):
    """A ring (category) of the wheel. Municipal configuration; the defaults are seeded."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_fi = models.CharField(_("name in Finnish"), max_length=100)
    name_sv = models.CharField(_("name in Swedish"), max_length=100, blank=True)
    name_en = models.CharField(_("name in English"), max_length=100, blank=True)
    color = models.CharField(_("colour"), max_length=7, default="#1f5f8b",
                             validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Give the colour as #rrggbb."))],
                             help_text=_("A dark colour as #rrggbb; white text must stay readable on it."))
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("ring")
        verbose_name_plural = _("rings")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self, "name")


class ClockSettings(SettingsRow):
    """The municipality's annual clock settings (one row)."""

    reminder_days = models.PositiveSmallIntegerField(
        _("remind owners this many days before an activity"), default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)])

    class Meta:
        verbose_name = _("annual clock settings")
        verbose_name_plural = _("annual clock settings")

    def __str__(self) -> str:
        return str(_("Annual clock settings"))


class ClockTemplate(models.Model):
    """The coordinator's template clock (mallivuosikello) for one school type."""

    name = models.CharField(_("name"), max_length=200)
    school_type = models.CharField(_("school type"), max_length=20, choices=SchoolType.choices, blank=True,
                                   help_text=_("Leave empty for every school type."))
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("clock template")
        verbose_name_plural = _("clock templates")

    def __str__(self) -> str:
        return self.name


class Clock(models.Model):
    """One school's annual clock for one school year."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="clocks", verbose_name=_("school"))
    school_year = models.ForeignKey(SchoolYear, on_delete=models.PROTECT, related_name="clocks",
                                    verbose_name=_("school year"))
    template = models.ForeignKey(ClockTemplate, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="adoptions", verbose_name=_("adopted template"))
    copied_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="copies", verbose_name=_("copied from"))
    # The template activities that existed at adoption, to tell "removed" from "added later".
    adopted_activity_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    reminder_days = models.PositiveSmallIntegerField(
        _("remind owners this many days before"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("Leave empty to use the municipality's setting."))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-school_year__start_date", "school__name"]
        verbose_name = _("annual clock")
        verbose_name_plural = _("annual clocks")
        constraints = [
            models.UniqueConstraint(fields=["school", "school_year"], name="clock_one_per_school_year"),
        ]

    def __str__(self) -> str:
        return f"{self.school} {self.school_year}"

    def policy_target(self):
        from welfare.policy import Target

        return Target(school_id=self.school_id)


class Recurrence(models.TextChoices):
    ONCE = "once", _("Once")
    MONTHLY = "monthly", _("Every month")
    TERMLY = "termly", _("Every term")


class Status(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("activity status", "Planned")
    DONE = "done", pgettext_lazy("activity status", "Done")
    CANCELLED = "cancelled", pgettext_lazy("activity status", "Cancelled")


class TargetGroup(models.TextChoices):
    ALL_PUPILS = "all_pupils", _("All pupils")
    GRADES = "grades", _("Grades")
    GROUPS = "groups", _("Teaching groups")
    STAFF = "staff", _("Staff")
    GUARDIANS = "guardians", _("Guardians")


class Activity(models.Model):
    """One activity of a template or of a school's clock (exactly one of the two).

    When: a month range in school-year order (``month_start`` … ``month_end``, wrapping over New
    Year, e.g. December–January) or, on a clock, a date range (``start_date`` … ``end_date``),
    which then wins. ``recurrence`` repeats it every month or every term of the range.
    """

    template = models.ForeignKey(ClockTemplate, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="activities")
    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, null=True, blank=True, related_name="activities")
    ring = models.ForeignKey(Ring, on_delete=models.PROTECT, related_name="activities", verbose_name=_("ring"))
    title_fi = models.CharField(_("title in Finnish"), max_length=200, blank=True)
    title_sv = models.CharField(_("title in Swedish"), max_length=200, blank=True)
    title_en = models.CharField(_("title in English"), max_length=200, blank=True)
    description_fi = models.TextField(_("description in Finnish"), blank=True)
    description_sv = models.TextField(_("description in Swedish"), blank=True)
    description_en = models.TextField(_("description in English"), blank=True)
    month_start = models.PositiveSmallIntegerField(_("first month"), validators=[MinValueValidator(1),
                                                                                 MaxValueValidator(12)])
    month_end = models.PositiveSmallIntegerField(_("last month"), validators=[MinValueValidator(1),
                                                                              MaxValueValidator(12)])
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    recurrence = models.CharField(_("recurrence"), max_length=10, choices=Recurrence.choices, default=Recurrence.ONCE)
    owner_role = models.CharField(_("owner role"), max_length=30, choices=Role.choices, blank=True)
    owner_ids = ArrayField(models.BigIntegerField(), default=list, blank=True, verbose_name=_("named owners"))
    target_group = models.CharField(_("target group"), max_length=12, choices=TargetGroup.choices,
                                    default=TargetGroup.ALL_PUPILS)
    target_grades = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True,
                               verbose_name=_("grades"))
    target_note = models.CharField(_("target group details"), max_length=200, blank=True,
                                   help_text=_("E.g. the teaching groups. No pupils' names."))
    links = models.TextField(_("links"), blank=True, help_text=_("One address per line."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    source_label = models.CharField(_("origin"), max_length=200, blank=True)
    copied_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="copies")
    copied_values = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(template__isnull=False, clock__isnull=True)
                           | models.Q(template__isnull=True, clock__isnull=False)),
                name="activity_on_template_or_clock"),
            models.CheckConstraint(
                condition=(models.Q(start_date__isnull=True, end_date__isnull=True)
                           | models.Q(start_date__isnull=False, end_date__isnull=False,
                                      start_date__lte=models.F("end_date"))),
                name="activity_dates_ordered"),
            models.CheckConstraint(condition=models.Q(month_start__gte=1, month_start__lte=12, month_end__gte=1,
                                                      month_end__lte=12), name="activity_months_valid"),
        ]
        indexes = [models.Index(fields=["clock", "status"])]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return localized(self, "title") or str(_("(untitled)"))

    @property
    def description(self) -> str:
        return localized(self, "description")

    def policy_target(self):
        from welfare.policy import Target

        return Target(school_id=self.clock.school_id if self.clock_id else None)

    def link_list(self) -> list[str]:
        return [line.strip() for line in self.links.splitlines() if line.strip()]

    @property
    def has_dates(self) -> bool:
        return self.start_date is not None

    def clean(self) -> None:
        if not (self.title_fi or self.title_sv or self.title_en):
            raise ValidationError({"title_fi": _("Give a title in at least one language.")})
        if self.has_dates and self.template_id:
            raise ValidationError({"start_date": _("A template has no dates: give months instead.")})
        if (self.start_date is None) != (self.end_date is None):
            raise ValidationError({"end_date": _("Give both the start and the end date, or neither.")})
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ValidationError({"end_date": _("The end date is before the start date.")})
        if self.month_start and self.month_end and month_position(self.month_end) < month_position(self.month_start):
            raise ValidationError({"month_end": _("The last month is before the first one (the year starts in "
                                                  "August).")})
        if self.has_dates and self.clock_id:
            year = self.clock.school_year
            if not (year.start_date <= self.start_date and self.end_date <= year.end_date):
                raise ValidationError({"start_date": _("The dates must lie within the school year %(year)s.")
                                       % {"year": year}})


class Evaluation(models.Model):
    """How a done activity went (arviointi): what happened, how many it reached, what to change."""

    activity = models.OneToOneField(Activity, on_delete=models.CASCADE, related_name="evaluation")
    what_happened = models.TextField(_("what happened"))
    reach = models.PositiveIntegerField(_("people reached"), null=True, blank=True,
                                        help_text=_("About how many took part. No names."))
    next_year = models.TextField(_("what to change next year"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")

    def __str__(self) -> str:
        return f"{self.activity}: {self.what_happened[:40]}"

    def policy_target(self):
        return self.activity.policy_target()


class ClockRollup(models.Model):
    """What the dashboards show of one school's clock (one school year): counts only, kept by
    ``annualclock.rollups`` in the same transaction as every change, so it always equals a
    recomputation from the activities.

    As in the year-end evaluation report (``selectors.year_report``): ``planned`` is every activity
    not cancelled, ``done`` and ``evaluated`` count among those. ``reach`` is the sum of "people
    reached" over those evaluations (a count of people: suppressed wherever it is shown).
    ``added``, ``removed`` and ``changed`` are the school's changes against the template activities
    it adopted, as on the coordinator's adoption page (``selectors.adoptions``). ``by_ring``:
    ``{"<ring id>": [planned, done, evaluated, cancelled]}``. Which template, and whether the clock
    was copied, are read from the clock itself.
    """

    clock = models.OneToOneField(Clock, on_delete=models.CASCADE, related_name="rollup")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    school_year = models.ForeignKey(SchoolYear, on_delete=models.CASCADE, related_name="+")
    planned = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    evaluated = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    reach = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    by_ring = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school_year", "school"], name="clock_rollup_unique")]

    def __str__(self) -> str:
        return f"{self.school_id}/{self.school_year_id}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class FeedToken(models.Model):
    """An iCalendar subscription: one school clock's feed, or one person's tasks.

    Only the SHA-256 of the secret is stored: the address is shown once, when it is made.
    Revoked tokens stay (revoked_at set) so the page can say so; their feeds answer 404.
    """

    class Kind(models.TextChoices):
        CLOCK = "clock", _("School clock")
        PERSON = "person", _("My tasks")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, null=True, blank=True, related_name="feeds")
    user_id = models.BigIntegerField(_("owner"), db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.CheckConstraint(condition=models.Q(kind="clock", clock__isnull=False)
                                   | models.Q(kind="person", clock__isnull=True), name="feed_kind_matches_clock"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.user_id})"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def school_year_month_start(year: SchoolYear, month: int) -> date:
    """The first day of ``month`` within the school year."""
    return date(year.start_date.year if month >= 8 else year.end_date.year, month, 1)
