"""Languages of parent evenings: any ISO 639 code, named and directed by babel (CLDR).

Content languages are not the UI languages: an evening may be offered in Arabic, Somali or Dari
while the UI stays in Finnish, Swedish or English (domain.md A8).
"""

from __future__ import annotations

import re

from babel import Locale, UnknownLocaleError
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

# Codes CLDR knows under another name: Dari (prs) is Persian of Afghanistan.
ALIASES = {"prs": "fa_AF"}
# Right-to-left even where babel would not tell (e.g. a code only CLDR's language list knows).
RTL_CODES = frozenset({"ar", "fa", "prs", "ckb", "ur", "he", "ps", "sd", "ug", "yi", "dv"})
UI_LANGUAGES = ("fi", "sv", "en")
_CODE = re.compile(r"^[a-z]{2,3}$")


def _known_codes() -> frozenset[str]:
    return frozenset(code for code in Locale("en").languages if _CODE.match(code)) | frozenset(ALIASES)


KNOWN_CODES = _known_codes()


def normalise_code(value: str) -> str:
    """The ISO 639 code in lower case, or ValidationError with a clear message."""
    code = (value or "").strip().lower().replace("-", "_")
    if not _CODE.match(code) or code not in KNOWN_CODES:
        raise ValidationError(
            _("“%(code)s” is not a known ISO 639 language code (e.g. fi, ar, so, prs)."),
            code="unknown_language", params={"code": (value or "")[:20]},
        )
    return code


def _babel_locale(code: str) -> Locale | None:
    try:
        return Locale.parse(ALIASES.get(code, code))
    except (UnknownLocaleError, ValueError):
        return None


def ui_language() -> str:
    language = (get_language() or "fi").split("-")[0]
    return language if language in UI_LANGUAGES else "fi"


def display_name(code: str, in_language: str | None = None) -> str:
    """The language's name in ``in_language`` (default: the active UI language)."""
    in_language = in_language or ui_language()
    names = Locale.parse(in_language).languages if _babel_locale(in_language) else Locale("en").languages
    name = names.get(ALIASES.get(code, code)) or names.get(code)
    return name[:1].upper() + name[1:] if name else code


def native_name(code: str) -> str:
    """The language's name in itself (العربية, Soomaali, русский), for guardians."""
    locale = _babel_locale(code)
    if locale is None:
        return display_name(code, "en")
    name = (locale.languages.get(ALIASES.get(code, code)) or locale.languages.get(code)
            or locale.get_display_name(locale) or code)
    return name[:1].upper() + name[1:]


def is_rtl(code: str) -> bool:
    if code in RTL_CODES:
        return True
    locale = _babel_locale(code)
    return bool(locale and locale.character_order == "right-to-left")


def direction(code: str) -> str:
    return "rtl" if is_rtl(code) else "ltr"


def babel_locale_name(code: str) -> str:
    """A locale babel can format dates in for ``code`` (English when CLDR has none)."""
    return str(_babel_locale(code) or Locale("en"))


def language_choices(in_language: str | None = None) -> list[tuple[str, str]]:
    """Every known code with its name, sorted by name (for staff forms)."""
    return sorted(((code, f"{display_name(code, in_language)} ({code})") for code in KNOWN_CODES),
                  key=lambda pair: pair[1].casefold())
