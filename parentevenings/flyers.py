"""Printable PDF flyers per language with a QR code to that language's registration page."""

from __future__ import annotations

from parentevenings import invitations
from parentevenings.models import EveningLanguage
from welfare.pdf import render_to_pdf
from welfare.qr import qr_data_url


def flyer_pdf(language: EveningLanguage, registration_url: str) -> bytes:
    """One A4 page in the language (right to left where it is written so). Callers authorise."""
    evening = language.evening
    return render_to_pdf("parentevenings/pdf/flyer.html", {
        "evening": evening, "language": language, "registration_url": registration_url,
        "invitation": invitations.invitation(language, registration_url),
        "date": invitations.date_text(evening, language.code), "time": invitations.time_text(evening, language.code),
        "place": invitations.place_text(evening, language), "qr": qr_data_url(registration_url),
    })
