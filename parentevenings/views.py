"""Staff pages of parent evenings (MANAGE_PARENT_EVENINGS: the coordinator everywhere, principals
for the evenings of their schools). Thin: authorise → selector/service → audit → render.

No page shows guardians' contact details: they exist only for the guardian's own messages.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from parentevenings import flyers, invitations, links, selectors
from parentevenings.forms import (
    AddLanguageForm,
    AgencyForm,
    BookingForm,
    CheckInForm,
    EveningForm,
    HeadCountForm,
    LanguageForm,
    LinkAgencyForm,
    SettingsForm,
)
from parentevenings.models import Agency, EveningAgency, InterpreterBooking, ParentEveningSettings
from parentevenings.services import events as services
from parentevenings.services import registrations as registration_services
from welfare import audit, policy
from welfare.models import AuditAction, School
from welfare.policy import Action, municipality_staff_required, permission_required


def _schools_for(user):
    allowed = policy.allowed_schools(user, Action.MANAGE_PARENT_EVENINGS)
    return School.objects.all() if allowed is None else School.objects.filter(pk__in=allowed)


@never_cache
@municipality_staff_required
def index(request):
    """The module's front page: the evenings the user organises (others see what the module is)."""
    if not policy.can(request.user, Action.MANAGE_PARENT_EVENINGS):
        return render(request, "parentevenings/index.html", {"can_manage": False})
    evenings = selectors.manageable_evenings(request.user).prefetch_related("languages")
    return render(request, "parentevenings/index.html", {
        "can_manage": True, "evenings": evenings, "everything": selectors.manages_everything(request.user),
    })


