"""Celery tasks of group sessions: thin, idempotent wrappers around services.

``sync_cohort_task`` adds the register's new 7th-grade and first-year groups of the current school
year to the groups to meet. The pages and the API also sync on reading, so the task only keeps the
figures fresh for reports made outside a request; it can be listed in
``settings.NIGHTLY_MUNICIPALITY_TASKS`` (it runs in the schema it was sent from). It also rebuilds
the dashboards' rollup (groupsessions.rollups).
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from groupsessions import rollups, selectors, services


@shared_task(name="groupsessions.tasks.sync_cohort_task")
def sync_cohort_task() -> int:
    """Sync the groups to meet, then rebuild the dashboards' rollup: the services keep it current
    change by change, so the nightly rebuild is only a safety net (e.g. after a restore)."""
    year = selectors.school_year_for(timezone.localdate())
    added = services.sync_cohort(year) if year is not None else 0
    rollups.rebuild()
    return added
