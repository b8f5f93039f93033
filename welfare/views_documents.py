"""/documents/: a generated document's status (polled by htmx, with a <progress> bar) and download.

Only the requester sees or downloads a document, and only while the renderer that made it still
permits them (welfare.services.documents.may_download); others get 404 as if it did not exist.
Documents live in the municipality's schema, so another host never finds them. After
``expires_at`` the download answers 410 Gone.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from welfare import audit
from welfare.models import AuditAction, GeneratedDocument
from welfare.policy import municipality_staff_required
from welfare.services.documents import may_download


def _document(request, pk: int) -> GeneratedDocument:
    document = GeneratedDocument.objects.defer("content").filter(pk=pk).first()
    if document is None or not may_download(request.user, document):
        raise Http404
    return document


def _context(document: GeneratedDocument) -> dict:
    return {"document": document, "expired": document.expires_at <= timezone.now()}


@never_cache
@require_GET
@municipality_staff_required
def document_status(request, pk: int):
    """The status page: progress while it is being made, then the download link."""
    return render(request, "welfare/documents/status.html", _context(_document(request, pk)))


@never_cache
@require_GET
@municipality_staff_required
def document_progress(request, pk: int):
    """The fragment htmx polls every second until the document is done or failed."""
    return render(request, "welfare/documents/_progress.html", _context(_document(request, pk)))


@never_cache
@require_GET
@municipality_staff_required
def document_download(request, pk: int):
    document = _document(request, pk)
    if document.expires_at <= timezone.now():
        return render(request, "welfare/documents/status.html", _context(document), status=410)
    if document.status != GeneratedDocument.Status.DONE:
        raise Http404
    content = GeneratedDocument.objects.values_list("content", flat=True).get(pk=document.pk)
    audit.record(request, AuditAction.EXPORT, obj=document, detail={"kind": document.kind})
    response = HttpResponse(bytes(content), content_type=document.content_type)
    response["Content-Disposition"] = f'attachment; filename="{document.filename or "document.pdf"}"'
    return response
