"""Regional multilingual, multi-agency parent evenings (monikielinen vanhempainilta, domain.md §5).

An evening belongs to the municipality and lists the participating schools (its area). Guardians
never need an account: a registration holds counts and needs, and contact details only when the
guardian asks for reminders (with consent). Contacts are anonymised N days after the evening
(``ParentEveningSettings.anonymise_after_days``). No pupil identity is stored (domain.md A1).
"""

from __future__ import annotations

import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from parentevenings import languages
from welfare.models import School, SettingsRow

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at the door


def new_public_token() -> str:
    return secrets.token_urlsafe(9)


def new_registration_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(8))


class ParentEveningSettings(SettingsRow):
    """The municipality's own settings for parent evenings (one row per schema)."""

    anonymise_after_days = models.PositiveSmallIntegerField(
        _("anonymise guardians' contact details after the evening (days)"), default=30,
        validators=[MaxValueValidator(365)])
    reminder_days_before = models.PositiveSmallIntegerField(
        _("send reminders this many days before the evening"), default=2, validators=[MaxValueValidator(30)])

    class Meta:
        verbose_name = _("parent evening settings")
        verbose_name_plural = _("parent evening settings")

    def __str__(self) -> str:
        return str(_("Parent evening settings"))


class AgencyKind(models.TextChoices):
    FAMILY_SOCIAL_SERVICES = "family_social", _("Family social services")
    SCHOOL_HEALTH_CARE = "school_health", _("School health care")
    YOUTH_SERVICES = "youth", _("Youth services")
    LIBRARY = "library", _("Library")
    EARLY_EDUCATION = "early_education", _("Early childhood education")
    NGO = "ngo", _("Non-governmental organisation")
    PARISH = "parish", _("Parish")
    POLICE = "police", _("Police")
    OTHER = "other", pgettext_lazy("agency kind", "Other")


