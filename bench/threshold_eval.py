"""threshold_eval: evaluating Helsinki's 50,000 pupils against the LAPE staircase.

On the bench database, municipality ``helsinki`` (``seed_demo("helsinki")``: 50,000 pupils,
created if missing), one child process:

1. Data: if ``helsinki`` already holds ≥ 2.9 M daily absence records (bench ``absence_import``
   loads a past school year), they are used and "today" is their last date. Otherwise 3,000,000
   records are generated in SQL, deterministically (hash of pupil and day): each pupil absent on 60
   of the weekdays of the current school year's terms before today, 1–6 lesson hours, categories
   weighted like absence_import's (health 55 %, leave 20, other explained 10, unexplained 10,
   unclassified 5).
2. A published LAPE preset policy (30/50/70/100 h, school year, consecutive-days and unexplained
   rules on) is made the active one; earlier cases, escalations and notifications are emptied.
3. ``evaluate_students()`` for all pupils three times: the first run raises the escalations (and
   their entries and notifications), the next two find nothing new. **threshold_eval_all_s is the
   median of the two steady-state runs** (what the nightly job costs on an ordinary night);
   ``threshold_eval_first_run_s`` is reported beside it.
4. ``threshold_eval_vs_sql``: that time ÷ the median of three runs of one hand-written aggregate
   (``SELECT student_id, sum(hours) FILTER (WHERE category_id = ANY(...)) ... GROUP BY student_id``)
   over the same rows.
   ``threshold_eval_hours_only_vs_sql``: the same with the two extra rules switched off (the counting
   alone, what the hand-written aggregate does; the rules are restored afterwards).
5. ``threshold_eval_incremental_s``: one more school day (5,000 records, 5,000 pupils) is inserted,
   then ``evaluate_students(those pupils)``; the day's rows are removed afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

from bench._common import django_child, emit, ensure_bench_db, log, result, setup_django

SLUG = "helsinki"
DAYS_PER_PUPIL = 60
MIN_EXISTING_ROWS = 2_900_000
INCREMENTAL_PUPILS = 5_000


def run() -> None:
    ensure_bench_db()
    log(f"threshold_eval: {SLUG}, LAPE preset, all pupils (generates 3 M records if missing)")
    data = django_child("bench.threshold_eval", "measure", timeout=2400)[-1]
    emit("threshold_eval_all_s", data["steady_s"], "s", goal="< 3 s", pupils=data["pupils"], records=data["records"],
         runs=data["steady_runs"], note="median of the steady-state runs (no new escalations)")
    emit("threshold_eval_first_run_s", data["first_s"], "s", escalations=data["escalations"],
         notifications=data["notifications"])
    emit("threshold_eval_vs_sql", data["steady_s"] / data["sql_s"], "ratio", goal="<= 2", sql_s=round(data["sql_s"], 4))
    emit("threshold_eval_hours_only_vs_sql", data["hours_only_s"] / data["sql_s"], "ratio",
         hours_only_s=round(data["hours_only_s"], 4),
         note="the same run with the consecutive-days and unexplained rules switched off")
    emit("threshold_eval_incremental_s", data["incremental_s"], "s", goal="< 0.5 s", pupils=data["incremental_pupils"],
         escalations=data["incremental_escalations"])
    emit("threshold_eval_data", data["records"], "rows", source=data["source"], today=data["today"])


# --- child side ----------------------------------------------------------------------------

GENERATE_SQL = """
WITH days AS (
    SELECT d::date AS day, row_number() OVER (ORDER BY d) AS n
      FROM welfare_term t, generate_series(t.start_date, %(last)s::date, interval '1 day') AS d
     WHERE t.school_year_id = %(year)s AND d <= t.end_date AND extract(isodow FROM d) < 6
),
picked AS (
    SELECT s.id AS student_id, days.day, days.n,
           row_number() OVER (PARTITION BY s.id ORDER BY hashint8(s.id * 1000 + days.n)) AS rank
      FROM welfare_student s CROSS JOIN days
)
INSERT INTO absences_absencerecord (student_id, date, category_id, hours)
SELECT student_id, day,
       (%(categories)s::bigint[])[1 + (
           CASE WHEN abs(hashint8(student_id + n * 7919)) %% 100 < 55 THEN 0
                WHEN abs(hashint8(student_id + n * 7919)) %% 100 < 75 THEN 1
                WHEN abs(hashint8(student_id + n * 7919)) %% 100 < 85 THEN 2
                WHEN abs(hashint8(student_id + n * 7919)) %% 100 < 95 THEN 3 ELSE 4 END)],
       1 + abs(hashint8(student_id * 31 + n)) %% 6
  FROM picked WHERE rank <= %(per_pupil)s
