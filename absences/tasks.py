"""Celery tasks of absence follow-up: thin wrappers that call services."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

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


def evaluation_lock_key() -> str:
    """One lock per municipality (and database, should two deployments share a Redis)."""
    from django.db import connection

    return f"absences:evaluation-lock:{connection.settings_dict['NAME']}:{connection.schema_name}"


@shared_task(autoretry_for=(OperationalError,), retry_backoff=30, max_retries=3)
def evaluate_students_task(student_ids: list[int]) -> dict:
    """After an import: evaluate only the pupils it touched. Send it with
    ``transaction.on_commit`` so it sees the imported rows. Safe beside a nightly run (the
    unique constraints make overlapping evaluations raise each escalation once)."""
    from django.db import connection

    from absences.services.evaluation import evaluate_students

    result = evaluate_students(student_ids)
    return {"schema": connection.schema_name, "escalations": result.escalations_created if result else 0}


@shared_task(autoretry_for=(OperationalError,), retry_backoff=60, max_retries=3)
def evaluate_municipality_task() -> dict:
    """Nightly: evaluate every pupil of the municipality; skipped if a run is already going."""
    import uuid

    from django.core.cache import cache
    from django.db import connection

    from absences.services.evaluation import evaluate_students

    key, token = evaluation_lock_key(), uuid.uuid4().hex
    if not cache.add(key, token, timeout=EVALUATION_LOCK_SECONDS):
        return {"schema": connection.schema_name, "skipped": True}
    try:
        result = evaluate_students(None)
    finally:
        if cache.get(key) == token:
            cache.delete(key)
    return {"schema": connection.schema_name, "escalations": result.escalations_created if result else 0}
