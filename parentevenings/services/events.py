"""Evenings, their languages, interpreter bookings and presenting agencies (staff side).

Callers: views and API of staff holding MANAGE_PARENT_EVENINGS; they have checked the evening is
theirs (parentevenings.selectors.manageable_evenings) before calling.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from parentevenings import languages, links
from parentevenings.models import (
    Agency,
    EveningAgency,
    EveningLanguage,
    InterpreterBooking,
    ParentEvening,
    ParentEveningSettings,
    TranslationStatus,
)
from parentevenings.services import registrations, rollups
from welfare.models import School

# Finnish and Swedish groups are held by the staff themselves: no interpreter to book by default.
NO_INTERPRETER_BY_DEFAULT = {"fi", "sv"}


def save_evening(evening: ParentEvening, schools: Iterable[School], *, user_id: int | None = None) -> ParentEvening:
    """Create or update an evening with its participating schools (at least one). A raised
    capacity goes to the waiting list at once."""
    schools = list(schools)
    if not schools:
        raise ValidationError({"schools": _("Choose at least one participating school.")})
    with transaction.atomic():
        if evening.pk is None:
            evening.created_by_id = user_id
        evening.full_clean()
        evening.save()
        evening.schools.set(schools)
        registrations.promote_waiting(evening.pk, base_url=links.base_url())
    return evening


def add_language(evening: ParentEvening, code: str) -> EveningLanguage:
    """Offer one more language at the evening (any ISO 639 code; unknown codes are refused)."""
    code = languages.normalise_code(code)
    with transaction.atomic():
        if evening.languages.filter(code=code).exists():
            raise ValidationError({"code": _("The evening already has this language.")})
        position = evening.languages.count()
        language = EveningLanguage.objects.create(
            evening=evening, code=code, position=position,
            needs_interpreter=code not in NO_INTERPRETER_BY_DEFAULT,
            translation_status=TranslationStatus.MISSING,
        )
        rollups.refresh([evening.pk])
        return language


def save_language(language: EveningLanguage) -> EveningLanguage:
    """Save a language's texts, room, capacity and head count (a raised capacity goes to the
    waiting list at once)."""
    with transaction.atomic():
        language.full_clean()
        language.save()
        registrations.promote_waiting(language.evening_id, base_url=links.base_url())
        rollups.refresh([language.evening_id])
    return language


def remove_language(language: EveningLanguage) -> None:
    """Remove a language that nobody has registered in."""
    with transaction.atomic():
        if language.registrations.exists():
            raise ValidationError(_("Families have registered in this language: it cannot be removed."))
        evening_id = language.evening_id
        language.delete()
        rollups.refresh([evening_id])


def save_booking(booking: InterpreterBooking) -> InterpreterBooking:
    """Create or update an interpreter or cultural mediator booking."""
    with transaction.atomic():
        booking.full_clean()
        booking.save()
        rollups.refresh([booking.language.evening_id])
    return booking


def save_agency(agency: Agency) -> Agency:
    """Add or edit an agency on the municipality's list. Callers: municipality-wide managers."""
    with transaction.atomic():
        agency.full_clean()
        agency.save()
    return agency


def link_agency(evening: ParentEvening, agency: Agency, contact_person: str = "") -> EveningAgency:
    """An agency presents at the evening (updates the contact person when already linked)."""
    with transaction.atomic():
        link, _created = EveningAgency.objects.update_or_create(
            evening=evening, agency=agency, defaults={"contact_person": contact_person.strip()[:200]})
    return link


def unlink_agency(evening: ParentEvening, agency_id: int) -> None:
    with transaction.atomic():
        EveningAgency.objects.filter(evening=evening, agency_id=agency_id).delete()


def save_settings(row: ParentEveningSettings) -> ParentEveningSettings:
    """The municipality's anonymisation and reminder days. Callers: municipality-wide managers."""
    with transaction.atomic():
        row.full_clean()
        row.save()
    return row
