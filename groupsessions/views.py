"""Staff screens of group sessions: coverage, the school's groups to meet, planning, the session
record, follow-ups to the annual clock, the printable QR code and the municipality's settings.

Thin: authorise (welfare.policy) → service or selector → audit → render. Communal data only; the
pupils' anonymous form is in views_feedback.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from groupsessions import selectors, services
from groupsessions.forms import AddGroupForm, FollowUpForm, PlanForm, RecordForm, SettingsForm
from groupsessions.models import CohortGroup, FollowUp, GroupSession, GroupSessionSettings, SessionStatus, Topic
from welfare import audit, policy
from welfare.aggregates import suppress_count
from welfare.models import AuditAction, School, SchoolYear, TeachingGroup
from welfare.policy import Action, municipality_staff_required, permission_required
from welfare.qr import qr_svg


def _school_year(request) -> SchoolYear | None:
    year_id = request.GET.get("year", "")
    if year_id.isdigit():
        return SchoolYear.objects.filter(pk=int(year_id)).first() or selectors.school_year_for(timezone.localdate())
    return selectors.school_year_for(timezone.localdate())


def _people_labels() -> tuple[str, str]:
    return (_("Pupils met"), _("Feedback responses"))


@never_cache
@municipality_staff_required
def index(request):
    """Coverage: the municipality's table for coordinators, otherwise the user's schools."""
    school_year = _school_year(request)
    ids = selectors.coverage_school_ids(request.user)
    context = {"school_year": school_year, "school_years": SchoolYear.objects.order_by("-start_date"),
               "may_manage_settings": policy.can(request.user, Action.MANAGE_CLOCK_TEMPLATES)}
    if school_year is not None:
        services.sync_cohort(school_year)
        if ids is None:
            context["municipal"] = selectors.municipal_coverage(school_year, timezone.localdate(), _people_labels())
        elif ids:
            context["coverages"] = selectors.coverages(school_year, timezone.localdate(), ids)
            covered = {c.school.pk for c in context["coverages"]}
            context["empty_schools"] = School.objects.filter(pk__in=ids - covered).order_by("name")
    return render(request, "groupsessions/index.html", context)


def _school_or_403(request, pk: int) -> School:
    school = get_object_or_404(School, pk=pk)
    if not selectors.may_view_coverage(request.user, school):
        raise PermissionDenied
    return school


@never_cache
@municipality_staff_required
def school_view(request, pk: int):
    """One school's groups to meet in a school year: status, sessions, overdue, feedback results."""
    school = _school_or_403(request, pk)
    school_year = _school_year(request)
    if school_year is None:
        raise Http404
    services.sync_cohort(school_year)
    today = timezone.localdate()
    coverage = selectors.school_coverage(school, school_year, today)
    may_record = policy.can(request.user, Action.RECORD_GROUP_SESSION, school)
    add_form = None
    if may_record:
        add_form = AddGroupForm(groups=_addable_groups(school, school_year), prefix="add")
    summary = selectors.feedback_summary(selectors.school_feedback(school, school_year))
    return render(request, "groupsessions/school.html", {
        "school": school, "school_year": school_year, "coverage": coverage, "may_record": may_record,
        "add_form": add_form, "summary": summary, "today": today,
        "school_years": SchoolYear.objects.order_by("-start_date"),
    })


def _addable_groups(school, school_year):
    taken = CohortGroup.objects.filter(school_year=school_year, teaching_group__isnull=False).values(
        "teaching_group_id")
    return TeachingGroup.objects.filter(school=school, school_year=school_year).exclude(pk__in=taken)


