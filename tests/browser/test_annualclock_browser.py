"""In a real browser: the welfare group opens the wheel, opens an activity from the wheel with the
keyboard, marks it done with an evaluation, and sees it change on the wheel and in the list; then
marks another done inline in the month list (htmx), the wheel updating without a reload.
axe-core on every page; on a 360 px phone the list comes before the wheel and nothing scrolls sideways."""

from __future__ import annotations

import datetime

import pytest

from tests.browser.support import CHROMIUM, SKIP_REASON

if not CHROMIUM.exists():
    pytest.skip(SKIP_REASON, allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")

from tests.browser.pages import ShellPage, assert_accessible  # noqa: E402
from tests.browser.test_audit_browser import make_user, sign_in_with_totp  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENGLISH = "en-GB"


@pytest.fixture
def clock_world(live_server, espoo):
    from django_tenants.utils import schema_context

    from tests.annualclock.factories import ActivityFactory, ClockFactory, ring
    from tests.factories import SchoolFactory, SchoolYearFactory
    from welfare.models import Role

    today = datetime.date.today()
    start = today.year if today.month >= 8 else today.year - 1
    with schema_context(espoo.schema_name):
        year = SchoolYearFactory(name=f"{start}–{start + 1}", start_date=datetime.date(start, 8, 1),
                                 end_date=datetime.date(start + 1, 7, 31))
        school = SchoolFactory(name="Kaivomäen koulu")
        clock = ClockFactory(school=school, school_year=year)
        evening = ActivityFactory(clock=clock, title_fi="Vanhempainilta", title_en="Parent evening", month_start=9,
                                  month_end=9)
        grouping = ActivityFactory(clock=clock, title_fi="Ryhmäytyminen", title_en="Group building",
                                   ring=ring("participation"), month_start=8, month_end=9)
        for n in range(20):
            ActivityFactory(clock=clock, title_en=f"Background {n}", month_start=(8 + n) % 12 + 1,
                            month_end=(8 + n) % 12 + 1, ring=ring(["safety", "guidance", "home_school"][n % 3]))
    principal = make_user(espoo, "rehtori.clock@example.fi", Role.PRINCIPAL, school=school, first_name="Riikka",
                          last_name="Rehtori")
    return {"clock": clock, "evening": evening, "grouping": grouping, "principal": principal}


def test_open_by_keyboard_mark_done_and_see_it_on_wheel_and_list(context_factory, base_url, clock_world, csp_errors):
    clock, evening, grouping = clock_world["clock"], clock_world["evening"], clock_world["grouping"]
    page = context_factory(locale=ENGLISH).new_page()
    sign_in_with_totp(page, base_url, clock_world["principal"])
    shell = ShellPage(page, base_url).open(f"/annual-clock/clocks/{clock.pk}/")
    assert shell.response.status == 200
    assert shell.heading == "Annual clock: Kaivomäen koulu " + str(clock.school_year)
    arc = page.locator(f"#wheel-activity-{evening.pk}")
    assert arc.get_attribute("aria-label") == "Parent evening: September, Communal welfare, Planned"
    assert page.get_by_role("link", name="Parent evening: September, Communal welfare, Planned").count() == 1
    assert_accessible(page, "the clock's wheel and list")

    # Keyboard: Tab from the month list's last control reaches the wheel's first arc; Enter opens it.
    page.locator("section.clock-list a").last.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == f"wheel-activity-{evening.pk}"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{base_url}/annual-clock/activities/{evening.pk}/"
    assert shell.heading == "Parent evening"
    assert "Planned" in page.locator("#activity-status").inner_text()
    assert_accessible(page, "an activity")

    form = page.locator("form.evaluation-form")
    form.get_by_label("What happened").fill("Forty guardians came; interpreters for Somali and Arabic.")
    form.get_by_label("People reached").fill("40")
    form.get_by_label("What to change next year").fill("Book the interpreters earlier.")
    with page.expect_navigation():
        form.get_by_role("button", name="Save as done").click()
    assert "Marked done" in page.locator(".messages").inner_text()
    assert "Done" in page.locator("#activity-status").inner_text()
    assert "Book the interpreters earlier." in page.locator("main").inner_text()

    shell.open(f"/annual-clock/clocks/{clock.pk}/")
    assert page.locator(f"#wheel-activity-{evening.pk}").get_attribute("aria-label").endswith(", Done")
    assert page.locator(f"#row-activity-{evening.pk} .badge").inner_text() == "Done"

    # Inline in the month list (htmx): the row becomes a form, then the row and the wheel change in place.
    row = page.locator(f"#row-activity-{grouping.pk}")
    row.locator("a.button", has_text="Mark done").click()
    inline = page.locator(f"#row-activity-{grouping.pk} form")
    inline.get_by_label("What happened").fill("All first and seventh graders.")
    url_before = page.url
    inline.get_by_role("button", name="Save as done").click()
    page.locator(f"#row-activity-{grouping.pk} .badge-done").wait_for()
    assert page.url == url_before
    assert page.locator(f"#row-activity-{grouping.pk} .badge").inner_text() == "Done"
    assert page.locator(f"#wheel-activity-{grouping.pk}").get_attribute("aria-label").endswith(", Done")
    assert_accessible(page, "the clock after marking done inline")

    # Cancelling an inline edit puts the row back as it was (the row alone comes back).
    row = page.locator(f"#row-activity-{evening.pk}")
    row.locator("a.button", has_text="Edit").click()
    page.locator(f"#row-activity-{evening.pk} form").wait_for()
    page.locator(f"#row-activity-{evening.pk} form").get_by_role("link", name="Cancel").click()
    page.locator(f"#row-activity-{evening.pk} a.button", has_text="Edit").wait_for()
    assert page.locator(f"#row-activity-{evening.pk} form").count() == 0
    assert page.locator(f"#row-activity-{evening.pk} .badge").inner_text() == "Done"
    assert page.locator(f"#wheel-activity-{evening.pk}").count() == 1 and page.url == url_before
    assert not csp_errors, csp_errors


def test_phone_shows_the_list_first_and_the_wheel_scaled(new_page, base_url, clock_world, csp_errors):
    page = new_page(locale=ENGLISH, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    sign_in_with_totp(page, base_url, clock_world["principal"])
    shell = ShellPage(page, base_url).open(f"/annual-clock/clocks/{clock_world['clock'].pk}/")
    assert shell.response.status == 200
    list_box = page.locator("section.clock-list").bounding_box()
    wheel_box = page.locator("svg.wheel").bounding_box()
    assert list_box["y"] < wheel_box["y"]
    assert wheel_box["width"] <= 360
    assert shell.horizontal_overflow() <= 0
    assert_accessible(page, "the clock on a phone")
    assert not csp_errors, csp_errors


def test_coordinator_settings_page_on_a_phone(new_page, base_url, live_server, espoo, csp_errors):
    """The coordinator's settings (reminder days, rings) pass axe and fit a 360 px phone; a too-light
    colour is refused with an error naming the ring."""
    from django_tenants.utils import schema_context

    from annualclock.defaults import ensure_default_rings
    from welfare.models import Role

    with schema_context(espoo.schema_name):
        ensure_default_rings()  # a transactional test before may have emptied the tables
    coordinator = make_user(espoo, "koordinaattori.clock@example.fi", Role.MUNICIPAL_COORDINATOR,
                            first_name="Kaisa", last_name="Koordinaattori")
    page = new_page(locale=ENGLISH, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    sign_in_with_totp(page, base_url, coordinator)
    shell = ShellPage(page, base_url).open("/annual-clock/settings/")
    assert shell.response.status == 200
    assert shell.heading == "Annual clock settings"
    assert shell.horizontal_overflow() <= 0
    assert_accessible(page, "the annual clock settings")

    safety = page.get_by_role("group", name="Ring: Safety")
    safety.get_by_label("Colour").fill("#ffff00")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the rings").click()
    assert "The colour #ffff00 of Safety is too light" in page.locator(".error-summary").inner_text()
    assert shell.horizontal_overflow() <= 0
    assert_accessible(page, "the annual clock settings with an error")
    assert not csp_errors, csp_errors
