"""Demo data of the annual clock for ``seed_demo`` (called inside the municipality's schema).

A municipal template for basic education built from domain.md §3's month table, adopted by the
first two basic schools for the current school year (the first one with a few local changes),
with the months before today done and evaluated, and last year's clock of the first school.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from django.db import transaction

from annualclock import rollups, services
from annualclock.defaults import ensure_default_rings
from annualclock.models import Activity, Clock, ClockTemplate, Ring, Status
from annualclock.schedule import span
from welfare.models import Role, School, SchoolType, SchoolYear

TEMPLATE_NAME = "Perusopetuksen opiskeluhuollon vuosikello"

# (ring code, fi, sv, en, first month, last month, recurrence, owner role, target group, grades)
ACTIVITIES = [
    ("communal", "Lukuvuoden opiskeluhuoltosuunnitelma", "Läsårets elevhälsoplan", "The school year's welfare plan",
     8, 8, "once", Role.PRINCIPAL, "staff", []),
    ("home_school", "Poissaolokäytännöt huoltajien kanssa", "Frånvarorutiner med vårdnadshavarna",
     "Absence rules reviewed with guardians", 8, 9, "once", Role.PRINCIPAL, "guardians", []),
    ("communal", "Ryhmäytyminen 1. ja 7. luokille", "Gruppbildning för årskurs 1 och 7",
     "Group building, grades 1 and 7", 8, 9, "once", Role.SCHOOL_SOCIAL_WORKER, "grades", [1, 7]),
    ("home_school", "Alueellinen monikielinen vanhempainilta", "Regional flerspråkig föräldrakväll",
     "Regional multilingual parent evening", 9, 9, "once", Role.PRINCIPAL, "guardians", []),
    ("participation", "Ryhmäkeskustelut kaikille 7.-luokkalaisille", "Gruppsamtal med alla i årskurs 7",
     "Group sessions with every 7th grader", 9, 10, "once", Role.SCHOOL_SOCIAL_WORKER, "grades", [7]),
    ("communal", "Edellisen vuoden hyvinvointitietojen läpikäynti", "Genomgång av förra årets välfärdsuppgifter",
     "Last year's wellbeing figures reviewed", 9, 9, "once", Role.PRINCIPAL, "staff", []),
    ("guidance", "Laajat terveystarkastukset (1., 5. ja 8. lk)", "Omfattande hälsokontroller (åk 1, 5 och 8)",
     "Extended health checks (grades 1, 5, 8)", 10, 11, "once", Role.SCHOOL_NURSE, "grades", [1, 5, 8]),
    ("safety", "Turvallisuussuunnitelman tarkistus", "Säkerhetsplanen granskas", "Safety plan reviewed",
     10, 10, "termly", Role.PRINCIPAL, "staff", []),
    ("guidance", "Poissaolotilanteen tarkistus (1.11.)", "Kontroll av frånvaron (1.11)", "Absence check date 1 Nov",
     11, 11, "once", Role.CLASS_TEACHER, "all_pupils", []),
    ("communal", "Opiskeluhuoltoryhmän kokous", "Elevhälsogruppens möte", "Welfare group meeting",
     8, 5, "monthly", Role.PRINCIPAL, "staff", []),
    ("guidance", "Syyslukukauden poissaolokatsaus", "Höstterminens frånvaroöversikt", "Autumn term absence review",
     12, 1, "once", Role.PRINCIPAL, "staff", []),
    ("communal", "Väliarviointi", "Halvårsutvärdering", "Mid-year evaluation", 1, 1, "once", Role.PRINCIPAL,
     "staff", []),
    ("participation", "Kouluterveyskysely (parittomat vuodet)", "Hälsoenkäten (udda år)",
     "School health survey (odd years)", 2, 3, "once", Role.SCHOOL_NURSE, "grades", [8, 9]),
    ("guidance", "Poissaolotilanteen tarkistus (1.3.)", "Kontroll av frånvaron (1.3)", "Absence check date 1 Mar",
     3, 3, "once", Role.CLASS_TEACHER, "all_pupils", []),
    ("guidance", "Nivelvaiheen siirtopalaverit 6→7 ja 9→2. aste", "Överlämningsmöten 6→7 och 9→andra stadiet",
     "Transition hand-overs 6→7 and 9→upper secondary", 4, 5, "once", Role.GUIDANCE_COUNSELLOR, "grades", [6, 9]),
    ("communal", "Toimintakertomus ja vuoden arviointi", "Verksamhetsberättelse och årets utvärdering",
     "Annual report and evaluation", 5, 5, "once", Role.PRINCIPAL, "staff", []),
    ("participation", "Oppilaskunta mukaan ensi vuoden suunnitteluun", "Elevkåren med i planeringen",
     "Pupil council plans next year with us", 5, 6, "once", Role.PRINCIPAL, "all_pupils", []),
    ("communal", "Ensi vuoden vuosikellon suunnittelu", "Planering av nästa års årsklocka", "Next year's clock planned",
     6, 6, "once", Role.PRINCIPAL, "staff", []),
]


def _template() -> ClockTemplate:
    template = ClockTemplate.objects.filter(name=TEMPLATE_NAME).first()
    if template is not None:
        return template
    template = ClockTemplate.objects.create(name=TEMPLATE_NAME, school_type=SchoolType.BASIC,
                                           description="Kunnan mallivuosikello perusopetukselle (LAPE).")
    rings = {ring.code: ring for ring in Ring.objects.all()}
    Activity.objects.bulk_create([
        Activity(template=template, ring=rings[code], title_fi=fi, title_sv=sv, title_en=en, month_start=first,
                 month_end=last, recurrence=recurrence, owner_role=role, target_group=target, target_grades=grades)
        for code, fi, sv, en, first, last, recurrence, role, target, grades in ACTIVITIES])
    return template


def seed(*, today: date) -> None:
    """Idempotent: creates this module's demo data when it has none."""
    if Clock.objects.exists():
        return
    ensure_default_rings()
    current = SchoolYear.objects.containing(today)
    previous = SchoolYear.objects.filter(end_date__lt=current.start_date).order_by("-start_date").first() \
        if current else None
    schools = list(School.objects.filter(school_type=SchoolType.BASIC).order_by("external_id")[:2])
    if current is None or not schools:
        return
    with transaction.atomic():
        template = _template()
        user = SimpleNamespace(pk=None)  # the seed acts as no one
        clocks = [services.adopt_template(template, school=school, school_year=current, user=user)
                  for school in schools]
        first = clocks[0]
        # Local changes the coordinator sees: one activity moved, one removed, one added.
        moved = first.activities.filter(title_fi__startswith="Väliarviointi").first()
        if moved:
            moved.month_start = moved.month_end = 2
            moved.save()
        first.activities.filter(title_fi__startswith="Oppilaskunta").delete()
        Activity.objects.create(clock=first, ring=Ring.objects.get(code="safety"), title_fi="Poistumisharjoitus",
                                title_sv="Utrymningsövning", title_en="Evacuation drill", month_start=9, month_end=9,
                                start_date=date(current.start_date.year, 9, 17),
                                end_date=date(current.start_date.year, 9, 17), owner_role=Role.PRINCIPAL,
                                target_group="all_pupils", source_label="Koulun oma lisäys")
        for clock in clocks:
            for activity in clock.activities.select_related("clock__school_year"):
                _start, end = span(activity, current)
                if end < today and activity.recurrence == "once":
                    services.complete_activity(
                        activity, user=user, what_happened="Toteutui suunnitellusti.", reach=None,
                        next_year="Aikataulu toimi; pidetään ennallaan.")
        if previous is not None:
            old = services.adopt_template(template, school=schools[0], school_year=previous, user=user)
            old.activities.update(status=Status.DONE)
        rollups.rebuild()  # the local changes above were written straight to the tables
