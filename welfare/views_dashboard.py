"""The dashboards: filters → scope (welfare.dashboard) → the modules' panels → page or export.

Staff without Action.VIEW_AGGREGATES (teachers, welfare staff) get the page with an explanation
and the enrolment overview only; principals see their school, coordinators every school. The
panels carry counts and figures, never names.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from welfare import selectors
from welfare.dashboard import panels_for, scope_for
from welfare.exports import csv_response, xlsx_response
from welfare.policy import Action, allowed_schools, can, municipality_staff_required, permission_required
from welfare.services.documents import DocumentRefused, request_document
from welfare.services.reports import MUNICIPAL_REPORT, REPORT_LANGUAGES, SCHOOL_REPORT


@municipality_staff_required
def dashboard(request):
    if not can(request.user, Action.VIEW_AGGREGATES):
        return render(request, "welfare/dashboard.html", {"allowed": False,
                                                          "summary": selectors.municipality_summary()})
    form, scope = scope_for(request.user, request.GET, today=timezone.localdate())
    return render(request, "welfare/dashboard.html", {
        "allowed": True, "form": form, "scope": scope, "panels": panels_for(scope),
        "schools": scope.schools,
        "query": request.GET.urlencode(),
        "can_export": can(request.user, Action.EXPORT),
        "can_municipal_report": allowed_schools(request.user, Action.EXPORT) is None,
    })


@require_POST
@permission_required(Action.EXPORT)
def request_report(request):
    """Queue the school's annual welfare report or the municipal summary (PDF, rendered in
    Celery) and show its progress page. The filters of the dashboard go with the summary."""
    from django.utils.translation import gettext as _

    data = request.POST
    language = data.get("report_language") if data.get("report_language") in REPORT_LANGUAGES else "fi"
    params = {"language": language, "school_year": _int(data.get("school_year"))}
    if data.get("report") == "municipal":
        kind = MUNICIPAL_REPORT
        params.update({key: data.get(key, "")[:100] for key in ("school_type", "area")})
        params["school_language"] = data.get("language", "")[:2]
    else:
        kind, params["school"] = SCHOOL_REPORT, _int(data.get("school"))
    try:
        document = request_document(kind, params, request.user)
    except DocumentRefused:
        messages.error(request, _("Choose a school year and one of your schools for the report."))
        return redirect("welfare:dashboard")
    return redirect("documents:status", pk=document.pk)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@permission_required(Action.EXPORT)
def export(request, key: str, fmt: str):
    """One panel's table as CSV (UTF-8 with BOM, ';' for Finnish Excel) or XLSX, same filters."""
    _form, scope = scope_for(request.user, request.GET, today=timezone.localdate())
    panel = next((p for p in panels_for(scope) if p.key == key), None)
    if panel is None:
        raise Http404
    matrix = panel.table.as_matrix()
    matrix[0][0] = str(panel.row_heading)
    name = f"{slugify(panel.title) or panel.key}-{scope.school_year or ''}".strip("-")
    if fmt == "csv":
        return csv_response(matrix, f"{name}.csv")
    notes = [[str(note)] for note in getattr(panel.table, "notes", [])]
    return xlsx_response(str(panel.title), [[str(panel.title)], *matrix, *notes], f"{name}.xlsx")
