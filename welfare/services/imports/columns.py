"""Columns, header aliases (fi/sv/en) and value vocabularies of the register files."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy

from welfare.models import InstructionLanguage, SchoolType, SchoolYear

# --- Columns and values -----------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A field of an import kind and the headers (fi, sv, en) that name it."""

    field: str
    label: str  # English name, translated in messages
    aliases: tuple[str, ...]
    column_required: bool = True
    value_required: bool = True


def normalise_header(text: str) -> str:
    return " ".join(text.replace("\ufeff", "").strip().rstrip(":").split()).casefold()


# The first three aliases of a column are its Finnish, Swedish and English header (shown in messages).
SCHOOL_ID_ALIASES = (
    "koulu", "skola", "school",
    "koulun tunnus", "koulutunnus", "koulukoodi", "koulun koodi", "koulu id", "koulun id",
    "skolans id", "skol-id", "skolkod", "skolans kod", "school id", "school code",
)
GRADE_ALIASES = ("luokka-aste", "årskurs", "grade", "vuosiluokka", "klasstrin", "year level")
GROUP_ALIASES = (
    "luokka", "klass", "group",
    "ryhmä", "luokan nimi", "ryhmän nimi", "opetusryhmä", "grupp", "klassens namn",
    "undervisningsgrupp", "group name", "class", "class name", "teaching group",
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    "schools": (
        Column("external_id", gettext_lazy("school id"), (
            "koulun tunnus", "skolans id", "school id",
            "koulutunnus", "koulukoodi", "koulun koodi", "koulu id", "koulun id", "tunnus",
            "skol-id", "skolkod", "skolans kod", "school code", "id",
        )),
        Column("name", gettext_lazy("name"), (
            "nimi", "namn", "name", "koulun nimi", "koulu", "skolans namn", "skola", "school name", "school",
        )),
        Column("school_type", gettext_lazy("type"), (
            "tyyppi", "typ", "type", "koulutyyppi", "koulumuoto", "oppilaitostyyppi", "skoltyp", "skolform",
            "school type",
        )),
        Column("grade_min", gettext_lazy("lowest grade"), (
            "alin luokka-aste", "lägsta årskurs", "lowest grade", "alin vuosiluokka", "min grade",
        )),
        Column("grade_max", gettext_lazy("highest grade"), (
            "ylin luokka-aste", "högsta årskurs", "highest grade", "ylin vuosiluokka", "max grade",
        )),
        Column("language", gettext_lazy("language"), (
            "kieli", "språk", "language", "opetuskieli", "undervisningsspråk", "language of instruction",
        )),
        Column("area", gettext_lazy("area"), ("alue", "område", "area"), column_required=False,
               value_required=False),
    ),
    "groups": (
        Column("school", gettext_lazy("school id"), SCHOOL_ID_ALIASES),
        Column("school_year", gettext_lazy("school year"), ("lukuvuosi", "läsår", "school year")),
        Column("name", gettext_lazy("group name"), GROUP_ALIASES),
        Column("grade", gettext_lazy("grade"), GRADE_ALIASES),
    ),
    "students": (
        Column("external_id", gettext_lazy("student id"), (
            "oppilasnumero", "elevnummer", "student id",
            "oppilastunnus", "oppilaan tunnus", "opiskelijanumero", "opiskelijatunnus",
            "elev-id", "elevens id", "studerandenummer", "studerandes id",
            "student number", "pupil id", "pupil number",
        )),
        Column("first_name", gettext_lazy("first name"), (
            "etunimi", "förnamn", "first name", "etunimet", "kutsumanimi", "tilltalsnamn", "given name",
        )),
        Column("last_name", gettext_lazy("last name"), (
            "sukunimi", "efternamn", "last name", "surname", "family name",
        )),
        Column("school", gettext_lazy("school id"), SCHOOL_ID_ALIASES),
        Column("grade", gettext_lazy("grade"), GRADE_ALIASES),
        # An empty group is allowed: the student is stored without a group.
        Column("group", gettext_lazy("group name"), GROUP_ALIASES, value_required=False),
        Column("home_language", gettext_lazy("home language"), (
            "kotikieli", "hemspråk", "home language", "äidinkieli", "modersmål", "mother tongue",
        ), column_required=False, value_required=False),
    ),
}

