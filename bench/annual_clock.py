"""annual_clock: benchmarks of the annual clock.

* ``clock_page_ms``: server time of the wheel page (``/annual-clock/clocks/<id>/``, full middleware,
  signed-in coordinator) for a clock with 300 activities, median of 50 after a warm-up (goal < 150 ms);
* ``clock_pdf_s``: rendering the year-plan PDF (A3 wheel + table) of that clock, what the Celery
  task does, median of 3 (goal < 3 s).

Runs in a child process against the bench database, municipality ``bench-clock`` (created once).
"""

from __future__ import annotations

import statistics
import sys
import time

SLUG = "bench-clock"
ACTIVITIES = 300


def run() -> None:
    from bench._common import django_child, emit, ensure_bench_db, log

    ensure_bench_db()
    log(f"annual clock: wheel page and year-plan PDF with {ACTIVITIES} activities on {SLUG}")
    data = django_child("bench.annual_clock", "measure", timeout=900)[-1]
    emit("clock_page_ms", data["page_ms"], "ms", n=data["n"], activities=ACTIVITIES, goal="< 150 ms")
    emit("clock_pdf_s", data["pdf_s"], "s", n=3, activities=ACTIVITIES, bytes=data["pdf_bytes"], goal="< 3 s")


def _setup():
    import datetime
    import random

    from django_tenants.utils import schema_context

    from annualclock.defaults import ensure_default_rings
    from annualclock.models import Activity, Clock, Ring
    from welfare.accounts.models import User
    from welfare.models import Role, School, SchoolYear, StaffRole
    from welfare.services.municipalities import create_municipality, ensure_public_tenant

    ensure_public_tenant()
    municipality = create_municipality(slug=SLUG, name_fi="Kellola", name_sv="Klockby", languages=["fi", "sv"],
                                       wellbeing_county="").municipality
    user, _ = User.objects.get_or_create(email="koordinaattori@bench-clock.test")
    with schema_context(municipality.schema_name):
        ensure_default_rings()
        today = datetime.date.today()
        start = today.year if today.month >= 8 else today.year - 1
        year, _ = SchoolYear.objects.get_or_create(name=f"{start}–{start + 1}", defaults={
            "start_date": datetime.date(start, 8, 1), "end_date": datetime.date(start + 1, 7, 31)})
        school, _ = School.objects.get_or_create(external_id="B1", defaults={
            "name": "Kellolan koulu", "school_type": "basic", "language": "fi"})
        StaffRole.objects.get_or_create(user_id=user.pk, role=Role.MUNICIPAL_COORDINATOR, school=None)
        clock, _ = Clock.objects.get_or_create(school=school, school_year=year)
        missing = ACTIVITIES - clock.activities.count()
        if missing > 0:
            rng = random.Random(300)
            rings = list(Ring.objects.all())
            months = (8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7)
            rows = []
            for n in range(missing):
                first = rng.randrange(12)
                last = min(first + rng.choice([0, 0, 1, 2]), 11)
                rows.append(Activity(clock=clock, ring=rng.choice(rings), title_fi=f"Toiminta {n}",
                                     month_start=months[first], month_end=months[last],
                                     status=rng.choice(["planned", "done", "cancelled"]),
                                     recurrence=rng.choice(["once", "once", "monthly", "termly"])))
            Activity.objects.bulk_create(rows)
    return municipality, user, clock


def measure() -> None:
    from bench._common import result, setup_django

    setup_django()
    from django.test import Client
    from django_tenants.utils import schema_context

    municipality, user, clock = _setup()
    client = Client(headers={"host": f"{SLUG}.localhost"})
    client.force_login(user)
    path = f"/annual-clock/clocks/{clock.pk}/"
    for _ in range(5):
        assert client.get(path).status_code == 200
    timings = []
    for _ in range(50):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    from annualclock.documents import render_year_plan

    pdf_timings = []
    with schema_context(municipality.schema_name):
        for _ in range(3):
            started = time.perf_counter()
            pdf = render_year_plan({"clock": clock.pk}, lambda percent: None)
            pdf_timings.append(time.perf_counter() - started)
    result(page_ms=statistics.median(timings), n=len(timings), pdf_s=statistics.median(pdf_timings),
           pdf_bytes=len(pdf.content))


if __name__ == "__main__":
    if sys.argv[1:] == ["measure"]:
        measure()
    else:
        raise SystemExit(f"unknown command {sys.argv[1:]}")