class Agency(models.Model):
    """An agency on the municipality's list that can present itself at evenings (toimija)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=AgencyKind.choices)
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    active = models.BooleanField(_("on the list"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")

    def __str__(self) -> str:
        return self.name


class EveningStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    CANCELLED = "cancelled", pgettext_lazy("evening status", "Cancelled")


class ParentEvening(models.Model):
    """A regional evening for the schools of an area: a market of services, then language groups."""

    title = models.CharField(_("title"), max_length=200)
    area = models.CharField(_("area"), max_length=100)
    schools = models.ManyToManyField(School, related_name="parent_evenings", verbose_name=_("participating schools"))
    date = models.DateField(_("date"))
    start_time = models.TimeField(_("starts"))
    end_time = models.TimeField(_("ends"))
    venue_name = models.CharField(_("venue"), max_length=200)
    venue_address = models.CharField(_("address"), max_length=300)
    accessibility_info = models.TextField(_("accessibility of the venue"), max_length=2000, blank=True)
    programme = models.TextField(_("programme"), max_length=4000, blank=True,
                                 help_text=_("For example: 17:00 market of services, 18:15 language groups."))
    capacity = models.PositiveIntegerField(_("capacity (people)"), validators=[MinValueValidator(1)])
    waiting_list_limit = models.PositiveIntegerField(
        _("waiting list limit (people)"), default=50, help_text=_("0: no waiting list."))
    status = models.CharField(_("status"), max_length=10, choices=EveningStatus.choices, default=EveningStatus.DRAFT)
    public_token = models.CharField(max_length=20, unique=True, default=new_public_token, editable=False)
    agencies = models.ManyToManyField(Agency, through="EveningAgency", related_name="evenings", blank=True,
                                      verbose_name=_("presenting agencies"))
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "start_time", "id"]
        verbose_name = _("parent evening")
        verbose_name_plural = _("parent evenings")
        constraints = [
            models.CheckConstraint(condition=models.Q(start_time__lt=models.F("end_time")),
                                   name="parent_evening_times_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.date:%d.%m.%Y}"

    @property
    def is_public(self) -> bool:
        return self.status == EveningStatus.PUBLISHED


class EveningAgency(models.Model):
    """An agency presenting at one evening, with its contact person there."""

    evening = models.ForeignKey(ParentEvening, on_delete=models.CASCADE, related_name="evening_agencies")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="evening_links")
    contact_person = models.CharField(_("contact person at the evening"), max_length=200, blank=True)

    class Meta:
        ordering = ["agency__name"]
        verbose_name = _("presenting agency")
        verbose_name_plural = _("presenting agencies")
        constraints = [models.UniqueConstraint(fields=["evening", "agency"], name="evening_agency_unique")]

    def __str__(self) -> str:
        return f"{self.agency} @ {self.evening_id}"


class TranslationStatus(models.TextChoices):
    MISSING = "missing", _("Missing")
    DRAFT = "draft", pgettext_lazy("translation status", "Draft")
    CHECKED = "checked", _("Checked")


class EveningLanguage(models.Model):
    """One language offered at an evening: its group, room, invitation and message texts.

    ``invitation_text`` and ``message_text`` are written by staff in the language itself, with
    placeholders ({date}, {time}, {place}, {registration_link}; messages also {code},
    {cancel_link}) filled by ``parentevenings.invitations.fill``.
    """

    evening = models.ForeignKey(ParentEvening, on_delete=models.CASCADE, related_name="languages")
    code = models.CharField(_("language (ISO 639)"), max_length=3)
    title = models.CharField(_("title in this language"), max_length=200, blank=True)
    invitation_text = models.TextField(_("invitation text"), max_length=5000, blank=True)
    message_text = models.TextField(
        _("confirmation and reminder text"), max_length=2000, blank=True,
        help_text=_("Sent to guardians who registered in this language. Placeholders: {date}, {time}, {place}, "
                    "{code}, {cancel_link}."))
    translation_status = models.CharField(_("translation"), max_length=10, choices=TranslationStatus.choices,
                                          default=TranslationStatus.MISSING)
    room = models.CharField(_("room"), max_length=100, blank=True)
    capacity = models.PositiveIntegerField(_("capacity of the language group (people)"), null=True, blank=True,
                                           help_text=_("Empty: only the evening's capacity applies."))
    needs_interpreter = models.BooleanField(_("needs an interpreter or cultural mediator"), default=True)
    head_count = models.PositiveIntegerField(_("head count"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("language of an evening")
        verbose_name_plural = _("languages of an evening")
        constraints = [models.UniqueConstraint(fields=["evening", "code"], name="evening_language_unique")]

    def __str__(self) -> str:
        return f"{self.evening_id}/{self.code}"

    @property
    def name(self) -> str:
        return languages.display_name(self.code)

    @property
    def native_name(self) -> str:
        return languages.native_name(self.code)

    @property
    def direction(self) -> str:
        return languages.direction(self.code)


class BookingStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", pgettext_lazy("booking status", "Cancelled")


class InterpreterBooking(models.Model):
    """An interpreter or cultural mediator booked for one language group (person or agency)."""

    class Kind(models.TextChoices):
        INTERPRETER = "interpreter", _("Interpreter")
        CULTURAL_MEDIATOR = "mediator", _("Cultural mediator")

    class Provider(models.TextChoices):
        PERSON = "person", _("Person")
        AGENCY = "agency", _("Interpreting agency")

    language = models.ForeignKey(EveningLanguage, on_delete=models.CASCADE, related_name="bookings")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.INTERPRETER)
    provider = models.CharField(_("booked from"), max_length=8, choices=Provider.choices, default=Provider.AGENCY)
    name = models.CharField(_("name of the person or agency"), max_length=200)
    contact = models.CharField(_("contact (phone or email)"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=BookingStatus.choices,
                              default=BookingStatus.REQUESTED)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["language_id", "id"]
        verbose_name = _("interpreter booking")
        verbose_name_plural = _("interpreter bookings")

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class RegistrationStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    WAITING = "waiting", _("On the waiting list")
    CANCELLED = "cancelled", pgettext_lazy("registration status", "Cancelled")


class ContactChannel(models.TextChoices):
    NONE = "", _("No reminders")
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message")


# Registration.has_contact for querysets (the contact fields need not be loaded to ask).
HAS_CONTACT = (~models.Q(channel="") & models.Q(consent_at__isnull=False)
               & (~models.Q(contact_email="") | ~models.Q(contact_phone="")))


class Registration(models.Model):
    """A family's registration (ilmoittautuminen). No account, no pupil; contact only with consent."""

    evening = models.ForeignKey(ParentEvening, on_delete=models.CASCADE, related_name="registrations")
    language = models.ForeignKey(EveningLanguage, on_delete=models.PROTECT, related_name="registrations")
    code = models.CharField(_("registration code"), max_length=8, unique=True, default=new_registration_code)
    adults = models.PositiveSmallIntegerField(_("adults"), validators=[MinValueValidator(1), MaxValueValidator(10)])
    children = models.PositiveSmallIntegerField(_("children"), default=0, validators=[MaxValueValidator(15)])
    interpreter_needed = models.BooleanField(_("interpreter needed"), default=False)
    childcare_needed = models.BooleanField(_("child care needed"), default=False)
    accessibility_needs = models.CharField(_("accessibility needs"), max_length=500, blank=True)
    channel = models.CharField(_("reminders by"), max_length=5, choices=ContactChannel.choices, blank=True)
    contact_name = models.CharField(_("name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("email"), max_length=254, blank=True)
    contact_phone = models.CharField(_("phone"), max_length=30, blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=RegistrationStatus.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        indexes = [models.Index(fields=["evening", "status", "created_at"], name="pe_registration_queue")]

    def __str__(self) -> str:
        return self.code

    @property
    def people(self) -> int:
        return self.adults + self.children

    @property
    def has_contact(self) -> bool:
        return bool(self.channel and self.consent_at and (self.contact_email or self.contact_phone))


class GuardianMessage(models.Model):
    """Outbox of messages to guardians (confirmation, promotion, reminder, cancellation).

    The address is read from the registration when sending, so anonymisation stops pending
    messages. ``dedupe_key`` makes each message exactly-once.
    """

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", _("Confirmation")
        WAITING = "waiting", _("Waiting list")
        PROMOTION = "promotion", _("Place from the waiting list")
        REMINDER = "reminder", _("Reminder")
        CANCELLATION = "cancellation", _("Cancellation")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Not sent")

    registration = models.ForeignKey(Registration, on_delete=models.SET_NULL, null=True, related_name="messages")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    channel = models.CharField(max_length=5, choices=ContactChannel.choices)
    language = models.CharField(max_length=3)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    dedupe_key = models.CharField(max_length=100, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "created_at"], name="pe_message_outbox")]

    def __str__(self) -> str:
        return self.dedupe_key


class Feedback(models.Model):
    """Anonymous feedback on an evening, in one of its languages (no name, no address, no IP)."""

    evening = models.ForeignKey(ParentEvening, on_delete=models.CASCADE, related_name="feedback")
    language = models.CharField(_("language"), max_length=3)
    score = models.PositiveSmallIntegerField(_("score (1–10)"),
                                             validators=[MinValueValidator(1), MaxValueValidator(10)])
    useful = models.TextField(_("what was useful"), max_length=1000, blank=True)
    missing = models.TextField(_("what was missing"), max_length=1000, blank=True)
    created_at = models.DateField(auto_now_add=True)

    class Meta:
        ordering = ["evening_id", "language", "id"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        constraints = [
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=10), name="pe_feedback_score_range"),
        ]

    def __str__(self) -> str:
        return f"{self.evening_id}/{self.language}: {self.score}"


