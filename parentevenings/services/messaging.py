"""Messages to guardians in the language they registered in: a small channel layer and an outbox.

* ``queue()`` writes a GuardianMessage **inside the caller's transaction** (exactly once per
  ``dedupe_key``) and asks for delivery after commit.
* ``deliver_pending()`` sends pending rows through their channel, each in its own short
  transaction: the row is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` and marked before that
  transaction commits, so no row goes to two workers, and a worker that dies mid-batch leaves only
  the row it was sending pending (the rows it had sent stay marked and are never sent again).
* Channels: e-mail through Django's mail. ``SmsChannel`` has the same interface and sends through
  the operator named by ``PARENT_EVENINGS_SMS_SENDER``; until one is configured,
  ``available_channels()`` leaves it out, so no form offers text messages that would never
  arrive. A row's ``error`` names the failure, never the address.

Callers: parentevenings.services.registrations, parentevenings.tasks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from parentevenings import invitations, languages
from parentevenings.models import ContactChannel, GuardianMessage, Registration
from welfare.services import outbox

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10


class ChannelUnavailable(Exception):
    """The channel cannot send at all (e.g. no SMS operator configured)."""


class Channel(Protocol):
    name: str

    def address(self, registration: Registration) -> str: ...

    def send(self, address: str, subject: str, body: str, language: str) -> None: ...


class EmailChannel:
    name = ContactChannel.EMAIL

    def address(self, registration: Registration) -> str:
        return registration.contact_email

    def send(self, address: str, subject: str, body: str, language: str) -> None:
        message = EmailMessage(subject=subject, body=body, to=[address])
        message.extra_headers["Content-Language"] = language
        message.send()


class SmsChannel:
    """Ready for an SMS operator: set ``PARENT_EVENINGS_SMS_SENDER`` to a callable path
    ``(phone, text) -> None``. Unset (no operator contracted yet), sending raises ChannelUnavailable."""

    name = ContactChannel.SMS

    def address(self, registration: Registration) -> str:
        return registration.contact_phone

    @staticmethod
    def configured() -> bool:
        return bool(getattr(settings, "PARENT_EVENINGS_SMS_SENDER", ""))

    def send(self, address: str, subject: str, body: str, language: str) -> None:
        if not self.configured():  # queued while an operator was configured, since removed
            raise ChannelUnavailable("no SMS operator configured")
        import_string(settings.PARENT_EVENINGS_SMS_SENDER)(address, f"{subject}\n{body}")


CHANNELS: dict[str, Channel] = {ContactChannel.EMAIL: EmailChannel(), ContactChannel.SMS: SmsChannel()}


def available_channels() -> list[str]:
    """The channels guardians may choose now: e-mail, and text messages once an operator is set."""
    return [name for name in (ContactChannel.EMAIL, ContactChannel.SMS)
            if name != ContactChannel.SMS or SmsChannel.configured()]


@dataclass(frozen=True)
class Links:
    """Absolute links a message needs (the caller knows the host)."""

    registration: str
    cancel: str


def _fallback_ui(code: str) -> str:
    return code if code in languages.UI_LANGUAGES else "en"


def compose(registration: Registration, kind: str, links: Links) -> tuple[str, str]:
    """Subject and body in the registration's language.

    The staff-written ``message_text`` of that language comes first (placeholders filled). The fixed
    facts follow with gettext labels in the language when it is a UI language, else in English.
    """
    language = registration.language
    evening = registration.evening
    values = invitations.values_for(language, registration_link=links.registration, code=registration.code,
                                    cancel_link=links.cancel)
    own_text = invitations.fill(language.message_text, values).strip()
    title = language.title or evening.title
    with translation.override(_fallback_ui(language.code)):
        headline = {
            GuardianMessage.Kind.CONFIRMATION: _("Your place is confirmed."),
            GuardianMessage.Kind.WAITING: _("You are on the waiting list. We will tell you if a place becomes free."),
            GuardianMessage.Kind.PROMOTION: _("A place became free: your place is now confirmed."),
            GuardianMessage.Kind.REMINDER: _("Reminder: the parent evening is soon."),
            GuardianMessage.Kind.CANCELLATION: _("Your registration is cancelled."),
        }[kind]
        facts = [
            headline,
            f"{_('Date')}: {values['date']}",
            f"{_('Time')}: {values['time']}",
            f"{_('Place')}: {values['place']}",
            f"{_('Registration code')}: {registration.code}",
        ]
        if kind != GuardianMessage.Kind.CANCELLATION:
            facts.append(f"{_('Cancel the registration')}: {links.cancel}")
        subject = f"{title} – {headline}"
    body = "\n\n".join(part for part in [own_text, "\n".join(facts)] if part)
    return subject[:300], body


def queue(registration: Registration, kind: str, links: Links, *, dedupe_key: str | None = None) -> bool:
    """Queue one message to the guardian (only when they gave a contact with consent).
    Must run in the caller's transaction; True when a new message was queued."""
    if not registration.has_contact:
        return False
    key = (dedupe_key or f"{kind}:{registration.pk}")[:100]
    subject, body = compose(registration, kind, links)
    _message, created = GuardianMessage.objects.get_or_create(
        dedupe_key=key,
        defaults={"registration": registration, "kind": kind, "channel": registration.channel,
                  "language": registration.language.code, "subject": subject, "body": body},
    )
    if created:
        request_delivery()
    return created


def request_delivery() -> None:
    """After commit, ask a worker to deliver; if the broker is down the nightly task sends them."""

    def send():
        from parentevenings.tasks import deliver_guardian_messages

        try:
            deliver_guardian_messages.apply_async(retry=False)
        except Exception:  # noqa: BLE001 — any broker failure: the outbox keeps the rows
            log.warning("guardian messages not queued for %s; the nightly task retries", connection.schema_name,
                        exc_info=True)

    transaction.on_commit(send)


def deliver_pending(batch: int = 200) -> dict[str, int]:
    """Send up to ``batch`` pending messages of this municipality; counts by outcome. Each
    message is tried at most once per call (a failed one waits for the next call)."""
    pending = GuardianMessage.objects.filter(status=GuardianMessage.Status.PENDING).select_related("registration")
    return outbox.deliver_each(pending, _deliver, batch=batch)


def _deliver(row: GuardianMessage) -> str:
    """Send one claimed row and mark it (in the caller's transaction); returns the outcome."""
    registration = row.registration
    channel = CHANNELS.get(row.channel)
    address = channel.address(registration) if (channel and registration) else ""
    if not address or registration.anonymised_at:
        row.status, row.error = GuardianMessage.Status.SKIPPED, "no contact"
        row.save(update_fields=["status", "error"])
        return "skipped"
    row.attempts += 1
    outcome = "sent"
    try:
        channel.send(address, row.subject, row.body, row.language)
    except ChannelUnavailable as exc:
        row.status, row.error, outcome = GuardianMessage.Status.SKIPPED, str(exc)[:300], "skipped"
    except Exception as exc:  # noqa: BLE001 — SMTP errors of every kind: count and retry
        row.error = outbox.error_text(exc)  # no address: it must not outlive the anonymisation
        if row.attempts >= MAX_ATTEMPTS:
            row.status, outcome = GuardianMessage.Status.FAILED, "failed"
        else:
            outcome = "retry"
    else:
        row.status, row.sent_at, row.error = GuardianMessage.Status.SENT, timezone.now(), ""
    row.save(update_fields=["status", "sent_at", "error", "attempts"])
    return outcome
