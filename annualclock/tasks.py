"""Celery tasks of the annual clock: thin wrappers that call services."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError, connection
from django.utils import timezone


@shared_task(autoretry_for=(OperationalError,), retry_backoff=60, max_retries=3)
def nightly_reminders() -> dict:
    """Reminders before activities and requests for evaluations (annualclock.reminders).
    Idempotent: every notification has a dedupe key, so a retry or a second run sends nothing more."""
    from annualclock.reminders import send_reminders

    return {"schema": connection.schema_name, **send_reminders(timezone.localdate())}


@shared_task(autoretry_for=(OperationalError,), retry_backoff=60, max_retries=3)
def rebuild_rollup() -> dict:
    """The dashboard rollup of every clock, recomputed (annualclock.rollups). The services keep it
    current; this nightly pass only repairs what was changed outside them (the admin, a shell).
    Idempotent: the result depends only on the clocks' rows."""
    from annualclock.rollups import rebuild

    return {"schema": connection.schema_name, "clocks": rebuild()}
