"""The UI shell in a real browser: sections, languages, sign-in, error pages, phone layout, axe."""

from __future__ import annotations

import pytest

from tests.browser.support import CHROMIUM, SKIP_REASON

if not CHROMIUM.exists():
    pytest.skip(SKIP_REASON, allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")

from tests.browser.pages import LoginPage, ShellPage, assert_accessible  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECTIONS = {  # nav label -> path, in the order of the navigation
    "fi": ["Vuosikello", "Ryhmäkeskustelut", "Poissaolot", "Vanhempainillat", "Koontinäkymä"],
    "sv": ["Årsklocka", "Gruppsamtal", "Frånvaro", "Föräldramöten", "Översikt"],
    "en": ["Annual clock", "Group sessions", "Absences", "Parent evenings", "Dashboard"],
}
PATHS = ["/annual-clock/", "/group-sessions/", "/absences/", "/parent-evenings/", "/dashboard/"]


def assert_shell(shell: ShellPage, lang: str) -> None:
    assert shell.html_lang == lang
    # One main navigation; a page's own navigation (e.g. the dashboard's panel index) has a name.
    assert shell.landmark_counts() == {"banner": 1, "navigation": 1, "unnamed_navigation": 0, "main": 1,
                                       "contentinfo": 1}
    for code in ("fi", "sv", "en"):
        button = shell.language_button(code)
        assert button.get_attribute("lang") == code
        assert button.get_attribute("aria-pressed") == ("true" if code == lang else "false")


def test_staff_user_visits_every_section_in_three_languages(signed_in_page, base_url, csp_errors):
    shell = ShellPage(signed_in_page, base_url)
    assert shell.page.url.rstrip("/") == base_url  # LOGIN_REDIRECT_URL
    assert shell.heading == "Opiskeluhuolto: Espoo"
    assert_shell(shell, "fi")
    assert_accessible(shell.page, "front page (fi)")
    assert [label for label, _ in shell.nav_links()] == SECTIONS["fi"]
    assert [href for _, href in shell.nav_links()] == PATHS

    titles = {shell.title}
    for label, path in zip(SECTIONS["fi"], PATHS, strict=True):
        shell.go_to_section(label)
        assert shell.page.url == base_url + path
        assert shell.heading  # every section has its own h1
        assert shell.current_nav_label() == label
        assert_shell(shell, "fi")
        assert_accessible(shell.page, f"{path} (fi)")
        titles.add(shell.title)
    assert len(titles) == 6, f"page titles are not unique: {titles}"

    # Swedish, from the dashboard: the page stays, the words change.
    shell.switch_language("sv")
    assert shell.page.url == base_url + "/dashboard/"
    assert_shell(shell, "sv")
    assert shell.heading == "Översikt"
    assert [label for label, _ in shell.nav_links()] == SECTIONS["sv"]
    assert_accessible(shell.page, "/dashboard/ (sv)")
    shell.go_to_section("Årsklocka")
    assert shell.heading == "Årsklocka"
    assert_accessible(shell.page, "/annual-clock/ (sv)")

    # The choice sticks (cookie) until changed again: English.
    shell.open("/absences/")
    assert_shell(shell, "sv")
    shell.switch_language("en")
    assert_shell(shell, "en")
    assert [label for label, _ in shell.nav_links()] == SECTIONS["en"]
    assert shell.current_nav_label() == "Absences"
    assert_accessible(shell.page, "/absences/ (en)")
    shell.go_to_section("Parent evenings")
    assert shell.heading == "Parent evenings"
    assert shell.title == "Parent evenings · Espoo · Yhdessä"

    # Signing out returns to the public front page of the municipality.
    with shell.page.expect_navigation():
        shell.page.get_by_role("button", name="Sign out").click()
    shell.open("/")
    assert shell.page.get_by_role("link", name="Sign in").first.is_visible()
    assert not csp_errors, csp_errors


def test_skip_link_and_visible_focus(page, base_url, csp_errors):
    shell = ShellPage(page, base_url).open("/")
    page.keyboard.press("Tab")
    focused = shell.focused()
    assert focused["text"] == "Siirry sisältöön"
    assert page.locator(".skip-link").is_visible()
    assert focused["outline"] != "none" or focused["boxShadow"] != "none"
    page.keyboard.press("Enter")
    assert shell.focused()["id"] == "main"
    # The next Tab goes on from the main content, not back to the header.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")
    assert not csp_errors, csp_errors


def test_sign_in_page_is_accessible_with_and_without_errors(page, base_url, csp_errors):
    login = LoginPage(page, base_url).open()
    assert login.response.status == 200
    assert login.html_lang == "fi"
    assert login.heading == "Kirjaudu sisään"
    assert login.title == "Kirjaudu sisään · Espoo · Yhdessä"
    assert login.email.get_attribute("autocomplete") == "email"
    assert login.password.get_attribute("autocomplete") == "current-password"
    # Every visible input has a label.
    for field_id in ("id_login", "id_password", "id_remember"):
        assert page.locator(f'label[for="{field_id}"]').count() == 1
    assert_accessible(page, "sign-in page")

    login.submit()  # empty form: the errors are shown and tied to the fields
    assert page.locator("#id_login").get_attribute("aria-invalid") == "true"
    assert "Tämä kenttä vaaditaan" in login.described_by_text(login.email)
    assert_accessible(page, "sign-in page with field errors")

    login.email.fill("nobody@example.fi")
    login.password.fill("wrong password here")
    login.submit()
    assert page.get_by_role("alert").is_visible()  # non-field error: announced
    assert_accessible(page, "sign-in page with a wrong password")

    # Swedish sign-in page.
    LoginPage(page, base_url).switch_language("sv")
    assert login.html_lang == "sv"
    assert login.heading == "Logga in"
    assert_accessible(page, "sign-in page (sv)")
    assert not csp_errors, csp_errors


@pytest.mark.parametrize(("host", "accept", "heading"), [
    ("espoo", "fi-FI", "Sivua ei löydy"),
    ("espoo", "sv-FI", "Sidan hittades inte"),
    ("atlantis", "sv-FI", "Sidan hittades inte"),
    ("atlantis", "en-GB", "Page not found"),
])
def test_not_found_page(new_page, live_server, espoo, host, accept, heading, csp_errors):
    page = new_page(locale=accept)
    shell = ShellPage(page, f"http://{host}.localhost:{live_server.thread.port}").open("/no-such-page/")
    assert shell.response.status == 404
    assert shell.heading == heading
    assert shell.html_lang == accept[:2]
    assert_accessible(page, f"404 page on {host}.localhost ({accept})")
    assert not csp_errors, csp_errors


def test_access_denied_page(page, base_url, live_server, espoo, csp_errors):
    """A signed-in user with no role in Espoo gets the 403 page on a section."""
    from allauth.account.models import EmailAddress

    from tests.factories import UserFactory

    user = UserFactory(email="norole.browser@example.fi")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    LoginPage(page, base_url).open().sign_in(user.email, "correct horse battery")
    shell = ShellPage(page, base_url).open("/dashboard/")
    assert shell.response.status == 403
    assert shell.heading == "Pääsy estetty"
    assert_accessible(page, "403 page")
    assert not csp_errors, csp_errors


def test_second_factor_page(page, base_url, principal_with_totp, csp_errors):
    """A principal's sign-in asks for the authenticator code on an accessible page of our layout."""
    login = LoginPage(page, base_url).open()
    login.email.fill(principal_with_totp.email)
    login.password.fill(principal_with_totp.raw_password)
    login.submit()
    assert "/accounts/2fa/authenticate/" in page.url
    shell = ShellPage(page, base_url)
    assert shell.heading == "Kaksivaiheinen tunnistautuminen"
    assert shell.title == "Kaksivaiheinen tunnistautuminen · Espoo · Yhdessä"
    code = page.locator("#id_code")
    assert code.get_attribute("autocomplete") == "one-time-code"
    assert page.locator('label[for="id_code"]').count() == 1
    assert_accessible(page, "second-factor page")
    code.fill("000000")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert code.get_attribute("aria-invalid") == "true"
    assert login.described_by_text(code).strip()  # the error is read with the field
    assert_accessible(page, "second-factor page with an error")
    assert not csp_errors, csp_errors


@pytest.mark.parametrize("width", [375, 360])
def test_phone_layout(new_page, base_url, staff_user, width, csp_errors):
    page = new_page(viewport={"width": width, "height": 740}, is_mobile=True, has_touch=True)
    login = LoginPage(page, base_url).open()
    assert login.horizontal_overflow() <= 0, "sign-in page scrolls sideways"
    shell = login.sign_in(staff_user.email, staff_user.raw_password)
    for lang in ("fi", "sv"):
        if lang != "fi":
            shell.switch_language(lang)
        for path in ["/", *PATHS]:
            shell.open(path)
            assert shell.horizontal_overflow() <= 0, f"{path} ({lang}) scrolls sideways at {width}px"
    # Every section can be reached from the navigation on a phone.
    shell.open("/")
    links = shell.page.locator("nav.main-nav a")
    assert links.count() == 5
    for i in range(links.count()):
        link = links.nth(i)
        link.scroll_into_view_if_needed()
        assert link.is_visible()
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert box["height"] >= 44, "touch target smaller than 44px"
    shell.go_to_section(SECTIONS["sv"][2])
    assert shell.page.url.endswith("/absences/")
    assert_accessible(shell.page, f"/absences/ on a {width}px phone")
    assert not csp_errors, csp_errors
