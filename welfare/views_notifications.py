"""The notification centre: a user's own notifications in this municipality, and marking them read.

Only the recipient sees a notification (every query filters on the signed-in user); its text
names no pupil, so the list needs no audit entry; opening the linked case is audited there.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from welfare.models import Notification
from welfare.policy import municipality_staff_required
from welfare.services.notifications import mark_read, unread_count

PAGE_SIZE = 50


@municipality_staff_required
def notification_list(request):
    queryset = Notification.objects.filter(recipient_id=request.user.pk).order_by("-created_at", "-id")
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "welfare/notifications/list.html", {"page": page, "unread": unread_count(request.user.pk)})


@require_POST
@municipality_staff_required
def mark_notification_read(request, pk: int):
    """Mark one notification read, then follow its link (``?open=1``) or return to the list."""
    notification = Notification.objects.filter(recipient_id=request.user.pk, pk=pk).first()
    if notification is None:
        raise Http404
    mark_read(request.user.pk, [pk])
    if request.POST.get("open") and notification.url and url_has_allowed_host_and_scheme(
            notification.url, allowed_hosts={request.get_host()}):
        return redirect(notification.url)
    return redirect("notifications:list")


@require_POST
@municipality_staff_required
def mark_all_read(request):
    mark_read(request.user.pk)
    return redirect("notifications:list")
