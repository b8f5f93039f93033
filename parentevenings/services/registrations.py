"""Registrations (ilmoittautumiset): capacity, waiting list, promotion, cancellation, check-in,
reminders and anonymisation.

Capacity is counted in people (adults + children) for the evening and, when set, for the
language group. Every change of who holds a place locks the evening row first
(``SELECT … FOR UPDATE``), so two guardians racing for the last seat are served one after the
other: one gets it, the other goes to the waiting list.

The waiting list is first come, first served for the evening's places (``_settle``): a newcomer
never takes a place that a family already waiting is queued for. A family waiting because its own
language group is full does not hold back the families of other groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from parentevenings.links import message_links
from parentevenings.models import (
    ContactChannel,
    EveningLanguage,
    EveningStatus,
    GuardianMessage,
    ParentEvening,
    ParentEveningSettings,
    Registration,
    RegistrationStatus,
)
from parentevenings.services import messaging, rollups


@dataclass(frozen=True)
class RegistrationInput:
    """What the public form or API gives, already validated for type and length."""

    language_code: str
    adults: int
    children: int = 0
    interpreter_needed: bool = False
    childcare_needed: bool = False
    accessibility_needs: str = ""
    channel: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    consent: bool = False


def _places_taken(evening: ParentEvening) -> dict[int, int]:
    """People holding a confirmed place, per language id (one query)."""
    rows = (evening.registrations.filter(status=RegistrationStatus.CONFIRMED).values("language_id")
            .annotate(people=Sum(F("adults") + F("children"))).order_by())
    return {row["language_id"]: row["people"] for row in rows}


def _group_has_room(language: EveningLanguage, people: int, taken: dict[int, int]) -> bool:
    return language.capacity is None or taken.get(language.pk, 0) + people <= language.capacity


def _evening_has_room(evening: ParentEvening, people: int, taken: dict[int, int]) -> bool:
    return sum(taken.values()) + people <= evening.capacity


@dataclass
class _Queue:
    taken: dict[int, int]  # people holding a confirmed place, per language id
    promoted: list[Registration] = field(default_factory=list)
    waiting_people: int = 0  # people still on the waiting list
    held_back: bool = False  # a family still waits for the evening's places: newcomers queue behind it


def _settle(evening: ParentEvening, base_url: str) -> _Queue:
    """Promote waiting families in order while the evening has room for them. A family whose own
    language group is full is passed over (that group's places are not the others'); the first one
    the evening's places cannot take stops the promotions, and everybody after it waits too.
    The caller holds the evening's row lock."""
    queue = _Queue(taken=_places_taken(evening))
    for waiting in (evening.registrations.filter(status=RegistrationStatus.WAITING)
                    .select_related("language__evening")):
        if not queue.held_back and _group_has_room(waiting.language, waiting.people, queue.taken):
            if _evening_has_room(evening, waiting.people, queue.taken):
                waiting.status, waiting.promoted_at = RegistrationStatus.CONFIRMED, timezone.now()
                waiting.save(update_fields=["status", "promoted_at"])
                queue.taken[waiting.language_id] = queue.taken.get(waiting.language_id, 0) + waiting.people
                messaging.queue(waiting, GuardianMessage.Kind.PROMOTION, message_links(waiting, base_url))
                queue.promoted.append(waiting)
                continue
            queue.held_back = True
        queue.waiting_people += waiting.people
    return queue


def _check_contact(data: RegistrationInput) -> None:
    errors = {}
    if data.channel not in ["", *messaging.available_channels()]:
        errors["channel"] = _("Choose how you want reminders.")
    elif data.channel:
        if not data.consent:
            errors["consent"] = _("To receive reminders, agree to the use of your contact details.")
        if data.channel == ContactChannel.EMAIL and not data.contact_email:
            errors["contact_email"] = _("Give an email address for reminders by email.")
        if data.channel == ContactChannel.SMS and not data.contact_phone:
            errors["contact_phone"] = _("Give a phone number for reminders by text message.")
    if errors:
        raise ValidationError(errors)


def register(evening_id: int, data: RegistrationInput, *, base_url: str) -> Registration:
    """A family registers (public, no account). Confirmed if the party fits, else on the waiting
    list; refused with a clear error when the evening is closed, the language is not offered or the
    waiting list is full too. Callers: public views and the public API (after spam checks)."""
    _check_contact(data)
    with transaction.atomic():
        evening = ParentEvening.objects.select_for_update().filter(pk=evening_id).first()
        if evening is None or not evening.is_public:
            raise ValidationError(_("Registration for this evening is not open."), code="closed")
        if evening.date < timezone.localdate():
            raise ValidationError(_("This evening is over; registration has closed."), code="closed")
        language = evening.languages.filter(code=data.language_code).first()
        if language is None:
            raise ValidationError({"language": _("This evening has no group in that language.")},
                                  code="unknown_language")
        people = data.adults + data.children
        room = min(evening.capacity, language.capacity if language.capacity is not None else evening.capacity)
        if people > room:
            raise ValidationError({"adults": _("Your group (%(people)s people) is larger than the places of the "
                                               "evening (%(room)s).") % {"people": people, "room": room}},
                                  code="capacity_exceeded")
        queue = _settle(evening, base_url)  # e.g. after the capacity was raised
        if (not queue.held_back and _evening_has_room(evening, people, queue.taken)
                and _group_has_room(language, people, queue.taken)):
            status = RegistrationStatus.CONFIRMED
        else:
            if queue.waiting_people + people > evening.waiting_list_limit:
                raise ValidationError(_("The evening is full and so is its waiting list. Thank you for your "
                                        "interest."), code="capacity_exceeded")
            status = RegistrationStatus.WAITING
        contact = bool(data.channel)
        registration = Registration.objects.create(
            evening=evening, language=language, adults=data.adults, children=data.children,
            interpreter_needed=data.interpreter_needed, childcare_needed=data.childcare_needed,
            accessibility_needs=data.accessibility_needs.strip(), status=status,
            channel=data.channel if contact else "",
            contact_name=data.contact_name.strip() if contact else "",
            contact_email=data.contact_email.strip() if data.channel == ContactChannel.EMAIL else "",
            contact_phone=data.contact_phone.strip() if data.channel == ContactChannel.SMS else "",
            consent_at=timezone.now() if contact else None,
        )
        kind = (GuardianMessage.Kind.CONFIRMATION if status == RegistrationStatus.CONFIRMED
                else GuardianMessage.Kind.WAITING)
        messaging.queue(registration, kind, message_links(registration, base_url))
        rollups.refresh([evening.pk])
    return registration


