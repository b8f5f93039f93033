"""In a real browser: a municipal administrator invites a person and grants a role; axe on every staff page."""

from __future__ import annotations

import base64
import re
import secrets

import pytest

from tests.browser.support import CHROMIUM, SKIP_REASON

if not CHROMIUM.exists():
    pytest.skip(SKIP_REASON, allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")

from tests.browser.conftest import PASSWORD  # noqa: E402
from tests.browser.pages import LoginPage, ShellPage, assert_accessible  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class StaffPages(ShellPage):
    """The staff list, the invitation form and a person's page."""

    def field(self, label: str):
        return self.page.get_by_label(label, exact=True)

    def submit(self, name: str):
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=name, exact=True).click()
        return self

    def choose_school(self, name: str):
        """Choosing the school swaps in that school's groups (htmx, no inline script)."""
        with self.page.expect_response(lambda response: "/staff/groups/" in response.url):
            self.field("School").select_option(label=name)
        self.page.wait_for_load_state()
        return self

    def group_labels(self) -> list[str]:
        return [label.strip() for label in self.page.locator("#groups-field label").all_inner_texts()
                if label.strip() and not label.strip().startswith("Groups")]

    def staff_rows(self) -> dict[str, str]:
        rows = self.page.locator("table.staff-list tbody tr")
        return {rows.nth(i).locator("th").inner_text().strip(): rows.nth(i).inner_text()
                for i in range(rows.count())}


@pytest.fixture
def admin(live_server, espoo):
    """Espoo's municipal administrator, with a verified address and an authenticator app."""
    from allauth.account.models import EmailAddress
    from django_tenants.utils import schema_context

    from tests.factories import (
        SchoolFactory,
        SchoolYearFactory,
        StaffRoleFactory,
        TeachingGroupFactory,
        UserFactory,
        give_totp,
    )
    from welfare.models import Role

    with schema_context(espoo.schema_name):
        user = UserFactory(email="paakayttaja.browser@example.fi", first_name="Paula", last_name="Pääkäyttäjä")
        EmailAddress.objects.update_or_create(user=user, email=user.email,
                                              defaults={"verified": True, "primary": True})
        StaffRoleFactory(user=user, role=Role.MUNICIPAL_ADMIN, school=None)
        year = SchoolYearFactory()
        first, second = SchoolFactory(name="Aurinkolahden koulu"), SchoolFactory(name="Kuitinmäen koulu")
        TeachingGroupFactory(school=first, school_year=year, name="5A")
        TeachingGroupFactory(school=second, school_year=year, name="6B")
    user.totp_secret = base64.b32encode(secrets.token_bytes(20)).decode()
    give_totp(user, user.totp_secret)
    return user


def sign_in_with_totp(page, base_url, user) -> None:
    from tests.factories import totp_code

    LoginPage(page, base_url).open().sign_in(user.email, PASSWORD)
    assert "/accounts/2fa/authenticate/" in page.url, page.url
    page.locator("main input[name=code]").fill(totp_code(user.totp_secret))
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert "/accounts/" not in page.url, page.locator("main").inner_text()


def test_admin_invites_a_person_and_grants_a_role(new_page, base_url, admin, csp_errors):
    from django.core import mail

    page = new_page(locale="en-GB")
    sign_in_with_totp(page, base_url, admin)
    staff = StaffPages(page, base_url).open("/staff/")
    assert staff.response.status == 200
    assert staff.heading == "Staff"
    assert list(staff.staff_rows()) == ["Paula Pääkäyttäjä"]
    assert_accessible(page, "/staff/")

    with page.expect_navigation():
        page.get_by_role("link", name="Invite a staff member").click()
    assert staff.heading == "Invite a staff member"
    assert_accessible(page, "/staff/invite/")

    # Sent empty: the errors are announced and tied to their fields.
    staff.submit("Send the invitation")
    assert page.get_by_role("alert").is_visible()
    assert staff.field("Email address").get_attribute("aria-invalid") == "true"
    assert_accessible(page, "/staff/invite/ with errors")

    staff.field("Email address").fill("uusi.opettaja@example.fi")
    staff.field("First name").fill("Ulla")
    staff.field("Last name").fill("Uusi")
    staff.field("Language of the invitation").select_option("sv")
    staff.field("Role").select_option(label="Class teacher")
    staff.choose_school("Aurinkolahden koulu")
    assert staff.group_labels() == ["5A (Aurinkolahden koulu)"]  # the other school's groups are gone
    page.get_by_label("5A (Aurinkolahden koulu)").check()
    staff.submit("Send the invitation")

    assert staff.heading == "Ulla Uusi"
    assert page.get_by_text("Invitation sent to uusi.opettaja@example.fi.").is_visible()
    assert [m.to for m in mail.outbox] == [["uusi.opettaja@example.fi"]]
    assert "Esbo" in mail.outbox[0].body  # in the invitee's language (Swedish)
    assert re.search(r"/accounts/password/reset/key/\S+", mail.outbox[0].body)
    assert_accessible(page, "a person's page")

    # Grant a second role on the person's page.
    staff.field("Role").select_option(label="Special-needs teacher")
    staff.choose_school("Kuitinmäen koulu")
    staff.submit("Grant the role")
    assert page.get_by_text("Special-needs teacher granted to Ulla Uusi.").is_visible()
    roles = page.locator("table.staff-roles tbody")
    assert "Class teacher" in roles.inner_text() and "Special-needs teacher" in roles.inner_text()
    assert_accessible(page, "a person's page after a grant")

    # The grant form with an error (no school for a school role).
    staff.field("Role").select_option(label="Principal")
    staff.submit("Grant the role")
    assert staff.field("School").get_attribute("aria-invalid") == "true"
    assert_accessible(page, "a person's page with a grant error")

    # The deactivation question.
    with page.expect_navigation():
        page.get_by_role("link", name="Deactivate…").click()
    assert staff.heading == "Deactivate Ulla Uusi in this municipality?"
    assert_accessible(page, "deactivation page")

    # The new person is on the list, with both roles; the history view too.
    staff.open("/staff/")
    rows = staff.staff_rows()
    assert list(rows) == ["Paula Pääkäyttäjä", "Ulla Uusi"]
    assert "Class teacher, Aurinkolahden koulu (5A)" in rows["Ulla Uusi"]
    assert "Special-needs teacher, Kuitinmäen koulu" in rows["Ulla Uusi"]
    page.get_by_label("Show revoked roles (history)").check()
    staff.submit("Show")
    assert page.get_by_role("heading", name="History: revoked roles").is_visible()
    assert_accessible(page, "/staff/ with history")
    assert not csp_errors, csp_errors


@pytest.mark.parametrize("width", [360])
def test_staff_pages_fit_a_phone(new_page, base_url, admin, width, csp_errors):
    page = new_page(locale="fi-FI", viewport={"width": width, "height": 740}, is_mobile=True, has_touch=True)
    sign_in_with_totp(page, base_url, admin)
    staff = StaffPages(page, base_url)
    for path in ("/staff/", "/staff/invite/", f"/staff/{admin.pk}/"):
        staff.open(path)
        assert staff.response.status == 200
        assert staff.horizontal_overflow() <= 0, f"{path} scrolls sideways at {width}px"
        assert_accessible(page, f"{path} on a {width}px phone")
    assert not csp_errors, csp_errors
