"""iCalendar feeds: parsed back with the icalendar library and checked field by field; revoking."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context
from icalendar import Calendar

from annualclock.models import FeedToken, Recurrence, Status
from tests.annualclock.factories import ActivityFactory
from tests.conftest import host
from welfare.models import StaffRole

pytestmark = pytest.mark.django_db

D = datetime.date


def make_feed(client, **data) -> str:
    response = client.post("/annual-clock/feeds/", data)
    assert response.status_code == 200
    url = response.context["new_urls"]["https"]
    assert response.context["new_urls"]["webcal"] == "webcal://" + url.split("://", 1)[1]
    return url.split("espoo.localhost", 1)[1]


def fetch(espoo, path) -> Calendar:
    response = Client(headers={"host": host(espoo)}).get(path)  # no session: the secret is the key
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


@pytest.fixture
def activities(espoo, world):
    with schema_context(espoo.schema_name):
        month = ActivityFactory(clock=world.clock, title_fi="Ryhmäytyminen", description_fi="Kaikki 7. luokat",
                                month_start=8, month_end=9)
        monthly = ActivityFactory(clock=world.clock, title_fi="OHR-kokous", month_start=11, month_end=12,
                                  recurrence=Recurrence.MONTHLY, owner_ids=[world.kuraattori.pk])
        dated = ActivityFactory(clock=world.clock, title_fi="Poistumisharjoitus", start_date=D(2026, 9, 17),
                                end_date=D(2026, 9, 17), status=Status.CANCELLED)
    return {"month": month, "monthly": monthly, "dated": dated}


def test_school_clock_feed_is_valid_icalendar_field_by_field(espoo, world, client_for, activities):
    path = make_feed(client_for(world.teacher), kind="clock", clock=world.clock.pk)
    assert path.startswith("/annual-clock/feeds/") and path.endswith(".ics")
    calendar = fetch(espoo, path)

    assert str(calendar["VERSION"]) == "2.0" and "Yhdessä" in str(calendar["PRODID"])
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Helsinki"
    [timezone] = calendar.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "Europe/Helsinki"
    assert {c.name for c in timezone.subcomponents} == {"STANDARD", "DAYLIGHT"}

    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    month = activities["month"]
    event = events[f"activity-{month.pk}-0@{espoo.schema_name}.annualclock.yhdessa"]
    assert str(event["SUMMARY"]) == "Ryhmäytyminen"
    # All-day: DATE values, DTEND the day after the last day.
    assert event.decoded("DTSTART") == D(2026, 8, 1) and type(event.decoded("DTSTART")) is datetime.date
    assert event.decoded("DTEND") == D(2026, 10, 1) and type(event.decoded("DTEND")) is datetime.date
    assert event["DTSTART"].params.get("VALUE") == "DATE"
    stamp = event.decoded("DTSTAMP")
    assert isinstance(stamp, datetime.datetime) and stamp.utcoffset() == datetime.timedelta(0)
    assert "Kaikki 7. luokat" in str(event["DESCRIPTION"])
    assert str(event["URL"]) == f"http://espoo.localhost/annual-clock/activities/{month.pk}/"
    assert str(event["STATUS"]) == "CONFIRMED" and str(event["TRANSP"]) == "TRANSPARENT"
    assert event["CATEGORIES"].cats == ["Yhteisöllinen hyvinvointi"]

    monthly = [e for uid, e in events.items() if uid.startswith(f"activity-{activities['monthly'].pk}-")]
    assert [(e.decoded("DTSTART"), e.decoded("DTEND")) for e in sorted(monthly, key=lambda e: e.decoded("DTSTART"))] \
        == [(D(2026, 11, 1), D(2026, 12, 1)), (D(2026, 12, 1), D(2027, 1, 1))]
    dated = events[f"activity-{activities['dated'].pk}-0@{espoo.schema_name}.annualclock.yhdessa"]
    assert (dated.decoded("DTSTART"), dated.decoded("DTEND")) == (D(2026, 9, 17), D(2026, 9, 18))
    assert str(dated["STATUS"]) == "CANCELLED"
    assert len(events) == 4
    for event in events.values():  # RFC 5545 §3.6.1: UID and DTSTAMP are required
        assert "UID" in event and "DTSTAMP" in event and "DTSTART" in event


def test_uids_stay_the_same_when_the_address_is_regenerated(espoo, world, client_for, activities):
    client = client_for(world.teacher)
    first = make_feed(client, kind="clock", clock=world.clock.pk)
    uids = {str(e["UID"]) for e in fetch(espoo, first).walk("VEVENT")}
    with schema_context(espoo.schema_name):
        feed = FeedToken.objects.get(user_id=world.teacher.pk, revoked_at__isnull=True)
    response = client.post(f"/annual-clock/feeds/{feed.pk}/regenerate/")
    second = response.context["new_urls"]["https"].split("espoo.localhost", 1)[1]
    assert second != first
    assert {str(e["UID"]) for e in fetch(espoo, second).walk("VEVENT")} == uids
    assert Client(headers={"host": host(espoo)}).get(first).status_code == 404


def test_revoked_unknown_or_foreign_tokens_give_404(espoo, vantaa, world, client_for, activities):
    client = client_for(world.teacher)
    path = make_feed(client, kind="clock", clock=world.clock.pk)
    anonymous = Client(headers={"host": host(espoo)})
    assert anonymous.get(path).status_code == 200
    assert Client(headers={"host": host(vantaa)}).get(path).status_code == 404  # another municipality
    assert anonymous.get("/annual-clock/feeds/not-a-real-token.ics").status_code == 404
    with schema_context(espoo.schema_name):
        feed = FeedToken.objects.get(user_id=world.teacher.pk)
        assert len(feed.token_hash) == 64 and feed.token_hash not in path  # only the hash is stored
    # Someone else cannot revoke it.
    assert client_for(world.principal).post(f"/annual-clock/feeds/{feed.pk}/revoke/").status_code == 404
    assert client.post(f"/annual-clock/feeds/{feed.pk}/revoke/").status_code == 302
    assert anonymous.get(path).status_code == 404


def test_feed_ends_when_the_owner_loses_their_role(espoo, world, client_for, activities):
    path = make_feed(client_for(world.teacher), kind="clock", clock=world.clock.pk)
    with schema_context(espoo.schema_name):
        from django.utils import timezone

        StaffRole.objects.filter(user_id=world.teacher.pk).update(revoked_at=timezone.now())
    assert Client(headers={"host": host(espoo)}).get(path).status_code == 404


def test_personal_feed_holds_my_tasks_only(espoo, world, client_for, activities):
    path = make_feed(client_for(world.kuraattori), kind="person")
    events = fetch(espoo, path).walk("VEVENT")
    assert {str(e["SUMMARY"]) for e in events} == {"OHR-kokous (Kaivomäen koulu)"}


def test_feed_page_explains_google_and_offers_https(espoo, world, client_for):
    html = client_for(world.teacher).get("/annual-clock/feeds/").content.decode()
    assert "Google-kalenteri päivittää tilatut kalenterit vain noin kerran vuorokaudessa" in html
    assert "kopioi https-osoite ja lisää se" in html


def test_feed_queries_do_not_grow_with_activities(espoo, world, client_for, activities):
    """The terms of a school year are read once per feed, not once per activity."""
    path = make_feed(client_for(world.kuraattori), kind="person")
    clock_path = make_feed(client_for(world.kuraattori), kind="clock", clock=world.clock.pk)

    def queries(feed_path) -> int:
        with CaptureQueriesContext(connection) as captured:
            fetch(espoo, feed_path)
        return len(captured)

    fetch(espoo, path), fetch(espoo, clock_path)  # the first read stamps last_used_at
    before = queries(path), queries(clock_path)
    with schema_context(espoo.schema_name):
        for n in range(5):
            ActivityFactory(clock=world.clock, title_fi=f"Lisää {n}", month_start=10, month_end=3,
                            recurrence=Recurrence.TERMLY, owner_ids=[world.kuraattori.pk])
    assert len(fetch(espoo, path).walk("VEVENT")) == 2 + 5 * 2  # the monthly task's two months, two terms each
    assert (queries(path), queries(clock_path)) == before
