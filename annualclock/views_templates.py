"""The municipal coordinator's template clocks (Action.MANAGE_CLOCK_TEMPLATES): the templates,
their activities, and which schools adopted each one and what they changed."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from annualclock import selectors, services
from annualclock.forms import ActivityForm, TemplateForm
from annualclock.models import Activity, ClockTemplate, month_position
from annualclock.presentation import period_text
from annualclock.views import _save_activity_form
from welfare import audit
from welfare.models import AuditAction
from welfare.policy import Action, permission_required


def _template(pk: int) -> ClockTemplate:
    template = ClockTemplate.objects.filter(pk=pk).first()
    if template is None:
        raise Http404
    return template


@require_GET
@permission_required(Action.MANAGE_CLOCK_TEMPLATES)
def template_list(request):
    templates = ClockTemplate.objects.all()
    return render(request, "annualclock/templates/list.html", {"templates": templates})


@require_http_methods(["GET", "POST"])
@permission_required(Action.MANAGE_CLOCK_TEMPLATES)
def template_new(request):
    form = TemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        template = services.create_template(user=request.user, **form.cleaned_data)
        audit.record(request, AuditAction.CREATE, obj=template)
        return redirect("annualclock:template_detail", pk=template.pk)
    return render(request, "annualclock/templates/form.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@permission_required(Action.MANAGE_CLOCK_TEMPLATES)
def template_edit(request, pk: int):
    template = _template(pk)
    form = TemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        form.save()
        audit.record(request, AuditAction.UPDATE, obj=template)
        messages.success(request, _("The template was saved."))
        return redirect("annualclock:template_detail", pk=template.pk)
    return render(request, "annualclock/templates/form.html", {"form": form, "template": template},
                  status=400 if form.errors else 200)


@require_GET
@permission_required(Action.MANAGE_CLOCK_TEMPLATES)
def template_detail(request, pk: int):
    """The template's activities by month, and its adoptions with each school's changes."""
    template = _template(pk)
    activities = sorted(template.activities.select_related("ring"),
                        key=lambda a: (month_position(a.month_start), a.ring.position, a.pk))
    rows = [{"activity": a, "period": period_text(a, None, None)} for a in activities]
    return render(request, "annualclock/templates/detail.html", {
        "template": template, "rows": rows, "adoptions": selectors.adoptions(template)})


@require_http_methods(["GET", "POST"])
@permission_required(Action.MANAGE_CLOCK_TEMPLATES)
def template_activity_new(request, pk: int):
    template = _template(pk)
    form = ActivityForm(request.POST or None, instance=Activity(template=template), template=True,
                        initial={"month_start": 8, "month_end": 8})
    return _save_activity_form(request, form, "annualclock/activity_form.html",
                               {"template": template, "title": _("New template activity")}, created=True)
