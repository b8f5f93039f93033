"""In a real browser on a 360 px phone: a family registers for the Arabic group (right-to-left page),
then cancels through its own page, and the first family on the waiting list gets the place.
axe-core on every public page (language page, registration page, overview, feedback)."""

from __future__ import annotations

import datetime
import re

import pytest

from tests.browser.support import CHROMIUM, SKIP_REASON

if not CHROMIUM.exists():
    pytest.skip(SKIP_REASON, allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")

from tests.browser.pages import ShellPage, assert_accessible  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENGLISH = "en-GB"
PHONE = {"width": 360, "height": 740}


@pytest.fixture(autouse=True)
def _private_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"pe-browser-{id(object())}"}}


@pytest.fixture
def evening(live_server, espoo):
    """A published evening for two people, in Finnish, Arabic and Persian."""
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from tests.parentevenings.factories import EveningLanguageFactory, ParentEveningFactory

    with schema_context(espoo.schema_name):
        evening = ParentEveningFactory(capacity=2, waiting_list_limit=10,
                                       date=timezone.localdate() + datetime.timedelta(days=7))
        EveningLanguageFactory(evening=evening, code="fi", title="Vanhempainilta",
                               invitation_text="Tervetuloa {date} klo {time}: {place}.")
        EveningLanguageFactory(evening=evening, code="ar")
        EveningLanguageFactory(evening=evening, code="fa", title="جلسه والدین",
                               invitation_text="شما را به جلسه والدین در {place} دعوت می‌کنیم.")
    return evening


def _waiting_families(espoo, evening):
    from django_tenants.utils import schema_context

    from parentevenings.services import registrations
    from parentevenings.services.registrations import RegistrationInput

    with schema_context(espoo.schema_name):
        first = registrations.register(evening.pk, RegistrationInput(
            language_code="fa", adults=2, channel="email", contact_email="eka.jonossa@example.fi", consent=True),
            base_url="http://espoo.localhost")
        second = registrations.register(evening.pk, RegistrationInput(language_code="ar", adults=2),
                                        base_url="http://espoo.localhost")
    assert (first.status, second.status) == ("waiting", "waiting")
    return first, second


def test_register_in_arabic_on_a_phone_then_cancel_and_the_first_waiting_family_gets_the_place(
        new_page, base_url, espoo, evening, csp_errors):
    from django.core import mail
    from django_tenants.utils import schema_context

    from parentevenings.models import Registration

    page = new_page(locale=ENGLISH, viewport=PHONE, is_mobile=True, has_touch=True)
    shell = ShellPage(page, base_url)

    shell.open(f"/parent-evenings/e/{evening.public_token}/ar/")
    html = page.locator("html")
    assert (html.get_attribute("lang"), html.get_attribute("dir")) == ("ar", "rtl")
    assert page.locator("h1").inner_text() == "أمسية أولياء الأمور"
    assert "ندعوكم إلى أمسية أولياء الأمور" in page.locator(".pe-invitation").inner_text()
    # Mirrored layout: the (short) Arabic heading's text hugs the right edge, not the left.
    text_box = page.evaluate("""() => { const range = document.createRange();
        range.selectNodeContents(document.querySelector('h1')); const r = range.getBoundingClientRect();
        return {left: r.left, right: r.right}; }""")
    assert text_box["right"] > PHONE["width"] - 40 and text_box["left"] > 60, text_box
    assert shell.horizontal_overflow() <= 0, "the Arabic page scrolls sideways at 360px"
    assert_accessible(page, "Arabic registration page")

    page.get_by_label("Adults").fill("2")
    page.get_by_label("Children").fill("0")
    page.get_by_label("We need an interpreter").check()
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(re.compile(r"/parent-evenings/r/"))
    code = page.get_by_test_id("registration-code").inner_text()
    assert "Your place is confirmed" in page.locator(".pe-registration-status").inner_text()
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert shell.horizontal_overflow() <= 0
    assert_accessible(page, "registration page")
    own_page = page.url

    first, second = _waiting_families(espoo, evening)

    page.goto(own_page)
    page.get_by_label("Yes, cancel our registration").check()
    page.get_by_role("button", name="Cancel the registration").click()
    page.get_by_text("This registration is cancelled.").wait_for()
    assert_accessible(page, "cancelled registration page")

    with schema_context(espoo.schema_name):
        statuses = {r.code: r.status for r in Registration.objects.all()}
    assert statuses == {code: "cancelled", first.code: "confirmed", second.code: "waiting"}
    assert [m.to for m in mail.outbox if "A place became free" in m.subject] == [["eka.jonossa@example.fi"]]

    shell.open(f"/parent-evenings/e/{evening.public_token}/")
    assert page.locator("#lang-ar").get_attribute("dir") == "rtl"
    assert page.locator("#lang-fa").get_attribute("dir") == "rtl"
    assert page.locator("#lang-fi").get_attribute("dir") == "ltr"
    assert shell.horizontal_overflow() <= 0
    assert_accessible(page, "multilingual overview")
    assert csp_errors == []


def test_feedback_page_on_a_phone_is_accessible(new_page, base_url, espoo, evening, csp_errors):
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from parentevenings.models import Feedback, ParentEvening

    with schema_context(espoo.schema_name):
        ParentEvening.objects.filter(pk=evening.pk).update(date=timezone.localdate())
    page = new_page(locale=ENGLISH, viewport=PHONE, is_mobile=True, has_touch=True)
    shell = ShellPage(page, base_url)
    shell.open(f"/parent-evenings/e/{evening.public_token}/fa/feedback/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert_accessible(page, "feedback page")
    page.get_by_label("9", exact=True).check()
    page.get_by_label("What was useful?").fill("مترجم خیلی کمک کرد")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Thank you for your feedback!").wait_for()
    assert_accessible(page, "feedback thanks page")
    with schema_context(espoo.schema_name):
        assert list(Feedback.objects.values_list("language", "score", "useful")) == [("fa", 9, "مترجم خیلی کمک کرد")]
    assert csp_errors == []
