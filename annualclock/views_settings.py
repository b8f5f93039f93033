"""The municipal coordinator's settings of the annual clock (Action.MANAGE_CLOCK_TEMPLATES): the
default reminder days and the rings of the wheel.

Two forms on one page, each its own POST with a hidden ``form`` name, so saving one does not
validate the other. Writes go through annualclock.services; every save is audited once.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from annualclock import services
from annualclock.forms import ClockSettingsForm, RingFormSet
from annualclock.models import ClockSettings, Ring
from welfare import audit
from welfare.models import AuditAction
from welfare.policy import Action, permission_required

REMINDERS, RINGS = "reminders", "rings"


def _rings_formset(data=None) -> RingFormSet:
    return RingFormSet(data, queryset=Ring.objects.order_by("position", "id"), prefix=RINGS)


@never_cache
@require_http_methods(["GET", "POST"])
@permission_required(Action.MANAGE_CLOCK_TEMPLATES)
def settings_view(request):
    current = ClockSettings.current()
    settings_form = ClockSettingsForm(instance=current, prefix=REMINDERS)
    formset = _rings_formset()
    posted = request.POST.get("form") if request.method == "POST" else None
    if request.method == "POST" and posted not in (REMINDERS, RINGS):
        return HttpResponseBadRequest()

    if posted == REMINDERS:
        before = current.reminder_days
        settings_form = ClockSettingsForm(request.POST, instance=ClockSettings(pk=current.pk), prefix=REMINDERS)
        if settings_form.is_valid():
            try:
                row = services.update_clock_settings(reminder_days=settings_form.cleaned_data["reminder_days"],
                                                     user=request.user)
            except ValidationError as error:
                settings_form.add_error(None, error)
            else:
                audit.record(request, AuditAction.UPDATE, obj=row, detail={
                    "view": "annual_clock_settings", "form": REMINDERS,
                    "reminder_days": {"from": before, "to": row.reminder_days}})
                messages.success(request, _("The reminder days were saved."))
                return redirect("annualclock:settings")

    if posted == RINGS:
        formset = _rings_formset(request.POST)
        if formset.is_valid():
            try:
                changed, created = services.save_rings(formset.save(commit=False), user=request.user)
            except ValidationError as error:  # the rows passed; only a model check of the write path is left
                formset._non_form_errors = formset.error_class(error.messages)  # a formset has no add_error()
            else:
                audit.record(request, AuditAction.UPDATE, obj=current, detail={
                    "view": "annual_clock_settings", "form": RINGS,
                    "changed": [ring.code for ring in changed], "created": [ring.code for ring in created]})
                if changed or created:
                    messages.success(request, _("The rings were saved."))
                else:
                    messages.info(request, _("Nothing was changed in the rings."))
                return redirect("annualclock:settings")

    invalid = posted is not None
    return render(request, "annualclock/settings.html", {
        "settings_form": settings_form, "formset": formset, "may_manage_templates": True,
    }, status=400 if invalid else 200)
