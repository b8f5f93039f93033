"""Absence case work: "my pupils needing action", the principal's school view, one case.

Need to know (domain.md A4): lists go through the permission policy; a case opens only after a
recent second factor (step-up) and answers 404 for a case the user may not open, with the refused
attempt audit-logged as DENIED. Every pupil shown and every entry written is audit-logged.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from absences import selectors_cases as selectors
from absences.charts import Threshold, cumulative_hours_svg
from absences.forms_cases import ActionForm, CorrectionForm
from absences.models import CaseEntry, ThresholdUnit
from absences.services import cases as services
from welfare import audit, policy
from welfare.mfa import step_up_required
from welfare.models import AuditAction
from welfare.policy import Action, municipality_staff_required


@never_cache
@municipality_staff_required
def worklist(request):
    """"My pupils needing action", most urgent first. Roles without a need to know pupils
    (coordinator, administrator, data protection officer) see a notice and no names."""
    if not policy.can(request.user, Action.VIEW_PUPIL_ABSENCES):
        return render(request, "absences/index.html", {"names_hidden": True})
    rows = selectors.worklist(request.user, timezone.localdate())
    audit.record_many(request, AuditAction.READ, [row.case for row in rows], detail={"view": "absence_worklist"})
    return render(request, "absences/index.html", {
        "rows": rows, "overdue_count": sum(row.overdue for row in rows),
        "school_view": bool(selectors.school_view_schools(request.user)),
    })


@never_cache
@municipality_staff_required
def school_view(request, pk: int | None = None):
    """The principal's view of a school: pupils per step reached and the steps with no reaction.
    A user with several such schools first picks one; other roles get 403 (they use the worklist)."""
    schools = selectors.school_view_schools(request.user)
    if not schools:
        raise PermissionDenied
    if pk is None:
        if len(schools) > 1:
            return render(request, "absences/cases/schools.html", {"schools": schools})
        school = schools[0]
    else:
        school = next((s for s in schools if s.pk == pk), None)
        if school is None:
            raise Http404
    view = selectors.school_view(request.user, school, timezone.localdate())
    audit.record_many(request, AuditAction.READ, [row.case for row in view.rows],
                      detail={"view": "absence_school_view", "school": school.pk})
    return render(request, "absences/cases/school.html", {"view": view, "schools": schools})


def _case_or_404(request, pk: int, action: Action, view_name: str):
    """The case if the user may take ``action`` on it; otherwise DENIED in the audit log and 404."""
    case = selectors.case_for_view(pk)
    try:
        if case is None:
            raise PermissionDenied
        policy.require(request.user, action, case)
    except PermissionDenied:
        audit.record(request, AuditAction.DENIED, object_type="absences.absencecase", object_id=str(pk),
                     student_id=case.student_id if case else None, detail={"view": view_name})
        raise Http404 from None
    return case


def _render_case(request, case, *, action_form=None, bound_correction=None, status=200):
    today = timezone.localdate()
    detail = selectors.case_detail(case, today)
    may_log = policy.can(request.user, Action.LOG_CASE_ACTION, case)
    if may_log:
        for item in detail.timeline:
            if item.correctable:
                if bound_correction is not None and bound_correction[0] == item.entry.pk:
                    item.correction_form = bound_correction[1]
                else:
                    item.correction_form = CorrectionForm(kind=item.kind, original=item.entry,
                                                          prefix=f"correct-{item.entry.pk}")
    is_open = case.status == case.Status.OPEN
    if may_log and is_open and action_form is None:
        action_form = ActionForm(prefix="log")
    thresholds = ([Threshold(level=s.level, value=s.threshold, name=s.name) for s in detail.steps]
                  if detail.unit == ThresholdUnit.HOURS else [])
    pupil = case.student
    chart = cumulative_hours_svg(
        detail.series, thresholds, case.period_start, case.period_end, chart_id="hours-chart",
        title=_("Cumulative absence hours of %(name)s and the steps") % {
            "name": f"{pupil.first_name} {pupil.last_name}"})
    audit.record(request, AuditAction.READ, obj=case, detail={"view": "absence_case"})
    return render(request, "absences/cases/detail.html", {
        "case": case, "pupil": pupil, "detail": detail, "chart": chart, "thresholds": thresholds,
        "may_log": may_log, "is_open": is_open, "action_form": action_form if is_open else None,
    }, status=status)


@never_cache
@municipality_staff_required
@step_up_required
def case_detail(request, pk: int):
    """One pupil's case: timeline, chart, hours by category and the action forms (step-up MFA)."""
    case = _case_or_404(request, pk, Action.OPEN_ABSENCE_CASE, "absence_case")
    return _render_case(request, case)


def _created(request, case, entry: CaseEntry, view_name: str):
    audit.record(request, AuditAction.CREATE, obj=entry, student_id=case.student_id,
                 detail={"view": view_name, "case": case.pk, "kind": entry.kind,
                         "corrects": entry.corrects_id})
    messages.success(request, _("Saved to the case log."))
    return redirect(f"{reverse('absences:case_detail', args=[case.pk])}#entry-{entry.pk}")


@never_cache
@require_http_methods(["GET", "POST"])
@municipality_staff_required
@step_up_required
def case_log_action(request, pk: int):
    """Append an action (POST); a GET (e.g. back from the step-up page) returns to the case."""
    case = _case_or_404(request, pk, Action.OPEN_ABSENCE_CASE, "absence_case_log")
    if request.method == "GET":
        return redirect("absences:case_detail", pk=pk)
    if not policy.can(request.user, Action.LOG_CASE_ACTION, case):
        raise PermissionDenied
    form = ActionForm(request.POST, prefix="log")
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.log_action(
                case, user=request.user, author_role=selectors.author_role(request.user, case), kind=data["kind"],
                occurred_on=data["occurred_on"], contact_method=data["contact_method"],
                referral_target=data["referral_target"], close_reason=data["close_reason"], note=data["note"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            return _created(request, case, entry, "absence_case_log")
    return _render_case(request, case, action_form=form, status=400)


@never_cache
@require_http_methods(["GET", "POST"])
@municipality_staff_required
@step_up_required
def case_correct(request, pk: int, entry_pk: int):
    """Append a correction of one entry (POST); the original stays in the timeline, marked corrected."""
    case = _case_or_404(request, pk, Action.OPEN_ABSENCE_CASE, "absence_case_correct")
    if request.method == "GET":
        return redirect("absences:case_detail", pk=pk)
    if not policy.can(request.user, Action.LOG_CASE_ACTION, case):
        raise PermissionDenied
    original = case.entries.filter(pk=entry_pk).exclude(kind=CaseEntry.Kind.STEP_REACHED).first()
    if original is None:
        raise Http404
    chain = {entry.pk: entry for entry in case.entries.all()}
    form = CorrectionForm(request.POST, kind=selectors.effective_kind(original, chain), prefix=f"correct-{entry_pk}")
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.correct_entry(
                original, user=request.user, author_role=selectors.author_role(request.user, case),
                occurred_on=data["occurred_on"], note=data["note"],
                **{name: data[name] for name in ("contact_method", "referral_target", "close_reason") if name in data})
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            return _created(request, case, entry, "absence_case_correct")
    return _render_case(request, case, bound_correction=(original.pk, form), status=400)
