"""Parent evenings on the dashboards: the rollup equals a recomputation from the raw rows after
registrations, cancellations, check-ins, head counts, bookings and feedback; registrations vs
attendance, interpreter coverage and feedback per language with small numbers suppressed (totals
included); evenings of the principal's school only; the school year selects by date; a constant
query count; exports."""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections import defaultdict

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from parentevenings.models import (
    BookingStatus,
    EveningLanguage,
    EveningLanguageRollup,
    EveningStatus,
    Feedback,
    InterpreterBooking,
    RegistrationStatus,
)
from parentevenings.services import events, feedback, registrations, rollups
from parentevenings.services.registrations import RegistrationInput
from tests.factories import SchoolFactory, SchoolYearFactory, StaffRoleFactory, UserFactory, give_totp, sign_in
from tests.parentevenings.factories import (
    EveningLanguageFactory,
    FeedbackFactory,
    InterpreterBookingFactory,
    ParentEveningFactory,
    RegistrationFactory,
)
from welfare.models import Role

pytestmark = pytest.mark.django_db
D = datetime.date
BASE = "http://espoo.localhost"
FIELDS = [f.name for f in EveningLanguageRollup._meta.fields if f.name not in ("id", "evening", "language_code")]


# --- The rollup equals a recomputation ------------------------------------------------------------

def recomputed() -> dict[tuple[int, str], dict]:
    """(evening, language) → figures, straight from languages, registrations, bookings and feedback."""
    result: dict = {}
    for language in EveningLanguage.objects.all():
        registered = [r for r in language.registrations.all() if r.status == RegistrationStatus.CONFIRMED]
        checked_in = [r for r in language.registrations.all() if r.checked_in_at]
        result[(language.evening_id, language.code)] = {
            "offered": True, "families": len(registered), "adults": sum(r.adults for r in registered),
            "children": sum(r.children for r in registered),
            "attended": language.head_count if language.head_count is not None else sum(r.people for r in checked_in),
            "families_needing_interpreter": sum(r.interpreter_needed for r in registered),
            "needs_interpreter": language.needs_interpreter,
            "interpreter_confirmed": language.bookings.filter(status=BookingStatus.CONFIRMED).exists(),
            "feedback_responses": 0, "feedback_score_sum": 0}
    for answer in Feedback.objects.all():
        figures = result.setdefault((answer.evening_id, answer.language), defaultdict(int, offered=False))
        figures["feedback_responses"] += 1
        figures["feedback_score_sum"] += answer.score
    return {key: {name: figures[name] for name in FIELDS} for key, figures in result.items()}


def stored() -> dict[tuple[int, str], dict]:
    return {(row.evening_id, row.language_code): {name: getattr(row, name) for name in FIELDS}
            for row in EveningLanguageRollup.objects.all()}


def family(code: str, adults: int = 1, children: int = 0, interpreter: bool = False) -> RegistrationInput:
    return RegistrationInput(language_code=code, adults=adults, children=children, interpreter_needed=interpreter)


def test_the_services_keep_the_rollup_equal_to_a_recomputation(in_espoo):
    evening = ParentEveningFactory(date=timezone.localdate(), capacity=6, waiting_list_limit=10)
    EveningLanguageFactory(evening=evening, code="ar")
    events.add_language(evening, "fi")
    somali = events.add_language(evening, "so")
    assert stored() == recomputed() and stored()[(evening.pk, "fi")]["needs_interpreter"] is False

    first = registrations.register(evening.pk, family("ar", 2, 1, interpreter=True), base_url=BASE)
    registrations.register(evening.pk, family("so", 1), base_url=BASE)
    registrations.register(evening.pk, family("fi", 1, 1), base_url=BASE)
    waiting = registrations.register(evening.pk, family("ar", 2, interpreter=True), base_url=BASE)
    assert waiting.status == RegistrationStatus.WAITING
    assert stored() == recomputed() and stored()[(evening.pk, "ar")]["adults"] == 2

    registrations.cancel(first.pk, base_url=BASE)  # the waiting family is promoted
    assert stored() == recomputed()
    assert stored()[(evening.pk, "ar")]["families_needing_interpreter"] == 1

    registrations.check_in(evening, waiting.code)
    registrations.set_head_count(somali, 3)
    assert stored() == recomputed()
    assert stored()[(evening.pk, "ar")]["attended"] == 2 and stored()[(evening.pk, "so")]["attended"] == 3

    arabic = EveningLanguage.objects.get(evening=evening, code="ar")
    booking = events.save_booking(InterpreterBooking(language=arabic, name="Tulkkaus Oy"))
    assert stored() == recomputed() and not stored()[(evening.pk, "ar")]["interpreter_confirmed"]
    booking.status = BookingStatus.CONFIRMED
    events.save_booking(booking)
    somali.needs_interpreter = False
    events.save_language(somali)
    assert stored() == recomputed() and stored()[(evening.pk, "ar")]["interpreter_confirmed"]

    russian = events.add_language(evening, "ru")
    for score in (9, 7):
        feedback.submit_feedback(evening, language="ar", score=score)
    feedback.submit_feedback(evening, language="ru", score=10)
    assert stored() == recomputed() and stored()[(evening.pk, "ar")]["feedback_score_sum"] == 16
    events.remove_language(russian)  # its feedback stays, in a language no longer offered
    assert stored() == recomputed() and stored()[(evening.pk, "ru")]["offered"] is False

    EveningLanguageRollup.objects.all().delete()
    rollups.rebuild()
    assert stored() == recomputed()
    EveningLanguageRollup.objects.all().delete()
    rollups.rebuild(apps=historical_apps("parentevenings", "0002_dashboard_rollup"))  # the migration's fill
    assert stored() == recomputed()


