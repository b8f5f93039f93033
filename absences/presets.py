"""The real threshold models of domain.md §2.1 as presets a municipal admin picks and then edits.

Presets are data, not rules in code: ``create_policy_from_preset()`` copies one into a draft
PolicyVersion and from then on every number, role and text is the municipality's own.

Text of the steps (``name``, ``required_action``) is Finnish, the working language of the
municipalities the models come from; the admin edits it freely (Swedish-speaking schools write
their own). Roles are ``welfare.models.Role`` values. Guardians are not users: where a model says
"tell the guardian", the step's required action says so and the staff member does it.

Counted categories: ``None`` means every category the municipality has (most models count all
absences, domain.md §2.2); Kemi leaves out leave applied in advance and other explained absence
(anchors.md §0.1, WilmaRobotti).
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from welfare.models import Role

# The basic-education school year has 190 school days (Basic Education Decree 852/1998 §7), i.e.
# 38 weeks of five days. Used to show what a % threshold means in hours over a whole year
# (e.g. 5 % of 30 h/week × 38 weeks = 57 h). Tampere's own example (30 lessons/week → 1,020 h/year)
# implies 34 teaching weeks, because it leaves out the weeks of school days without lessons; the
# evaluation itself does not use this constant: it counts the weekdays of the stored terms.
SCHOOL_WEEKS_PER_YEAR = 38

# Defaults of the extra rules (editable per version; None switches a rule off).
DEFAULT_CONSECUTIVE_DAYS = 3
DEFAULT_UNEXPLAINED_AFTER_DAYS = 7  # Kemi's WilmaRobotti: still unexplained after 7 days

R = Role
WELFARE = [R.SCHOOL_SOCIAL_WORKER, R.PSYCHOLOGIST, R.SCHOOL_NURSE]


def _step(level, threshold, name, responsible, notified, action, days):
    return {
        "level": level, "threshold": Decimal(str(threshold)), "name": name,
        "responsible_role": responsible.value, "notified_roles": [role.value for role in notified],
        "required_action": action, "days_to_react": days,
    }


def _staircase(limits: list[int | float]) -> list[dict]:
    """The LAPE staircase's roles and actions on four limits (also Vaasa's shape)."""
    first, second, third, fourth = limits
    return [
        _step(1, first, "Huoli herää", R.CLASS_TEACHER, [R.PRINCIPAL],
              "Luokanopettaja keskustelee oppilaan kanssa ja ottaa yhteyttä huoltajaan. Sovitaan, miten "
              "poissaoloja seurataan.", 7),
        _step(2, second, "Yhteistyö opiskeluhuollon kanssa", R.CLASS_TEACHER, [R.SCHOOL_SOCIAL_WORKER, R.PRINCIPAL],
              "Luokanopettaja konsultoi opiskeluhuollon henkilöstöä ja kutsuu koolle tapaamisen oppilaan ja "
              "huoltajan kanssa.", 14),
        _step(3, third, "Rehtori mukaan", R.PRINCIPAL, [R.CLASS_TEACHER, *WELFARE],
              "Rehtori kutsuu koolle tapaamisen oppilaan, huoltajan ja opiskeluhuollon kanssa; monialaisen "
              "asiantuntijaryhmän kokoamista harkitaan.", 14),
        _step(4, fourth, "Monialainen asiantuntijaryhmä", R.PRINCIPAL,
              [R.CLASS_TEACHER, R.SPECIAL_NEEDS_TEACHER, *WELFARE, R.SCHOOL_DOCTOR],
              "Monialainen asiantuntijaryhmä (MAR) kootaan. Arvioidaan yhteydenotto perhesosiaalityöhön tai "
              "lastensuojeluilmoitus.", 7),
    ]


def _base(**values) -> dict:
    preset = {
        "counting_period": "school_year", "check_dates": [], "counted_categories": None, "unit": "hours",
        "scheduled_hours_per_week": {}, "consecutive_days": DEFAULT_CONSECUTIVE_DAYS,
        "unexplained_after_days": DEFAULT_UNEXPLAINED_AFTER_DAYS,
    }
    preset.update(values)
    return preset


PRESETS: dict[str, dict] = {
    "lape": _base(
        name=_("Capital-region LAPE staircase (30/50/70/100 h)"),
        source="STAIRCASE-SV, HEMOCHSKOLA",
        bands=[{"name": "1–9", "grade_min": 1, "grade_max": 9, "steps": _staircase([30, 50, 70, 100])}],
    ),
    "vaasa": _base(
        name=_("Vaasa: primary 30/60/90/120 h, lower secondary 40/80/110/140 h"),
        source="VAASA",
        bands=[
            {"name": "1–6", "grade_min": 1, "grade_max": 6, "steps": _staircase([30, 60, 90, 120])},
            {"name": "7–9", "grade_min": 7, "grade_max": 9, "steps": _staircase([40, 80, 110, 140])},
        ],
    ),
    "tampere": _base(
        name=_("Tampere: 5 %, 10 % and 20 % of scheduled hours"),
        source="TAMPERE",
        unit="percent",
        # Lessons per week by grade (the national minimum distribution of lesson hours).
        scheduled_hours_per_week={"1": 19, "2": 20, "3": 22, "4": 23, "5": 24, "6": 25, "7": 30, "8": 30, "9": 30},
        bands=[{"name": "1–9", "grade_min": 1, "grade_max": 9, "steps": [
            _step(1, 5, "Poissaoloihin puututaan", R.CLASS_TEACHER, [R.PRINCIPAL],
                  "Luokanopettaja keskustelee oppilaan ja huoltajan kanssa ja sopii seurantajakson.", 7),
            _step(2, 10, "Tehostettu seuranta", R.CLASS_TEACHER,
                  [R.PRINCIPAL, R.SPECIAL_NEEDS_TEACHER, R.SCHOOL_SOCIAL_WORKER],
                  "Tapaaminen oppilaan, huoltajan ja opiskeluhuollon kanssa; tarvittaessa monialainen "
                  "asiantuntijaryhmä.", 14),
            _step(3, 20, "Vahva tuki", R.PRINCIPAL,
                  [R.CLASS_TEACHER, R.SPECIAL_NEEDS_TEACHER, R.SCHOOL_SOCIAL_WORKER, R.PSYCHOLOGIST],
                  "Pedagogisen tuen tiimi ja monialainen asiantuntijaryhmä suunnittelevat vahvan tuen.", 14),
        ]}],
    ),
    "turku": _base(
        name=_("Turku: 50/100/150 h"),
        source="TURKU-EN",
        bands=[{"name": "1–9", "grade_min": 1, "grade_max": 9, "steps": [
            _step(1, 50, "Yhteys kotiin", R.CLASS_TEACHER, [R.PRINCIPAL],
                  "Luokanopettaja ottaa yhteyttä huoltajaan ja sopii tapaamisen.", 7),
            _step(2, 100, "Monialainen asiantuntijaryhmä", R.PRINCIPAL,
                  [R.CLASS_TEACHER, R.SCHOOL_SOCIAL_WORKER, R.PSYCHOLOGIST, R.SCHOOL_NURSE],
                  "Monialainen asiantuntijaryhmä kootaan; yhteys perheiden palveluihin, tarvittaessa "
                  "lastensuojeluilmoitus.", 14),
            _step(3, 150, "Kolmas raportti", R.PRINCIPAL,
                  [R.CLASS_TEACHER, R.SCHOOL_SOCIAL_WORKER, R.PSYCHOLOGIST, R.SCHOOL_NURSE],
                  "Tilanne arvioidaan uudelleen monialaisessa asiantuntijaryhmässä.", 14),
        ]}],
    ),
    "kemi": _base(
        name=_("Kemi: 25/50 h, leave and other explained absence not counted"),
        source="KEMI; anchors.md §0.1 (WilmaRobotti)",
        counted_categories=["health", "unexplained", "unclassified"],
        bands=[{"name": "1–9", "grade_min": 1, "grade_max": 9, "steps": [
            _step(1, 25, "Opettaja konsultoi", R.CLASS_TEACHER, [R.SCHOOL_SOCIAL_WORKER],
                  "Luokanopettaja ottaa yhteyttä huoltajaan ja konsultoi opiskeluhuollon työntekijää; "
                  "tarvittaessa monialainen asiantuntijaryhmä.", 7),
            _step(2, 50, "Monialainen asiantuntijaryhmä", R.CLASS_TEACHER, [R.SCHOOL_SOCIAL_WORKER, R.PRINCIPAL],
                  "Monialainen asiantuntijaryhmä kootaan.", 14),
        ]}],
    ),
    "heinola": _base(
        name=_("Heinola: 25/50/80 h"),
        source="HEINOLA",
        bands=[{"name": "1–9", "grade_min": 1, "grade_max": 9, "steps": [
            _step(1, 25, "Yhteys kotiin", R.CLASS_TEACHER, [],
                  "Luokanopettaja ottaa yhteyttä huoltajaan.", 7),
            _step(2, 50, "Monialainen asiantuntijaryhmä huolen ollessa", R.CLASS_TEACHER,
                  [R.SCHOOL_SOCIAL_WORKER, R.PRINCIPAL],
                  "Monialainen asiantuntijaryhmä kootaan, jos on huolta.", 14),
            _step(3, 80, "Lastensuojelun konsultaatio", R.CLASS_TEACHER, [R.PRINCIPAL, R.SCHOOL_SOCIAL_WORKER],
                  "Opettaja konsultoi lastensuojelua tai tekee lastensuojeluilmoituksen.", 7),
        ]}],
    ),
}


def preset_choices() -> list[tuple[str, str]]:
    return [(key, preset["name"]) for key, preset in PRESETS.items()]
