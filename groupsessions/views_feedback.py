"""The pupils' anonymous feedback form: no sign-in, one response per device, rate-limited, closes
after the municipality's set number of days. In Finnish, Swedish or English: the pupil picks with
the language buttons; the school's language of instruction is the default.

Nothing here stores an IP address: the rate limit counts in the cache (Redis) under a hash of the
address, and a response keeps only a keyed hash of the device's random id (groupsessions.feedback).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django_ratelimit.decorators import ratelimit

from groupsessions import services
from groupsessions.feedback import (
    FEEDBACK_LANGUAGES,
    device_hash,
    device_id_from,
    new_device_id,
    set_device_cookie,
)
from groupsessions.forms import FeedbackForm
from groupsessions.models import FeedbackResponse, GroupSession
from welfare.audit import client_ip

MIN_TOKEN_LENGTH = 16
DEFAULT_RATE = "120/h"


def feedback_rate(group, request) -> str:
    """Posts per address (a whole class may answer from one school network at once)."""
    return getattr(settings, "GROUPSESSIONS_FEEDBACK_RATE", DEFAULT_RATE)


def client_key(group, request) -> str:
    return client_ip(request) or "unknown"


def _language(request, session: GroupSession) -> str:
    """The language the pupil chose (the language buttons set Django's language cookie), else the
    school's language of instruction."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen in FEEDBACK_LANGUAGES:
        return chosen
    language = session.cohort_group.school.language
    return language if language in FEEDBACK_LANGUAGES else "fi"


@never_cache
@ratelimit(group="groupsessions.feedback", key=client_key, rate=feedback_rate, method="POST", block=False)
def feedback(request, token: str):
    session = None
    if MIN_TOKEN_LENGTH <= len(token) <= 64:
        session = GroupSession.objects.select_related("cohort_group__school").filter(feedback_token=token).first()
    if session is None:
        raise Http404
    device_id = device_id_from(request)
    new_device = device_id is None
    if new_device:
        device_id = new_device_id()
    with translation.override(_language(request, session)):
        response = _feedback(request, session, device_id, new_device)
    if new_device:
        set_device_cookie(response, device_id, secure=request.is_secure())
    return response


def _feedback(request, session: GroupSession, device_id: str, new_device: bool):
    answered = not new_device and FeedbackResponse.objects.filter(
        session=session, device_hash=device_hash(session.feedback_token, device_id)).exists()
    context = {"session": session, "state": "form", "language": translation.get_language()}
    if answered:
        context["state"] = "thanks" if request.GET.get("sent") == "1" else "answered"
        return render(request, "groupsessions/feedback.html", context, status=409 if request.method == "POST" else 200)
    if not session.feedback_open():
        context["state"] = "closed"
        return render(request, "groupsessions/feedback.html", context, status=410 if request.method == "POST" else 200)
    if request.method != "POST":
        context["form"] = FeedbackForm()
        return render(request, "groupsessions/feedback.html", context)
    if getattr(request, "limited", False):
        context["state"] = "limited"
        return render(request, "groupsessions/feedback.html", context, status=429)
    form = FeedbackForm(request.POST)
    context["form"] = form
    if new_device:  # no device cookie came back: one response per device cannot be kept
        context["state"] = "cookies"
        return render(request, "groupsessions/feedback.html", context, status=400)
    if form.is_valid():
        try:
            services.submit_feedback(session, device_id=device_id, language=translation.get_language(),
                                     answers=form.answers(), open_answer=form.cleaned_data["open_answer"])
        except services.AlreadyAnswered:
            context["state"] = "answered"
            return render(request, "groupsessions/feedback.html", context, status=409)
        except services.FeedbackClosed:
            context["state"] = "closed"
            return render(request, "groupsessions/feedback.html", context, status=410)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect(f"{request.path}?sent=1")
    return render(request, "groupsessions/feedback.html", context, status=400)
