"""Registrations: capacity, waiting list and promotion (also two families racing for the last
seat), cancellation, messages in the family's language, reminders and anonymisation."""

from __future__ import annotations

import datetime
import smtplib

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from parentevenings.models import (
    EveningStatus,
    GuardianMessage,
    ParentEveningSettings,
    Registration,
    RegistrationStatus,
)
from parentevenings.services import events, messaging
from parentevenings.services import registrations as services
from parentevenings.services.registrations import RegistrationInput
from parentevenings.tasks import nightly_maintenance
from tests.dbutil import run_together
from tests.parentevenings.factories import EveningLanguageFactory, ParentEveningFactory, RegistrationFactory

pytestmark = pytest.mark.django_db
BASE = "http://espoo.localhost"


def family(code="ar", adults=1, children=0, **contact) -> RegistrationInput:
    return RegistrationInput(language_code=code, adults=adults, children=children, **contact)


def with_email(address="perhe@example.fi", **kwargs) -> RegistrationInput:
    return family(channel="email", contact_name="Amina", contact_email=address, consent=True, **kwargs)


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English (the source language)."""
    with translation.override("en"):
        yield


@pytest.fixture
def evening(in_espoo):
    evening = ParentEveningFactory(capacity=3, waiting_list_limit=4)
    EveningLanguageFactory(evening=evening, code="ar")
    EveningLanguageFactory(evening=evening, code="so", title="Kulanka waalidiinta",
                           message_text="Mahadsanid. Koodhkaaga: {code}. Ka noqo: {cancel_link}")
    return evening


def test_families_get_places_until_full_then_the_waiting_list(evening):
    first = services.register(evening.pk, family(adults=2), base_url=BASE)
    second = services.register(evening.pk, family(adults=1), base_url=BASE)
    third = services.register(evening.pk, family(adults=1), base_url=BASE)
    assert [first.status, second.status, third.status] == ["confirmed", "confirmed", "waiting"]


def test_children_count_towards_the_capacity(evening):
    services.register(evening.pk, family(adults=1, children=1), base_url=BASE)
    assert services.register(evening.pk, family(adults=1, children=1), base_url=BASE).status == "waiting"


@pytest.mark.parametrize(("data", "message"), [
    (family(adults=2, children=2), "larger than the places"),
    (family(code="fi"), "no group in that language"),
])
def test_impossible_registrations_are_refused_with_a_clear_error(evening, data, message):
    with pytest.raises(ValidationError) as error:
        services.register(evening.pk, data, base_url=BASE)
    assert message in str(error.value)
    assert not Registration.objects.exists()


def test_a_full_waiting_list_refuses_more(evening):
    services.register(evening.pk, family(adults=3), base_url=BASE)
    services.register(evening.pk, family(adults=3), base_url=BASE)  # waiting: 3 of 4
    with pytest.raises(ValidationError, match="waiting list"):
        services.register(evening.pk, family(adults=2), base_url=BASE)


def test_a_language_group_with_its_own_capacity_fills_separately(evening):
    evening.languages.filter(code="so").update(capacity=1)
    assert services.register(evening.pk, family("so"), base_url=BASE).status == "confirmed"
    assert services.register(evening.pk, family("so"), base_url=BASE).status == "waiting"
    assert services.register(evening.pk, family("ar"), base_url=BASE).status == "confirmed"


def test_reminders_need_consent_and_an_address(evening):
    with pytest.raises(ValidationError) as error:
        services.register(evening.pk, family(channel="email", contact_email="a@example.fi"), base_url=BASE)
    assert "consent" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.register(evening.pk, family(channel="email", consent=True), base_url=BASE)
    assert "contact_email" in error.value.message_dict


def test_without_reminders_no_contact_is_stored(evening):
    registration = services.register(evening.pk, family(contact_name="Ei tallenneta", contact_email="x@example.fi"),
                                     base_url=BASE)
    assert (registration.contact_name, registration.contact_email, registration.consent_at) == ("", "", None)


def test_cancelling_promotes_the_first_waiting_family(evening, django_capture_on_commit_callbacks):
    holder = services.register(evening.pk, family(adults=3), base_url=BASE)
    with django_capture_on_commit_callbacks(execute=True):
        first_waiting = services.register(evening.pk, with_email("eka@example.fi", adults=2), base_url=BASE)
    assert "waiting list" in mail.outbox[0].subject
    second_waiting = services.register(evening.pk, family(adults=1), base_url=BASE)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        promoted = services.cancel(holder.pk, base_url=BASE)
    assert [r.pk for r in promoted] == [first_waiting.pk, second_waiting.pk]
    first_waiting.refresh_from_db()
    assert first_waiting.status == "confirmed" and first_waiting.promoted_at is not None
    assert [m.to for m in mail.outbox] == [["eka@example.fi"]]
    assert "A place became free" in mail.outbox[0].subject
    assert "شكرًا لتسجيلكم" in mail.outbox[0].body and first_waiting.code in mail.outbox[0].body
    assert services.cancel(holder.pk, base_url=BASE) == []  # idempotent


def test_promotion_is_first_come_first_served(evening):
    holder = services.register(evening.pk, family(adults=1), base_url=BASE)
    services.register(evening.pk, family(adults=2), base_url=BASE)
    big = services.register(evening.pk, family(adults=2), base_url=BASE)  # waiting first
    small = services.register(evening.pk, family(adults=1), base_url=BASE)  # waiting second
    assert services.cancel(holder.pk, base_url=BASE) == []  # one seat: the first in line needs two
    big.refresh_from_db()
    small.refresh_from_db()
    assert (big.status, small.status) == ("waiting", "waiting")


def test_a_newcomer_does_not_take_the_place_a_waiting_family_is_queued_for(evening):
    holder = services.register(evening.pk, family(adults=1), base_url=BASE)
    services.register(evening.pk, family(adults=2), base_url=BASE)
    big = services.register(evening.pk, family(adults=2), base_url=BASE)  # waiting for two places
    services.cancel(holder.pk, base_url=BASE)  # one place free: not enough for the first in line
    newcomer = services.register(evening.pk, family(adults=1), base_url=BASE)
    assert newcomer.status == "waiting"
    big.refresh_from_db()
    assert big.status == "waiting"


def test_a_full_language_group_does_not_hold_back_the_others(evening):
    evening.languages.filter(code="so").update(capacity=1)
    services.register(evening.pk, family("so"), base_url=BASE)
    services.register(evening.pk, family("ar", adults=2), base_url=BASE)  # the evening (3) is full now
    somali = services.register(evening.pk, family("so"), base_url=BASE)  # its own group is full
    arabic = services.register(evening.pk, family("ar"), base_url=BASE)  # the evening is full
    leaving = Registration.objects.filter(language__code="ar", status="confirmed").get()
    assert [r.pk for r in services.cancel(leaving.pk, base_url=BASE)] == [arabic.pk]
    somali.refresh_from_db()
    assert somali.status == "waiting"


def test_raising_the_capacity_gives_the_places_to_the_waiting_list(evening, django_capture_on_commit_callbacks):
    services.register(evening.pk, family(adults=3), base_url=BASE)
    with django_capture_on_commit_callbacks(execute=True):
        waiting = services.register(evening.pk, with_email(adults=2), base_url=BASE)
    mail.outbox.clear()
    evening.capacity = 5
    with django_capture_on_commit_callbacks(execute=True):
        events.save_evening(evening, evening.schools.all())
    waiting.refresh_from_db()
    assert waiting.status == "confirmed"
    assert ["A place became free" in m.subject for m in mail.outbox] == [True]


def test_promotion_respects_the_language_groups_own_capacity(evening):
    evening.capacity = 10
    evening.save()
    evening.languages.filter(code="so").update(capacity=1)
    holder = services.register(evening.pk, family("so"), base_url=BASE)
    first = services.register(evening.pk, family("so"), base_url=BASE)
    second = services.register(evening.pk, family("so"), base_url=BASE)
    assert (first.status, second.status) == ("waiting", "waiting")
    assert [r.pk for r in services.cancel(holder.pk, base_url=BASE)] == [first.pk]  # the group is full again
    second.refresh_from_db()
    assert second.status == "waiting"


def test_confirmation_is_sent_in_the_chosen_language(evening, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        registration = services.register(evening.pk, with_email(code="so"), base_url=BASE)
    [message] = mail.outbox
    assert message.to == ["perhe@example.fi"]
    assert f"Mahadsanid. Koodhkaaga: {registration.code}" in message.body
    assert message.extra_headers["Content-Language"] == "so"
    assert "/parent-evenings/r/" in message.body  # the cancellation link
    assert GuardianMessage.objects.get().status == GuardianMessage.Status.SENT


SENT_SMS: list[tuple[str, str]] = []


def fake_sms_operator(phone: str, text: str) -> None:
    SENT_SMS.append((phone, text))


def test_text_messages_are_refused_while_no_sms_operator_is_configured(evening):
    data = family(channel="sms", contact_phone="+358 40 123 4567", consent=True)
    with pytest.raises(ValidationError) as error:
        services.register(evening.pk, data, base_url=BASE)
    assert "channel" in error.value.message_dict
    assert not Registration.objects.exists()


def test_text_messages_go_through_the_configured_sms_operator(evening, settings, django_capture_on_commit_callbacks):
    settings.PARENT_EVENINGS_SMS_SENDER = f"{__name__}.fake_sms_operator"
    SENT_SMS.clear()
    data = family(channel="sms", contact_phone="+358 40 123 4567", consent=True)
    with django_capture_on_commit_callbacks(execute=True):
        registration = services.register(evening.pk, data, base_url=BASE)
    [(phone, text)] = SENT_SMS
    assert phone == "+358 40 123 4567" and registration.code in text
    assert GuardianMessage.objects.get().status == GuardianMessage.Status.SENT
    assert mail.outbox == []


def test_a_message_queued_before_the_sms_operator_was_removed_is_not_sent(evening, settings,
                                                                            django_capture_on_commit_callbacks):
    settings.PARENT_EVENINGS_SMS_SENDER = f"{__name__}.fake_sms_operator"
    services.register(evening.pk, family(channel="sms", contact_phone="+358 40 123 4567", consent=True),
                      base_url=BASE)
    settings.PARENT_EVENINGS_SMS_SENDER = ""
    assert messaging.deliver_pending()["skipped"] == 1
    message = GuardianMessage.objects.get()
    assert (message.status, message.error) == ("skipped", "no SMS operator configured")


def test_a_refused_address_is_not_kept_in_the_outbox(evening, monkeypatch):
    def refuse(self, address, subject, body, language):
        raise smtplib.SMTPRecipientsRefused({address: (550, b"no such user")})

    monkeypatch.setattr(messaging.EmailChannel, "send", refuse)
    services.register(evening.pk, with_email("vaara@example.fi"), base_url=BASE)
    assert messaging.deliver_pending()["retry"] == 1
    message = GuardianMessage.objects.get()
    assert message.error == "SMTPRecipientsRefused" and message.status == "pending"
    assert "vaara@example.fi" not in message.error


class WorkerKilled(BaseException):
    """Stands for a worker killed in the middle of a batch (not an error the loop catches)."""


def test_a_worker_dying_mid_batch_keeps_the_messages_it_already_sent(evening, monkeypatch):
    for address in ("eka@example.fi", "toka@example.fi"):
        services.register(evening.pk, with_email(address), base_url=BASE)
    sent = []

    def send_once(self, address, subject, body, language):
        if sent:
            raise WorkerKilled
        sent.append(address)

    monkeypatch.setattr(messaging.EmailChannel, "send", send_once)
    with pytest.raises(WorkerKilled):
        messaging.deliver_pending()
    statuses = dict(GuardianMessage.objects.values_list("registration__contact_email", "status"))
    assert statuses == {"eka@example.fi": "sent", "toka@example.fi": "pending"}  # the first is never re-sent


def test_nightly_job_reminds_once_and_anonymises_after_the_set_days(evening, django_capture_on_commit_callbacks):
    registration = services.register(evening.pk, with_email(), base_url=BASE)
    settings_row = ParentEveningSettings.current()
    settings_row.reminder_days_before, settings_row.anonymise_after_days = 2, 10
    settings_row.save()
    evening.date = timezone.localdate() + datetime.timedelta(days=2)
    evening.save()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        nightly_maintenance.delay()
        nightly_maintenance.delay()
    reminders = [m for m in mail.outbox if "Reminder" in m.subject or "Reminder" in m.body]
    assert len(reminders) == 1

    evening.date = timezone.localdate() - datetime.timedelta(days=10)
    evening.save()
    assert nightly_maintenance.delay().get()["anonymised"] == 0  # exactly N days: not yet
    evening.date = timezone.localdate() - datetime.timedelta(days=11)
    evening.save()
    assert nightly_maintenance.delay().get()["anonymised"] == 1
    registration.refresh_from_db()
    assert (registration.contact_name, registration.contact_email, registration.consent_at) == ("", "", None)
    assert registration.anonymised_at is not None and registration.adults == 1 and registration.language.code == "ar"
    assert not GuardianMessage.objects.exclude(body="").exists()
    assert nightly_maintenance.delay().get()["anonymised"] == 0


def test_no_reminder_for_a_cancelled_evening(evening):
    services.register(evening.pk, with_email(), base_url=BASE)
    evening.date = timezone.localdate() + datetime.timedelta(days=1)
    evening.status = EveningStatus.CANCELLED
    evening.save()
    assert services.send_reminders(timezone.localdate(), base_url=BASE) == 0
    assert not GuardianMessage.objects.filter(kind=GuardianMessage.Kind.REMINDER).exists()


def test_check_in_by_code(evening):
    registration = RegistrationFactory(language=evening.languages.get(code="ar"), adults=2)
    checked = services.check_in(evening, registration.code.lower())
    assert checked.checked_in_at is not None
    with pytest.raises(ValidationError, match="No registration"):
        services.check_in(evening, "NOPE1234")


@pytest.mark.django_db(transaction=True)
def test_two_families_racing_for_the_last_seat_never_both_get_it(espoo):
    with schema_context(espoo.schema_name):
        evening = ParentEveningFactory(capacity=1, waiting_list_limit=5)
        EveningLanguageFactory(evening=evening, code="ar")
    results = run_together(espoo.schema_name, lambda: services.register(evening.pk, family(), base_url=BASE).status)
    assert sorted(results) == ["confirmed", "waiting"]
    with schema_context(espoo.schema_name):
        assert Registration.objects.filter(status=RegistrationStatus.CONFIRMED).count() == 1
