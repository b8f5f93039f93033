"""Public pages (no account): the page per language (RTL where needed), the multilingual overview,
registration through the form, spam and bad input, cancellation by the signed link, feedback."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from parentevenings import invitations, links
from parentevenings.models import EveningStatus, Feedback, Registration
from tests.conftest import host
from tests.parentevenings.factories import EveningLanguageFactory, ParentEveningFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_cache(settings):
    """Rate-limit counters in a cache of this test alone (not the shared Redis)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"pe-public-{id(object())}"}}


@pytest.fixture
def evening(in_espoo):
    evening = ParentEveningFactory(capacity=4)
    for code in ("fi", "ar", "so", "prs"):
        EveningLanguageFactory(evening=evening, code=code, title="" if code != "ar" else "أمسية أولياء الأمور",
                               invitation_text="{date} {time} {place} {registration_link}" if code != "ar"
                               else EveningLanguageFactory._meta.declarations["invitation_text"])
    return evening


@pytest.fixture
def guardian(espoo):
    return Client(headers={"host": host(espoo), "accept-language": "en"})


def page_url(evening, code):
    return f"/parent-evenings/e/{evening.public_token}/{code}/"


def form_data(**overrides):
    data = {"language": "ar", "adults": "2", "children": "1", "channel": "", "website": ""}
    data.update(overrides)
    return data


@pytest.mark.parametrize(("code", "direction"), [("ar", "rtl"), ("prs", "rtl"), ("so", "ltr"), ("fi", "ltr")])
def test_language_page_sets_lang_and_direction(evening, guardian, code, direction):
    response = guardian.get(page_url(evening, code))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{code}" dir="{direction}">' in html


def test_arabic_page_shows_the_invitation_in_arabic_with_its_placeholders_filled(evening, guardian):
    html = guardian.get(page_url(evening, "ar")).content.decode()
    assert "ندعوكم إلى أمسية أولياء الأمور" in html
    assert "{date}" not in html and "{registration_link}" not in html
    assert invitations.date_text(evening, "ar") in html  # the date written in Arabic (CLDR)
    assert f"http://espoo.localhost/parent-evenings/e/{evening.public_token}/ar/" in html


def test_overview_lists_every_language_with_its_own_lang_and_dir(evening, guardian):
    html = guardian.get(f"/parent-evenings/e/{evening.public_token}/").content.decode()
    for code, direction in [("fi", "ltr"), ("ar", "rtl"), ("so", "ltr"), ("prs", "rtl")]:
        assert re.search(rf'<section id="lang-{code}"[^>]* lang="{code}" dir="{direction}"', html), code
    assert "العربية" in html and "Soomaali" in html and "دری" in html


def test_unpublished_or_unknown_evenings_are_not_found(evening, guardian):
    assert guardian.get("/parent-evenings/e/nothing-here/ar/").status_code == 404
    assert guardian.get(page_url(evening, "xx")).status_code == 404
    evening.status = EveningStatus.DRAFT
    evening.save()
    assert guardian.get(page_url(evening, "ar")).status_code == 404


def test_register_then_cancel_through_the_pages(evening, guardian):
    response = guardian.post(page_url(evening, "ar"), form_data())
    assert response.status_code == 302
    registration = Registration.objects.get()
    assert (registration.language.code, registration.adults, registration.children) == ("ar", 2, 1)
    page = guardian.get(response["Location"])
    assert registration.code in page.content.decode()
    assert '<html lang="ar" dir="rtl">' in page.content.decode()
    cancelled = guardian.post(response["Location"], {"confirm": "on"}, follow=True)
    assert "This registration is cancelled." in cancelled.content.decode()
    registration.refresh_from_db()
    assert registration.status == "cancelled"


