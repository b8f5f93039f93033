"""The audit log browser: "who has seen pupil X", "what did user Y see", and a CSV export.

Only for ``Action.VIEW_AUDIT_LOG`` holders (municipal administrator, data protection officer).
Looking at the log is itself logged: a view filtered by pupil writes a READ for each pupil
matched, and every export writes an EXPORT with the filter in its detail.
"""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from welfare import audit, selectors_audit
from welfare.exports import csv_response
from welfare.models import AuditAction
from welfare.policy import Action, permission_required

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    pupil = forms.CharField(
        label=_("Pupil"), required=False, max_length=100,
        help_text=_("Student register id, or the pupil's name: who has seen this pupil."),
    )
    user = forms.EmailField(
        label=_("User's email"), required=False, max_length=254,
        help_text=_("What this user has seen and done."),
    )
    action = forms.ChoiceField(label=_("Action"), required=False,
                               choices=[("", _("All actions")), *AuditAction.choices])
    object_type = forms.ChoiceField(label=_("Object type"), required=False, choices=[("", _("All types"))])
    date_from = forms.DateField(label=_("From (date)"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(label=_("To (date)"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, object_types: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [("", _("All types")), *((t, t) for t in object_types)]
        for name in ("pupil", "user"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def to_filter(self) -> selectors_audit.AuditFilter:
        data = self.cleaned_data
        return selectors_audit.AuditFilter(
            pupil=data.get("pupil", "").strip(), user_email=data.get("user", "").strip(),
            action=data.get("action", ""), object_type=data.get("object_type", ""),
            date_from=data.get("date_from"), date_to=data.get("date_to"),
        )


def _filter_from(request, data) -> tuple[AuditFilterForm, selectors_audit.AuditFilter | None]:
    form = AuditFilterForm(data, object_types=selectors_audit.object_types())
    return form, (form.to_filter() if form.is_valid() else None)


def _log_access(request, action: str, filters: selectors_audit.AuditFilter, **extra) -> None:
    """The log page or export of a pupil is a read of that pupil: one entry per pupil matched."""
    detail = {"view": "audit_log", "filter": filters.as_detail(), **extra}
    if filters.matched_pupils:
        for pupil in filters.matched_pupils:
            audit.record(request, action, object_type="welfare.auditevent", object_id="",
                         student_id=pupil.pk, detail=detail)
    else:
        audit.record(request, action, object_type="welfare.auditevent", detail=detail)


@never_cache
@permission_required(Action.VIEW_AUDIT_LOG)
def audit_log(request):
    """The filtered log, 50 entries a page, newest first."""
    form, filters = _filter_from(request, request.GET)
    page = None
    if filters is not None:
        events = selectors_audit.audit_events(filters)
        page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
        page.rows = selectors_audit.resolve_rows(page.object_list)
        if filters.as_detail():  # an unfiltered first look is not worth an entry of its own
            _log_access(request, AuditAction.READ, filters, page=page.number)
    return render(request, "welfare/audit/log.html", {
        "form": form, "filters": filters, "page": page,
        "export_fields": [(name, request.GET.get(name, "")) for name in form.fields],
    })


def csv_header() -> list[str]:
    return [_t("Time"), _t("User"), _t("Roles"), _t("Action"), _t("Object type"), _t("Object id"),
            _t("Pupil"), _t("Student register id"), _t("IP address"), _t("Request id"), _t("Address")]


def csv_row(row: selectors_audit.AuditRow) -> list[str]:
    event = row.event
    return [str(v) if v is not None else "" for v in (
        row.occurred_at.strftime("%Y-%m-%d %H:%M:%S"), event.user_email, ", ".join(row.roles),
        event.get_action_display(), event.object_type, event.object_id,
        f"{row.pupil.last_name} {row.pupil.first_name}" if row.pupil else (event.student_id or ""),
        row.pupil.external_id if row.pupil else "", event.ip_address, event.request_id, event.path,
    )]


def _csv_rows(events):
    yield csv_header()
    for row in selectors_audit.iter_rows(events):
        yield csv_row(row)


@require_POST
@permission_required(Action.VIEW_AUDIT_LOG)
def audit_export(request):
    """The filtered entries as CSV (UTF-8 with BOM, semicolons), streamed; the export is logged."""
    form, filters = _filter_from(request, request.POST)
    if filters is None:
        return render(request, "welfare/audit/log.html", {"form": form, "filters": None, "page": None},
                      status=400)
    # The entries up to this moment: the export's own entry (written next) is not part of it.
    events = selectors_audit.audit_events(filters).filter(occurred_at__lte=timezone.now())
    _log_access(request, AuditAction.EXPORT, filters, format="csv")
    stamp = timezone.localtime(timezone.now(), selectors_audit.log_timezone()).strftime("%Y%m%d-%H%M")
    slug = getattr(getattr(request, "tenant", None), "slug", "") or "yhdessa"
    return csv_response(_csv_rows(events), f"audit-log-{slug}-{stamp}.csv", stream=True)

