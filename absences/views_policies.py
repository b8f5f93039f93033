"""The threshold policy editor (/absences/policies/): municipal administrators only
(Action.MANAGE_POLICIES). Pick a preset (a draft), edit the draft, publish it as a new version,
read the history. Every change is audit-logged (object type ``absences.policyversion``)."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from absences.forms_policies import BandFormSet, PresetForm, StepFormSet, VersionForm
from absences.models import EscalationStep, GradeBand, PolicyVersion, ThresholdPolicy
from absences.presets import SCHOOL_WEEKS_PER_YEAR
from absences.selectors import active_policy_version
from absences.services.policies import create_policy_from_preset, draft_of, new_draft, publish_version
from welfare import audit
from welfare.models import AuditAction
from welfare.policy import Action, permission_required

OBJECT_TYPE = "absences.policyversion"


def _audit(request, action, version, **detail):
    audit.record(request, action, object_type=OBJECT_TYPE, object_id=str(version.pk),
                 detail={"policy": version.policy_id, "version": version.number, **detail})


@permission_required(Action.MANAGE_POLICIES)
def policy_list(request):
    active = active_policy_version()
    policies = ThresholdPolicy.objects.order_by("-created_at", "-id").prefetch_related(
        Prefetch("versions", queryset=PolicyVersion.objects.order_by("-number")))
    rows = []
    for p in policies:
        # From the prefetched versions (newest first): what current_version() and draft_of() query.
        versions = list(p.versions.all())
        rows.append({"policy": p, "current": next((v for v in versions if v.published_at), None),
                     "draft": next((v for v in versions if not v.published_at), None),
                     "active": active is not None and active.policy_id == p.pk})
    return render(request, "absences/policies/list.html",
                  {"rows": rows, "active": active, "preset_form": PresetForm()})


@require_POST
@permission_required(Action.MANAGE_POLICIES)
def policy_preset(request):
    form = PresetForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a threshold model."))
        return redirect("absences:policy_list")
    with transaction.atomic():
        policy = create_policy_from_preset(form.cleaned_data["preset"], user_id=request.user.pk)
        version = policy.versions.get()
        _audit(request, AuditAction.CREATE, version, preset=policy.preset)
    messages.success(request, _("A draft was created from the model. Check it and publish it."))
    return redirect("absences:policy_edit", pk=policy.pk)


def _band_formsets(draft, data=None):
    bands = draft.bands.prefetch_related(Prefetch("steps", queryset=EscalationStep.objects.order_by("level")))
    return [(band, StepFormSet(data, instance=band, prefix=f"steps-{band.pk}")) for band in bands]


@permission_required(Action.MANAGE_POLICIES)
def policy_edit(request, pk: int):
    """Edit the policy's draft (created from the current version on demand); save or publish."""
    policy = get_object_or_404(ThresholdPolicy, pk=pk)
    draft = draft_of(policy)
    if request.method == "POST" and request.POST.get("action") == "new_draft":
        with transaction.atomic():
            draft = new_draft(policy, user_id=request.user.pk)
            _audit(request, AuditAction.CREATE, draft, copied_from=getattr(policy.current_version(), "number", None))
        return redirect("absences:policy_edit", pk=policy.pk)
    if draft is None:
        return render(request, "absences/policies/edit.html", {"policy": policy, "draft": None,
                                                                "current": policy.current_version()})
    data = request.POST if request.method == "POST" else None
    form = VersionForm(data, instance=draft, prefix="version")
    bands = BandFormSet(data, instance=draft, prefix="bands")
    steps = _band_formsets(draft, data)
    if request.method == "POST":
        valid = form.is_valid() & bands.is_valid() & all([formset.is_valid() for _band, formset in steps])
        publishing = request.POST.get("action") == "publish"
        if valid:
            with transaction.atomic():
                form.save()
                bands.save()
                for _band, formset in steps:
                    if formset.instance.pk and GradeBand.objects.filter(pk=formset.instance.pk).exists():
                        formset.save()
                if publishing and (not draft.bands.exists() or draft.bands.filter(steps__isnull=True).exists()):
                    transaction.set_rollback(True)
                    messages.error(request, _("Every grade band needs at least one step before publishing."))
                    return redirect("absences:policy_edit", pk=policy.pk)
                if publishing:
                    publish_version(draft)
                _audit(request, AuditAction.UPDATE, draft, published=publishing)
            if publishing:
                messages.success(request, _("Version %(number)s is in use from the next evaluation.")
                                 % {"number": draft.number})
                return redirect("absences:policy_history", pk=policy.pk)
            messages.success(request, _("The draft was saved."))
            return redirect("absences:policy_edit", pk=policy.pk)
    return render(request, "absences/policies/edit.html", {
        "policy": policy, "draft": draft, "current": policy.current_version(), "form": form, "bands": bands,
        "steps": steps, "weeks_per_year": SCHOOL_WEEKS_PER_YEAR,
    })


@permission_required(Action.MANAGE_POLICIES)
def policy_history(request, pk: int):
    policy = get_object_or_404(ThresholdPolicy, pk=pk)
    versions = policy.versions.order_by("-number").prefetch_related(
        Prefetch("bands", queryset=GradeBand.objects.prefetch_related(
            Prefetch("steps", queryset=EscalationStep.objects.order_by("level")))))
    return render(request, "absences/policies/history.html", {"policy": policy, "versions": versions})
