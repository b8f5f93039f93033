"""The annual clock's screens: the clocks, one clock as a wheel and a month list, an activity,
"my tasks", and editing (inline with htmx where it helps).

Thin views: authorise through welfare.policy (via annualclock.selectors.may_view / may_edit),
call a selector or service, audit writes, render. The clock is communal data (no pupils), so
reads are not audited; changes are (welfare.audit, CREATE/UPDATE/DELETE).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annualclock import documents, selectors, services
from annualclock.forms import ActivityForm, ClockRemindersForm, EvaluationForm, NewClockForm
from annualclock.models import Activity, Clock, ClockSettings, ClockTemplate, Status, TargetGroup
from annualclock.presentation import list_item, month_groups, period_text, render_wheel
from annualclock.schedule import span
from welfare import audit
from welfare.models import AuditAction, Role
from welfare.policy import Action, can, permission_required
from welfare.services.documents import DocumentRefused, request_document


def _clock(request, pk: int, *, edit: bool = False) -> Clock:
    clock = Clock.objects.select_related("school", "school_year", "template").filter(pk=pk).first()
    if clock is None or not selectors.may_view(request.user, clock):
        raise Http404
    if edit and not selectors.may_edit(request.user, clock):
        raise PermissionDenied
    return clock


def _activity(request, pk: int, *, edit: bool = False) -> Activity:
    activity = (Activity.objects.select_related("ring", "clock__school", "clock__school_year", "template")
                .filter(pk=pk).first())
    if activity is None or not selectors.may_view(request.user, activity):
        raise Http404
    if edit and not selectors.may_edit(request.user, activity):
        raise PermissionDenied
    return activity


# --- Clocks ----------------------------------------------------------------------------------


@permission_required(Action.VIEW_ANNUAL_CLOCK)
def index(request):
    """The clocks the user may see, newest school year first; starting a clock for editors."""
    today = timezone.localdate()
    clocks = list(selectors.visible_clocks(request.user))
    return render(request, "annualclock/index.html", {
        "clocks": clocks,
        "current_year": selectors.current_school_year(today),
        "may_start": selectors.editable_schools(request.user).exists(),
        "may_manage_templates": can(request.user, Action.MANAGE_CLOCK_TEMPLATES),
    })


@require_http_methods(["GET", "POST"])
@permission_required(Action.EDIT_ANNUAL_CLOCK)
def clock_new(request):
    """Start a school's clock for a school year: adopt a template, copy an earlier clock, or empty."""
    schools = selectors.editable_schools(request.user)
    templates = ClockTemplate.objects.all()
    earlier = Clock.objects.filter(school__in=schools).select_related("school", "school_year")
    form = NewClockForm(request.POST or None, schools=schools, templates=templates, earlier_clocks=earlier,
                        initial={"school_year": selectors.current_school_year(timezone.localdate())})
    if request.method == "POST" and form.is_valid():
        school, year, source = (form.cleaned_data[name] for name in ("school", "school_year", "source"))
        try:
            if source.startswith("template:"):
                clock = services.adopt_template(templates.get(pk=int(source.split(":")[1])), school=school,
                                                school_year=year, user=request.user)
            elif source.startswith("clock:"):
                origin = earlier.get(pk=int(source.split(":")[1]))
                if origin.school_id != school.pk:
                    raise ValueError("other school")
                clock = services.copy_clock(origin, school_year=year, user=request.user)
            else:
                clock = services.empty_clock(school=school, school_year=year, user=request.user)
        except ValueError:
            form.add_error(None, _("%(school)s already has a clock for %(year)s, or the copy is of another school.")
                           % {"school": school, "year": year})
        else:
            audit.record(request, AuditAction.CREATE, obj=clock, detail={"source": source})
            messages.success(request, _("The clock was created."))
            return redirect("annualclock:clock_detail", pk=clock.pk)
    return render(request, "annualclock/clock_new.html", {"form": form})


def _clock_page_context(request, clock: Clock, params=None) -> dict:
    filters = selectors.Filters.from_query(request.GET if params is None else params)
    queryset = filters.apply(clock.activities.all(), request.user)
    placed = selectors.placed_activities(clock, queryset)
    entries = [] if filters.active else selectors.provider_entries(clock)
    rings = selectors.rings()
    today = timezone.localdate()
    return {
        "clock": clock, "filters": filters, "today": today,
        "wheel": render_wheel(clock, rings, placed, entries, today),
        "months": month_groups(placed, entries), "rings": rings, "count": len(placed),
        "may_edit": selectors.may_edit(request.user, clock),
        "status_choices": Status.choices, "target_choices": TargetGroup.choices, "role_choices": Role.choices,
    }


@require_GET
@permission_required(Action.VIEW_ANNUAL_CLOCK)
def clock_detail(request, pk: int):
    """The wheel and, beside it, the same content as an accessible month list, with filters."""
    clock = _clock(request, pk)
    context = _clock_page_context(request, clock)
    if context["may_edit"]:
        context["reminders_form"] = _reminders_form(clock)
    return render(request, "annualclock/clock_detail.html", context)