def test_a_forged_cancellation_link_finds_nothing(evening, guardian):
    guardian.post(page_url(evening, "ar"), form_data())
    registration = Registration.objects.get()
    token = links.cancel_token(registration)
    assert guardian.get(f"/parent-evenings/r/{token[:-2]}xx/").status_code == 404
    assert guardian.post(f"/parent-evenings/r/{token[:-2]}xx/", {"confirm": "on"}).status_code == 404
    registration.refresh_from_db()
    assert registration.status == "confirmed"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"accessibility_needs": "x" * 501}, "at most 500 characters"),
    ({"contact_name": "x" * 201, "channel": "email", "contact_email": "a@example.fi", "consent": "on"},
     "at most 200 characters"),
    ({"language": "xx"}, "Select a valid choice"),
    ({"adults": "0"}, "greater than or equal to 1"),
    ({"adults": "3", "children": "2"}, "larger than the places of the evening"),
    ({"channel": "email", "contact_email": "a@example.fi"}, "agree to the use of your contact details"),
    ({"channel": "sms", "contact_phone": "+358 40 123 4567", "consent": "on"}, "Select a valid choice"),
])
def test_bad_input_gets_a_clear_error_and_stores_nothing(evening, guardian, overrides, message, settings):
    settings.LANGUAGE_CODE = "en"
    response = guardian.post(page_url(evening, "ar"), form_data(**overrides), headers={"accept-language": "en"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Registration.objects.exists()


def test_text_messages_are_offered_only_with_an_sms_operator(evening, guardian, settings):
    def offers_sms() -> bool:
        html = guardian.get(page_url(evening, "ar"), headers={"accept-language": "en"}).content.decode()
        return 'value="sms"' in html and 'name="contact_phone"' in html

    assert not offers_sms()
    settings.PARENT_EVENINGS_SMS_SENDER = "tests.parentevenings.test_registrations.fake_sms_operator"
    assert offers_sms()
    response = guardian.post(page_url(evening, "ar"), form_data(channel="sms", contact_phone="call me",
                                                                consent="on"), headers={"accept-language": "en"})
    assert response.status_code == 400 and "digits only" in response.content.decode()
    assert guardian.post(page_url(evening, "ar"), form_data(channel="sms", contact_phone="+358 40 123 4567",
                                                            consent="on")).status_code == 302
    assert Registration.objects.get().contact_phone == "+358 40 123 4567"


def test_full_evening_and_waiting_list_is_a_clear_error(evening, guardian):
    evening.capacity, evening.waiting_list_limit = 1, 0
    evening.save()
    guardian.post(page_url(evening, "ar"), form_data(adults="1", children="0"))
    response = guardian.post(page_url(evening, "ar"), form_data(adults="1", children="0"),
                             headers={"accept-language": "en"})
    assert response.status_code == 400
    assert "The evening is full and so is its waiting list." in response.content.decode()
    assert Registration.objects.count() == 1


def test_honeypot_answers_like_a_success_but_stores_nothing(evening, guardian):
    response = guardian.post(page_url(evening, "ar"), form_data(website="http://spam.example"))
    assert response.status_code == 302 and "sent=1" in response["Location"]
    assert not Registration.objects.exists()


def test_rate_limit_stops_a_flood_from_one_address(evening, guardian, settings):
    settings.PARENT_EVENINGS_REGISTRATION_RATE = "3/h"
    evening.capacity, evening.waiting_list_limit = 100, 0
    evening.save()
    statuses = [guardian.post(page_url(evening, "so"), form_data(language="so", adults="1", children="0"),
                              headers={"accept-language": "en"}).status_code for _ in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    assert Registration.objects.count() == 3
    assert "Too many registrations" in guardian.post(page_url(evening, "so"), form_data(language="so"),
                                                     headers={"accept-language": "en"}).content.decode()


@pytest.mark.parametrize("trust_proxy", [True, False])
def test_rate_limit_counts_each_family_behind_the_proxy_and_ignores_a_forged_header(evening, guardian, settings,
                                                                                     trust_proxy):
    """Behind the reverse proxy every request comes from its address: the limit must count the
    client the trusted proxy names, and a header the proxy is not trusted for must change nothing."""
    settings.PARENT_EVENINGS_REGISTRATION_RATE = "1/h"
    settings.AUDIT_TRUST_X_FORWARDED_FOR = trust_proxy
    evening.capacity, evening.waiting_list_limit = 100, 0
    evening.save()
    statuses = [guardian.post(page_url(evening, "so"), form_data(language="so", adults="1", children="0"),
                              headers={"x-forwarded-for": f"198.51.100.{n}"}).status_code for n in range(3)]
    assert statuses == ([302, 302, 302] if trust_proxy else [302, 429, 429])


def test_feedback_is_anonymous_and_opens_on_the_day(evening, guardian):
    url = f"/parent-evenings/e/{evening.public_token}/so/feedback/"
    response = guardian.post(url, {"score": "9", "useful": "Tulkki", "missing": ""})
    assert response.status_code == 400 and not Feedback.objects.exists()
    evening.date = timezone.localdate() - datetime.timedelta(days=1)
    evening.save()
    assert guardian.post(url, {"score": "11"}).status_code == 400
    response = guardian.post(url, {"score": "9", "useful": "Tulkki", "missing": "Lastenhoito"})
    assert response.status_code == 302
    answer = Feedback.objects.get()
    assert (answer.language, answer.score, answer.useful, answer.missing) == ("so", 9, "Tulkki", "Lastenhoito")
    assert "Thank you for your feedback!" in guardian.get(response["Location"]).content.decode()
