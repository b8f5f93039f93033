"""Demo data of this module for ``seed_demo`` (called inside the municipality's schema).

The Espoo model of August 2019 (domain.md §5): regional evenings in schools, a market of services
17:00–18:15, then language groups with cultural mediators and mother-tongue teachers. One evening
already held (head counts, feedback) and one coming per area, in the municipality's first areas.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from datetime import date

from django.db import transaction

from parentevenings.models import (
    Agency,
    AgencyKind,
    BookingStatus,
    EveningAgency,
    EveningLanguage,
    EveningStatus,
    Feedback,
    InterpreterBooking,
    ParentEvening,
    Registration,
    RegistrationStatus,
    TranslationStatus,
)
from parentevenings.services import rollups
from welfare.models import School, SchoolType

AGENCIES = [
    ("Perheiden sosiaalipalvelut", AgencyKind.FAMILY_SOCIAL_SERVICES, "Sanna Virtanen"),
    ("Kouluterveydenhuolto", AgencyKind.SCHOOL_HEALTH_CARE, "Terhi Laine"),
    ("Nuorisopalvelut", AgencyKind.YOUTH_SERVICES, "Mikko Nieminen"),
    ("Kaupunginkirjasto", AgencyKind.LIBRARY, "Aino Korhonen"),
    ("Suun terveydenhuolto", AgencyKind.SCHOOL_HEALTH_CARE, "Leena Mäkinen"),
    ("Monikulttuurinen yksikkö", AgencyKind.OTHER, "Ahmed Hassan"),
    ("Setlementti ry", AgencyKind.NGO, "Katja Heikkinen"),
    ("Seurakuntayhtymä", AgencyKind.PARISH, "Juha Koskinen"),
    ("Ennalta estävä poliisitoiminta", AgencyKind.POLICE, "Vanhempi konstaapeli Pekka Salo"),
]

# (code, title, invitation, status, interpreter)
LANGUAGES = [
    ("fi", "Alueellinen vanhempainilta",
     "Tervetuloa alueelliseen vanhempainiltaan {date} klo {time}, paikka: {place}. Aluksi sosiaali-, terveys- ja "
     "sivistystoimen palvelut esittäytyvät palvelutorilla, sitten jatketaan kieliryhmissä. "
     "Ilmoittaudu: {registration_link}", TranslationStatus.CHECKED, None),
    ("ar", "أمسية أولياء الأمور الإقليمية",
     "ندعوكم إلى أمسية أولياء الأمور الإقليمية يوم {date} الساعة {time} في {place}. تعرّف خدمات الرعاية "
     "الاجتماعية والصحة والتعليم بنفسها، ثم نتحدث في مجموعات لغوية بحضور مترجم. سجّلوا هنا: {registration_link}",
     TranslationStatus.CHECKED, ("Kulttuuriohjaaja Rania Haddad", BookingStatus.CONFIRMED)),
    ("so", "Kulanka waalidiinta ee deegaanka",
     "Waxaan idinku martiqaadaynaa kulanka waalidiinta ee deegaanka {date} saacadda {time}, goobta: {place}. "
     "Adeegyada bulshada, caafimaadka iyo waxbarashada ayaa is-bandhigaya, kadibna kooxo luqadeed oo turjubaan "
     "leh. Is-diiwaangeli: {registration_link}",
     TranslationStatus.CHECKED, ("Tulkkauspalvelu Lingua Oy", BookingStatus.CONFIRMED)),
    ("ru", "Региональное родительское собрание",
     "Приглашаем вас на региональное родительское собрание {date} в {time}, место: {place}. Социальные службы, "
     "здравоохранение и образование расскажут о своей работе, затем — группы на родном языке. "
     "Регистрация: {registration_link}",
     TranslationStatus.DRAFT, ("Äidinkielen opettaja Irina Smirnova", BookingStatus.REQUESTED)),
    ("prs", "جلسهٔ منطقه‌ای والدین",
     "شما را به جلسهٔ منطقه‌ای والدین در تاریخ {date} ساعت {time} در {place} دعوت می‌کنیم. خدمات اجتماعی، صحی و "
     "تعلیمی خود را معرفی می‌کنند و بعد در گروه‌های زبانی با ترجمان صحبت می‌کنیم. ثبت نام: {registration_link}",
     TranslationStatus.CHECKED, ("Kulttuuriohjaaja Farid Ahmadi", BookingStatus.CONFIRMED)),
    ("ckb", "کۆبوونەوەی دایک و باوکان",
     "بانگهێشتتان دەکەین بۆ کۆبوونەوەی دایک و باوکان لە {date} کاتژمێر {time} لە {place}. "
     "تۆمارکردن: {registration_link}",
     TranslationStatus.DRAFT, None),
]

USEFUL = ["Tulkki auttoi paljon.", "Neuvola ja koulun terveydenhoitaja tutuiksi.", "Kuulin nuorisotiloista.",
          "Sain tietää, keneen ottaa yhteyttä koulussa."]
MISSING = ["Lastenhoito olisi auttanut.", "Enemmän aikaa kysymyksille.", "Kirjallista tietoa omalla kielellä."]


def _areas_with_schools() -> list[tuple[str, list[School]]]:
    by_area: dict[str, list[School]] = defaultdict(list)
    for school in School.objects.filter(school_type=SchoolType.BASIC).exclude(area="").order_by("name"):
        by_area[school.area].append(school)
    return sorted(by_area.items())[:3]


def _evening(area: str, schools: list[School], day: date, agencies: list[Agency], rng: random.Random,
             *, held: bool) -> ParentEvening:
    host = schools[0]
    evening = ParentEvening.objects.create(
        title=f"{area}: monikielinen vanhempainilta", area=area, date=day, start_time=datetime.time(17, 0),
        end_time=datetime.time(19, 15), venue_name=host.name, venue_address=f"{host.name}, ruokasali",
        accessibility_info="Esteetön sisäänkäynti pääovelta, hissi toiseen kerrokseen, induktiosilmukka salissa.",
        programme="17.00–18.15 palvelutori: palvelut esittäytyvät\n18.15–19.15 kieliryhmät tulkkien kanssa",
        capacity=120, waiting_list_limit=30, status=EveningStatus.PUBLISHED,
    )
    evening.schools.set(schools)
    for agency in agencies:
        EveningAgency.objects.create(evening=evening, agency=agency, contact_person=agency.contact_name)
    for position, (code, title, text, status, booking) in enumerate(LANGUAGES):
        language = EveningLanguage.objects.create(
            evening=evening, code=code, title=title, invitation_text=text, translation_status=status,
            room="Auditorio" if code == "fi" else f"Luokka {201 + position}", position=position,
            needs_interpreter=code != "fi",
        )
        if booking:
            kinds, providers = InterpreterBooking.Kind, InterpreterBooking.Provider
            InterpreterBooking.objects.create(
                language=language, kind=kinds.CULTURAL_MEDIATOR if "ohjaaja" in booking[0] else kinds.INTERPRETER,
                provider=providers.AGENCY if "Oy" in booking[0] else providers.PERSON,
                name=booking[0], status=BookingStatus.CONFIRMED if held else booking[1])
        families = rng.randint(2, 9)
        checked = 0
        for _i in range(families):
            registration = Registration.objects.create(
                evening=evening, language=language, adults=rng.choice([1, 1, 2]), children=rng.choice([0, 1, 2]),
                interpreter_needed=code != "fi" and rng.random() < 0.6, childcare_needed=rng.random() < 0.3,
                status=RegistrationStatus.CONFIRMED)
            if held and rng.random() < 0.8:
                checked += registration.adults
        if held:
            language.head_count = checked + rng.randint(0, 3)
            language.save(update_fields=["head_count"])
            for _i in range(rng.randint(2, 8)):
                Feedback.objects.create(evening=evening, language=code, score=rng.randint(7, 10),
                                        useful=rng.choice(USEFUL), missing=rng.choice(MISSING + [""]))
    return evening


def seed(*, today: date) -> None:
    """Idempotent: creates this module's demo data when it has none."""
    if ParentEvening.objects.exists():
        return
    rng = random.Random(2019_08_19)
    with transaction.atomic():
        agencies = []
        for name, kind, contact in AGENCIES:
            agency, _created = Agency.objects.get_or_create(name=name, defaults={"kind": kind, "contact_name": contact})
            agencies.append(agency)
        for index, (area, schools) in enumerate(_areas_with_schools()):
            chosen = rng.sample(agencies, 5)
            _evening(area, schools, today - datetime.timedelta(days=40 + 7 * index), chosen, rng, held=True)
            _evening(area, schools, today + datetime.timedelta(days=14 + 7 * index), chosen, rng, held=False)
        rollups.rebuild()  # the demo writes rows directly, not through the services
