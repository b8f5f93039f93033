"""Notifications: the in-app notification centre and its e-mail outbox.

* ``notify()`` writes Notification rows **inside the caller's transaction** (the escalation and
  its notifications commit or roll back together). ``dedupe_key`` is unique, so a retried or
  concurrent caller cannot notify twice. Text is rendered per recipient language
  (accounts.User.preferred_language) under ``translation.override``.
* ``request_delivery()`` asks Celery to deliver after commit; if the broker (Redis) is down the
  rows simply stay pending and the per-minute beat dispatcher (welfare.tasks) delivers them later.
* ``deliver_pending()`` sends pending e-mails through welfare.services.outbox: each row is claimed
  (``SELECT … FOR UPDATE SKIP LOCKED``) and marked in its own transaction, so two workers never
  send the same row and a worker that dies loses no row already sent; a failed send stays pending
  (attempts counted) until MAX_EMAIL_ATTEMPTS.

Callers: module services (absences.services.evaluation), Celery tasks, tests. Runs in the
municipality's schema; users are read from the public schema.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.utils import timezone, translation

from welfare.models import Notification
from welfare.services import outbox
from welfare.services.municipalities import base_url

log = logging.getLogger(__name__)

MAX_EMAIL_ATTEMPTS = 20  # one try per beat minute: a mail outage of ~20 minutes loses nothing
DELIVERY_BATCH = 200


@dataclass(frozen=True)
class Message:
    title: str
    body: str = ""


def user_languages(user_ids: Iterable[int]) -> dict[int, str]:
    """Each active user's preferred language (the default language when unset)."""
    from welfare.accounts.models import User

    rows = User.objects.filter(pk__in=set(user_ids), is_active=True).values_list("pk", "preferred_language")
    return {pk: (language or settings.LANGUAGE_CODE) for pk, language in rows}


def notify(recipient_ids: Iterable[int], *, kind: str, dedupe_prefix: str, render: Callable[[], Message],
           url: str = "", languages: dict[int, str] | None = None) -> int:
    """Create one notification per recipient (``dedupe_key = f"{dedupe_prefix}:{user_id}"``).

    ``render()`` is called once per language inside ``translation.override``. Inactive or
    unknown users are skipped. Must run in the caller's transaction; returns the rows created.
    """
    languages = user_languages(recipient_ids) if languages is None else languages
    by_language: dict[str, list[int]] = defaultdict(list)
    for user_id in recipient_ids:
        if user_id in languages:
            by_language[languages[user_id]].append(user_id)
    rows = []
    for language, users in by_language.items():
        with translation.override(language):
            message = render()
        rows += [Notification(recipient_id=user_id, kind=kind[:60], title=str(message.title)[:200],
                              body=str(message.body), url=url[:300], dedupe_key=f"{dedupe_prefix}:{user_id}"[:200])
                 for user_id in sorted(set(users))]
    if not rows:
        return 0
    existing = set(Notification.objects.filter(dedupe_key__in=[row.dedupe_key for row in rows])
                   .values_list("dedupe_key", flat=True))
    rows = [row for row in rows if row.dedupe_key not in existing]
    # ignore_conflicts: a concurrent caller that inserted the same key in the meantime wins.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def request_delivery() -> None:
    """After commit, ask a worker to deliver pending e-mails. Never raises: if the broker is down
    the rows stay pending for the beat dispatcher."""

    def send():
        from welfare.tasks import deliver_notifications

        try:
            deliver_notifications.apply_async(retry=False)
        except Exception:  # noqa: BLE001 — any broker failure: the outbox keeps the rows
            log.warning("notification delivery not queued for %s; the beat dispatcher will retry",
                        connection.schema_name, exc_info=True)

    transaction.on_commit(send)


def _email(notification: Notification, address: str, language: str, base: str) -> EmailMessage:
    from django.utils.translation import gettext as _

    with translation.override(language):
        link = notification.url if not notification.url or "://" in notification.url else base + notification.url
        lines = [notification.body] if notification.body else []
        if link:
            lines.append(_("Open in Yhdessä: %(link)s") % {"link": link})
        lines.append(_("You receive this message because of your role in Yhdessä."))
        return EmailMessage(subject=f"Yhdessä: {notification.title}", body="\n\n".join(lines), to=[address])


def deliver_pending(batch: int = DELIVERY_BATCH) -> dict[str, int]:
    """Send up to ``batch`` pending e-mails of the current municipality; returns counts by outcome.
    Each row is claimed and marked in its own transaction (welfare.services.outbox)."""
    from welfare.accounts.models import User

    pending = Notification.objects.filter(email_status=Notification.EmailStatus.PENDING)
    recipients = set(pending.order_by("created_at", "id").values_list("recipient_id", flat=True)[:batch])
    users = {user.pk: user for user in User.objects.filter(pk__in=recipients)}  # once per batch
    base = base_url()  # the host is the same for every row

    def deliver(row: Notification) -> str:
        user = users.get(row.recipient_id)
        fields = ["email_status", "email_attempts", "email_sent_at", "email_error"]
        if user is None or not user.is_active or not user.email:
            row.email_status, outcome = Notification.EmailStatus.SKIPPED, "skipped"
        else:
            row.email_attempts += 1
            try:
                _email(row, user.email, user.preferred_language or settings.LANGUAGE_CODE, base).send()
            except Exception as exc:  # noqa: BLE001 — SMTP errors of every kind: count and retry
                row.email_error = outbox.error_text(exc)
                failed = row.email_attempts >= MAX_EMAIL_ATTEMPTS
                outcome = "failed" if failed else "retry"
                if failed:
                    row.email_status = Notification.EmailStatus.FAILED
            else:
                row.email_status, row.email_sent_at, row.email_error = (
                    Notification.EmailStatus.SENT, timezone.now(), "")
                outcome = "sent"
        row.save(update_fields=fields)
        return outcome

    return outbox.deliver_each(pending, deliver, batch=batch)


def unread_count(user_id: int) -> int:
    return Notification.objects.filter(recipient_id=user_id, read_at__isnull=True).count()


def mark_read(user_id: int, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications (all unread, or the given ones) read. Only their own."""
    queryset = Notification.objects.filter(recipient_id=user_id, read_at__isnull=True)
    if notification_ids is not None:
        queryset = queryset.filter(pk__in=list(notification_ids))
    return queryset.update(read_at=timezone.now())