def _reminders_form(clock: Clock, data=None) -> ClockRemindersForm:
    return ClockRemindersForm(data, instance=clock, prefix="reminders",
                              default_days=ClockSettings.current().reminder_days)


@require_POST
@permission_required(Action.VIEW_ANNUAL_CLOCK)
def clock_reminders(request, pk: int):
    """The school's own reminder days for its clock (the welfare group)."""
    clock = _clock(request, pk, edit=True)
    before = clock.reminder_days
    form = _reminders_form(clock, request.POST)
    if form.is_valid():
        services.set_clock_reminder_days(clock, form.cleaned_data["reminder_days"])
        audit.record(request, AuditAction.UPDATE, obj=clock,
                     detail={"reminder_days": {"from": before, "to": clock.reminder_days}})
        messages.success(request, _("The reminder days were saved."))
        return redirect("annualclock:clock_detail", pk=clock.pk)
    context = _clock_page_context(request, Clock.objects.select_related("school", "school_year", "template")
                                  .get(pk=clock.pk))
    context["reminders_form"] = form
    return render(request, "annualclock/clock_detail.html", context, status=400)


@require_POST
@permission_required(Action.VIEW_ANNUAL_CLOCK)
def clock_document(request, pk: int, kind: str):
    """Ask for the year plan or the year-end evaluation report as a PDF (rendered in Celery)."""
    clock = _clock(request, pk)
    kinds = {"plan": documents.YEAR_PLAN, "report": documents.EVALUATION_REPORT}
    if kind not in kinds:
        raise Http404
    try:
        document = request_document(kinds[kind], {"clock": clock.pk}, request.user)
    except DocumentRefused:
        raise PermissionDenied from None
    audit.record(request, AuditAction.EXPORT, obj=clock, detail={"document": document.pk, "kind": kinds[kind]})
    return redirect("documents:status", pk=document.pk)


# --- Activities ------------------------------------------------------------------------------


def _activity_context(request, activity: Activity) -> dict:
    context = {"activity": activity, "may_edit": selectors.may_edit(request.user, activity),
               "evaluation": getattr(activity, "evaluation", None) if activity.clock_id else None}
    if activity.clock_id:
        start, end = span(activity, activity.clock.school_year)
        context["period"] = period_text(activity, start, end)
        # Only the school's staff are named: an id of anyone else (set through the API before it
        # checked them) must not reveal a name from the users shared by every municipality.
        owner_ids = set(activity.owner_ids)
        context["owners"] = [name for pk, name in selectors.school_staff(activity.clock.school_id) if pk in owner_ids]
        # Reach is a count of people: shown exactly to the school's welfare group, suppressed for others.
        context["show_exact_reach"] = context["may_edit"]
    else:
        context["period"] = period_text(activity, None, None)
    return context


@require_GET
@permission_required(Action.VIEW_ANNUAL_CLOCK)
def activity_detail(request, pk: int):
    activity = _activity(request, pk)
    context = _activity_context(request, activity)
    if activity.clock_id and context["may_edit"] and activity.status != Status.CANCELLED:
        context["evaluation_form"] = EvaluationForm(instance=context["evaluation"], prefix="evaluation")
    return render(request, "annualclock/activity_detail.html", context)


def _owners_for(activity: Activity):
    return selectors.school_staff(activity.clock.school_id) if activity.clock_id else ()


@require_http_methods(["GET", "POST"])
@permission_required(Action.EDIT_ANNUAL_CLOCK)
def activity_new(request, pk: int):
    """A new activity on a clock (``pk`` is the clock's)."""
    clock = _clock(request, pk, edit=True)
    activity = Activity(clock=clock, ring=None)
    month = timezone.localdate().month
    form = ActivityForm(request.POST or None, instance=activity, owners=selectors.school_staff(clock.school_id),
                        initial={"month_start": month, "month_end": month})
    return _save_activity_form(request, form, "annualclock/activity_form.html",
                               {"clock": clock, "title": _("New activity")}, created=True)


