"""What the clock's screens and PDFs show: the wheel's rings and the accessible month list, built
from the same placed activities so the two always hold the same content."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.urls import reverse
from django.utils.dates import MONTHS
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from annualclock import wheel
from annualclock.models import SCHOOL_YEAR_MONTHS, Activity, Clock, Ring
from annualclock.selectors import PlacedActivity
from welfare.clock import ClockEntry

READ_ONLY_COLOR = "#5b5b5b"


def month_name(month: int) -> str:
    return str(MONTHS[month]).capitalize()


def period_text(activity: Activity, start: date, end: date) -> str:
    """"September–October", or "12.9.2026" / "12.9.2026–14.9.2026" for dated activities."""
    if activity.start_date is None:
        if activity.month_start == activity.month_end:
            return month_name(activity.month_start)
        return f"{month_name(activity.month_start)}–{month_name(activity.month_end)}"
    return date_range_text(start, end)


def date_range_text(start: date, end: date) -> str:
    first = date_format(start, "SHORT_DATE_FORMAT")
    return first if start == end else f"{first}–{date_format(end, 'SHORT_DATE_FORMAT')}"


def activity_label(activity: Activity, period: str) -> str:
    return _("%(title)s: %(period)s, %(ring)s, %(status)s") % {
        "title": activity.title, "period": period, "ring": activity.ring.name, "status": activity.get_status_display()}


@dataclass
class ListItem:
    """One row of the accessible list (an activity of this clock or another module's entry)."""

    key: str
    title: str
    period: str
    ring: str
    url: str
    status: str = ""
    status_label: str = ""
    activity: Activity | None = None
    read_only: bool = False


@dataclass
class MonthGroup:
    month: int
    name: str
    items: list[ListItem] = field(default_factory=list)


def list_item(item: PlacedActivity) -> ListItem:
    activity = item.activity
    return ListItem(key=f"activity-{activity.pk}", title=activity.title,
                    period=period_text(activity, item.start, item.end), ring=activity.ring.name,
                    url=reverse("annualclock:activity_detail", args=[activity.pk]), status=activity.status,
                    status_label=activity.get_status_display(), activity=activity)


def entry_item(entry: ClockEntry) -> ListItem:
    return ListItem(key=f"{entry.source}-{entry.key}", title=entry.title,
                    period=date_range_text(entry.start, entry.end), ring=entry.ring_label, url=entry.url,
                    status_label=entry.status, read_only=True)


def month_groups(placed: list[PlacedActivity], entries: list[ClockEntry]) -> list[MonthGroup]:
    """The list beside the wheel: every month of the school year (August first) with its items,
    each item under the month it starts in."""
    groups = {month: MonthGroup(month, month_name(month)) for month in SCHOOL_YEAR_MONTHS}
    dated = [(item.start, 0, list_item(item)) for item in placed]
    dated += [(entry.start, 1, entry_item(entry)) for entry in entries]
    for start, _kind, item in sorted(dated, key=lambda row: (row[0], row[1])):
        groups[start.month].items.append(item)
    return [groups[month] for month in SCHOOL_YEAR_MONTHS]


def wheel_rings(rings: list[Ring], placed: list[PlacedActivity], entries: list[ClockEntry], clock: Clock,
                *, link: bool = True) -> list[wheel.WheelRing]:
    year = clock.school_year
    by_ring = {ring.pk: wheel.WheelRing(key=f"ring-{ring.pk}", label=ring.name, color=ring.color) for ring in rings}
    for item in placed:
        activity = item.activity
        ring = by_ring.get(activity.ring_id)
        if ring is None:  # a ring taken out of use still shows its activities
            ring = by_ring[activity.ring_id] = wheel.WheelRing(key=f"ring-{activity.ring_id}",
                                                              label=activity.ring.name, color=activity.ring.color)
        ring.shapes.append(_shape(f"activity-{activity.pk}",
                                  activity_label(activity, period_text(activity, item.start, item.end)),
                                  reverse("annualclock:activity_detail", args=[activity.pk]) if link else "",
                                  item.start, item.end, year, activity.status))
    read_only: dict[str, wheel.WheelRing] = {}
    for entry in entries:
        ring = read_only.setdefault(entry.source, wheel.WheelRing(
            key=f"source-{entry.source}", label=entry.ring_label, color=READ_ONLY_COLOR, read_only=True))
        label = f"{entry.title}: {date_range_text(entry.start, entry.end)}, {entry.ring_label}"
        if entry.status:
            label += f", {entry.status}"
        ring.shapes.append(_shape(f"{entry.source}-{entry.key}", label, entry.url if link else "", entry.start,
                                  entry.end, year, ""))
    return [*by_ring.values(), *read_only.values()]


def _shape(key, label, url, start, end, year, status) -> wheel.Shape:
    first = wheel.year_fraction(start, year.start_date, year.end_date)
    last = wheel.year_fraction(end, year.start_date, year.end_date) + 1 / ((year.end_date - year.start_date).days + 1)
    dot = (end - start).days + 1 < wheel.DOT_DAYS
    return wheel.Shape(key=key, label=label, url=url, start=first, end=min(last, 1.0), status=status, dot=dot)


def render_wheel(clock: Clock, rings: list[Ring], placed, entries, today: date, *, link: bool = True):
    title = _("Annual clock of %(school)s %(year)s") % {"school": clock.school.name, "year": clock.school_year}
    return wheel.render(wheel_rings(rings, placed, entries, clock, link=link), school_year=clock.school_year,
                        today=today, title=title)
