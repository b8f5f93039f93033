"""Signing in in a real browser: email and password, then the authenticator code, then the
municipality's front page. A wrong code is refused with an error read with the field."""

from __future__ import annotations

import pytest

from tests.browser.support import CHROMIUM, SKIP_REASON

if not CHROMIUM.exists():
    pytest.skip(SKIP_REASON, allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")

from tests.browser.pages import LoginPage, ShellPage, assert_accessible  # noqa: E402
from tests.factories import totp_code  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _private_cache(settings):
    """Used TOTP codes are remembered in the cache: keep other runs' codes out of this one."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "browser-signin"}}


@pytest.fixture
def principal(live_server, espoo):
    """Espoo's principal (a role that opens pupil data) with an authenticator app whose secret we know."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django_tenants.utils import schema_context

    from tests.browser.conftest import PASSWORD
    from tests.factories import StaffRoleFactory, UserFactory
    from welfare.models import Role

    with schema_context(espoo.schema_name):
        user = UserFactory(email="rehtori.signin@example.fi", first_name="Riikka", last_name="Rehtori")
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        StaffRoleFactory(user=user, role=Role.PRINCIPAL)
    user.totp_secret = generate_totp_secret()
    TOTP.activate(user, user.totp_secret)
    user.raw_password = PASSWORD
    return user


class SecondFactorPage(ShellPage):
    @property
    def code(self):
        return self.page.locator("#id_code")

    def verify(self, code: str):
        self.code.fill(code)
        with self.page.expect_navigation():
            self.page.locator("main form button[type=submit]").first.click()
        return self


def _not_at_the_end_of_a_totp_window(margin: float = 5.0) -> None:
    """A code typed in the last seconds of its 30 s window may reach the server in the next one
    (a busy machine): wait for the next window then."""
    import time

    left = 30 - time.time() % 30
    if left < margin:
        time.sleep(left + 0.2)


def test_password_then_authenticator_code_lands_on_the_front_page(page, base_url, principal, csp_errors):
    login = LoginPage(page, base_url).open()
    assert_accessible(page, "sign-in page")
    login.email.fill(principal.email)
    login.password.fill(principal.raw_password)
    login.submit()

    assert page.url == f"{base_url}/accounts/2fa/authenticate/"
    second = SecondFactorPage(page, base_url)
    assert second.heading == "Kaksivaiheinen tunnistautuminen"
    assert_accessible(page, "second-factor page")

    right = totp_code(principal.totp_secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    second.verify(wrong)
    assert page.url == f"{base_url}/accounts/2fa/authenticate/"  # still asking
    assert second.code.get_attribute("aria-invalid") == "true"
    assert login.described_by_text(second.code).strip()  # the error is read with the field
    assert_accessible(page, "second-factor page with a wrong code")

    _not_at_the_end_of_a_totp_window()
    second.verify(totp_code(principal.totp_secret))
    shell = ShellPage(page, base_url)
    assert page.url.rstrip("/") == base_url
    assert shell.heading == "Opiskeluhuolto: Espoo"
    assert shell.nav.is_visible()  # the modules of a signed-in member of staff
    assert not csp_errors, csp_errors


def test_password_alone_opens_nothing(page, base_url, principal, csp_errors):
    """Leaving the code page for a staff page leads back to the sign-in (which resumes at the code)."""
    login = LoginPage(page, base_url).open()
    login.email.fill(principal.email)
    login.password.fill(principal.raw_password)
    login.submit()
    assert "/accounts/2fa/authenticate/" in page.url
    ShellPage(page, base_url).open("/absences/")
    assert page.url == f"{base_url}/accounts/2fa/authenticate/"
    assert page.locator("nav.main-nav").count() == 0
    assert not csp_errors, csp_errors
