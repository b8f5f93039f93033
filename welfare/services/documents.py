"""Generated documents: PDF reports rendered in Celery, with progress, for one user, for a day.

A module app registers a renderer per document kind (welfare imports no module app)::

    # annualclock/apps.py, in ready()
    from welfare.services.documents import DocumentRenderer, register_renderer
    register_renderer(DocumentRenderer(kind="annualclock.year_plan", permitted=..., render=...))

* ``request_document(kind, params, user)`` checks the renderer's permission, stores a queued
  ``GeneratedDocument`` and sends ``render_document`` after commit; the browser polls the status
  page (``/documents/<id>/``), which shows a ``<progress>`` bar and then the download link.
* ``render_document`` is idempotent: a document already done (or being made by another worker)
  is left alone, so a retried or duplicated task renders it at most once.
* Downloads: the requester only, the renderer's ``permitted`` checked again (a revoked role ends
  access), in the municipality that made it (documents live in its schema), until ``expires_at``
  (``DOCUMENT_LIFETIME``); afterwards 410, and ``delete_expired()`` removes them.

Callers: module views and APIs (request), the Celery worker (render), the nightly job (cleanup).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone, translation

from welfare.models import GeneratedDocument

log = logging.getLogger(__name__)

DOCUMENT_LIFETIME = timedelta(hours=24)


class DocumentRefused(Exception):
    """The user may not request this document (unknown kind, or the renderer's permission says no)."""


@dataclass(frozen=True)
class RenderResult:
    content: bytes
    filename: str
    content_type: str = "application/pdf"


@dataclass(frozen=True)
class DocumentRenderer:
    """How one kind of document is made.

    ``permitted(user, params) -> bool``: may this user have it (checked on request and on download);
    ``render(params, progress) -> RenderResult``: makes it, calling ``progress(percent)`` on the way,
    in the requester's language (the task sets it); ``title(params) -> str``: a short heading;
    ``school_id(params)``: the school it is about, or None.
    """

    kind: str
    permitted: Callable
    render: Callable
    title: Callable = lambda params: ""
    school_id: Callable = lambda params: None


_renderers: dict[str, DocumentRenderer] = {}


def register_renderer(renderer: DocumentRenderer) -> DocumentRenderer:
    """Register (or replace, by kind) a renderer. Apps call this from AppConfig.ready()."""
    _renderers[renderer.kind] = renderer
    return renderer


def renderer_for(kind: str) -> DocumentRenderer | None:
    return _renderers.get(kind)


def may_download(user, document: GeneratedDocument) -> bool:
    """The requester only, and only while the renderer still permits it."""
    renderer = renderer_for(document.kind)
    return bool(renderer and user.is_authenticated and document.requested_by_id == user.pk
                and renderer.permitted(user, document.parameters))


def request_document(kind: str, params: dict, user) -> GeneratedDocument:
    """Queue a document for ``user``; the task is sent after commit. Raises DocumentRefused.

    Expired documents of this municipality are deleted on the way, so storage stays bounded even
    without the nightly cleanup.
    """
    renderer = renderer_for(kind)
    if renderer is None or not renderer.permitted(user, params):
        raise DocumentRefused(kind)
    with transaction.atomic():
        delete_expired()
        document = GeneratedDocument.objects.create(
            kind=kind, parameters=params, requested_by_id=user.pk, school_id=renderer.school_id(params),
            language=translation.get_language() or "", title=str(renderer.title(params))[:200],
            expires_at=timezone.now() + DOCUMENT_LIFETIME)
        transaction.on_commit(lambda: _send(document.pk))
    return document


def _send(document_id: int) -> None:
    from welfare.tasks import render_document_task

    render_document_task.delay(document_id)


def _set_progress(document_id: int, percent: int) -> None:
    GeneratedDocument.objects.filter(pk=document_id, status=GeneratedDocument.Status.RUNNING).update(
        progress=max(0, min(int(percent), 99)))


def _claim(document_id: int) -> GeneratedDocument | None:
    """Move a queued document to running (one worker wins); None when there is nothing to do."""
    with transaction.atomic():
        document = (GeneratedDocument.objects.select_for_update(skip_locked=True)
                    .filter(pk=document_id, status=GeneratedDocument.Status.QUEUED).first())
        if document is None:
            return None
        document.status, document.progress = GeneratedDocument.Status.RUNNING, 1
        document.save(update_fields=["status", "progress"])
        return document


def render_document(document_id: int) -> str:
    """Render one queued document (idempotent: done, failed or running documents are skipped).
    Called by the task welfare.tasks.render_document_task."""
    document = _claim(document_id)
    if document is None:
        return "skipped"
    renderer = renderer_for(document.kind)
    try:
        if renderer is None:
            raise LookupError(f"no renderer for {document.kind}")
        with translation.override(document.language or None):
            result = renderer.render(document.parameters, lambda percent: _set_progress(document.pk, percent))
    except Exception as exc:  # noqa: BLE001 — any renderer failure is shown to the requester as failed
        log.exception("document %s (%s) failed in %s", document.pk, document.kind, connection.schema_name)
        GeneratedDocument.objects.filter(pk=document.pk).update(
            status=GeneratedDocument.Status.FAILED, error=f"{type(exc).__name__}"[:300], finished_at=timezone.now())
        return "failed"
    GeneratedDocument.objects.filter(pk=document.pk).update(
        status=GeneratedDocument.Status.DONE, progress=100, content=result.content, filename=result.filename[:200],
        content_type=result.content_type, finished_at=timezone.now())
    return "done"


def delete_expired(now=None) -> int:
    """Delete this municipality's expired documents; returns how many."""
    deleted, _ = GeneratedDocument.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted

