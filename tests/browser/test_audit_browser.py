"""In a real browser: a principal opens a pupil's record (step-up MFA when the second factor is
old), and the data protection officer then finds that read in the audit log. axe on every page."""

from __future__ import annotations

import base64
import re
import secrets
import time

import pytest

from tests.browser.support import CHROMIUM, SKIP_REASON

if not CHROMIUM.exists():
    pytest.skip(SKIP_REASON, allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")

from tests.browser.conftest import PASSWORD  # noqa: E402
from tests.browser.pages import LoginPage, ShellPage, assert_accessible  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOTP_PERIOD = 30
# English: the strings of these pages are new and not yet in the fi/sv catalogues (makemessages is the lead's).
ENGLISH = "en-GB"


def new_secret() -> str:
    """A TOTP secret of one's own: allauth's used-code cache is keyed by user id and code only."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def make_user(espoo, email: str, role, *, school=None, first_name="", last_name=""):
    from allauth.account.models import EmailAddress
    from django_tenants.utils import schema_context

    from tests.factories import StaffRoleFactory, UserFactory, give_totp

    with schema_context(espoo.schema_name):
        user = UserFactory(email=email, first_name=first_name, last_name=last_name)
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        StaffRoleFactory(user=user, role=role, school=school)
    user.totp_secret = new_secret()
    give_totp(user, user.totp_secret)
    return user


def wait_for_next_totp_window(after: float) -> None:
    """allauth refuses a code used once in its 30 s window: wait for the window after ``after``."""
    next_window = (int(after // TOTP_PERIOD) + 1) * TOTP_PERIOD
    time.sleep(max(0.0, next_window - time.time()) + 0.2)


class MfaPage(ShellPage):
    """allauth's code pages: sign-in's second step and the step-up (reauthenticate) page."""

    def enter_code(self, code: str):
        self.page.locator("main input[name=code]").fill(code)
        with self.page.expect_navigation():
            self.page.locator("main form button[type=submit]").first.click()
        return self


def sign_in_with_totp(page, base_url, user) -> float:
    """Password, then the TOTP code; returns when the code was entered."""
    from tests.factories import totp_code

    LoginPage(page, base_url).open().sign_in(user.email, PASSWORD)
    assert "/accounts/2fa/authenticate/" in page.url, page.url
    assert_accessible(page, "sign-in code page")
    entered = time.time()
    MfaPage(page, base_url).enter_code(totp_code(user.totp_secret))
    assert "/accounts/" not in page.url, page.locator("main").inner_text()
    return entered


def age_second_factor(context, minutes: int) -> None:
    """Make the session's second factor ``minutes`` older (as if the user had been idle)."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection

    connection.set_schema_to_public()
    [cookie] = [c for c in context.cookies() if c["name"] == "sessionid"]
    session = SessionStore(session_key=cookie["value"])
    records = session["account_authentication_methods"]
    for record in records:
        if record.get("method") == "mfa":
            record["at"] -= minutes * 60
    session["account_authentication_methods"] = records
    session.save()


@pytest.fixture
def pupil_world(live_server, espoo):
    from django_tenants.utils import schema_context

    from tests.factories import GuardianFactory, SchoolFactory, StudentFactory, TeachingGroupFactory
    from welfare.models import Role

    with schema_context(espoo.schema_name):
        school = SchoolFactory(name="Kaivomäen koulu")
        group = TeachingGroupFactory(school=school, name="7A")
        StudentFactory.create_batch(3, group=group)
        pupil = StudentFactory(group=group, first_name="Ilmatar", last_name="Qvarnström", external_id="X-4242")
        GuardianFactory(name="Maija Qvarnström").students.add(pupil)
    principal = make_user(espoo, "rehtori.audit@example.fi", Role.PRINCIPAL, school=school,
                          first_name="Riikka", last_name="Rehtori")
    dpo = make_user(espoo, "tietosuoja.audit@example.fi", Role.DATA_PROTECTION_OFFICER,
                    first_name="Tiina", last_name="Tietosuoja")
    return {"pupil": pupil, "principal": principal, "dpo": dpo}


def test_principal_opens_a_record_with_step_up_and_the_dpo_sees_the_read(
        context_factory, base_url, pupil_world, csp_errors):
    from tests.factories import totp_code

    pupil, principal, dpo = pupil_world["pupil"], pupil_world["principal"], pupil_world["dpo"]
    context = context_factory(locale=ENGLISH)
    page = context.new_page()
    signed_in_at = sign_in_with_totp(page, base_url, principal)

    # The list: the school's pupils, searchable.
    shell = ShellPage(page, base_url).open("/pupils/")
    assert shell.response.status == 200
    assert shell.heading == "Pupils"
    assert page.locator("table caption").inner_text().strip() == "Pupils"
    assert page.locator("table tbody tr").count() == 4
    assert_accessible(page, "pupil list")
    page.get_by_label("Name or student register id").fill("x-4242")
    with page.expect_navigation():
        page.get_by_role("button", name="Search", exact=True).click()
    assert page.locator("table tbody tr").count() == 1

    # The record: the second factor is fresh, so it opens at once.
    with page.expect_navigation():
        page.get_by_role("link", name="Qvarnström Ilmatar").click()
    assert re.search(rf"/pupils/{pupil.pk}/$", page.url)
    assert shell.heading == "Qvarnström Ilmatar"
    assert "X-4242" in page.locator("main").inner_text()
    assert "Maija Qvarnström" in page.locator("main").inner_text()
    assert_accessible(page, "pupil record")

    # 20 minutes later (the limit is 15): the record asks for the code again.
    age_second_factor(context, 20)
    shell.open(f"/pupils/{pupil.pk}/")
    assert "/accounts/2fa/reauthenticate/" in page.url
    assert f"next=%2Fpupils%2F{pupil.pk}%2F" in page.url
    assert "Qvarnström" not in page.locator("main").inner_text()
    assert_accessible(page, "step-up (reauthenticate) page")
    wait_for_next_totp_window(signed_in_at)
    MfaPage(page, base_url).enter_code(totp_code(principal.totp_secret))
    assert page.url == f"{base_url}/pupils/{pupil.pk}/"
    assert shell.heading == "Qvarnström Ilmatar"

    # The data protection officer, in a browser of their own: who has seen pupil X-4242?
    dpo_page = context_factory(locale=ENGLISH).new_page()
    sign_in_with_totp(dpo_page, base_url, dpo)
    audit = ShellPage(dpo_page, base_url).open("/audit/")
    assert audit.response.status == 200
    assert_accessible(dpo_page, "audit log")
    dpo_page.locator("#id_pupil").fill("X-4242")
    with dpo_page.expect_navigation():
        dpo_page.get_by_role("button", name="Show entries").click()
    rows = dpo_page.locator("table.audit-log tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    # The list, the search result and the record twice (before and after the step-up).
    assert len(texts) == 4, texts
    for text in texts:
        assert principal.email in text
        assert "Qvarnström Ilmatar (X-4242)" in text
        assert "Principal (Kaivomäen koulu)" in text
        assert "Read" in text
        assert f"welfare.student {pupil.pk}" in text
    assert_accessible(dpo_page, "audit log filtered by pupil")
    assert not csp_errors, csp_errors


def test_principal_cannot_open_the_audit_log(new_page, base_url, pupil_world, csp_errors):
    page = new_page(locale=ENGLISH)
    sign_in_with_totp(page, base_url, pupil_world["principal"])
    shell = ShellPage(page, base_url).open("/audit/")
    assert shell.response.status == 403
    assert not csp_errors, csp_errors


@pytest.mark.parametrize("width", [360])
def test_pupil_and_audit_pages_fit_a_phone(new_page, base_url, pupil_world, width, csp_errors):
    for user, paths in ((pupil_world["principal"], ["/pupils/", f"/pupils/{pupil_world['pupil'].pk}/"]),
                        (pupil_world["dpo"], ["/audit/", "/audit/?pupil=X-4242"])):
        page = new_page(locale=ENGLISH, viewport={"width": width, "height": 740}, is_mobile=True, has_touch=True)
        sign_in_with_totp(page, base_url, user)
        shell = ShellPage(page, base_url)
        for path in paths:
            shell.open(path)
            assert shell.response.status == 200
            assert shell.horizontal_overflow() <= 0, f"{path} scrolls sideways at {width}px"
    assert not csp_errors, csp_errors