class EveningLanguageRollup(models.Model):
    """What the dashboards show of one language group of an evening, kept by
    ``parentevenings.services.rollups`` in the same transaction as every change (equal to a recomputation).

    Registrations are the confirmed ones; ``attended`` is the group's head count, or the people
    checked in when no head count was given (as on the organisers' page). A row exists for every
    language offered and for a language that only has feedback (``offered`` False). Counts only.
    """

    evening = models.ForeignKey(ParentEvening, on_delete=models.CASCADE, related_name="+")
    language_code = models.CharField(max_length=3)
    offered = models.BooleanField(default=True)
    families = models.PositiveIntegerField(default=0)
    adults = models.PositiveIntegerField(default=0)
    children = models.PositiveIntegerField(default=0)
    attended = models.PositiveIntegerField(default=0)
    families_needing_interpreter = models.PositiveIntegerField(default=0)
    needs_interpreter = models.BooleanField(default=False)
    interpreter_confirmed = models.BooleanField(default=False)
    feedback_responses = models.PositiveIntegerField(default=0)
    feedback_score_sum = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["evening", "language_code"], name="pe_rollup_unique")]

    def __str__(self) -> str:
        return f"{self.evening_id}/{self.language_code}"

    @property
    def people(self) -> int:
        return self.adults + self.children

    @property
    def lacks_interpreter(self) -> bool:
        return self.offered and self.needs_interpreter and not self.interpreter_confirmed