SCHOOL_TYPES = {
    SchoolType.BASIC: ("perusopetus", "peruskoulu", "grundläggande utbildning", "grundskola", "basic",
                       "basic education", "comprehensive school"),
    SchoolType.UPPER_SECONDARY: ("lukio", "lukiokoulutus", "gymnasium", "gymnasieutbildning", "upper secondary",
                                 "general upper secondary", "upper_secondary"),
    SchoolType.VOCATIONAL: ("ammatillinen", "ammatillinen koulutus", "ammatillinen oppilaitos", "ammattiopisto",
                            "yrkesutbildning", "yrkesinstitut", "yrkesläroanstalt", "vocational",
                            "vocational education"),
    SchoolType.PRE_PRIMARY: ("esiopetus", "förskoleundervisning", "förskola", "pre-primary",
                             "pre-primary education", "pre_primary", "preschool"),
}
SCHOOL_TYPE_BY_NAME = {alias: value for value, aliases in SCHOOL_TYPES.items() for alias in aliases}

INSTRUCTION_LANGUAGES = {
    InstructionLanguage.FI: ("fi", "fin", "suomi", "finska", "finnish", "suomenkielinen", "finskspråkig"),
    InstructionLanguage.SV: ("sv", "swe", "ruotsi", "svenska", "swedish", "ruotsinkielinen", "svenskspråkig"),
}
INSTRUCTION_LANGUAGE_BY_NAME = {alias: value for value, aliases in INSTRUCTION_LANGUAGES.items() for alias in aliases}

# Registers often export the home language as a name; the languages most spoken in Finnish
# schools (domain.md B5) are recognised in fi/sv/en, anything else must be an ISO 639 code.
HOME_LANGUAGES = {
    "fi": ("suomi", "finska", "finnish"),
    "sv": ("ruotsi", "svenska", "swedish"),
    "en": ("englanti", "engelska", "english"),
    "ru": ("venäjä", "ryska", "russian"),
    "et": ("viro", "eesti", "estniska", "estonian"),
    "so": ("somali", "somaliska"),
    "ar": ("arabia", "arabiska", "arabic"),
    "fa": ("persia", "farsi", "persiska", "persian"),
    "prs": ("dari",),
    "ku": ("kurdi", "kurdiska", "kurdish"),
    "ckb": ("sorani", "soranî"),
    "vi": ("vietnam", "vietnamiska", "vietnamese"),
    "sq": ("albania", "albanska", "albanian"),
    "uk": ("ukraina", "ukrainska", "ukrainian"),
    "bs": ("bosnia", "bosniska", "bosnian"),
    "bg": ("bulgaria", "bulgariska", "bulgarian"),
    "ur": ("urdu",),
    "zh": ("kiina", "kinesiska", "chinese"),
    "tr": ("turkki", "turkiska", "turkish"),
    "th": ("thai", "thaimaa", "thailändska"),
    "es": ("espanja", "spanska", "spanish"),
    "de": ("saksa", "tyska", "german"),
    "fr": ("ranska", "franska", "french"),
    "smi": ("saame", "samiska", "sami"),
}
HOME_LANGUAGE_BY_NAME = {alias: code for code, aliases in HOME_LANGUAGES.items() for alias in aliases}
ISO_639_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
SCHOOL_YEAR_RE = re.compile(r"^(\d{4})\s*[-–—/]\s*(\d{2}|\d{4})$")


def school_year_name(text: str) -> str | None:
    """'2026-2027', '2026–2027' or '2026-27' → '2026–2027' (en dash); None if not a school year."""
    match = SCHOOL_YEAR_RE.match(text.strip())
    if not match:
        return None
    start, end = int(match[1]), match[2]
    end_year = int(end) if len(end) == 4 else start // 100 * 100 + int(end)
    if end_year != start + 1:
        return None
    return f"{start}–{end_year}"


def default_school_year(today: datetime.date | None = None) -> SchoolYear | None:
    """The school year containing today, else the latest one (None when there is none)."""
    today = today or timezone.localdate()
    return (
        SchoolYear.objects.containing(today)
        or SchoolYear.objects.order_by("-start_date").first()
    )


def _school_years_by_name() -> dict[str, SchoolYear]:
    return {school_year_name(year.name) or year.name: year for year in SchoolYear.objects.all()}
