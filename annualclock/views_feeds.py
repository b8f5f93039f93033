"""Calendar feeds: the owner's page (make, revoke, regenerate) and the public feed address.

The feed address carries a secret (``secrets.token_urlsafe``); only its SHA-256 is stored, so the
address is shown once, right after it is made. The feed itself needs no session: a revoked or
unknown token, or an owner who may no longer view the clock, answers 404.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annualclock import feeds, selectors, services
from annualclock.models import Clock, FeedToken, Status, token_hash
from welfare import audit, policy
from welfare.models import AuditAction
from welfare.policy import Action, permission_required


def feed_urls(request, token: str) -> dict:
    https = request.build_absolute_uri(reverse("annualclock:feed_ics", args=[token]))
    return {"https": https, "webcal": "webcal://" + https.split("://", 1)[1]}


def _page(request, *, new_feed=None, new_token=None, status=200):
    feeds_list = list(selectors.feeds_of(request.user))
    clocks = list(selectors.visible_clocks(request.user))
    context = {"feeds": feeds_list, "clocks": clocks, "new_feed": new_feed}
    if new_token:
        context["new_urls"] = feed_urls(request, new_token)
    return render(request, "annualclock/feeds.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@permission_required(Action.VIEW_ANNUAL_CLOCK)
def feed_list(request):
    """The user's feeds; POST makes a new one (kind=person, or kind=clock with a clock id)."""
    if request.method == "GET":
        return _page(request)
    kind = request.POST.get("kind")
    clock = None
    if kind == FeedToken.Kind.CLOCK:
        clock_id = request.POST.get("clock", "")
        clock = selectors.visible_clocks(request.user).filter(pk=int(clock_id)).first() if clock_id.isdigit() \
            and len(clock_id) < 12 else None
        if clock is None:
            messages.error(request, _("Choose a clock."))
            return _page(request, status=400)
    elif kind != FeedToken.Kind.PERSON:
        return _page(request, status=400)
    feed, token = services.create_feed(user=request.user, kind=kind, clock=clock)
    audit.record(request, AuditAction.CREATE, obj=feed, detail={"kind": kind})
    return _page(request, new_feed=feed, new_token=token)


def _own_feed(request, pk: int) -> FeedToken:
    feed = FeedToken.objects.filter(pk=pk, user_id=request.user.pk).first()
    if feed is None:
        raise Http404
    return feed


@never_cache
@require_POST
@permission_required(Action.VIEW_ANNUAL_CLOCK)
def feed_revoke(request, pk: int):
    feed = services.revoke_feed(_own_feed(request, pk), user=request.user)
    audit.record(request, AuditAction.UPDATE, obj=feed, detail={"revoked": True})
    messages.success(request, _("The feed address was revoked. Calendars subscribed to it get nothing more."))
    return redirect("annualclock:feeds")


@never_cache
@require_POST
@permission_required(Action.VIEW_ANNUAL_CLOCK)
def feed_regenerate(request, pk: int):
    old = _own_feed(request, pk)
    if old.kind == FeedToken.Kind.CLOCK and not policy.can(request.user, Action.VIEW_ANNUAL_CLOCK, old.clock):
        raise Http404
    feed, token = services.regenerate_feed(old, user=request.user)
    audit.record(request, AuditAction.CREATE, obj=feed, detail={"kind": feed.kind, "replaces": old.pk})
    return _page(request, new_feed=feed, new_token=token)


@require_GET
def feed_ics(request, token: str):
    """The iCalendar feed (public address with the secret; no session)."""
    if len(token) > 100:
        raise Http404
    feed = FeedToken.objects.select_related("clock__school", "clock__school_year").filter(
        token_hash=token_hash(token), revoked_at__isnull=True).first()
    if feed is None:
        raise Http404
    from welfare.accounts.models import User

    owner = User.objects.filter(pk=feed.user_id, is_active=True).first()
    if owner is None or not policy.can(owner, Action.VIEW_ANNUAL_CLOCK, feed.clock):
        raise Http404
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > timedelta(hours=1):
        FeedToken.objects.filter(pk=feed.pk).update(last_used_at=now)
    with translation.override(owner.preferred_language or settings.LANGUAGE_CODE):
        if feed.kind == FeedToken.Kind.CLOCK:
            clock: Clock = feed.clock
            activities = clock.activities.select_related("ring", "clock__school", "clock__school_year")
            name = _("Annual clock: %(school)s") % {"school": clock.school.name}
            body = feeds.clock_calendar(clock, activities, selectors.provider_entries(clock),
                                        request.build_absolute_uri, name)
        else:
            activities = selectors.my_tasks(owner).exclude(status=Status.CANCELLED).filter(
                clock__school_year__end_date__gte=timezone.localdate() - timedelta(days=366))
            body = feeds.person_calendar(activities, request.build_absolute_uri, _("My annual clock tasks"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="annual-clock.ics"'
    response["Cache-Control"] = "private, max-age=900"
    return response
