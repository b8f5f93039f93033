"""Public pages of an evening (no sign-in; guardians never need an account).

* the multilingual overview: every language of the evening, each with its own lang/dir;
* one page per language: the invitation in that language and the registration form
  (``<html lang=".." dir="rtl">`` for right-to-left languages);
* the registration's own page behind a signed link: code, status and cancellation;
* the anonymous feedback form.

Spam protection: a per-address rate limit (django-ratelimit, no third-party captcha) and a
honeypot field. The address is welfare.audit.client_ip's (the client behind the reverse proxy when
the proxy is trusted), not REMOTE_ADDR: behind a proxy that would put every family in one bucket.
UI strings come from gettext (fi/sv/en); the evening's texts are content per language written
by staff.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from parentevenings import invitations, languages, links, selectors
from parentevenings.forms import CancelForm, FeedbackForm, RegistrationForm
from parentevenings.models import RegistrationStatus
from parentevenings.services import feedback as feedback_services
from parentevenings.services import registrations as services
from welfare.audit import client_ip


def registration_rate(group, request) -> str:
    return getattr(settings, "PARENT_EVENINGS_REGISTRATION_RATE", "30/h")


def client_key(group, request) -> str:
    return client_ip(request) or "unknown"


def _page_context(request, language, **extra) -> dict:
    return {
        "evening": language.evening,
        "language": language,
        "page_lang": language.code,
        "page_dir": language.direction,
        "ui_lang": languages.ui_language(),
        "registration_url": request.build_absolute_uri(links.language_path(language)),
        **extra,
    }


def _too_many(request, template: str, context: dict):
    context["rate_limited"] = True
    return render(request, template, context, status=429)


@never_cache
def overview(request, token: str):
    """Every language of the evening on one page, each section in its own language and direction."""
    evening = selectors.public_evening(token)
    sections = []
    for language in evening.languages.all():
        language.evening = evening
        url = request.build_absolute_uri(links.language_path(language))
        sections.append({"language": language, "url": url, "invitation": invitations.invitation(language, url),
                         "date": invitations.date_text(evening, language.code),
                         "time": invitations.time_text(evening, language.code)})
    return render(request, "parentevenings/public/overview.html", {
        "evening": evening, "sections": sections, "page_lang": languages.ui_language(), "page_dir": "ltr",
        "ui_lang": languages.ui_language(),
    })


@never_cache
@require_http_methods(["GET", "POST"])
@ratelimit(key=client_key, rate=registration_rate, method="POST", block=False)
def language_page(request, token: str, code: str):
    """The evening in one language, with the registration form (mobile first)."""
    evening = selectors.public_evening(token)
    language = selectors.evening_language(evening, code)
    template = "parentevenings/public/language.html"
    context = _page_context(request, language, date=invitations.date_text(evening, code),
                            time=invitations.time_text(evening, code), place=invitations.place_text(evening, language),
                            open=evening.date >= timezone.localdate(),
                            feedback_open=evening.date <= timezone.localdate())
    context["invitation"] = invitations.invitation(language, context["registration_url"])
    if request.method == "POST":
        form = RegistrationForm(request.POST, evening=evening, language=code)
        context["form"] = form
        if getattr(request, "limited", False):
            return _too_many(request, template, context)
        if form.is_spam():
            # Answer like a success without storing anything: bots learn nothing.
            return redirect(request.path + "?sent=1")
        if form.is_valid():
            try:
                registration = services.register(evening.pk, form.to_input(), base_url=links.base_url(request))
            except ValidationError as error:
                _add_errors(form, error)
            else:
                return redirect("parentevenings:public_cancel", token=links.cancel_token(registration))
        return render(request, template, context, status=400)
    context["form"] = RegistrationForm(evening=evening, language=code)
    context["spam_sent"] = request.GET.get("sent") == "1"
    return render(request, template, context)


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@never_cache
@require_http_methods(["GET", "POST"])
def registration_page(request, token: str):
    """The family's own page behind the signed link: code, status, and cancellation."""
    registration = links.registration_for_token(token)
    if registration is None or registration.anonymised_at:
        raise Http404
    language = registration.language
    language.evening = registration.evening
    form = CancelForm(request.POST or None)
    if request.method == "POST" and registration.status != RegistrationStatus.CANCELLED:
        if form.is_valid():
            services.cancel(registration.pk, base_url=links.base_url(request))
            messages.success(request, _("Your registration is cancelled. Thank you for letting us know."))
            return redirect(request.path)
    return render(request, "parentevenings/public/registration.html", _page_context(
        request, language, registration=registration, form=form,
        date=invitations.date_text(registration.evening, language.code),
        time=invitations.time_text(registration.evening, language.code),
        place=invitations.place_text(registration.evening, language),
        status=RegistrationStatus,
    ), status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
@ratelimit(key=client_key, rate=registration_rate, method="POST", block=False)
def feedback_page(request, token: str, code: str):
    """Anonymous feedback in the evening's language: a 1–10 score, what was useful, what was missing."""
    evening = selectors.public_evening(token)
    language = selectors.evening_language(evening, code)
    template = "parentevenings/public/feedback.html"
    context = _page_context(request, language, open=evening.date <= timezone.localdate())
    form = FeedbackForm(request.POST or None)
    context["form"] = form
    if request.method == "POST":
        if getattr(request, "limited", False):
            return _too_many(request, template, context)
        if form.is_spam():
            return redirect(request.path + "?thanks=1")
        if form.is_valid():
            try:
                feedback_services.submit_feedback(evening, language=code, **{
                    key: form.cleaned_data[key] for key in ("score", "useful", "missing")})
            except ValidationError as error:
                _add_errors(form, error)
            else:
                return redirect(request.path + "?thanks=1")
        return render(request, template, context, status=400)
    context["thanks"] = request.GET.get("thanks") == "1"
    return render(request, template, context)