@require_POST
@permission_required(Action.RECORD_GROUP_SESSION)
def add_group(request, pk: int):
    """Add a group to meet by hand (a register group of the school, or a name)."""
    school = get_object_or_404(School, pk=pk)
    policy.require(request.user, Action.RECORD_GROUP_SESSION, school)
    school_year = _school_year(request)
    if school_year is None:
        raise Http404
    form = AddGroupForm(request.POST, groups=_addable_groups(school, school_year), prefix="add")
    if form.is_valid():
        group = None
        if form.cleaned_data["teaching_group"]:
            group = TeachingGroup.objects.filter(pk=form.cleaned_data["teaching_group"]).first()
        try:
            cohort_group = services.add_cohort_group(
                user=request.user, school=school, school_year=school_year, teaching_group=group,
                name=form.cleaned_data["name"], reason=form.cleaned_data["reason"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            audit.record(request, AuditAction.CREATE, obj=cohort_group, detail={"view": "group_session_add_group"})
            messages.success(request, _("%(group)s was added to the groups to meet.") % {"group": cohort_group.name})
    else:
        messages.error(request, _("The group was not added: choose a group or give a name."))
    return redirect(f"{reverse('groupsessions:school', args=[school.pk])}?year={school_year.pk}")


@require_POST
@permission_required(Action.RECORD_GROUP_SESSION)
def remove_group(request, group_pk: int):
    """Remove a group added by hand by mistake (one without sessions)."""
    group = get_object_or_404(CohortGroup.objects.select_related("school"), pk=group_pk)
    policy.require(request.user, Action.RECORD_GROUP_SESSION, group)
    back = f"{reverse('groupsessions:school', args=[group.school_id])}?year={group.school_year_id}"
    try:
        with transaction.atomic():
            audit.record(request, AuditAction.DELETE, obj=group, detail={"view": "group_session_remove_group"})
            services.remove_cohort_group(group)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(group)s was removed from the groups to meet.") % {"group": group.name})
    return redirect(back)


def _handle_plan(request, *, school, cohort_group, session=None):
    options = selectors.staff_options(school)
    if request.method == "POST":
        form = PlanForm(request.POST, staff_options=options)
        if form.is_valid():
            picks = form.staff_picks()
            conflicts = selectors.double_bookings([p.user_id for p in picks], form.cleaned_data["starts_at"],
                                                  form.cleaned_data["ends_at"],
                                                  exclude=session.pk if session else None)
            if conflicts and not form.cleaned_data["confirm_overlap"]:
                return render(request, "groupsessions/plan.html", {
                    "form": form, "school": school, "cohort_group": cohort_group, "session": session,
                    "conflicts": conflicts})
            try:
                if session is None:
                    session = services.plan_session(
                        user=request.user, cohort_group=cohort_group, starts_at=form.cleaned_data["starts_at"],
                        ends_at=form.cleaned_data["ends_at"], place=form.cleaned_data["place"], staff=picks)
                    action = AuditAction.CREATE
                else:
                    services.reschedule_session(
                        session, starts_at=form.cleaned_data["starts_at"], ends_at=form.cleaned_data["ends_at"],
                        place=form.cleaned_data["place"], staff=picks)
                    action = AuditAction.UPDATE
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                audit.record(request, action, obj=session, detail={"view": "group_session_plan"})
                messages.success(request, _("The session was saved."))
                if conflicts:
                    messages.warning(request, _("Saved although a staff member is booked at the same time."))
                return redirect("groupsessions:session", pk=session.pk)
    else:
        initial = PlanForm.initial_for(session, options) if session else {}
        form = PlanForm(initial=initial, staff_options=options)
    return render(request, "groupsessions/plan.html", {
        "form": form, "school": school, "cohort_group": cohort_group, "session": session})


@never_cache
@permission_required(Action.RECORD_GROUP_SESSION)
def plan(request, group_pk: int):
    """Schedule a session for a group to meet."""
    cohort_group = get_object_or_404(CohortGroup.objects.select_related("school", "school_year"), pk=group_pk)
    policy.require(request.user, Action.RECORD_GROUP_SESSION, cohort_group)
    return _handle_plan(request, school=cohort_group.school, cohort_group=cohort_group)


def _session(pk: int) -> GroupSession:
    return get_object_or_404(GroupSession.objects.select_related("cohort_group__school_year",
                                                                 "cohort_group__school"), pk=pk)


@require_POST
@permission_required(Action.RECORD_GROUP_SESSION)
def delete(request, pk: int):
    """Remove a session planned by mistake."""
    session = _session(pk)
    policy.require(request.user, Action.RECORD_GROUP_SESSION, session)
    back = (reverse("groupsessions:school", args=[session.cohort_group.school_id])
            + f"?year={session.cohort_group.school_year_id}")
    try:
        with transaction.atomic():
            audit.record(request, AuditAction.DELETE, obj=session)
            services.delete_session(session)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("groupsessions:session", pk=pk)
    messages.success(request, _("The planned session was removed."))
    return redirect(back)


@never_cache
@permission_required(Action.RECORD_GROUP_SESSION)
def edit(request, pk: int):
    """Change a session's time, place and staff."""
    session = _session(pk)
    policy.require(request.user, Action.RECORD_GROUP_SESSION, session)
    return _handle_plan(request, school=session.cohort_group.school, cohort_group=session.cohort_group,
                        session=session)


@never_cache
@municipality_staff_required
def session_detail(request, pk: int):
    """One session: plan, record, feedback link and results, open answers, follow-ups."""
    session = _session(pk)
    policy.require(request.user, Action.VIEW_ANNUAL_CLOCK, session)
    may_record = policy.can(request.user, Action.RECORD_GROUP_SESSION, session)
    may_read_open = policy.can(request.user, Action.VIEW_OPEN_FEEDBACK, session)
    responses = session.feedback.all()
    summary = selectors.feedback_summary(responses)
    answers = selectors.open_answers(responses) if may_read_open else []
    if answers:
        audit.record(request, AuditAction.READ, obj=session, detail={"view": "group_session_open_answers",
                                                                     "answers": len(answers)})
    staff = selectors.session_staff(session)
    conflicts = selectors.double_bookings([s.user_id for s in staff], session.starts_at, session.ends_at,
                                          exclude=session.pk) if session.status == SessionStatus.PLANNED else []
    counts = None
    if session.status == SessionStatus.HELD:
        show = (lambda n: n) if may_record else suppress_count  # others see small counts as "<5"
        counts = {"present": show(session.pupils_present or 0), "enrolled": show(session.pupils_enrolled or 0)}
    return render(request, "groupsessions/session.html", {
        "session": session, "staff": staff, "may_record": may_record, "may_read_open": may_read_open,
        "summary": summary, "answers": answers, "conflicts": conflicts, "counts": counts,
        "topics": [label for code, label in Topic.choices if code in session.topics],
        "follow_ups": session.follow_ups.all(), "follow_up_form": FollowUpForm(
            prefix="fu", initial={"month": timezone.localdate().replace(day=1)}) if may_record else None,
        "feedback_url": request.build_absolute_uri(reverse("groupsessions:feedback", args=[session.feedback_token])),
        "feedback_open": session.feedback_open(),
    })


@never_cache
@permission_required(Action.RECORD_GROUP_SESSION)
def record(request, pk: int):
    """Record the session: held (counts, topics) or not held (reason)."""
    session = _session(pk)
    policy.require(request.user, Action.RECORD_GROUP_SESSION, session)
    if request.method == "POST":
        form = RecordForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.record_session(
                    session, user=request.user, status=data["status"], not_held_reason=data["not_held_reason"],
                    pupils_present=data["pupils_present"], pupils_enrolled=data["pupils_enrolled"],
                    topics=data["topics"], other_topics=data["other_topics"])
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                audit.record(request, AuditAction.UPDATE, obj=session, detail={"view": "group_session_record",
                                                                               "status": session.status})
                messages.success(request, _("The session record was saved."))
                return redirect("groupsessions:session", pk=session.pk)
    else:
        enrolled = None
        if session.cohort_group.teaching_group_id:  # a count from the register, never the pupils themselves
            enrolled = (TeachingGroup.objects.filter(pk=session.cohort_group.teaching_group_id)
                        .annotate(n=Count("students")).values_list("n", flat=True).first())
        form = RecordForm(initial=RecordForm.initial_for(session, enrolled or None))
    return render(request, "groupsessions/record.html", {"session": session, "form": form})


@require_POST
@permission_required(Action.RECORD_GROUP_SESSION)
def add_follow_up(request, pk: int):
    session = _session(pk)
    policy.require(request.user, Action.RECORD_GROUP_SESSION, session)
    form = FollowUpForm(request.POST, prefix="fu")
    if form.is_valid():
        follow_up = services.add_follow_up(session, user=request.user, title=form.cleaned_data["title"],
                                           description=form.cleaned_data["description"],
                                           month=form.cleaned_data["month"])
        audit.record(request, AuditAction.CREATE, obj=follow_up, detail={"view": "group_session_follow_up"})
        messages.success(request, _("The follow-up was added."))
    else:
        messages.error(request, _("The follow-up was not added: write what should be followed up and the month."))
    return redirect(f"{reverse('groupsessions:session', args=[session.pk])}#follow-ups")


@require_POST
@permission_required(Action.RECORD_GROUP_SESSION)
def follow_up_to_clock(request, pk: int, follow_up_pk: int):
    """One click: the follow-up becomes an activity on the school's annual clock."""
    session = _session(pk)
    policy.require(request.user, Action.RECORD_GROUP_SESSION, session)
    follow_up = get_object_or_404(FollowUp, pk=follow_up_pk, session=session)
    try:
        url = services.follow_up_to_clock(follow_up, user=request.user)
    except PermissionDenied:
        messages.error(request, _("You may not add activities to this school's annual clock."))
    except NotImplementedError:
        messages.error(request, _("The annual clock cannot take activities yet. Try again later."))
    except ValueError:  # no school year contains the follow-up's month
        messages.error(request, _("No school year contains the month of this follow-up."))
    else:
        audit.record(request, AuditAction.UPDATE, obj=follow_up, detail={"view": "group_session_to_clock"})
        messages.success(request, _("Added to the annual clock: %(title)s") % {"title": follow_up.title})
        if url.startswith("/"):
            return redirect(url)
    return redirect(f"{reverse('groupsessions:session', args=[session.pk])}#follow-ups")


@never_cache
@permission_required(Action.RECORD_GROUP_SESSION)
def qr_page(request, pk: int):
    """A printable page with the feedback link and its QR code."""
    session = _session(pk)
    policy.require(request.user, Action.RECORD_GROUP_SESSION, session)
    url = request.build_absolute_uri(reverse("groupsessions:feedback", args=[session.feedback_token]))
    return render(request, "groupsessions/qr.html", {"session": session, "url": url, "qr": qr_svg(url)})


@never_cache
@permission_required(Action.MANAGE_CLOCK_TEMPLATES)
def settings_view(request):
    """The municipality's deadline (default 31 October) and how long feedback stays open."""
    current = GroupSessionSettings.current()
    if request.method == "POST":
        form = SettingsForm(request.POST)
        if form.is_valid():
            try:
                services.update_settings(**form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                audit.record(request, AuditAction.UPDATE, obj=current, detail={"view": "group_session_settings"})
                messages.success(request, _("The settings were saved."))
                return redirect("groupsessions:settings")
    else:
        form = SettingsForm(initial={"deadline_month": current.deadline_month, "deadline_day": current.deadline_day,
                                     "feedback_days": current.feedback_days})
    return render(request, "groupsessions/settings.html", {"form": form})
