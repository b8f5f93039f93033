"""iCalendar feeds (RFC 5545) of a school's clock and of one person's tasks, built with ``icalendar``.

* Every event is all-day (``VALUE=DATE``; ``DTEND`` is the day after the last day, as RFC 5545
  says for all-day events), so month-level activities show as whole months.
* UIDs are stable: they name the municipality, the activity and the occurrence, never the token,
  so regenerating a feed's address does not duplicate events in a subscriber's calendar.
* ``DTSTAMP`` and ``LAST-MODIFIED`` are the activity's last change (UTC); a ``VTIMEZONE`` for
  Europe/Helsinki is included and named in ``X-WR-TIMEZONE``.
* Cancelled activities stay in the feed with ``STATUS:CANCELLED`` so calendars remove them.
* Google Calendar refreshes subscribed feeds only about once a day (anchors.md A3); the feed page
  says so and offers the plain https address as well as webcal://.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, Timezone

from annualclock.models import Activity, Clock, Status
from annualclock.schedule import occurrences, terms_of
from welfare.clock import ClockEntry

TIMEZONE = "Europe/Helsinki"
PRODID = "-//Yhdessä//Annual clock//FI"


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    summary: str
    description: str
    start: date
    end: date  # inclusive
    url: str
    stamp: datetime
    category: str
    cancelled: bool = False


def uid_domain() -> str:
    return f"{connection.schema_name}.annualclock.yhdessa"


def activity_events(activity: Activity, absolute, terms: list[tuple[date, date]], *,
                    with_school: bool = False) -> list[FeedEvent]:
    """One event per occurrence of a clock activity (``absolute`` makes a URL absolute; ``terms``
    are the terms of the activity's school year, ``schedule.terms_of``)."""
    stamp = (activity.updated_at or timezone.now()).astimezone(UTC)
    url = absolute(reverse("annualclock:activity_detail", args=[activity.pk]))
    description = "\n\n".join(part for part in (activity.description, url) if part)
    summary = f"{activity.title} ({activity.clock.school.name})" if with_school else activity.title
    return [FeedEvent(uid=f"activity-{activity.pk}-{occurrence.index}@{uid_domain()}", summary=summary,
                      description=description, start=occurrence.start, end=occurrence.end, url=url, stamp=stamp,
                      category=activity.ring.name, cancelled=activity.status == Status.CANCELLED)
            for occurrence in occurrences(activity, activity.clock.school_year, terms)]


def _events(activities, absolute, *, with_school: bool = False) -> list[FeedEvent]:
    """Every activity's events; the terms are read once per school year, not once per activity."""
    terms: dict[int, list[tuple[date, date]]] = {}
    events = []
    for activity in activities:
        year = activity.clock.school_year
        if year.pk not in terms:
            terms[year.pk] = terms_of(year)
        events += activity_events(activity, absolute, terms[year.pk], with_school=with_school)
    return events


def entry_events(entries: list[ClockEntry], absolute, stamp: datetime) -> list[FeedEvent]:
    return [FeedEvent(uid=f"{entry.source}-{entry.key}@{uid_domain()}", summary=entry.title,
                      description=absolute(entry.url) if entry.url else "", start=entry.start, end=entry.end,
                      url=absolute(entry.url) if entry.url else "", stamp=stamp, category=entry.ring_label)
            for entry in entries]


def build_calendar(name: str, events: list[FeedEvent]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", TIMEZONE)
    calendar.add("refresh-interval", timedelta(hours=12), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT12H")
    first = min((event.start for event in events), default=timezone.localdate())
    last = max((event.end for event in events), default=timezone.localdate())
    calendar.add_component(Timezone.from_tzid(TIMEZONE, first_date=date(first.year, 1, 1),
                                              last_date=date(last.year + 1, 1, 1)))
    for item in sorted(events, key=lambda e: (e.start, e.uid)):
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", item.stamp)
        event.add("last-modified", item.stamp)
        event.add("dtstart", item.start)
        event.add("dtend", item.end + timedelta(days=1))
        event.add("summary", item.summary)
        if item.description:
            event.add("description", item.description)
        if item.url:
            event.add("url", item.url)
        if item.category:
            event.add("categories", [item.category])
        event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()


def clock_calendar(clock: Clock, activities, entries: list[ClockEntry], absolute, name: str) -> bytes:
    events = _events(activities, absolute) + entry_events(entries, absolute, clock.created_at.astimezone(UTC))
    return build_calendar(name, events)


def person_calendar(activities, absolute, name: str) -> bytes:
    """One person's tasks over their schools: each summary names the school."""
    return build_calendar(name, _events(activities, absolute, with_school=True))
