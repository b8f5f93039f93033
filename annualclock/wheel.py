"""The wheel: a server-rendered SVG of the school year (August at the top, clockwise), one ring per
category, today's marker, activities as arcs (month or date ranges) or dots (a few days).

Legible with hundreds of activities because the only text in the drawing is the twelve month
names: an activity's title is in its link's ``aria-label`` and ``<title>`` (tooltip) and in the
accessible list beside the wheel. Arcs that overlap in time are put in separate lanes of their
ring, so no two shapes overlap (tests/annualclock/test_wheel.py checks it with 150 activities).

Every activity is an SVG ``<a href>``: focusable with Tab, opened with Enter, announced by its label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from django.utils.dates import MONTHS_3
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from annualclock.models import SCHOOL_YEAR_MONTHS, Status, school_year_month_start

SIZE = 1000
CENTRE = SIZE / 2
MONTH_OUTER, MONTH_INNER = 496.0, 446.0
RINGS_OUTER, RINGS_INNER = 438.0, 120.0
RING_GAP = 6.0
MAX_LANE = 22.0
DOT_DAYS = 7  # spans shorter than this are drawn as dots
DOT_HALF_WIDTH = 0.011  # of the year: a dot occupies its lane for about ±4 days
MONTH_FILLS = ("#e4e8ec", "#f3f5f7")
BAND_FILLS = ("#f7f8fa", "#eef1f4")


# Status is drawn, not only coloured: planned shapes are pale with an outline, done ones solid,
# cancelled ones faint and dashed (presentation attributes, so the PDF looks the same).
STATUS_PAINT = {
    Status.PLANNED: 'fill-opacity="0.35" stroke="#1a1a1a" stroke-width="1.5"',
    Status.DONE: 'fill-opacity="1" stroke="#1a1a1a" stroke-width="0.5"',
    Status.CANCELLED: 'fill-opacity="0.1" stroke="#555555" stroke-width="1.5" stroke-dasharray="6 4"',
}


@dataclass
class Shape:
    """One activity or provider entry on the wheel."""

    key: str
    label: str  # the accessible name
    url: str
    start: float  # fraction of the school year, 0 = 1 August
    end: float
    status: str = ""
    dot: bool = False
    lane: int = 0


@dataclass
class WheelRing:
    key: str
    label: str
    color: str
    shapes: list[Shape] = field(default_factory=list)
    read_only: bool = False
    lanes: int = 1
    inner: float = 0.0
    outer: float = 0.0


def year_fraction(day: date, year_start: date, year_end: date) -> float:
    total = (year_end - year_start).days + 1
    return min(max((day - year_start).days / total, 0.0), 1.0)


def _point(fraction: float, radius: float) -> tuple[float, float]:
    angle = fraction * 2 * math.pi
    return CENTRE + radius * math.sin(angle), CENTRE - radius * math.cos(angle)


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def sector_path(start: float, end: float, inner: float, outer: float) -> str:
    """An annular sector between two year fractions."""
    end = min(end, start + 0.9999)
    large = 1 if end - start > 0.5 else 0
    x1, y1 = _point(start, outer)
    x2, y2 = _point(end, outer)
    x3, y3 = _point(end, inner)
    x4, y4 = _point(start, inner)
    return (f"M{_fmt(x1)} {_fmt(y1)}A{_fmt(outer)} {_fmt(outer)} 0 {large} 1 {_fmt(x2)} {_fmt(y2)}"
            f"L{_fmt(x3)} {_fmt(y3)}A{_fmt(inner)} {_fmt(inner)} 0 {large} 0 {_fmt(x4)} {_fmt(y4)}Z")


def assign_lanes(shapes: list[Shape]) -> int:
    """Greedy interval partitioning: shapes overlapping in time get different lanes. Returns the count."""
    lane_ends: list[float] = []
    for shape in sorted(shapes, key=lambda s: (s.start, s.end)):
        low, high = (shape.start - DOT_HALF_WIDTH, shape.start + DOT_HALF_WIDTH) if shape.dot else (shape.start,
                                                                                                   shape.end)
        for index, lane_end in enumerate(lane_ends):
            if lane_end < low:
                shape.lane, lane_ends[index] = index, high
                break
        else:
            shape.lane = len(lane_ends)
            lane_ends.append(high)
    return max(len(lane_ends), 1)


def layout(rings: list[WheelRing]) -> list[WheelRing]:
    """Give every ring its radii and every shape its lane."""
    count = max(len(rings), 1)
    band = (RINGS_OUTER - RINGS_INNER) / count
    for index, ring in enumerate(rings):
        ring.outer = RINGS_OUTER - index * band
        ring.inner = ring.outer - band + RING_GAP
        ring.lanes = assign_lanes(ring.shapes)
    return rings


def lane_radii(ring: WheelRing, lane: int) -> tuple[float, float]:
    """(inner, outer) radius of a lane: lane 0 outermost; thin lanes when many overlap."""
    height = min((ring.outer - ring.inner) / ring.lanes, MAX_LANE)
    outer = ring.outer - lane * height
    return outer - height + min(1.5, height / 4), outer


def _shape_svg(ring: WheelRing, shape: Shape) -> str:
    inner, outer = lane_radii(ring, shape.lane)
    paint = f'fill="{escape(ring.color)}" {STATUS_PAINT.get(shape.status, "")}'.strip()
    if shape.dot:
        x, y = _point(shape.start, (inner + outer) / 2)
        radius = max(min((outer - inner) / 2, 9.0), 2.5)
        body = f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(radius)}" {paint}/>'
    else:
        body = f'<path d="{sector_path(shape.start, shape.end, inner, outer)}" {paint}/>'
    label = escape(shape.label)
    classes = f"wheel-item status-{escape(shape.status or 'entry')}"
    if shape.url:
        return (f'<a href="{escape(shape.url)}" class="{classes}" id="wheel-{escape(shape.key)}" '
                f'aria-label="{label}"><title>{label}</title>{body}</a>')
    return f'<g class="{classes}" role="img" aria-label="{label}"><title>{label}</title>{body}</g>'


def month_names() -> list[str]:
    return [str(MONTHS_3[month]).capitalize() for month in SCHOOL_YEAR_MONTHS]


def render(rings: list[WheelRing], *, school_year, today: date, title: str) -> SafeString:
    """The SVG (role=group, titled), with lanes laid out."""
    year_start, year_end = school_year.start_date, school_year.end_date
    layout(rings)
    parts = [f'<svg class="wheel" viewBox="0 0 {SIZE} {SIZE}" role="group" aria-labelledby="wheel-title" '
             f'xmlns="http://www.w3.org/2000/svg"><title id="wheel-title">{escape(title)}</title>']
    parts.append('<g class="wheel-months" aria-hidden="true">')
    names = month_names()
    for index, month in enumerate(SCHOOL_YEAR_MONTHS):
        start = year_fraction(school_year_month_start(school_year, month), year_start, year_end)
        end = (year_fraction(school_year_month_start(school_year, SCHOOL_YEAR_MONTHS[index + 1]), year_start,
                             year_end) if index < 11 else 1.0)
        parts.append(f'<path class="month month-{index % 2}" fill="{MONTH_FILLS[index % 2]}" '
                     f'd="{sector_path(start, end, MONTH_INNER, MONTH_OUTER)}"/>')
        x, y = _point((start + end) / 2, (MONTH_INNER + MONTH_OUTER) / 2)
        parts.append(f'<text x="{_fmt(x)}" y="{_fmt(y)}" class="month-label" text-anchor="middle" fill="#1a1a1a" '
                     f'font-size="24" dominant-baseline="central">{escape(names[index])}</text>')
        x1, y1 = _point(start, RINGS_INNER - 10)
        x2, y2 = _point(start, MONTH_INNER)
        parts.append(f'<line class="month-line" stroke="#b0b7bf" stroke-width="1" x1="{_fmt(x1)}" y1="{_fmt(y1)}" '
                     f'x2="{_fmt(x2)}" y2="{_fmt(y2)}"/>')
    parts.append("</g>")
    parts.append('<g class="wheel-rings" aria-hidden="true">')
    for index, ring in enumerate(rings):
        parts.append(f'<path class="ring-band ring-band-{index % 2}" fill="{BAND_FILLS[index % 2]}" '
                     f'd="{sector_path(0, 0.99999, ring.inner, ring.outer)}"/>')
    parts.append("</g>")
    for ring in rings:
        parts.append(f'<g class="wheel-ring{" read-only" if ring.read_only else ""}" role="list" '
                     f'aria-label="{escape(ring.label)}">')
        for shape in ring.shapes:
            parts.append(f'<g role="listitem">{_shape_svg(ring, shape)}</g>')
        parts.append("</g>")
    if year_start <= today <= year_end:
        fraction = year_fraction(today, year_start, year_end)
        x1, y1 = _point(fraction, RINGS_INNER - 30)
        x2, y2 = _point(fraction, MONTH_OUTER)
        label = escape(_("Today, %(date)s") % {"date": date_format(today, "SHORT_DATE_FORMAT")})
        parts.append(f'<g class="today" role="img" aria-label="{label}"><title>{label}</title>'
                     f'<line x1="{_fmt(x1)}" y1="{_fmt(y1)}" x2="{_fmt(x2)}" y2="{_fmt(y2)}" stroke="#b00020" '
                     f'stroke-width="4"/><circle cx="{_fmt(x2)}" cy="{_fmt(y2)}" r="8" fill="#b00020"/></g>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every dynamic value above is escaped
