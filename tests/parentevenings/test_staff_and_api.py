"""Staff side: who may manage which evenings (table-driven), the organisers' pages, the
coordinator's per-area view with suppression, the annual clock ring, and the API."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from parentevenings.clock import clock_entries
from parentevenings.models import BookingStatus, EveningLanguage, EveningStatus, ParentEvening
from parentevenings.services import rollups
from tests.conftest import host
from tests.factories import SchoolFactory, StaffRoleFactory, UserFactory, sign_in
from tests.parentevenings.factories import (
    EveningLanguageFactory,
    FeedbackFactory,
    InterpreterBookingFactory,
    ParentEveningFactory,
    RegistrationFactory,
)
from welfare.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"pe-staff-{id(object())}"}}


@pytest.fixture
def world(espoo):
    with schema_context(espoo.schema_name):
        own, other = SchoolFactory(name="Kaitaan koulu"), SchoolFactory(name="Soukan koulu")
        ours = ParentEveningFactory(title="Espoonlahden ilta", schools=[own, other])
        theirs = ParentEveningFactory(title="Leppävaaran ilta", area="Leppävaara", schools=[other])
        arabic = EveningLanguageFactory(evening=ours, code="ar")
        EveningLanguageFactory(evening=ours, code="so")
        InterpreterBookingFactory(language=arabic, status=BookingStatus.CONFIRMED)
        RegistrationFactory(language=arabic, adults=2, contact_name="Salainen Nimi", contact_email="s@example.fi",
                            channel="email", consent_at=timezone.now())
        users = {}
        for name, role, school in [("coordinator", Role.MUNICIPAL_COORDINATOR, None),
                                   ("principal", Role.PRINCIPAL, own),
                                   ("other_principal", Role.PRINCIPAL, SchoolFactory()),
                                   ("teacher", Role.CLASS_TEACHER, own), ("nurse", Role.SCHOOL_NURSE, own)]:
            users[name] = UserFactory()
            StaffRoleFactory(user=users[name], role=role, school=school)
    return {"ours": ours, "theirs": theirs, "own": own, "other_school": other, **users}


def client(espoo, user) -> Client:
    return sign_in(Client(headers={"host": host(espoo)}), user)


@pytest.mark.parametrize(("who", "ours", "theirs"), [
    ("coordinator", 200, 200),
    ("principal", 200, 404),
    ("other_principal", 404, 404),
    ("teacher", 403, 403),
    ("nurse", 403, 403),
])
def test_who_may_open_which_evening(espoo, world, who, ours, theirs):
    staff = client(espoo, world[who])
    assert staff.get(f"/parent-evenings/{world['ours'].pk}/").status_code == ours
    assert staff.get(f"/parent-evenings/{world['theirs'].pk}/").status_code == theirs


@pytest.mark.parametrize(("who", "titles"), [
    ("coordinator", {"Espoonlahden ilta", "Leppävaaran ilta"}),
    ("principal", {"Espoonlahden ilta"}),
    ("other_principal", set()),
])
def test_api_lists_only_the_evenings_the_user_manages(espoo, world, who, titles):
    response = client(espoo, world[who]).get("/api/v1/parent-evenings/evenings/")
    assert response.status_code == 200
    assert {row["title"] for row in response.json()["results"]} == titles


@pytest.mark.parametrize("who", ["teacher", "nurse"])
def test_api_refuses_staff_who_do_not_organise_evenings(espoo, world, who):
    for path in ["evenings", "languages", "interpreters", "invitations", "registrations"]:
        assert client(espoo, world[who]).get(f"/api/v1/parent-evenings/{path}/").status_code == 403


def test_no_page_or_api_shows_guardians_contact_details(espoo, world):
    staff = client(espoo, world["coordinator"])
    pk = world["ours"].pk
    for path in [f"/parent-evenings/{pk}/", f"/parent-evenings/{pk}/check-in/",
                 "/api/v1/parent-evenings/registrations/", "/parent-evenings/overview/"]:
        body = staff.get(path).content.decode()
        assert "Salainen Nimi" not in body and "s@example.fi" not in body, path
    rows = staff.get(f"/api/v1/parent-evenings/registrations/?evening={pk}").json()["results"]
    assert [(row["language"], row["adults"], row["has_contact"]) for row in rows] == [("ar", 2, True)]


def test_coordinator_sees_which_languages_lack_a_confirmed_interpreter(espoo, world):
    body = client(espoo, world["coordinator"]).get(f"/parent-evenings/{world['ours'].pk}/",
                                                   headers={"accept-language": "en"}).content.decode()
    assert "1 language still lacks a confirmed interpreter: Somali" in body
    api = client(espoo, world["coordinator"]).get(f"/api/v1/parent-evenings/languages/?evening={world['ours'].pk}")
    assert {row["code"]: row["interpreter_confirmed"] for row in api.json()["results"]} == {"ar": True, "so": False}


def test_area_view_suppresses_small_numbers(espoo, world):
    with schema_context(espoo.schema_name):
        somali = EveningLanguage.objects.get(evening=world["ours"], code="so")
        RegistrationFactory(language=somali, adults=3, children=4)
        somali.head_count = 6
        somali.save()
        rollups.rebuild()  # the rows above bypass the services that keep the rollup
    body = client(espoo, world["coordinator"]).get("/parent-evenings/overview/",
                                                   headers={"accept-language": "en"}).content.decode()
    assert "Espoonlahti" in body and "Leppävaara" in body
    assert "<td>&lt;5</td>" in body  # Arabic: 2 registered
    # Somali's 7 registered would give Arabic's 2 away from the total of 9: hidden too ("×").
    assert "<td>×</td>" in body and "<td>7</td>" not in body
    assert "<td>6</td>" in body  # Somali: 6 came (Arabic: no head count, 0)


def test_feedback_summary_hides_small_groups(espoo, world):
    with schema_context(espoo.schema_name):
        for score in (8, 9, 10, 7, 6):
            FeedbackFactory(evening=world["ours"], language="ar", score=score, useful="Tulkki auttoi")
        FeedbackFactory(evening=world["ours"], language="so", score=2, missing="Yksittäinen vastaus")
    staff = client(espoo, world["principal"])
    rows = staff.get(f"/api/v1/parent-evenings/evenings/{world['ours'].pk}/feedback-summary/",
                     headers={"accept-language": "en"}).json()
    by_language = {row["language"]: row for row in rows}
    assert by_language["ar"]["responses"] == "5" and by_language["ar"]["mean_score"] == "8.0"
    assert by_language["ar"]["name"] == "Arabic" and by_language["ar"]["useful"] == ["Tulkki auttoi"] * 5
    assert (by_language["so"]["responses"], by_language["so"]["mean_score"], by_language["so"]["missing"]) == (
        "<5", "", [])
    page = staff.get(f"/parent-evenings/{world['ours'].pk}/feedback/", headers={"accept-language": "en"})
    html = page.content.decode()
    assert '<th scope="row">Arabic (ar)</th><td>5</td><td>8.0</td>' in html
    assert '<th scope="row">Somali (so)</th><td>&lt;5</td><td>–</td>' in html
    assert "Tulkki auttoi" in html and "Yksittäinen vastaus" not in html


def test_staff_api_never_loads_contact_details_and_costs_the_same_for_more_families(espoo, world):
    staff = client(espoo, world["coordinator"])
    url = f"/api/v1/parent-evenings/registrations/?evening={world['ours'].pk}"

    def fetch():
        with CaptureQueriesContext(connection) as captured:
            rows = staff.get(url).json()["results"]
        return rows, captured

    staff.get(url)  # the session's first save happens here, not in the counts
    _rows, before = fetch()
    with schema_context(espoo.schema_name):
        arabic = EveningLanguage.objects.get(evening=world["ours"], code="ar")
        for n in range(4):
            RegistrationFactory(language=arabic, channel="sms", contact_phone=f"+358 40 000 000{n}",
                                consent_at=timezone.now())
        RegistrationFactory(language=arabic)
    rows, after = fetch()
    assert [row["has_contact"] for row in rows] == [True] * 5 + [False]
    assert len(after) == len(before)
    # A contact column may appear in the "has a contact" test, never as a value read out.
    assert not [query["sql"] for query in after if re.search(r'"contact_(name|email|phone)"\s*(,|FROM)', query["sql"])]


def test_area_view_costs_the_same_for_more_evenings(espoo, world):
    staff = client(espoo, world["coordinator"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff.get("/parent-evenings/overview/").status_code == 200
        return len(captured)

    staff.get("/parent-evenings/overview/")
    before = queries()
    with schema_context(espoo.schema_name):
        for n in range(3):
            evening = ParentEveningFactory(title=f"Ilta {n}", schools=[world["own"]])
            for code in ("ar", "ru"):
                language = EveningLanguageFactory(evening=evening, code=code)
                RegistrationFactory.create_batch(2, language=language)
                FeedbackFactory(evening=evening, language=code)
        rollups.rebuild()
    assert queries() == before


def test_organiser_creates_an_evening_adds_a_language_and_books_an_interpreter(espoo, world):
    staff = client(espoo, world["principal"])
    response = staff.post("/parent-evenings/new/", {
        "title": "Matinkylän ilta", "area": "Matinkylä", "schools": [world["own"].pk], "date": "2026-10-01",
        "start_time": "17:00", "end_time": "19:00", "venue_name": "Matinkylän koulu", "venue_address": "Tie 1",
        "capacity": "60", "waiting_list_limit": "10", "status": "published"})
    assert response.status_code == 302
    with schema_context(espoo.schema_name):
        evening = ParentEvening.objects.get(title="Matinkylän ilta")
    assert staff.post(f"/parent-evenings/{evening.pk}/", {"lang-code": "klingon"}).status_code == 400
    assert staff.post(f"/parent-evenings/{evening.pk}/", {"lang-code": "prs"}).status_code == 302
    response = staff.post(f"/parent-evenings/{evening.pk}/languages/prs/", {
        "text-title": "شب والدین", "text-invitation_text": "{date} {oops}", "text-translation_status": "draft"})
    assert response.status_code == 400 and "{oops}" in response.content.decode()
    staff.post(f"/parent-evenings/{evening.pk}/languages/prs/interpreters/new/", {
        "booking-kind": "mediator", "booking-provider": "person", "booking-name": "Kulttuuriohjaaja Ahmadi",
        "booking-status": "confirmed"})
    page = staff.get(f"/parent-evenings/{evening.pk}/languages/prs/").content.decode()
    assert "Kulttuuriohjaaja Ahmadi" in page
    pdf = staff.get(f"/parent-evenings/{evening.pk}/languages/prs/flyer.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


def test_principal_cannot_create_an_evening_for_another_school(espoo, world):
    response = client(espoo, world["principal"]).post("/parent-evenings/new/", {
        "title": "X", "area": "Y", "schools": [world["other_school"].pk], "date": "2026-10-01",
        "start_time": "17:00", "end_time": "19:00", "venue_name": "V", "venue_address": "A", "capacity": "5",
        "waiting_list_limit": "0", "status": "draft"})
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["schools"]  # refused for the school, nothing else
    with schema_context(espoo.schema_name):
        assert not ParentEvening.objects.filter(title="X").exists()


def test_check_in_by_code_and_head_count(espoo, world):
    staff = client(espoo, world["principal"])
    with schema_context(espoo.schema_name):
        registration = world["ours"].registrations.get()
    pk = world["ours"].pk
    assert staff.post(f"/parent-evenings/{pk}/check-in/", {"code": "WRONG123"}).status_code == 400
    assert staff.post(f"/parent-evenings/{pk}/check-in/", {"code": registration.code.lower()}).status_code == 302
    assert staff.post(f"/parent-evenings/{pk}/check-in/", {"head_count_language": "so", "head_count": "12"}
                      ).status_code == 302
    with schema_context(espoo.schema_name):
        registration.refresh_from_db()
        assert registration.checked_in_at is not None
        assert EveningLanguage.objects.get(evening_id=pk, code="so").head_count == 12


def test_public_api_registration_is_throttled_per_address(espoo, world, settings):
    settings.PARENT_EVENINGS_API_REGISTRATION_RATE = "2/hour"
    guardian = Client(headers={"host": host(espoo)})
    payload = {"evening": world["ours"].public_token, "language": "ar", "adults": 1}
    statuses = [guardian.post("/api/v1/parent-evenings/public/registrations/", payload,
                              content_type="application/json").status_code for _ in range(3)]
    assert statuses == [201, 201, 429]


def test_public_api_throttle_is_not_dodged_with_a_forged_forwarded_header(espoo, world, settings):
    settings.PARENT_EVENINGS_API_REGISTRATION_RATE = "1/hour"
    settings.AUDIT_TRUST_X_FORWARDED_FOR = False
    guardian = Client(headers={"host": host(espoo)})
    payload = {"evening": world["ours"].public_token, "language": "ar", "adults": 1}
    statuses = [guardian.post("/api/v1/parent-evenings/public/registrations/", payload, content_type="application/json",
                              headers={"x-forwarded-for": f"198.51.100.{n}"}).status_code for n in range(2)]
    assert statuses == [201, 429]


@pytest.mark.parametrize(("payload", "field"), [
    ({"language": "xx", "adults": 1}, "language"),
    ({"language": "fi", "adults": 1}, "language"),
    ({"language": "ar", "adults": 1, "accessibility_needs": "x" * 501}, "accessibility_needs"),
    ({"language": "ar", "adults": 11}, "adults"),
    ({"language": "ar", "adults": 1, "website": "spam"}, "website"),
    ({"language": "ar", "adults": 1, "channel": "email", "contact_email": "a@example.fi"}, "consent"),
    ({"language": "ar", "adults": 1, "channel": "sms", "contact_phone": "+358 40 1", "consent": True}, "channel"),
])
def test_public_api_names_the_bad_field(espoo, world, payload, field):
    response = Client(headers={"host": host(espoo)}).post(
        "/api/v1/parent-evenings/public/registrations/", {"evening": world["ours"].public_token, **payload},
        content_type="application/json")
    assert response.status_code == 400 and field in response.json(), response.json()


def test_public_api_answers_with_the_code_and_the_familys_page(espoo, world):
    response = Client(headers={"host": host(espoo)}).post(
        "/api/v1/parent-evenings/public/registrations/",
        {"evening": world["ours"].public_token, "language": "so", "adults": 2, "children": 1},
        content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "confirmed" and len(body["code"]) == 8
    assert body["registration_url"].startswith("http://espoo.localhost/parent-evenings/r/")
    assert Client(headers={"host": host(espoo)}).post(
        "/api/v1/parent-evenings/public/registrations/", {"evening": "no-such", "language": "so", "adults": 1},
        content_type="application/json").status_code == 404


def test_evenings_appear_on_the_clocks_of_their_schools(in_espoo):
    school, elsewhere = SchoolFactory(), SchoolFactory()
    evening = ParentEveningFactory(schools=[school], date=datetime.date(2026, 9, 17), status=EveningStatus.DRAFT)
    EveningLanguageFactory(evening=evening, code="ar")
    ParentEveningFactory(schools=[school], date=datetime.date(2026, 9, 20), status=EveningStatus.CANCELLED)
    [entry] = clock_entries(school.pk, datetime.date(2026, 8, 1), datetime.date(2027, 7, 31))
    assert (entry.source, entry.start, entry.end, entry.key) == ("parentevenings", evening.date, evening.date,
                                                                 f"evening-{evening.pk}")
    assert "(ar)" in entry.title and entry.url == f"/parent-evenings/{evening.pk}/"
    assert clock_entries(elsewhere.pk, datetime.date(2026, 8, 1), datetime.date(2027, 7, 31)) == []
    assert clock_entries(school.pk, datetime.date(2026, 10, 1), datetime.date(2026, 12, 31)) == []


def test_every_staff_page_opens_for_the_coordinator(espoo, world):
    staff = client(espoo, world["coordinator"])
    pk = world["ours"].pk
    with schema_context(espoo.schema_name):
        booking = world["ours"].languages.get(code="ar").bookings.get()
    for path in ["/parent-evenings/", "/parent-evenings/new/", "/parent-evenings/overview/",
                 "/parent-evenings/agencies/", "/parent-evenings/settings/", f"/parent-evenings/{pk}/",
                 f"/parent-evenings/{pk}/edit/", f"/parent-evenings/{pk}/check-in/", f"/parent-evenings/{pk}/feedback/",
                 f"/parent-evenings/{pk}/languages/ar/", f"/parent-evenings/{pk}/languages/ar/interpreters/new/",
                 f"/parent-evenings/{pk}/languages/ar/interpreters/{booking.pk}/"]:
        assert staff.get(path).status_code == 200, path


@pytest.mark.parametrize(("who", "status"), [("coordinator", 302), ("principal", 403)])
def test_only_the_coordinator_sets_the_anonymisation_days(espoo, world, who, status):
    response = client(espoo, world[who]).post("/parent-evenings/settings/",
                                              {"anonymise_after_days": "14", "reminder_days_before": "3"})
    assert response.status_code == status
    with schema_context(espoo.schema_name):
        from parentevenings.models import ParentEveningSettings

        assert ParentEveningSettings.current().anonymise_after_days == (14 if status == 302 else 30)
