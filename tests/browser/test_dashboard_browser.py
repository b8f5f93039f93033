"""In a real browser: the coordinator filters the dashboard by school type, downloads a panel's
table as CSV, and asks for the municipal summary PDF. axe-core on the dashboard; 360 px phone."""

from __future__ import annotations

import csv
import io

import pytest

from tests.browser.support import CHROMIUM, SKIP_REASON

if not CHROMIUM.exists():
    pytest.skip(SKIP_REASON, allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")

from tests.browser.pages import ShellPage, assert_accessible  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def dashboard_world(live_server, espoo):
    """A basic school with 7 pupils past 30 h and an upper-secondary school with 2."""
    from datetime import date, timedelta
    from decimal import Decimal

    from django_tenants.utils import schema_context

    from absences.models import AbsenceRecord
    from absences.services import rollups
    from absences.services.evaluation import evaluate_students
    from tests.absences.factories import category
    from tests.absences.test_evaluation import TODAY, make_calendar, policy
    from tests.factories import SchoolFactory, StudentFactory, TeachingGroupFactory

    with schema_context(espoo.schema_name):
        year = make_calendar()
        policy("lape")
        for name, kind, past in (("Kivenlahden koulu", "basic", 7), ("Tapiolan lukio", "upper_secondary", 2)):
            school = SchoolFactory(name=name, school_type=kind)
            group = TeachingGroupFactory(school=school, school_year=year, grade=8 if kind == "basic" else 1)
            for n in range(12):
                pupil = StudentFactory(school=school, group=group, grade=group.grade)
                if n < past:
                    for day in range(7):
                        AbsenceRecord.objects.create(student=pupil, date=date(2026, 9, 1) + timedelta(days=day),
                                                     category=category("health"), hours=Decimal("5"))
        evaluate_students(today=TODAY)
        rollups.refresh_all()


def test_coordinator_filters_exports_and_orders_the_summary(signed_in_page, base_url, dashboard_world, csp_errors):
    page = signed_in_page
    page.goto(base_url + "/dashboard/")
    steps = page.locator("#absences-steps-by-school table")
    assert steps.locator("th[scope=row]", has_text="Tapiolan lukio").count() == 1
    assert "<5" in steps.locator("tr", has_text="Tapiolan lukio").inner_text()
    assert_accessible(page, "/dashboard/")

    # Filter by school type with the keyboard: only the basic school is left.
    page.get_by_label("Koulumuoto").select_option("basic")
    page.get_by_role("button", name="Näytä").press("Enter")
    page.wait_for_url("**/dashboard/?*school_type=basic*")
    assert steps.locator("th[scope=row]", has_text="Tapiolan lukio").count() == 0
    assert "7 (" in steps.locator("tr", has_text="Kivenlahden koulu").inner_text()

    with page.expect_download() as download_info:
        page.locator("#absences-steps-by-school").get_by_role("link", name="CSV").click()
    download = download_info.value
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8-sig").read()), delimiter=";"))
    assert [row[0] for row in rows[1:-1]] == ["Kivenlahden koulu"]

    page.get_by_label("Raportti", exact=True).select_option("municipal")
    page.get_by_role("button", name="Tee PDF").click()
    page.wait_for_url("**/documents/*/")
    page.get_by_role("link", name="Lataa PDF").wait_for()
    assert_accessible(page, "/documents/ (fi)")
    assert not csp_errors


def test_dashboard_on_a_phone(new_page, base_url, staff_user, dashboard_world):
    from tests.browser.pages import LoginPage

    page = new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    LoginPage(page, base_url).open().sign_in(staff_user.email, staff_user.raw_password)
    page.goto(base_url + "/dashboard/")
    assert ShellPage(page, base_url).horizontal_overflow() == 0
    assert_accessible(page, "/dashboard/ (360 px)")
