"""Privacy pages: the data subject access export and the retention settings.

Thin views: authorise with the policy, call a service, audit, render.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from welfare import audit, policy
from welfare.mfa import step_up_required
from welfare.models import RETENTION_MIN_DAYS, AuditAction, RetentionAction, RetentionRun, Student
from welfare.pdf import render_to_pdf
from welfare.policy import Action, permission_required
from welfare.services.retention import RETENTION_MAX_DAYS, effective_rules, set_retention_rule
from welfare.services.subject_access import build_subject_access

RECENT_RUNS = 10


# --- Data subject access -----------------------------------------------------------------

class PupilLookupForm(forms.Form):
    register_id = forms.CharField(
        label=gettext_lazy("Student register id"),
        max_length=40,
        help_text=gettext_lazy("The pupil's id in the student register (Wilma, Primus)."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


def _exportable_student(user, student_id) -> Student:
    """The pupil, or 404 alike for 'no such pupil' and 'not yours to export' (no existence leak)."""
    student = Student.objects.select_related("school", "group").filter(pk=student_id).first()
    if student is None:
        raise Http404
    try:
        policy.require(user, Action.EXPORT_PUPIL_DATA, student)
    except PermissionDenied:
        raise Http404 from None
    return student


def _export_language(request) -> str:
    requested = request.GET.get("language", "")
    available = {code for code, _name in settings.LANGUAGES}
    return requested if requested in available else (translation.get_language() or settings.LANGUAGE_CODE)


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _filename(student: Student, extension: str) -> str:
    safe_id = "".join(ch for ch in student.external_id if ch.isalnum() or ch in "-_") or str(student.pk)
    return f"subject-access-{safe_id}-{timezone.localdate():%Y%m%d}.{extension}"


@never_cache
@permission_required(Action.EXPORT_PUPIL_DATA)
def subject_access(request):
    """Pick a pupil by register id; then links to the JSON and PDF exports.

    The register id is sent by POST so it stays out of addresses and access logs. Showing the
    pupil's name is a read of individual data and is audit-logged.
    """
    student = None
    form = PupilLookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        candidate = Student.objects.select_related("school", "group").filter(
            external_id=form.cleaned_data["register_id"].strip()).first()
        if candidate is not None and policy.can(request.user, Action.EXPORT_PUPIL_DATA, candidate):
            student = candidate
            audit.record(request, AuditAction.READ, obj=student, detail={"view": "subject_access"})
        else:
            form.add_error("register_id", _("No pupil with this register id whose data you may export."))
    languages = [(code, translation.get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES]
    return render(request, "welfare/privacy/subject_access.html",
                  {"form": form, "student": student, "languages": languages,
                   "current_language": translation.get_language()})


@never_cache
@permission_required(Action.EXPORT_PUPIL_DATA)
@step_up_required
def subject_access_json(request, student_id: int):
    """Machine-readable export of everything held about one pupil (audit-logged as an export)."""
    student = _exportable_student(request.user, student_id)
    export = build_subject_access(student, language=_export_language(request))
    content = export.as_json()
    audit.record(request, AuditAction.EXPORT, obj=student, detail={"format": "json", "language": export.language})
    return _attachment(content, "application/json; charset=utf-8", _filename(student, "json"))


@never_cache
@permission_required(Action.EXPORT_PUPIL_DATA)
@step_up_required
def subject_access_pdf(request, student_id: int):
    """Readable (tagged, PDF/UA) export of everything held about one pupil (audit-logged)."""
    student = _exportable_student(request.user, student_id)
    language = _export_language(request)
    export = build_subject_access(student, language=language)
    with translation.override(language):
        content = render_to_pdf("welfare/pdf/subject_access.html",
                                {"export": export, "student": export.student, "generated_by": request.user},
                                request=request)
    audit.record(request, AuditAction.EXPORT, obj=student, detail={"format": "pdf", "language": language})
    return _attachment(content, "application/pdf", _filename(student, "pdf"))


# --- Retention -----------------------------------------------------------------------------

ACTION_LABELS = dict(RetentionAction.choices)


class RetentionForm(forms.Form):
    """Days and action for every registered record type, one fieldset each."""

    def __init__(self, *args, rules, **kwargs):
        super().__init__(*args, **kwargs)
        self.rules = rules
        for rule in rules:
            self.fields[f"{rule.code}-days"] = forms.IntegerField(
                label=gettext_lazy("Retention period (days)"),
                min_value=RETENTION_MIN_DAYS,
                max_value=RETENTION_MAX_DAYS,
                initial=rule.days,
                help_text=_("Default: %(days)s days. At least %(min)s days.") % {
                    "days": rule.record_type.default_days, "min": RETENTION_MIN_DAYS},
            )
            self.fields[f"{rule.code}-action"] = forms.ChoiceField(
                label=gettext_lazy("Afterwards"),
                choices=[(action, ACTION_LABELS[action]) for action in rule.record_type.actions],
                initial=rule.action,
            )

    def groups(self):
        """(rule, days field, action field) per record type, for the template."""
        return [(rule, self[f"{rule.code}-days"], self[f"{rule.code}-action"]) for rule in self.rules]


@never_cache
@permission_required(Action.MANAGE_RETENTION)
def retention_settings(request):
    """Retention periods per record type (municipal administrator, data protection officer).

    Every changed rule is audit-logged (UPDATE, object_type "welfare.retentionrule").
    """
    rules = effective_rules()
    form = RetentionForm(request.POST or None, rules=rules)
    if request.method == "POST" and form.is_valid():
        changed = 0
        for rule in rules:
            saved, changes = set_retention_rule(
                rule.code, days=form.cleaned_data[f"{rule.code}-days"],
                action=form.cleaned_data[f"{rule.code}-action"], user=request.user)
            if changes:
                changed += 1
                audit.record(request, AuditAction.UPDATE, obj=saved,
                             detail={"record_type": rule.code, "changes": changes})
        if changed:
            messages.success(request, _("The retention periods were saved."))
        else:
            messages.info(request, _("Nothing was changed."))
        return redirect("privacy:retention")
    runs = list(RetentionRun.objects.all()[:RECENT_RUNS])
    labels = {rule.code: rule.record_type.label for rule in rules}
    run_rows = [(run, [(labels.get(code, code), count) for code, count in run.counts.items()]) for run in runs]
    return render(request, "welfare/privacy/retention.html",
                  {"form": form, "rules": rules, "run_rows": run_rows})
