"""Browser fixtures: Debian's chromium driven by Playwright's sync API, against pytest-django's live_server.

Never run ``playwright install``: the tests use /usr/bin/chromium (shared stack notes §7).

live_server tests are transactional: what they create is committed. tests/conftest.py's
``_reset_schema_after_test`` empties it afterwards (tests/dbutil.py) and keeps pytest-django's
flush away from the public schema's municipalities. Each test creates the users, roles and email
addresses it needs (see ``staff_user``).
"""

from __future__ import annotations

import pytest
from django.db import connection

from tests.browser.support import CHROMIUM, CHROMIUM_ARGS, SKIP_REASON, compile_messages_if_stale

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's password



@pytest.fixture(autouse=True, scope="module")
def _public_schema_after_module():
    yield
    connection.set_schema_to_public()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(SKIP_REASON)
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    compile_messages_if_stale()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def csp_errors():
    """Console messages about Content-Security-Policy violations (inline script or style)."""
    return []


@pytest.fixture
def context_factory(browser, csp_errors):
    """New browser contexts (fresh cookies); Finnish by default, like a municipality's staff."""
    contexts = []

    def make(*, locale: str = "fi-FI", viewport: dict | None = None, **kwargs):
        context = browser.new_context(locale=locale, viewport=viewport or {"width": 1280, "height": 900},
                                      **kwargs)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def _watch_console(page, csp_errors):
    def on_console(message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            csp_errors.append(message.text)

    page.on("console", on_console)
    return page


@pytest.fixture
def new_page(context_factory, csp_errors):
    def make(**kwargs):
        return _watch_console(context_factory(**kwargs).new_page(), csp_errors)

    return make


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def base_url(live_server, espoo):
    """Espoo's address on the live server; chromium resolves *.localhost to loopback itself."""
    return f"http://{espoo.slug}.localhost:{live_server.thread.port}"


@pytest.fixture
def staff_user(live_server, espoo):
    """Espoo's municipal coordinator (the one role that needs no second factor) with a verified
    primary email (allauth's email verification is mandatory)."""
    from allauth.account.models import EmailAddress
    from django_tenants.utils import schema_context

    from tests.factories import StaffRoleFactory, UserFactory
    from welfare.models import Role

    with schema_context(espoo.schema_name):
        user = UserFactory(email="koordinaattori.browser@example.fi", first_name="Kaisa", last_name="Koordinaattori")
        EmailAddress.objects.update_or_create(user=user, email=user.email,
                                              defaults={"verified": True, "primary": True})
        StaffRoleFactory(user=user, role=Role.MUNICIPAL_COORDINATOR, school=None)
    user.raw_password = PASSWORD
    return user


@pytest.fixture
def principal_with_totp(live_server, espoo):
    """Espoo's principal, whose role needs the second factor, with an authenticator app set up."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django_tenants.utils import schema_context

    from tests.factories import StaffRoleFactory, UserFactory
    from welfare.models import Role

    with schema_context(espoo.schema_name):
        user = UserFactory(email="rehtori.browser@example.fi", first_name="Riikka", last_name="Rehtori")
        EmailAddress.objects.update_or_create(user=user, email=user.email,
                                              defaults={"verified": True, "primary": True})
        StaffRoleFactory(user=user, role=Role.PRINCIPAL)
        TOTP.activate(user, generate_totp_secret())
    user.raw_password = PASSWORD
    return user


@pytest.fixture
def signed_in_page(page, base_url, staff_user):
    """A page signed in as ``staff_user`` through the real allauth sign-in form."""
    from tests.browser.pages import LoginPage

    LoginPage(page, base_url).open().sign_in(staff_user.email, staff_user.raw_password)
    return page