@never_cache
@permission_required(Action.MANAGE_PARENT_EVENINGS)
def evening_edit(request, pk: int | None = None):
    evening = selectors.evening_for_manager(request.user, pk) if pk else None
    form = EveningForm(request.POST or None, instance=evening, schools=_schools_for(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            evening = services.save_evening(form.save(commit=False), form.cleaned_data["schools"],
                                            user_id=request.user.pk)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            audit.record(request, AuditAction.UPDATE if pk else AuditAction.CREATE, obj=evening)
            messages.success(request, _("The evening is saved."))
            return redirect("parentevenings:evening", pk=evening.pk)
    return render(request, "parentevenings/evening_form.html", {"form": form, "evening": evening},
                  status=400 if form.errors else 200)


@never_cache
@permission_required(Action.MANAGE_PARENT_EVENINGS)
def evening_detail(request, pk: int):
    evening = selectors.evening_for_manager(request.user, pk)
    add_form = AddLanguageForm(request.POST or None, prefix="lang")
    agency_form = LinkAgencyForm(prefix="agency")
    if request.method == "POST" and add_form.is_valid():
        try:
            language = services.add_language(evening, add_form.cleaned_data["code"])
        except ValidationError as error:
            add_form.add_error("code", error.messages)
        else:
            messages.success(request, _("%(language)s added.") % {"language": language.name})
            return redirect("parentevenings:language", pk=evening.pk, code=language.code)
    rows = selectors.language_rows(evening)
    prefetch_related_objects([evening], Prefetch("evening_agencies",
                                                 queryset=EveningAgency.objects.select_related("agency")))
    public_url = request.build_absolute_uri(links.overview_path(evening))
    return render(request, "parentevenings/evening_detail.html", {
        "evening": evening, "rows": rows, "add_form": add_form, "agency_form": agency_form,
        "public_url": public_url, "lacking": [row for row in rows if row.lacks_interpreter],
        "people": sum(row.people for row in rows), "waiting": sum(row.waiting_people for row in rows),
    }, status=400 if add_form.errors else 200)


@require_POST
@permission_required(Action.MANAGE_PARENT_EVENINGS)
def evening_agency(request, pk: int):
    evening = selectors.evening_for_manager(request.user, pk)
    if "remove" in request.POST:
        try:
            services.unlink_agency(evening, int(request.POST["remove"]))
        except ValueError:
            raise Http404 from None
        return redirect("parentevenings:evening", pk=pk)
    form = LinkAgencyForm(request.POST, prefix="agency")
    if form.is_valid():
        services.link_agency(evening, form.cleaned_data["agency"], form.cleaned_data["contact_person"])
        messages.success(request, _("The agency is added to the evening."))
    else:
        messages.error(request, _("Choose an agency from the list."))
    return redirect("parentevenings:evening", pk=pk)


@never_cache
@permission_required(Action.MANAGE_PARENT_EVENINGS)
def language_edit(request, pk: int, code: str):
    """One language: title, invitation and message texts (with preview), room, interpreters."""
    evening = selectors.evening_for_manager(request.user, pk)
    language = selectors.evening_language(evening, code)
    form = LanguageForm(request.POST or None, instance=language, prefix="text")
    booking_form = BookingForm(prefix="booking")
    if request.method == "POST":
        if "remove" in request.POST:
            try:
                services.remove_language(language)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
                return redirect("parentevenings:language", pk=pk, code=code)
            return redirect("parentevenings:evening", pk=pk)
        if form.is_valid():
            services.save_language(form.save(commit=False))
            messages.success(request, _("The texts are saved."))
            return redirect("parentevenings:language", pk=pk, code=code)
    url = request.build_absolute_uri(links.language_path(language))
    return render(request, "parentevenings/language_form.html", {
        "evening": evening, "language": language, "form": form, "booking_form": booking_form,
        "preview": invitations.invitation(language, url), "public_url": url,
        "bookings": language.bookings.all(),
    }, status=400 if form.errors else 200)


@never_cache
@permission_required(Action.MANAGE_PARENT_EVENINGS)
def booking_edit(request, pk: int, code: str, booking_pk: int | None = None):
    evening = selectors.evening_for_manager(request.user, pk)
    language = selectors.evening_language(evening, code)
    booking = get_object_or_404(InterpreterBooking, pk=booking_pk, language=language) if booking_pk else None
    form = BookingForm(request.POST or None, instance=booking, prefix="booking")
    if request.method == "POST" and form.is_valid():
        new = form.save(commit=False)
        new.language = language
        services.save_booking(new)
        messages.success(request, _("The interpreter booking is saved."))
        return redirect("parentevenings:language", pk=pk, code=code)
    return render(request, "parentevenings/booking_form.html", {
        "evening": evening, "language": language, "form": form, "booking": booking,
    }, status=400 if form.errors else 200)


@permission_required(Action.MANAGE_PARENT_EVENINGS)
def flyer(request, pk: int, code: str):
    """The printable PDF flyer of one language, with a QR code to its registration page."""
    evening = selectors.evening_for_manager(request.user, pk)
    language = selectors.evening_language(evening, code)
    pdf = flyers.flyer_pdf(language, request.build_absolute_uri(links.language_path(language)))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="parent-evening-{evening.pk}-{code}.pdf"'
    return response


@never_cache
@permission_required(Action.MANAGE_PARENT_EVENINGS)
def check_in(request, pk: int):
    """At the door: check a family in by its code, or record a head count per language group."""
    evening = selectors.evening_for_manager(request.user, pk)
    form = CheckInForm(request.POST if "code" in request.POST else None)
    status = 200
    if request.method == "POST" and "head_count_language" in request.POST:
        language = selectors.evening_language(evening, request.POST["head_count_language"])
        count_form = HeadCountForm(request.POST)
        if count_form.is_valid():
            registration_services.set_head_count(language, count_form.cleaned_data["head_count"])
            messages.success(request, _("Head count saved for %(language)s.") % {"language": language.name})
            return redirect("parentevenings:check_in", pk=pk)
        messages.error(request, _("Give the head count as a whole number."))
        status = 400
    elif request.method == "POST" and form.is_valid():
        try:
            registration = registration_services.check_in(evening, form.cleaned_data["code"])
        except ValidationError as error:
            form.add_error("code", error.messages)
            status = 400
        else:
            messages.success(request, _("%(code)s checked in: %(people)s people, %(language)s.") % {
                "code": registration.code, "people": registration.people, "language": registration.language.name})
            return redirect("parentevenings:check_in", pk=pk)
    elif request.method == "POST":
        status = 400
    return render(request, "parentevenings/check_in.html", {
        "evening": evening, "form": form, "rows": selectors.language_rows(evening),
        "registrations": selectors.registrations_of(evening),
    }, status=status)


@never_cache
@permission_required(Action.MANAGE_PARENT_EVENINGS)
def feedback(request, pk: int):
    evening = selectors.evening_for_manager(request.user, pk)
    return render(request, "parentevenings/feedback.html", {
        "evening": evening, "summaries": selectors.feedback_summary([evening.pk]),
    })


@never_cache
@permission_required(Action.MANAGE_PARENT_EVENINGS)
def overview(request):
    """Evenings per area: registrations vs attendance per language, interpreters, feedback."""
    return render(request, "parentevenings/overview.html", {"reports": selectors.area_reports(request.user)})


def _require_everything(request):
    if not selectors.manages_everything(request.user):
        raise PermissionDenied


@never_cache
@permission_required(Action.MANAGE_PARENT_EVENINGS)
def agencies(request, agency_pk: int | None = None):
    """The municipality's list of agencies (the coordinator keeps it; principals read it)."""
    agency = get_object_or_404(Agency, pk=agency_pk) if agency_pk else None
    form = AgencyForm(request.POST or None, instance=agency)
    if request.method == "POST":
        _require_everything(request)
        if form.is_valid():
            services.save_agency(form.save(commit=False))
            messages.success(request, _("The agency list is saved."))
            return redirect("parentevenings:agencies")
    return render(request, "parentevenings/agencies.html", {
        "agencies": Agency.objects.all(), "form": form, "agency": agency,
        "can_edit": selectors.manages_everything(request.user),
    }, status=400 if form.errors else 200)


@never_cache
@permission_required(Action.MANAGE_PARENT_EVENINGS)
def settings_view(request):
    """The municipality's settings: anonymisation and reminder days (coordinator only)."""
    _require_everything(request)
    form = SettingsForm(request.POST or None, instance=ParentEveningSettings.current())
    if request.method == "POST" and form.is_valid():
        services.save_settings(form.save(commit=False))
        audit.record(request, AuditAction.UPDATE, obj=form.instance)
        messages.success(request, _("The settings are saved."))
        return redirect("parentevenings:settings")
    return render(request, "parentevenings/settings.html", {"form": form}, status=400 if form.errors else 200)
