"""Absence import pages: upload → column mapping with a preview → result (with progress for large files)
and the import history. Principals import for their own school; municipal administrators for all."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from absences.forms import AbsenceUploadForm, ColumnMappingForm
from absences.models import AbsenceImport
from absences.selectors import visible_imports
from absences.services import imports as service
from welfare.policy import Action, permission_required

HISTORY_SIZE = 100
FINAL = (AbsenceImport.Status.DONE, AbsenceImport.Status.FAILED)


def _get(request, pk: int) -> AbsenceImport:
    record = visible_imports(request.user).filter(pk=pk).first()
    if record is None:
        raise Http404
    return record


@permission_required(Action.IMPORT_ABSENCES)
def import_upload(request):
    if request.method == "POST":
        form = AbsenceUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            record = service.receive_upload(upload, file_name=upload.name, user=request.user,
                                            kind=form.cleaned_data["kind"] or None)
            if record.status == AbsenceImport.Status.FAILED:
                return redirect("absences:import_detail", pk=record.pk)
            return redirect("absences:import_mapping", pk=record.pk)
    else:
        form = AbsenceUploadForm()
    return render(request, "absences/imports/upload.html", {
        "form": form, "max_megabytes": settings.IMPORT_MAX_BYTES // (1024 * 1024),
        "recent": visible_imports(request.user)[:5],
    })


@permission_required(Action.IMPORT_ABSENCES)
def import_mapping(request, pk: int):
    record = _get(request, pk)
    if record.status != AbsenceImport.Status.PENDING or record.mapping.get("started"):
        return redirect("absences:import_detail", pk=record.pk)
    headers = record.mapping.get("headers", [])
    fields = record.mapping.get("fields", {})
    if request.method == "POST":
        form = ColumnMappingForm(request.POST, headers=headers, fields=fields)
        if form.is_valid():
            service.set_mapping(record, form.mapping(), kind=form.cleaned_data["kind"])
            missing = service.missing_fields(record)
            if not missing:
                record.mapping["started"] = True
                record.save(update_fields=["mapping"])
                service.start_import(record)
                return redirect("absences:import_detail", pk=record.pk)
            form.add_error(None, _missing_message(missing))
    else:
        form = ColumnMappingForm(headers=headers, fields=fields, initial={"kind": record.kind})
    return render(request, "absences/imports/mapping.html", {
        "record": record, "form": form, "headers": headers, "preview": record.mapping.get("preview", []),
        "missing": [service.FIELDS[name].label for name in service.missing_fields(record)],
        "ignored": service.ignored_headers(record),
    })


def _missing_message(missing) -> str:
    return _("Choose a column for: %(fields)s.") % {
        "fields": ", ".join(str(service.FIELDS[name].label) for name in missing)}


@permission_required(Action.IMPORT_ABSENCES)
def import_detail(request, pk: int):
    record = _get(request, pk)
    return render(request, "absences/imports/detail.html", {
        "record": record, "final": record.status in FINAL,
        "errors_hidden": max(record.error_count - len(record.errors), 0),
    })


@require_GET
@permission_required(Action.IMPORT_ABSENCES)
def import_progress(request, pk: int):
    """The progress fragment polled by htmx; once the import is finished the page reloads."""
    record = _get(request, pk)
    response = render(request, "absences/imports/_progress.html", {"record": record, "final": record.status in FINAL})
    if record.status in FINAL and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@permission_required(Action.IMPORT_ABSENCES)
def import_history(request):
    return render(request, "absences/imports/history.html", {
        "imports": visible_imports(request.user)[:HISTORY_SIZE],
    })
