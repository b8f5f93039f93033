"""Celery tasks of the core: thin wrappers that call services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError, connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from welfare.municipalities.models import Municipality

log = logging.getLogger(__name__)


@shared_task
def record_heartbeat() -> str:
    """Beat → worker round trip; /healthz can show when it last happened."""
    now = timezone.now().isoformat()
    cache.set("celery:heartbeat", now, timeout=600)
    return now


@shared_task
def tenant_probe() -> dict:
    """Reports the schema the task ran in (used by tests and operations checks)."""
    municipality = Municipality.objects.filter(schema_name=connection.schema_name).first()
    return {"schema": connection.schema_name, "slug": municipality.slug if municipality else None}


@shared_task
def dispatch_nightly() -> int:
    """Fans out the nightly work: one task per ready municipality, spread over time.

    Module apps list their nightly jobs in ``settings.NIGHTLY_MUNICIPALITY_TASKS``.
    """
    count = 0
    for index, municipality in enumerate(Municipality.objects.filter(ready=True).exclude(schema_name="public")):
        with tenant_context(municipality):
            nightly_for_municipality.apply_async(countdown=index % 300)
        count += 1
    return count


@shared_task
def nightly_for_municipality() -> str:
    """Sends each nightly job of this municipality as its own task (retried and failing on its
    own): retention here, then the module apps' jobs named in settings.NIGHTLY_MUNICIPALITY_TASKS
    (``welfare`` imports no module app)."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    log.info("nightly maintenance for %s", connection.schema_name)
    apply_retention.delay()
    for path in settings.NIGHTLY_MUNICIPALITY_TASKS:
        import_string(path).delay()
    return connection.schema_name


@shared_task(autoretry_for=(OperationalError,), retry_backoff=60, max_retries=3)
def apply_retention() -> dict:
    """Delete or anonymise records past the municipality's retention periods.

    Idempotent (a retry removes only what is still past its period) and locked per
    municipality, so two runs never overlap.
    """
    from welfare.services.retention import run_retention

    run = run_retention()
    if run is None:
        return {"schema": connection.schema_name, "skipped": True}
    return {"schema": connection.schema_name, "run": run.pk, "ok": run.ok, "counts": run.counts}


# --- Notifications (welfare.services.notifications) -----------------------------------------

@shared_task
def dispatch_notifications() -> int:
    """Beat, every minute: a delivery task for each ready municipality with pending e-mails.

    The outbox's safety net: whatever ``request_delivery()`` could not queue (Redis down) or a
    worker did not finish is picked up here.
    """
    from welfare.models import Notification

    count = 0
    for municipality in Municipality.objects.filter(ready=True).exclude(schema_name="public"):
        with tenant_context(municipality):
            if Notification.objects.filter(email_status=Notification.EmailStatus.PENDING).exists():
                deliver_notifications.apply_async()
                count += 1
    return count


@shared_task(autoretry_for=(OperationalError,), retry_backoff=30, max_retries=3)
def deliver_notifications() -> dict:
    """Send this municipality's pending notification e-mails (each at most once; see the service)."""
    from welfare.services.notifications import deliver_pending

    return {"schema": connection.schema_name, **deliver_pending()}


# --- Generated documents (welfare.services.documents) ---------------------------------------

@shared_task
def render_document_task(document_id: int) -> str:
    """Render a queued document (PDF reports); sent after commit by request_document()."""
    from welfare.services.documents import render_document

    return render_document(document_id)


@shared_task
def delete_expired_documents() -> int:
    """Nightly, per municipality: expired documents go."""
    from welfare.services.documents import delete_expired

    return delete_expired()
