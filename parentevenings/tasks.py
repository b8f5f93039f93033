"""Celery tasks of parent evenings: thin, idempotent wrappers that call services.

Run in the municipality's schema (tenant-schemas-celery): ``nightly_maintenance`` is sent once per
municipality per night by welfare.tasks (settings.NIGHTLY_MUNICIPALITY_TASKS).
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from parentevenings import links
from parentevenings.services import messaging, registrations, rollups


@shared_task
def nightly_maintenance() -> dict:
    """Reminders N days before each evening, anonymisation N days after, any messages the broker
    could not queue earlier, and a rebuild of the dashboards' rollup (the services keep it current
    change by change; this is the safety net). Each step is idempotent."""
    today = timezone.localdate()
    reminders = registrations.send_reminders(today, base_url=links.base_url())
    anonymised = registrations.anonymise_past(today)
    delivered = messaging.deliver_pending()
    rolled_up = rollups.rebuild()
    return {"reminders": reminders, "anonymised": anonymised, **delivered, "rollup_rows": rolled_up}


@shared_task
def deliver_guardian_messages() -> dict:
    """Send pending guardian messages (queued after commit by parentevenings.services.messaging)."""
    return messaging.deliver_pending()
