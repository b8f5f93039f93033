"""The wheel stays legible with 150 activities: the only text is the month names, and no two
activity shapes overlap (overlapping times go to separate lanes of their ring)."""

from __future__ import annotations

import datetime
import itertools
import random
import re

import pytest

from annualclock import wheel
from annualclock.models import Ring, Status
from annualclock.presentation import render_wheel
from annualclock.selectors import placed_activities, rings
from tests.annualclock.factories import ActivityFactory, ring

pytestmark = pytest.mark.django_db


def _overlap(a: wheel.Shape, b: wheel.Shape) -> bool:
    def interval(shape):
        return ((shape.start - wheel.DOT_HALF_WIDTH, shape.start + wheel.DOT_HALF_WIDTH) if shape.dot
                else (shape.start, shape.end))

    (a0, a1), (b0, b1) = interval(a), interval(b)
    return a0 <= b1 and b0 <= a1


def test_150_activities_draw_without_overlapping_shapes_or_text(in_espoo, world):
    rng = random.Random(7)
    ring("communal")  # the default rings exist
    codes = list(Ring.objects.values_list("code", flat=True))
    for n in range(150):
        first = rng.randrange(12)
        months = (8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7)
        last = min(first + rng.choice([0, 0, 1, 2]), 11)
        if n % 5 == 0:
            day = datetime.date(2026, 8, 1) + datetime.timedelta(days=rng.randrange(360))
            ActivityFactory(clock=world.clock, ring=Ring.objects.get(code=rng.choice(codes)), start_date=day,
                            end_date=day, title_fi=f"Päivä {n}", status=rng.choice(Status.values))
        else:
            ActivityFactory(clock=world.clock, ring=Ring.objects.get(code=rng.choice(codes)),
                            month_start=months[first], month_end=months[last], title_fi=f"Kuukausi {n}",
                            status=rng.choice(Status.values))
    placed = placed_activities(world.clock)
    svg = str(render_wheel(world.clock, rings(), placed, [], datetime.date(2026, 10, 1)))

    assert len(re.findall(r'class="wheel-item', svg)) == 150
    assert len(re.findall(r"<text\b", svg)) == 12  # month names only; titles are in labels and the list
    assert all(re.search(rf'aria-label="Kuukausi {n}: |aria-label="Päivä {n}: ', svg) for n in range(150))

    from annualclock.presentation import wheel_rings

    laid_out = wheel.layout(wheel_rings(rings(), placed, [], world.clock))
    for band in laid_out:
        for a, b in itertools.combinations(band.shapes, 2):
            if _overlap(a, b):
                assert a.lane != b.lane, (a.label, b.label)
        for shape in band.shapes:
            inner, outer = wheel.lane_radii(band, shape.lane)
            assert band.inner - 0.01 <= inner < outer <= band.outer + 0.01
            assert outer - inner >= 2.0  # still visible and clickable
    bands = sorted((band.inner, band.outer) for band in laid_out)
    assert all(upper[0] >= lower[1] for lower, upper in zip(bands, bands[1:], strict=False))


def test_today_marker_and_august_at_the_top(in_espoo, world):
    svg = str(render_wheel(world.clock, rings(), [], [], datetime.date(2026, 8, 1)))
    marker = re.search(r'<g class="today"[^>]*aria-label="([^"]+)"><title>[^<]*</title><line x1="([\d.]+)" '
                       r'y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"', svg)
    assert marker and "1.8.2026" in marker.group(1)
    x1, y1, x2, y2 = map(float, marker.groups()[1:])
    assert x1 == x2 == 500.0 and y2 < y1  # straight up from the centre: 1 August is at twelve o'clock
    assert '<g class="today"' not in str(render_wheel(world.clock, rings(), [], [], datetime.date(2030, 1, 1)))