def _save_activity_form(request, form, template_name: str, context: dict, *, created: bool):
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.save_activity(form.save(commit=False), user=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            audit.record(request, AuditAction.CREATE if created else AuditAction.UPDATE, obj=activity)
            if request.htmx and not created:
                return _row_response(request, activity)
            messages.success(request, _("The activity was saved."))
            return redirect("annualclock:activity_detail", pk=activity.pk)
    context["form"] = form
    status = 400 if request.method == "POST" else 200
    if request.htmx and not created:
        return render(request, "annualclock/_activity_edit_row.html", context, status=200)
    return render(request, template_name, context, status=status)


@require_http_methods(["GET", "POST"])
@permission_required(Action.VIEW_ANNUAL_CLOCK)
def activity_edit(request, pk: int):
    """Edit an activity: a page, or inline in the month list (htmx swaps the row)."""
    activity = _activity(request, pk, edit=True)
    form = ActivityForm(request.POST or None, instance=activity, owners=_owners_for(activity),
                        template=activity.template_id is not None,
                        prefix=f"edit-{activity.pk}" if request.htmx else None)
    return _save_activity_form(request, form, "annualclock/activity_form.html",
                               {"activity": activity, "clock": activity.clock, "template": activity.template,
                                "title": _("Edit the activity")}, created=False)


def _row_response(request, activity: Activity):
    """The activity's row of the month list, with the wheel and the month list again out of band
    (an edit may move the activity to another month, or out of what the page is filtered to).
    The page's filters are read from the page's own address, which htmx sends with the request.
    ``activity`` was loaded (and authorised) by ``_activity``; the row is built afresh from the clock."""
    page_query = urlsplit(request.htmx.current_url or "").query if request.htmx else ""
    context = _clock_page_context(request, activity.clock, QueryDict(page_query))
    item = next((item for group in context["months"] for item in group.items if item.key == f"activity-{activity.pk}"),
                None)
    context.update({"item": item, "oob_wheel": True})
    return render(request, "annualclock/_activity_row.html", context)


@require_GET
@permission_required(Action.VIEW_ANNUAL_CLOCK)
def activity_row(request, pk: int):
    """The activity's list row as it is (htmx: cancelling an inline edit). Nothing changed, so the
    row alone: not the wheel and the month list again (``_row_response`` is for saves)."""
    activity = _activity(request, pk)
    if not activity.clock_id:
        raise Http404
    start, end = span(activity, activity.clock.school_year)
    return render(request, "annualclock/_activity_row.html", {
        "item": list_item(selectors.PlacedActivity(activity, start, end, [])),
        "may_edit": selectors.may_edit(request.user, activity)})


@require_http_methods(["GET", "POST"])
@permission_required(Action.EDIT_ANNUAL_CLOCK)
def activity_complete(request, pk: int):
    """Mark done with an evaluation: a page, or inline in the month list (htmx)."""
    activity = _activity(request, pk, edit=True)
    if activity.clock_id is None or activity.status == Status.CANCELLED:
        raise Http404
    evaluation = getattr(activity, "evaluation", None)
    form = EvaluationForm(request.POST or None, instance=evaluation, prefix="evaluation")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = services.complete_activity(activity, user=request.user, what_happened=data["what_happened"],
                                           reach=data["reach"], next_year=data["next_year"])
        audit.record(request, AuditAction.UPDATE, obj=saved.activity, detail={"done": True, "evaluation": saved.pk})
        if request.htmx:
            return _row_response(request, activity)
        messages.success(request, _("Marked done. Thank you for the evaluation."))
        return redirect("annualclock:activity_detail", pk=activity.pk)
    context = {"activity": activity, "evaluation_form": form}
    template_name = "annualclock/_evaluation_row.html" if request.htmx else "annualclock/activity_complete.html"
    status = 400 if request.method == "POST" and not request.htmx else 200  # htmx swaps only 2xx
    return render(request, template_name, context, status=status)


@require_POST
@permission_required(Action.VIEW_ANNUAL_CLOCK)
def activity_delete(request, pk: int):
    activity = _activity(request, pk, edit=True)
    back = (reverse("annualclock:clock_detail", args=[activity.clock_id]) if activity.clock_id
            else reverse("annualclock:template_detail", args=[activity.template_id]))
    audit.record(request, AuditAction.DELETE, obj=activity)
    services.delete_activity(activity, user=request.user)
    messages.success(request, _("The activity was removed."))
    return redirect(back)


# --- My tasks --------------------------------------------------------------------------------


@require_GET
@permission_required(Action.VIEW_ANNUAL_CLOCK)
def my_tasks(request):
    """Activities the user owns (named, or by role at the school), open ones first."""
    today = timezone.localdate()
    rows = []
    for activity in selectors.my_tasks(request.user).order_by("clock__school__name"):
        start, end = span(activity, activity.clock.school_year)
        rows.append({"activity": activity, "start": start, "end": end, "period": period_text(activity, start, end),
                     "overdue": activity.status == Status.PLANNED and end < today,
                     "needs_evaluation": activity.status == Status.DONE and not hasattr(activity, "evaluation")})
    open_rows = sorted((r for r in rows if r["activity"].status == Status.PLANNED), key=lambda r: r["start"])
    other = sorted((r for r in rows if r["activity"].status != Status.PLANNED), key=lambda r: r["start"])
    return render(request, "annualclock/my_tasks.html", {
        "open_rows": open_rows, "other_rows": other, "today": today,
        "may_manage_templates": can(request.user, Action.MANAGE_CLOCK_TEMPLATES)})
