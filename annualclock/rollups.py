"""The dashboards' rollup of the annual clock: per school clock, activities planned, done,
evaluated and cancelled (also per ring), people reached, and the school's changes against the
template it adopted.

The dashboards read ``ClockRollup``, never the activities, so a page costs the same whatever the
number of schools. ``refresh`` recomputes the rows of the given schools (all their clocks) from the
raw rows in the caller's transaction, so a rollup always equals a recomputation. The services
(``annualclock.services``, ``annualclock.public``) call it for the school concerned whenever

* a clock is made: a template adopted, an earlier clock copied, an empty clock started;
* an activity is created, edited (status included), marked done with its evaluation, or deleted;

and ``rebuild`` (every school) in the migration that created the table, in the demo seed and in
the nightly task. Changes to a *template* change no rollup: a school's changes are measured
against the values copied at adoption (``Activity.copied_values``), not the template of today.

Concurrency: each refresh takes a transaction-level advisory lock per school before it reads, so
under READ COMMITTED two editors of one clock cannot both write a rollup that misses the other's
change: the second waits for the first to commit and then sees it.

Called by services, tasks and migrations, never straight from a request; checks no permissions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.apps import apps as django_apps

from annualclock.models import COPY_FIELDS, copy_changes
from welfare.rollups import replace_rows

LOCK_NAMESPACE = ":annualclock.rollup"
CANCELLED = "cancelled"  # Status.CANCELLED, as a plain value (historical models in migrations)
DONE = "done"


def compute(school_ids: list[int], *, apps=django_apps) -> list:
    """Unsaved rollup rows of these schools' clocks, from the raw rows."""
    rollup = apps.get_model("annualclock", "ClockRollup")
    clock_model = apps.get_model("annualclock", "Clock")
    activity_model = apps.get_model("annualclock", "Activity")

    clocks = clock_model.objects.filter(school_id__in=school_ids)
    activities = activity_model.objects.filter(clock__school_id__in=school_ids)
    rows, adopted = {}, {}
    for pk, school_id, year_id, adopted_ids in clocks.values_list("pk", "school_id", "school_year_id",
                                                                  "adopted_activity_ids").order_by("pk"):
        rows[pk] = rollup(clock_id=pk, school_id=school_id, school_year_id=year_id, by_ring={})
        adopted[pk] = set(adopted_ids or [])
    kept: dict[int, set[int]] = defaultdict(set)
    for activity in activities.values("clock_id", "status", "copied_values", "evaluation__id", "evaluation__reach",
                                      *COPY_FIELDS).order_by():
        row = rows.get(activity["clock_id"])
        if row is None:  # a clock made after the clocks were read (another transaction)
            continue
        ring = row.by_ring.setdefault(str(activity["ring_id"]), [0, 0, 0, 0])
        evaluated = activity["evaluation__id"] is not None
        if activity["status"] == CANCELLED:
            row.cancelled += 1
            ring[3] += 1
        else:
            row.planned += 1
            ring[0] += 1
            if activity["status"] == DONE:
                row.done += 1
                ring[1] += 1
            if evaluated:
                row.evaluated += 1
                ring[2] += 1
                row.reach += activity["evaluation__reach"] or 0
        # What the school changed: the rule of the coordinator's adoption page (selectors.adoptions).
        source, changed = copy_changes(activity["copied_values"], adopted[row.clock_id], activity.__getitem__)
        if source is None:
            row.added += 1
            continue
        kept[row.clock_id].add(source)
        row.changed += bool(changed)
    for pk, row in rows.items():
        row.removed = len(adopted[pk] - kept[pk])
    return list(rows.values())


def refresh(school_ids: Iterable[int], *, apps=django_apps) -> int:
    """Recompute the rollup rows of these schools (every school year). Returns the rows written."""
    return replace_rows(apps.get_model("annualclock", "ClockRollup"), "school_id", school_ids,
                        lambda ids: compute(ids, apps=apps), lock_namespace=LOCK_NAMESPACE)


def rebuild(*, apps=django_apps) -> int:
    """Recompute the whole municipality's rollup (the schema in use). Returns the rows written."""
    return refresh(apps.get_model("welfare", "School").objects.values_list("pk", flat=True), apps=apps)
