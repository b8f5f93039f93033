"""Celery tasks of absence follow-up: thin wrappers that call services."""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from django.db import OperationalError, connection, transaction

from welfare.locks import singleton

logger = logging.getLogger(__name__)

# --- Imports (absences.services.imports) ---------------------------------------------------


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=30, max_retries=3)
def run_absence_import(import_id: int) -> dict:
    """A large import, sent after commit by ``start_import()``. Idempotent: a finished import is
    returned as it is; a retried one starts again from the file (its one-transaction merge either
    happened or did not)."""
    from absences.services.imports import counts, run_import

    return {"import": import_id, **counts(run_import(import_id))}


# --- Threshold evaluation (absences.services.evaluation) ------------------------------------

EVALUATION_LOCK_SECONDS = 2 * 60 * 60  # longer than any run; a crashed worker's lock expires by itself


@shared_task(autoretry_for=(OperationalError,), retry_backoff=30, max_retries=3)
def evaluate_students_task(student_ids: list[int]) -> dict:
    """After an import: evaluate only the pupils it touched. Send it with
    ``transaction.on_commit`` so it sees the imported rows. Safe beside a nightly run (the
    unique constraints make overlapping evaluations raise each escalation once)."""
    from absences.services.evaluation import evaluate_students
    from absences.services.rollups import refresh_escalations, schools_of

    result = evaluate_students(student_ids)
    if result and result.escalations_created:
        refresh_escalations(schools_of(student_ids))
    return {"schema": connection.schema_name, "escalations": result.escalations_created if result else 0}


@shared_task(autoretry_for=(OperationalError,), retry_backoff=60, max_retries=3)
def evaluate_municipality_task() -> dict:
    """Nightly: evaluate every pupil of the municipality; skipped if a run is already going."""
    from absences.services.evaluation import evaluate_students
    from absences.services.rollups import refresh_all

    with singleton("absence-evaluation", EVALUATION_LOCK_SECONDS) as held:
        if not held:
            return {"schema": connection.schema_name, "skipped": True}
        result = evaluate_students(None)
        refresh_all()  # the dashboards' rollups: a full rebuild once a night
    return {"schema": connection.schema_name, "escalations": result.escalations_created if result else 0}


# --- Dashboard rollups (absences.services.rollups) ------------------------------------------


@shared_task(autoretry_for=(OperationalError,), retry_backoff=30, max_retries=3)
def refresh_rollups_task(school_ids: list[int] | None, first_day: str | None = None, last_day: str | None = None,
                         *, hours: bool = True, escalations: bool = True) -> dict:
    """Rebuild the dashboards' rollups of these schools: the hours (of the terms between the two
    dates, if given) and/or the escalations. Idempotent: a rebuild from the raw data, whenever it runs."""
    from absences.services.rollups import refresh_absences, refresh_escalations, terms_between

    counts = {}
    if hours:
        terms = terms_between(date.fromisoformat(first_day), date.fromisoformat(last_day)) if first_day else None
        counts["absences"] = refresh_absences(school_ids, terms)
    if escalations:
        counts["escalations"] = refresh_escalations(school_ids)
    return {"schema": connection.schema_name, **counts}


def send_after_commit(task, *args, **kwargs) -> None:
    """Send ``task`` once the current transaction commits. A broker outage is logged, not raised:
    the nightly run rebuilds and re-evaluates everything anyway."""

    def send():
        try:
            task.apply_async(args=args, kwargs=kwargs, retry=False)
        except Exception:  # noqa: BLE001 — any broker failure: the nightly run catches up
            logger.warning("%s not queued in %s", task.name, connection.schema_name,
                                                exc_info=True)

    transaction.on_commit(send)
