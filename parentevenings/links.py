"""Absolute public links of parent evenings (registration pages, signed cancellation links)."""

from __future__ import annotations

from django.core import signing
from django.urls import reverse

from parentevenings.models import EveningLanguage, ParentEvening, Registration
from welfare.services import municipalities

CANCEL_SALT = "parentevenings.cancel"


def base_url(request=None) -> str:
    """Scheme and host of this municipality: from the request when there is one."""
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return municipalities.base_url()


def overview_path(evening: ParentEvening) -> str:
    return reverse("parentevenings:public_overview", args=[evening.public_token])


def language_path(language: EveningLanguage) -> str:
    return reverse("parentevenings:public_language", args=[language.evening.public_token, language.code])


def cancel_token(registration: Registration) -> str:
    return signing.dumps({"r": registration.pk, "c": registration.code}, salt=CANCEL_SALT, compress=True)


def registration_for_token(token: str) -> Registration | None:
    """The registration a cancellation link names, or None for a forged or mangled link."""
    try:
        data = signing.loads(token, salt=CANCEL_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    return (Registration.objects.select_related("evening", "language")
            .filter(pk=data.get("r"), code=data.get("c")).first())


def cancel_path(registration: Registration) -> str:
    return reverse("parentevenings:public_cancel", args=[cancel_token(registration)])


def message_links(registration: Registration, base: str):
    from parentevenings.services.messaging import Links

    return Links(registration=base + language_path(registration.language), cancel=base + cancel_path(registration))
