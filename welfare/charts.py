"""Server-rendered SVG bar charts for the dashboards and reports (no JavaScript, no CDN, no inline
styles: only SVG presentation attributes, so the strict CSP holds). Each chart has a <title> and
<desc>; the page shows the same figures in a table beside it, which is what screen readers use.
"""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#0b5394", "#a4161a", "#38761d", "#7f6000", "#5b2c83", "#1b1f24"]  # ≥ 4.5:1 on white
TEXT = "#1b1f24"
GRID = "#c8d0d9"
WIDTH, LABEL_WIDTH, VALUE_WIDTH, BAR, GAP, TOP = 720, 220, 56, 12, 10, 40
MAX_ROWS = 30


def bar_chart(*, key: str, title: str, description: str, labels: list[str],
              series: list[tuple[str, list[float | None]]], unit: str = "", max_rows: int = MAX_ROWS) -> SafeString:
    """Horizontal grouped bars: one group per label, one bar per series. ``None`` (a suppressed or
    missing figure) draws no bar. With more than ``max_rows`` labels, the rows with the largest
    first-series values are drawn and the description says so (the table lists every row)."""
    rows = list(range(len(labels)))
    if len(rows) > max_rows:
        first = series[0][1] if series else []
        rows = sorted(rows, key=lambda i: -(first[i] or 0))[:max_rows]
    peak = max([v for _name, values in series for i, v in enumerate(values) if i in rows and v] or [1])
    group = BAR * max(len(series), 1) + GAP
    legend = 22 if len(series) > 1 else 0
    height = TOP + legend + group * len(rows) + 24
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'class="chart" aria-labelledby="{escape(key)}-t {escape(key)}-d" focusable="false">',
             f'<title id="{escape(key)}-t">{escape(title)}</title>'
             f'<desc id="{escape(key)}-d">{escape(description)}</desc>']
    x0 = LABEL_WIDTH
    for tick in range(5):
        x = x0 + plot * tick / 4
        parts.append(f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{height - 20}" stroke="{GRID}"/>')
        parts.append(f'<text x="{x:.1f}" y="{TOP - 12}" font-size="11" text-anchor="middle" fill="{TEXT}">'
                     f"{escape(number_format(peak * tick / 4, 0))}</text>")
    if legend:
        lx = x0
        for k, (name, _values) in enumerate(series):
            colour = PALETTE[k % len(PALETTE)]
            parts.append(f'<rect x="{lx}" y="{TOP}" width="12" height="12" fill="{colour}"/>'
                         f'<text x="{lx + 16}" y="{TOP + 10}" font-size="12" fill="{TEXT}">{escape(name)}</text>')
            lx += 24 + 7 * len(name)
    for position, i in enumerate(rows):
        y = TOP + legend + position * group
        label = labels[i] if len(labels[i]) <= 32 else labels[i][:31] + "…"
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + group / 2:.1f}" font-size="12" text-anchor="end" '
                     f'dominant-baseline="middle" fill="{TEXT}">{escape(label)}</text>')
        for k, (_name, values) in enumerate(series):
            value = values[i]
            by = y + k * BAR
            if value is None:
                parts.append(f'<text x="{x0 + 4}" y="{by + BAR - 2}" font-size="11" fill="{TEXT}">–</text>')
                continue
            width = plot * value / peak if peak else 0
            parts.append(f'<rect x="{x0}" y="{by}" width="{width:.1f}" height="{BAR - 2}" '
                         f'fill="{PALETTE[k % len(PALETTE)]}"/>')
            parts.append(f'<text x="{x0 + width + 4:.1f}" y="{by + BAR - 2}" font-size="11" fill="{TEXT}">'
                         f"{escape(number_format(value, 1 if value % 1 else 0))}{escape(unit)}</text>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every text above is escaped
