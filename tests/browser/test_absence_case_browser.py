"""In a real browser: a class teacher finds a pupil with no reaction in "my pupils needing action",
opens the case (step-up TOTP), logs a guardian contact, and the "no reaction" flag is gone.
axe-core on the worklist and the case page; no sideways scroll on a 360 px phone."""

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
from tests.browser.test_audit_browser import (  # noqa: E402
    MfaPage,
    age_second_factor,
    new_secret,
    sign_in_with_totp,
    wait_for_next_totp_window,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# English: the strings of these pages are new and not yet in the fi/sv catalogues (makemessages is the lead's).
ENGLISH = "en-GB"


@pytest.fixture
def case_world(live_server, espoo):
    """School with group 7A: Qvarnström Ilmatar reached step 1 ten days ago (7 days to react, no
    action), Berg Bea reached step 1 today. The class teacher of 7A, with TOTP."""
    from allauth.account.models import EmailAddress
    from django_tenants.utils import schema_context

    from tests.absences.factories import (
        AbsenceCaseFactory,
        EscalationFactory,
        PolicyVersionFactory,
        absence_days,
        backdate,
        national_categories,
        step_of,
    )
    from tests.factories import (
        SchoolFactory,
        StaffRoleFactory,
        StudentFactory,
        TeachingGroupFactory,
        UserFactory,
        give_totp,
    )
    from welfare.models import Role

    with schema_context(espoo.schema_name):
        national_categories()
        school = SchoolFactory(name="Kaivomäen koulu")
        group = TeachingGroupFactory(school=school, name="7A")
        version = PolicyVersionFactory()
        pupil = StudentFactory(group=group, first_name="Ilmatar", last_name="Qvarnström")
        other = StudentFactory(group=group, first_name="Bea", last_name="Berg")
        case = AbsenceCaseFactory(student=pupil)
        absence_days(pupil, datetime.date(2026, 9, 1), 6)
        backdate(EscalationFactory(case=case, step=step_of(version, 1)), 10)
        EscalationFactory(case=AbsenceCaseFactory(student=other), step=step_of(version, 1))
        teacher = UserFactory(email="opettaja.absence@example.fi", first_name="Olli", last_name="Opettaja")
        EmailAddress.objects.update_or_create(user=teacher, email=teacher.email,
                                              defaults={"verified": True, "primary": True})
        StaffRoleFactory(user=teacher, role=Role.CLASS_TEACHER, school=school, groups=[group])
    teacher.totp_secret = new_secret()
    give_totp(teacher, teacher.totp_secret)
    return {"teacher": teacher, "case": case, "pupil": pupil}


def test_class_teacher_reacts_and_the_no_reaction_flag_clears(context_factory, base_url, case_world, csp_errors):
    from tests.factories import totp_code

    teacher, case = case_world["teacher"], case_world["case"]
    context = context_factory(locale=ENGLISH)
    page = context.new_page()
    signed_in_at = sign_in_with_totp(page, base_url, teacher)

    # The worklist: the overdue pupil first, flagged in words.
    shell = ShellPage(page, base_url).open("/absences/")
    assert shell.response.status == 200
    assert shell.heading == "My pupils needing action"
    rows = page.locator("table.absence-cases tbody tr")
    assert rows.count() == 2
    first = rows.nth(0)
    assert "Qvarnström Ilmatar" in first.inner_text()
    assert first.locator(".no-reaction").inner_text().strip() == "No reaction"
    assert rows.nth(1).locator(".no-reaction").count() == 0
    assert_accessible(page, "absence worklist")

    # Opening the case after 20 idle minutes asks for the code again (step-up).
    age_second_factor(context, 20)
    with page.expect_navigation():
        first.get_by_role("link", name="Qvarnström Ilmatar").click()
    assert "/accounts/2fa/reauthenticate/" in page.url
    assert "Qvarnström" not in page.locator("main").inner_text()
    wait_for_next_totp_window(signed_in_at)
    MfaPage(page, base_url).enter_code(totp_code(teacher.totp_secret))
    assert page.url == f"{base_url}/absences/cases/{case.pk}/"
    assert shell.heading == "Qvarnström Ilmatar"
    status = page.locator("#reaction-status")
    assert "No reaction" in status.inner_text()
    assert page.get_by_role("img", name=re.compile("Cumulative absence hours")).count() == 1
    assert "Do not write health or family details here" in page.locator("form.log-action").inner_text()
    assert_accessible(page, "absence case")

    # Log a guardian contact, with the keyboard-reachable, labelled controls.
    form = page.locator("form.log-action")
    form.get_by_label("Guardian contacted").check()
    form.get_by_label("Contact method").select_option("phone")
    with page.expect_navigation():
        form.get_by_role("button", name="Save the action").click()
    assert re.search(rf"/absences/cases/{case.pk}/#entry-\d+$", page.url), page.url
    assert "Saved to the case log." in page.locator(".messages").inner_text()
    assert "No reaction" not in status.inner_text()
    assert "Action logged" in status.inner_text()
    timeline = page.locator("ol.timeline").inner_text()
    assert "Guardian contacted" in timeline and "Contact method: Phone" in timeline
    assert_accessible(page, "absence case after logging an action")

    # Back on the worklist the flag is gone.
    shell.open("/absences/")
    assert page.locator("table.absence-cases .no-reaction").count() == 0
    assert not csp_errors, csp_errors


def test_worklist_and_case_fit_a_phone(new_page, base_url, case_world, csp_errors):
    page = new_page(locale=ENGLISH, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    sign_in_with_totp(page, base_url, case_world["teacher"])
    shell = ShellPage(page, base_url)
    for path in ("/absences/", f"/absences/cases/{case_world['case'].pk}/"):
        shell.open(path)
        assert shell.response.status == 200
        assert shell.horizontal_overflow() <= 0, f"{path} scrolls sideways at 360px"
    assert_accessible(page, "absence case on a phone")
    assert not csp_errors, csp_errors
