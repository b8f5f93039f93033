"""Registrations: capacity, waiting list and promotion (also two families racing for the last
seat), cancellation, messages in the family's language, reminders and anonymisation."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from parentevenings.models import GuardianMessage, ParentEveningSettings, Registration, RegistrationStatus
from parentevenings.services import registrations as services
from parentevenings.services.registrations import RegistrationInput
from parentevenings.tasks import nightly_maintenance
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


def test_sms_channel_is_ready_but_not_wired(evening, django_capture_on_commit_callbacks):
    data = family(channel="sms", contact_phone="+358 40 123 4567", consent=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.register(evening.pk, data, base_url=BASE)
    message = GuardianMessage.objects.get()
    assert (message.channel, message.status, message.error) == ("sms", "skipped", "no SMS operator configured")
    assert mail.outbox == []


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
    barrier = threading.Barrier(2)
    results, errors = [], []

    def register():
        try:
            with schema_context(espoo.schema_name):
                barrier.wait()
                results.append(services.register(evening.pk, family(), base_url=BASE).status)
        except Exception as exc:  # noqa: BLE001 — reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=register) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == ["confirmed", "waiting"]
    with schema_context(espoo.schema_name):
        assert Registration.objects.filter(status=RegistrationStatus.CONFIRMED).count() == 1
