"""Invitation and message texts per language: placeholders filled safely, dates in the language.

Staff write the texts; ``fill`` replaces only the known ``{name}`` placeholders, one by one. It
never calls ``str.format`` on staff input, so braces, ``{0}`` or ``{x.__class__}`` stay text.
"""

from __future__ import annotations

import re

from babel.dates import format_date, format_time

from parentevenings import languages
from parentevenings.models import EveningLanguage, ParentEvening

INVITATION_PLACEHOLDERS = ("date", "time", "place", "registration_link")
MESSAGE_PLACEHOLDERS = (*INVITATION_PLACEHOLDERS, "code", "cancel_link")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def fill(template: str, values: dict[str, str]) -> str:
    """``template`` with each known ``{name}`` replaced by ``values[name]``; anything else untouched."""
    return _PLACEHOLDER.sub(lambda match: str(values.get(match.group(1), match.group(0))), template)


def unknown_placeholders(template: str, allowed=INVITATION_PLACEHOLDERS) -> list[str]:
    """Placeholders in ``template`` that ``fill`` would leave as they are (for form validation)."""
    return sorted({name for name in _PLACEHOLDER.findall(template) if name not in allowed})


def date_text(evening: ParentEvening, code: str) -> str:
    """The evening's date written in the language (babel/CLDR), e.g. "الخميس، 17 سبتمبر 2026"."""
    return format_date(evening.date, "full", locale=languages.babel_locale_name(code))


def time_text(evening: ParentEvening, code: str) -> str:
    locale = languages.babel_locale_name(code)
    start = format_time(evening.start_time, "short", locale=locale)
    return f"{start}–{format_time(evening.end_time, 'short', locale=locale)}"


def place_text(evening: ParentEvening, language: EveningLanguage | None = None) -> str:
    parts = [evening.venue_name, evening.venue_address]
    if language is not None and language.room:
        parts.append(language.room)
    return ", ".join(part for part in parts if part)


def values_for(language: EveningLanguage, *, registration_link: str, code: str = "", cancel_link: str = "") -> dict:
    evening = language.evening
    return {
        "date": date_text(evening, language.code),
        "time": time_text(evening, language.code),
        "place": place_text(evening, language),
        "registration_link": registration_link,
        "code": code,
        "cancel_link": cancel_link,
    }


def invitation(language: EveningLanguage, registration_link: str) -> str:
    """The invitation of one language with its placeholders filled ("" when none is written)."""
    return fill(language.invitation_text, values_for(language, registration_link=registration_link))
