"""/api/v1/annual-clock/: permission-filtered lists, writes by the right roles, and the OpenAPI schema."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import schema_context
from rest_framework.authtoken.models import Token

from annualclock.models import Activity, Clock, Status
from tests.annualclock.factories import ActivityFactory, ClockTemplateFactory, ring
from tests.conftest import host

pytestmark = pytest.mark.django_db


def api(espoo, user) -> Client:
    token = Token.objects.get_or_create(user=user)[0].key
    return Client(headers={"host": host(espoo), "authorization": f"Token {token}"})


@pytest.fixture
def data(espoo, world):
    with schema_context(espoo.schema_name):
        mine = ActivityFactory(clock=world.clock, title_fi="Oma koulu", owner_ids=[world.teacher.pk])
        other_clock = Clock.objects.create(school=world.other_school, school_year=world.year)
        theirs = ActivityFactory(clock=other_clock, title_fi="Toinen koulu")
        template = ClockTemplateFactory(name="Malli")
        ActivityFactory(clock=None, template=template, title_fi="Mallin toiminta")
        ring_id = ring().pk
    return {"mine": mine, "theirs": theirs, "other_clock": other_clock, "template": template, "ring": ring_id}


def titles(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["title"] for row in response.json()["results"]}


@pytest.mark.parametrize(("who", "expected"), [
    ("teacher", {"Oma koulu"}), ("principal", {"Oma koulu"}), ("other_principal", {"Toinen koulu"}),
    ("coordinator", {"Oma koulu", "Toinen koulu"}), ("admin", {"Oma koulu", "Toinen koulu"}),
])
def test_activity_list_is_filtered_by_the_policy(espoo, world, data, who, expected):
    assert titles(api(espoo, getattr(world, who)).get("/api/v1/annual-clock/activities/")) == expected


def test_my_tasks_filter(espoo, world, data):
    assert titles(api(espoo, world.teacher).get("/api/v1/annual-clock/activities/?mine=true")) == {"Oma koulu"}
    assert titles(api(espoo, world.principal).get("/api/v1/annual-clock/activities/?mine=true")) == set()


@pytest.mark.parametrize(("who", "status"), [("principal", 201), ("kuraattori", 201), ("teacher", 403),
                                             ("coordinator", 403), ("other_principal", 403)])
def test_who_may_add_an_activity(espoo, world, data, who, status):
    response = api(espoo, getattr(world, who)).post("/api/v1/annual-clock/activities/", {
        "clock": world.clock.pk, "ring": data["ring"], "title_fi": "Uusi", "month_start": 12, "month_end": 1,
        "links": ["https://www.example.fi/ohje"]}, content_type="application/json")
    assert response.status_code == status, response.content
    if status == 201:
        assert response.json()["links"] == ["https://www.example.fi/ohje"]
        assert response.json()["title"] == "Uusi"


def test_other_schools_activity_is_not_found_and_not_changed(espoo, world, data):
    client = api(espoo, world.principal)
    assert client.get(f"/api/v1/annual-clock/activities/{data['theirs'].pk}/").status_code == 404
    response = client.patch(f"/api/v1/annual-clock/activities/{data['theirs'].pk}/", {"title_fi": "Kaapattu"},
                            content_type="application/json")
    assert response.status_code == 404
    assert client.delete(f"/api/v1/annual-clock/activities/{data['theirs'].pk}/").status_code == 404


def test_evaluation_marks_done_and_shows_in_the_list(espoo, world, data):
    client = api(espoo, world.kuraattori)
    response = client.post("/api/v1/annual-clock/evaluations/", {
        "activity": data["mine"].pk, "what_happened": "Kaikki luokat", "reach": 120}, content_type="application/json")
    assert response.status_code == 201, response.content
    with schema_context(espoo.schema_name):
        assert Activity.objects.get(pk=data["mine"].pk).status == Status.DONE
    assert [row["reach"] for row in client.get("/api/v1/annual-clock/evaluations/").json()["results"]] == [120]
    teacher = api(espoo, world.teacher)
    assert teacher.post("/api/v1/annual-clock/evaluations/", {"activity": data["mine"].pk, "what_happened": "x"},
                        content_type="application/json").status_code == 403


def test_templates_are_the_coordinators_and_adoption_copies(espoo, world, data):
    coordinator = api(espoo, world.coordinator)
    created = coordinator.post("/api/v1/annual-clock/templates/", {"name": "Lukio", "school_type": "upper_secondary"},
                               content_type="application/json")
    assert created.status_code == 201
    assert api(espoo, world.principal).post("/api/v1/annual-clock/templates/", {"name": "x"},
                                            content_type="application/json").status_code == 403
    assert api(espoo, world.teacher).get("/api/v1/annual-clock/templates/").json()["results"] == []
    adopt = api(espoo, world.other_principal).post(
        f"/api/v1/annual-clock/templates/{data['template'].pk}/adopt/",
        {"school": world.other_school.pk, "school_year": world.year.pk}, content_type="application/json")
    assert adopt.status_code == 400  # the other school has a clock for that year already
    with schema_context(espoo.schema_name):
        data["other_clock"].delete()
    adopt = api(espoo, world.other_principal).post(
        f"/api/v1/annual-clock/templates/{data['template'].pk}/adopt/",
        {"school": world.other_school.pk, "school_year": world.year.pk}, content_type="application/json")
    assert adopt.status_code == 201
    with schema_context(espoo.schema_name):
        assert Clock.objects.get(pk=adopt.json()["id"]).activities.get().title_fi == "Mallin toiminta"
    refused = api(espoo, world.principal).post(
        f"/api/v1/annual-clock/templates/{data['template'].pk}/adopt/",
        {"school": world.other_school.pk, "school_year": world.year.pk}, content_type="application/json")
    assert refused.status_code == 403


def test_feeds_api_gives_the_address_once_and_revokes(espoo, world, data):
    client = api(espoo, world.teacher)
    created = client.post("/api/v1/annual-clock/feeds/", {"kind": "clock", "clock": world.clock.pk},
                          content_type="application/json")
    assert created.status_code == 201
    url = created.json()["url"]
    assert url.startswith("http://espoo.localhost/annual-clock/feeds/") and url.endswith(".ics")
    path = url.split("espoo.localhost", 1)[1]
    assert Client(headers={"host": host(espoo)}).get(path).status_code == 200
    listed = client.get("/api/v1/annual-clock/feeds/").json()["results"]
    assert [row["url"] for row in listed] == [None]
    assert client.post(f"/api/v1/annual-clock/feeds/{listed[0]['id']}/revoke/").status_code == 200
    assert Client(headers={"host": host(espoo)}).get(path).status_code == 404
    foreign = client.post("/api/v1/annual-clock/feeds/", {"kind": "clock", "clock": data["other_clock"].pk},
                          content_type="application/json")
    assert foreign.status_code == 400


def test_schema_has_the_annual_clock_and_no_warnings_from_it():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        document = SchemaGenerator(urlconf="config.urls").get_schema(request=None, public=True)
    ours = [message for message in (*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache)
            if "annualclock" in message or "annual-clock" in message.lower() or "Clock" in message]
    assert ours == []
    paths = {path for path in document["paths"] if path.startswith("/api/v1/annual-clock/")}
    assert {"/api/v1/annual-clock/templates/{id}/adopt/", "/api/v1/annual-clock/feeds/{id}/revoke/",
            "/api/v1/annual-clock/evaluations/", "/api/v1/annual-clock/activities/{id}/",
            "/api/v1/annual-clock/clocks/"} <= paths


def test_patching_a_clock_changes_only_the_reminder_days_given(espoo, world, data):
    path = f"/api/v1/annual-clock/clocks/{world.clock.pk}/"
    principal = api(espoo, world.principal)
    assert principal.patch(path, {"reminder_days": 14}, content_type="application/json").json()["reminder_days"] == 14
    assert principal.patch(path, {}, content_type="application/json").json()["reminder_days"] == 14  # left alone
    refused = principal.patch(path, {"reminder_days": 61}, content_type="application/json")
    assert refused.status_code == 400 and "reminder_days" in refused.json()
    assert principal.patch(path, {"reminder_days": None}, content_type="application/json").json()[
        "reminder_days"] is None  # back to the municipality's setting
    assert api(espoo, world.teacher).patch(path, {"reminder_days": 3}, content_type="application/json"
                                           ).status_code == 403
    with schema_context(espoo.schema_name):
        assert Clock.objects.get(pk=world.clock.pk).reminder_days is None


def test_template_list_queries_do_not_grow_with_activities(espoo, world, data):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    coordinator = api(espoo, world.coordinator)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert coordinator.get("/api/v1/annual-clock/templates/").status_code == 200
        return len(captured)

    queries()
    before = queries()
    with schema_context(espoo.schema_name):
        for n in range(5):
            ActivityFactory(clock=None, template=data["template"], title_fi=f"Lisää {n}")
    listed = coordinator.get("/api/v1/annual-clock/templates/").json()["results"]
    assert [len(row["activities"]) for row in listed] == [6]
    assert queries() == before


def test_an_activity_without_a_title_is_refused(espoo, world, data):
    response = api(espoo, world.principal).post("/api/v1/annual-clock/activities/", {
        "clock": world.clock.pk, "ring": data["ring"], "month_start": 9, "month_end": 9},
        content_type="application/json")
    assert response.status_code == 400 and "title_fi" in response.json()
    with schema_context(espoo.schema_name):
        assert list(world.clock.activities.values_list("title_fi", flat=True)) == ["Oma koulu"]


def test_named_owners_must_be_the_schools_staff(espoo, world, data):
    """An id of someone outside the school (here: another school's principal) is refused, so the
    activity's page never names a user the school does not have."""
    client = api(espoo, world.principal)
    payload = {"clock": world.clock.pk, "ring": data["ring"], "title_fi": "Nimetty", "month_start": 9,
               "month_end": 9, "owner_ids": [world.nurse.pk, world.other_principal.pk]}
    refused = client.post("/api/v1/annual-clock/activities/", payload, content_type="application/json")
    assert refused.status_code == 400 and "owner_ids" in refused.json(), refused.content
    assert str(world.other_principal.pk) in refused.json()["owner_ids"][0]
    path = f"/api/v1/annual-clock/activities/{data['mine'].pk}/"
    assert client.patch(path, {"owner_ids": [world.other_principal.pk]},
                        content_type="application/json").status_code == 400
    with schema_context(espoo.schema_name):
        assert not Activity.objects.filter(title_fi="Nimetty").exists()
        assert Activity.objects.get(pk=data["mine"].pk).owner_ids == [world.teacher.pk]
    payload["owner_ids"] = [world.nurse.pk]
    assert client.post("/api/v1/annual-clock/activities/", payload,
                       content_type="application/json").json()["owner_ids"] == [world.nurse.pk]
    # The owners it has already may stay, with one more of the school's staff.
    kept = client.patch(path, {"owner_ids": [world.teacher.pk, world.kuraattori.pk]},
                        content_type="application/json")
    assert kept.status_code == 200 and kept.json()["owner_ids"] == [world.teacher.pk, world.kuraattori.pk]