def historical_apps(app: str, migration: str):
    from django.db.migrations.loader import MigrationLoader

    return MigrationLoader(connection).project_state((app, migration)).apps


# --- The panels -----------------------------------------------------------------------------------

@pytest.fixture
def town(in_espoo):
    """Espoonlahti evening on 10.9.2026 for Kaitaa and Soukka: Arabic (6 families, 12 people, 10 came,
    interpreter confirmed, 6 scores of 9), Somali (2 families, 2 came, no interpreter, 2 scores of 7),
    Finnish (10 families, 20 people, 18 came, 5 scores of 8). Leppävaara evening on 1.10.2026 for
    Mäkkylä: Russian (7 families, 7 came). Not counted: a cancelled evening of Kaitaa and one of the
    previous school year."""
    year = SchoolYearFactory(start_date=D(2026, 8, 1), end_date=D(2027, 7, 31))
    kaitaa, soukka, makkyla = (SchoolFactory(name=name) for name in ("Kaitaan koulu", "Soukan koulu",
                                                                     "Mäkkylän koulu"))

    def group(evening, code, *, families, adults=1, children=0, came, scores=(), booking=None, needs=True):
        language = EveningLanguageFactory(evening=evening, code=code, head_count=came, needs_interpreter=needs)
        RegistrationFactory.create_batch(families, language=language, adults=adults, children=children)
        for score in scores:
            FeedbackFactory(evening=evening, language=code, score=score)
        if booking:
            InterpreterBookingFactory(language=language, status=booking)

    espoonlahti = ParentEveningFactory(date=D(2026, 9, 10), schools=[kaitaa, soukka])
    group(espoonlahti, "ar", families=6, adults=2, came=10, scores=[9] * 6, booking=BookingStatus.CONFIRMED)
    group(espoonlahti, "so", families=2, came=2, scores=[7, 7], booking=BookingStatus.REQUESTED)
    group(espoonlahti, "fi", families=10, children=1, came=18, scores=[8] * 5, needs=False)
    leppavaara = ParentEveningFactory(date=D(2026, 10, 1), area="Leppävaara", schools=[makkyla])
    group(leppavaara, "ru", families=7, came=7)
    cancelled = ParentEveningFactory(date=D(2026, 11, 1), status=EveningStatus.CANCELLED, schools=[kaitaa])
    group(cancelled, "et", families=9, came=0)
    last_year = ParentEveningFactory(date=D(2026, 3, 1), schools=[kaitaa])
    group(last_year, "uk", families=9, came=9)
    rollups.rebuild()
    return {"year": year, "kaitaa": kaitaa, "makkyla": makkyla}


def staff(espoo_client, role, school=None):
    user = UserFactory()
    StaffRoleFactory(user=user, role=role, school=school)
    if role != Role.MUNICIPAL_COORDINATOR:
        give_totp(user)
    return sign_in(espoo_client, user)


def dashboard(client, town) -> str:
    response = client.get("/dashboard/", {"school_year": town["year"].pk}, headers={"accept-language": "en"})
    assert response.status_code == 200
    return response.content.decode()


def panel(html: str, key: str) -> str:
    start = html.index(f'id="{key}"')
    return html[start:html.index("</section>", start)]


