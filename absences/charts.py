"""Server-rendered SVG chart of a pupil's cumulative absence hours over the counting period, with a
horizontal line at each step's threshold. No JavaScript, no inline styles (CSP): only SVG
presentation attributes. The chart carries <title> and <desc>; the page shows the same numbers
in a data table beside it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import date_format, number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from welfare.charts import GRID as GRID_COLOUR
from welfare.charts import PALETTE
from welfare.charts import TEXT as TEXT_COLOUR

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 48, 112, 16, 36
LINE_COLOUR, THRESHOLD_COLOUR = PALETTE[0], PALETTE[1]  # the dashboards' colours (≥ 4.5:1 on white)


@dataclass(frozen=True)
class Threshold:
    level: int
    value: Decimal
    name: str = ""


def _nice_step(span: float) -> float:
    """A round tick step giving about five ticks over ``span``."""
    raw = max(span, 1.0) / 5
    magnitude = 10 ** len(str(int(raw))) / 10
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _months(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    first = start.replace(day=1)
    if first < start:
        first = (first + datetime.timedelta(days=32)).replace(day=1)
    months = []
    while first <= end:
        months.append(first)
        first = (first + datetime.timedelta(days=32)).replace(day=1)
    return months


def _num(value) -> str:
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return number_format(int(number))
    return number_format(number, decimal_pos=1)


def describe(series, thresholds: list[Threshold], start: datetime.date, end: datetime.date) -> str:
    """The chart's text alternative: the total so far and each step's threshold, reached or not."""
    if series:
        last_date, _day, total = series[-1]
        text = _("Cumulative counted absence hours from %(start)s to %(end)s: %(total)s hours by %(date)s.") % {
            "start": date_format(start, "SHORT_DATE_FORMAT"), "end": date_format(end, "SHORT_DATE_FORMAT"),
            "total": _num(total), "date": date_format(last_date, "SHORT_DATE_FORMAT")}
    else:
        text = _("No counted absence hours in the period from %(start)s to %(end)s.") % {
            "start": date_format(start, "SHORT_DATE_FORMAT"), "end": date_format(end, "SHORT_DATE_FORMAT")}
    parts = [text]
    for threshold in thresholds:
        reached = next((d for d, _day, total in series if total >= threshold.value), None)
        if reached:
            parts.append(_("Step %(level)s (%(value)s h) reached on %(date)s.") % {
                "level": threshold.level, "value": _num(threshold.value),
                "date": date_format(reached, "SHORT_DATE_FORMAT")})
        else:
            parts.append(_("Step %(level)s (%(value)s h) not reached.") % {
                "level": threshold.level, "value": _num(threshold.value)})
    return " ".join(parts)


def cumulative_hours_svg(series: list[tuple[datetime.date, Decimal, Decimal]], thresholds: list[Threshold],
                         start: datetime.date, end: datetime.date, *, title: str, chart_id: str = "hours-chart",
                         ) -> SafeString:
    """An SVG (valid XML) of cumulative hours over [start, end] as a step line, thresholds as dashed
    lines labelled "<level>. <value> h". ``series`` is (date, hours that day, cumulative)."""
    if end <= start:
        end = start + datetime.timedelta(days=1)
    top_value = max([float(total) for _d, _h, total in series] + [float(t.value) for t in thresholds] + [10.0])
    step = _nice_step(top_value * 1.1)
    y_max = step * (int(top_value * 1.1 // step) + 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    days = (end - start).days

    def x(date: datetime.date) -> float:
        return round(LEFT + plot_w * min(max((date - start).days, 0), days) / days, 1)

    def y(value) -> float:
        return round(TOP + plot_h * (1 - float(value) / y_max), 1)

    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" class="hours-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{title_id} {desc_id}" font-family="sans-serif" font-size="12">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(describe(series, thresholds, start, end))}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        '<g aria-hidden="true">',
    ]
    tick = 0.0
    while tick <= y_max + 1e-9:
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(tick)}" y2="{y(tick)}" stroke="{GRID_COLOUR}" '
                   f'stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4}" text-anchor="end" fill="{TEXT_COLOUR}">'
                   f'{escape(_num(Decimal(str(tick))))}</text>')
        tick += step
    for month in _months(start, end):
        out.append(f'<line x1="{x(month)}" x2="{x(month)}" y1="{TOP + plot_h}" y2="{TOP + plot_h + 5}" '
                   f'stroke="{TEXT_COLOUR}" stroke-width="1"/>')
        out.append(f'<text x="{x(month) + 2}" y="{TOP + plot_h + 18}" fill="{TEXT_COLOUR}">'
                   f'{escape(date_format(month, "M"))}</text>')
    out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
               f'stroke="{TEXT_COLOUR}" stroke-width="1.5"/>')
    out.append(f'<text x="{LEFT}" y="{HEIGHT - 4}" fill="{TEXT_COLOUR}">{escape(_("Lesson hours, cumulative"))}'
               '</text>')
    for threshold in thresholds:
        ty = y(threshold.value)
        out.append(f'<line class="threshold" data-level="{threshold.level}" data-value="{threshold.value}" '
                   f'x1="{LEFT}" x2="{LEFT + plot_w}" y1="{ty}" y2="{ty}" stroke="{THRESHOLD_COLOUR}" '
                   f'stroke-width="1.5" stroke-dasharray="6 4"/>')
        label = _("Step %(level)s: %(value)s h") % {"level": threshold.level, "value": _num(threshold.value)}
        out.append(f'<text x="{LEFT + plot_w + 6}" y="{ty + 4}" fill="{THRESHOLD_COLOUR}">{escape(label)}</text>')
    if series:
        points = [(x(start), y(0))]
        previous = Decimal("0")
        for date, _day, total in series:
            points.append((x(date), y(previous)))
            points.append((x(date), y(total)))
            previous = total
        points.append((x(min(max(series[-1][0], start), end)), y(previous)))
        path = " ".join(f"{px},{py}" for px, py in points)
        out.append(f'<polyline class="cumulative" points="{path}" fill="none" stroke="{LINE_COLOUR}" '
                   'stroke-width="2.5" stroke-linejoin="round"/>')
        for date, _day, total in series:
            out.append(f'<circle cx="{x(date)}" cy="{y(total)}" r="3" fill="{LINE_COLOUR}"/>')
    out.append("</g></svg>")
    return mark_safe("".join(out))  # noqa: S308 — every interpolated text is escaped above