def cancel(registration_id: int, *, base_url: str) -> list[Registration]:
    """Cancel a registration (the guardian's signed link, or staff) and promote from the waiting
    list in the same transaction. Returns the promoted registrations. Idempotent."""
    with transaction.atomic():
        registration = Registration.objects.select_related("evening").get(pk=registration_id)
        evening = ParentEvening.objects.select_for_update().get(pk=registration.evening_id)
        registration.refresh_from_db()
        if registration.status == RegistrationStatus.CANCELLED:
            return []
        registration.status, registration.cancelled_at = RegistrationStatus.CANCELLED, timezone.now()
        registration.save(update_fields=["status", "cancelled_at"])
        messaging.queue(registration, GuardianMessage.Kind.CANCELLATION, message_links(registration, base_url))
        promoted = _settle(evening, base_url).promoted
        rollups.refresh([evening.pk])
        return promoted


def promote_waiting(evening_id: int, *, base_url: str) -> list[Registration]:
    """Give freed places to the waiting list after the evening's or a group's capacity was raised
    (a published evening only). Callers: parentevenings.services.events, in their transaction."""
    with transaction.atomic():
        evening = ParentEvening.objects.select_for_update().get(pk=evening_id)
        if not evening.is_public:
            return []
        promoted = _settle(evening, base_url).promoted
        if promoted:
            rollups.refresh([evening.pk])
        return promoted


def check_in(evening: ParentEvening, code: str) -> Registration:
    """Mark a family arrived by its registration code. Callers: staff with MANAGE_PARENT_EVENINGS
    on the evening (the view checks)."""
    normalised = (code or "").strip().upper().replace(" ", "").replace("-", "")
    with transaction.atomic():
        registration = (Registration.objects.select_for_update().select_related("language")
                        .filter(evening=evening, code=normalised).first())
        if registration is None:
            raise ValidationError(_("No registration with code %(code)s for this evening.")
                                  % {"code": normalised[:12]}, code="unknown_code")
        if registration.status == RegistrationStatus.CANCELLED:
            raise ValidationError(_("Registration %(code)s was cancelled.") % {"code": normalised},
                                  code="cancelled")
        if registration.checked_in_at is None:
            registration.checked_in_at = timezone.now()
            registration.save(update_fields=["checked_in_at"])
            rollups.refresh([evening.pk])
    return registration


def set_head_count(language: EveningLanguage, count: int | None) -> EveningLanguage:
    """Record how many people came to a language group (no names). Callers: managing staff."""
    with transaction.atomic():
        language.head_count = count
        language.save(update_fields=["head_count"])
        rollups.refresh([language.evening_id])
    return language


def send_reminders(today: date, *, base_url: str) -> int:
    """Queue reminders for confirmed families with a contact, N days before their evening
    (N from ParentEveningSettings). Exactly once per registration. Caller: nightly task."""
    days = ParentEveningSettings.current().reminder_days_before
    queued = 0
    with transaction.atomic():
        registrations = (Registration.objects.select_related("evening", "language__evening")
                         .filter(status=RegistrationStatus.CONFIRMED, anonymised_at__isnull=True,
                                 consent_at__isnull=False, evening__status=EveningStatus.PUBLISHED,
                                 evening__date__gte=today,
                                 evening__date__lte=today + timedelta(days=days))
                         .exclude(channel="").exclude(messages__kind=GuardianMessage.Kind.REMINDER))
        for registration in registrations:
            queued += messaging.queue(registration, GuardianMessage.Kind.REMINDER,
                                      message_links(registration, base_url))
    return queued


def anonymise_past(today: date) -> int:
    """Remove guardians' contact details and free text from registrations of evenings more than
    N days past (ParentEveningSettings.anonymise_after_days), and their message bodies.
    Counts, languages and needs stay for statistics. Idempotent. Caller: nightly task."""
    days = ParentEveningSettings.current().anonymise_after_days
    cutoff = today - timedelta(days=days)
    with transaction.atomic():
        due = Registration.objects.filter(evening__date__lt=cutoff, anonymised_at__isnull=True)
        ids = list(due.values_list("pk", flat=True))
        messages = GuardianMessage.objects.filter(registration_id__in=ids)
        messages.filter(status=GuardianMessage.Status.PENDING).update(status=GuardianMessage.Status.SKIPPED,
                                                                      error="anonymised")
        messages.update(subject="", body="", registration=None)
        return Registration.objects.filter(pk__in=ids).update(
            contact_name="", contact_email="", contact_phone="", accessibility_needs="", channel="",
            consent_at=None, anonymised_at=timezone.now())