def rows(html: str) -> dict[str, list[str]]:
    """Row label → cells of a panel's table."""
    return {label: re.findall(r'<td class="num">([^<]*)</td>', cells)
            for label, cells in re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', html, re.S)}


def test_registrations_and_attendance_per_language_with_small_numbers_suppressed(town, espoo_client):
    html = dashboard(staff(espoo_client, Role.MUNICIPAL_COORDINATOR), town)
    table = rows(panel(html, "parentevenings-attendance"))
    assert list(table) == ["Arabic (ar)", "Finnish (fi)", "Russian (ru)", "Somali (so)", "Total"]
    assert table["Arabic (ar)"] == ["12", "10"] and table["Finnish (fi)"] == ["20", "18"]
    assert table["Somali (so)"] == ["&lt;5", "&lt;5"]
    # With the totals shown, the next smallest counts are hidden too, so Somali's 2 cannot be worked out.
    assert table["Russian (ru)"] == ["×", "×"] and table["Total"] == ["41", "37"]
    assert "Estonian" not in html and "Ukrainian" not in html  # cancelled; another school year


def test_interpreter_coverage_names_the_languages_without_one(town, espoo_client):
    section = panel(dashboard(staff(espoo_client, Role.MUNICIPAL_COORDINATOR), town), "parentevenings-interpreters")
    table = rows(section)
    # groups, need an interpreter, confirmed, without a confirmed one (language groups are not people)
    assert table["Arabic (ar)"] == ["1", "1", "1", "0"] and table["Somali (so)"] == ["1", "1", "0", "1"]
    assert table["Finnish (fi)"] == ["1", "0", "0", "0"] and table["Total"] == ["4", "3", "1", "2"]
    assert "Languages without a confirmed interpreter: Russian (ru), Somali (so)." in section


def test_feedback_mean_only_where_the_number_of_answers_is_shown(town, espoo_client):
    table = rows(panel(dashboard(staff(espoo_client, Role.MUNICIPAL_COORDINATOR), town), "parentevenings-feedback"))
    assert list(table) == ["Arabic (ar)", "Finnish (fi)", "Somali (so)", "Total"]
    assert table["Arabic (ar)"] == ["6", "9.0"] and table["Somali (so)"] == ["&lt;5", "×"]
    # Finnish's 5 answers are hidden to protect Somali's 2; a mean would show that there are five or more.
    assert table["Finnish (fi)"] == ["×", "×"]
    assert table["Total"] == ["13", "8.3"]  # (6 × 9 + 5 × 8 + 2 × 7) / 13


def test_principal_sees_the_evenings_of_their_school_only(town, espoo_client):
    html = dashboard(staff(espoo_client, Role.PRINCIPAL, town["makkyla"]), town)
    assert list(rows(panel(html, "parentevenings-attendance"))) == ["Russian (ru)", "Total"]
    assert "Arabic" not in html and "Somali" not in html
    html = dashboard(staff(espoo_client, Role.PRINCIPAL, town["kaitaa"]), town)
    assert "Russian" not in html and "Somali (so)" in panel(html, "parentevenings-attendance")


def test_another_municipality_sees_none_of_it(town, vantaa, vantaa_client):
    with schema_context(vantaa.schema_name):
        html = staff(vantaa_client, Role.MUNICIPAL_COORDINATOR).get(
            "/dashboard/", headers={"accept-language": "en"}).content.decode()
    assert "Arabic (ar)" not in html and "Somali (so)" not in html


def test_query_count_does_not_grow_with_schools_and_evenings(town, espoo_client):
    client = staff(espoo_client, Role.MUNICIPAL_COORDINATOR)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert "parentevenings-attendance" in dashboard(client, town)
        return len(captured)

    dashboard(client, town)  # the session's once-a-minute save happens here, not in the counts
    before = queries()
    for n, code in enumerate(("sv", "en", "fa", "ku", "sq", "vi")):
        evening = ParentEveningFactory(date=D(2026, 9, 20 + n), schools=[SchoolFactory(), SchoolFactory()])
        for language_code in (code, "ar"):
            language = EveningLanguageFactory(evening=evening, code=language_code, head_count=6)
            RegistrationFactory.create_batch(6, language=language)
            FeedbackFactory.create_batch(5, evening=evening, language=language_code)
    rollups.rebuild()
    assert queries() == before


def test_csv_export_carries_the_suppressed_table(town, espoo_client):
    client = staff(espoo_client, Role.MUNICIPAL_COORDINATOR)
    response = client.get("/dashboard/export/parentevenings-attendance.csv", {"school_year": town["year"].pk},
                          headers={"accept-language": "en"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert table[0] == ["Language", "People registered", "People attended"]
    assert table[1:] == [["Arabic (ar)", "12", "10"], ["Finnish (fi)", "20", "18"], ["Russian (ru)", "×", "×"],
                         ["Somali (so)", "<5", "<5"], ["Total", "41", "37"]]


def test_a_check_in_reaches_the_cached_dashboard(town, espoo_client, settings, django_capture_on_commit_callbacks):
    from welfare.dashboard import rollups_changed

    settings.DASHBOARD_CACHE = True
    rollups_changed()  # a version of its own: no panels cached by another run
    client = staff(espoo_client, Role.PRINCIPAL, town["makkyla"])
    assert rows(panel(dashboard(client, town), "parentevenings-attendance"))["Russian (ru)"] == ["7", "7"]
    russian = EveningLanguage.objects.get(code="ru")
    with django_capture_on_commit_callbacks(execute=True):
        registrations.set_head_count(russian, 9)
    assert rows(panel(dashboard(client, town), "parentevenings-attendance"))["Russian (ru)"] == ["7", "9"]