"""


def _ensure_data(today):
    from django.db import connection

    from absences.models import AbsenceCategory, AbsenceRecord
    from welfare.models import SchoolYear

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), max(date) FROM absences_absencerecord")
        count, last = cursor.fetchone()
    if count >= MIN_EXISTING_ROWS:
        return count, last, "existing"
    year = SchoolYear.objects.get(start_date__lte=today, end_date__gte=today)
    codes = ["health", "leave", "other_explained", "unexplained", "unclassified"]
    by_code = dict(AbsenceCategory.objects.values_list("code", "pk"))
    log(f"threshold_eval: generating {DAYS_PER_PUPIL} days × pupils of {year} before {today}")
    AbsenceRecord.objects.all().delete()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(GENERATE_SQL, {"last": today - timedelta(days=1), "year": year.pk,
                                      "categories": [by_code[c] for c in codes], "per_pupil": DAYS_PER_PUPIL})
        cursor.execute("ANALYZE absences_absencerecord")
        cursor.execute("SELECT count(*) FROM absences_absencerecord")
        count = cursor.fetchone()[0]
    log(f"threshold_eval: {count:,} records in {time.perf_counter() - started:.1f} s")
    return count, today - timedelta(days=1), "generated"


def _active_lape():
    from absences.models import ThresholdPolicy
    from absences.selectors import active_policy_version
    from absences.services.policies import create_policy_from_preset

    version = active_policy_version()
    if version is None or version.policy.preset != "lape" or version.policy.name != "Bench LAPE":
        ThresholdPolicy.objects.filter(name="Bench LAPE").delete()
        create_policy_from_preset("lape", publish=True, name="Bench LAPE")
    return active_policy_version()


def _measure() -> None:
    setup_django()
    from django.db import connection, transaction
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from absences.models import AbsenceCategory
    from absences.selectors import counting_window
    from absences.services.evaluation import evaluate_students
    from welfare.models import Student
    from welfare.municipalities.models import Municipality
    from welfare.services.demo import seed_demo

    if not Municipality.objects.filter(slug=SLUG).exists():
        log("threshold_eval: seeding helsinki (50,000 pupils)")
        seed_demo("helsinki")
    municipality = Municipality.objects.get(slug=SLUG)
    with schema_context(municipality.schema_name):
        records, last, source = _ensure_data(timezone.localdate())
        today = last
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE absences_caseentry, absences_escalation, absences_absencecase, "
                           "welfare_notification")
        version = _active_lape()
        window = counting_window(version, today)
        counted = list(AbsenceCategory.objects.filter(code__in=version.counted_categories).values_list("pk", flat=True))

        def timed(function):
            started = time.perf_counter()
            value = function()
            return time.perf_counter() - started, value

        first_s, first = timed(lambda: evaluate_students(today=today))
        log(f"threshold_eval: first run {first_s:.2f} s, {first.escalations_created:,} escalations")
        steady = []
        for _run in range(2):
            seconds, again = timed(lambda: evaluate_students(today=today))
            assert again.escalations_created == 0
            steady.append(seconds)

        def hand_sql():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT student_id, sum(hours) FILTER (WHERE category_id = ANY(%s)) FROM absences_absencerecord "
                    "WHERE date >= %s AND date <= %s GROUP BY student_id", [counted, window.start, window.data_end])
                return len(cursor.fetchall())

        sql_times = [timed(hand_sql)[0] for _run in range(3)]

        # The same steady-state run with the extra rules switched off: the counting alone, which is
        # what the hand-written aggregate computes (restored right after).
        from absences.models import PolicyVersion

        rules = {"consecutive_days": version.consecutive_days, "unexplained_after_days": version.unexplained_after_days}
        PolicyVersion.objects.filter(pk=version.pk).update(consecutive_days=None, unexplained_after_days=None)
        try:
            hours_only = [timed(lambda: evaluate_students(today=today))[0] for _run in range(2)]
        finally:
            PolicyVersion.objects.filter(pk=version.pk).update(**rules)

        # One more school day for 5,000 pupils, then only them.
        new_day = today + timedelta(days=1)
        while new_day.weekday() >= 5:
            new_day += timedelta(days=1)
        pupils = list(Student.objects.order_by("pk").values_list("pk", flat=True)[::10][:INCREMENTAL_PUPILS])
        category_id = counted[0]
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM absences_absencerecord WHERE date = %s", [new_day])
            cursor.execute("INSERT INTO absences_absencerecord (student_id, date, category_id, hours) "
                           "SELECT s, %s, %s, 6 FROM unnest(%s::bigint[]) AS s", [new_day, category_id, pupils])
        incremental_s, incremental = timed(lambda: evaluate_students(pupils, today=new_day))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM absences_absencerecord WHERE date = %s", [new_day])
        from welfare.models import Notification

        result(hours_only_s=statistics.median(hours_only),
               steady_s=statistics.median(steady), steady_runs=[round(s, 3) for s in steady], first_s=first_s,
               escalations=first.escalations_created, notifications=Notification.objects.count(),
               sql_s=statistics.median(sql_times), incremental_s=incremental_s, incremental_pupils=len(pupils),
               incremental_escalations=incremental.escalations_created if incremental else 0,
               pupils=Student.objects.count(), records=records, source=source, today=str(today))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["measure"])
    parser.parse_args()
    _measure()
