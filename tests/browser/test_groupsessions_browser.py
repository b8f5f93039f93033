"""In a real browser: a pupil answers the anonymous feedback form on a 360 px phone (and a second
answer from the same phone is refused); a kuraattori records a held session. axe-core on each page."""

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

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def session_world(live_server, espoo):
    """Kaivomäen koulu with 7A, a session held two hours ago (feedback open), and its kuraattori."""
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from groupsessions import services
    from groupsessions.models import CohortGroup
    from tests.factories import SchoolFactory, SchoolYearFactory, TeachingGroupFactory
    from tests.groupsessions.factories import GroupSessionFactory, SessionStaffFactory
    from welfare.models import Role

    today = timezone.localdate()
    with schema_context(espoo.schema_name):
        year = SchoolYearFactory(name="browser-year", start_date=today - datetime.timedelta(days=90),
                                 end_date=today + datetime.timedelta(days=250))
        school = SchoolFactory(name="Kaivomäen koulu", language="fi")
        TeachingGroupFactory(school=school, school_year=year, name="7A", grade=7)
        services.sync_cohort(year)
        group = CohortGroup.objects.get(school=school)
        start = timezone.now() - datetime.timedelta(hours=2)
        session = GroupSessionFactory(cohort_group=group, starts_at=start, ends_at=start + datetime.timedelta(hours=1),
                                      feedback_closes_at=start + datetime.timedelta(days=14))
    kuraattori = make_user(espoo, "kuraattori.gs@example.fi", Role.SCHOOL_SOCIAL_WORKER, school=school,
                           first_name="Kaisa", last_name="Kuraattori")
    with schema_context(espoo.schema_name):
        SessionStaffFactory(session=session, user_id=kuraattori.pk, role=Role.SCHOOL_SOCIAL_WORKER)
    return {"session": session, "kuraattori": kuraattori, "school": school}


def test_pupil_answers_on_a_phone_once(new_page, base_url, espoo, session_world, csp_errors):
    from django_tenants.utils import schema_context

    from groupsessions.models import FeedbackResponse

    session = session_world["session"]
    page = new_page(locale="en-GB", **PHONE)
    shell = ShellPage(page, base_url).open(f"/group-sessions/feedback/{session.feedback_token}/")
    assert shell.response.status == 200
    assert shell.html_lang == "fi"  # the school's language by default
    shell.switch_language("en")  # the pupil picks English
    assert shell.html_lang == "en"
    assert shell.heading == "Feedback on the meeting"
    assert shell.horizontal_overflow() <= 0, "the feedback form scrolls sideways at 360px"
    assert_accessible(page, "feedback form on a phone")

    # The same phone opens the form in a second tab before answering in the first.
    second_tab = page.context.new_page()
    second_tab.goto(page.url)

    page.get_by_role("radio", name="5 – Very true").first.check()
    page.get_by_role("group", name="I know where to get help at school if I need it.").get_by_role(
        "radio", name="4").check()
    page.get_by_label("What else would you like to tell us or ask?").fill("Kiva että kävitte.")
    with page.expect_navigation():
        page.get_by_role("button", name="Send").click()
    assert "Thank you! Your answer was saved." in page.locator("main").inner_text()
    assert shell.horizontal_overflow() <= 0
    assert_accessible(page, "feedback thanks on a phone")

    # The second tab's submit is refused: one response per device.
    second_tab.get_by_role("radio", name="1 – Not true").first.check()
    with second_tab.expect_navigation():
        second_tab.get_by_role("button", name="Send").click()
    assert "You have already answered" in second_tab.locator("main").inner_text()
    with schema_context(espoo.schema_name):
        [response] = FeedbackResponse.objects.all()
    assert (response.statement_1, response.statement_2, response.open_answer) == (5, 4, "Kiva että kävitte.")
    assert not csp_errors, csp_errors


def test_kuraattori_records_the_session(context_factory, base_url, session_world, csp_errors):
    session = session_world["session"]
    page = context_factory(locale="en-GB").new_page()
    sign_in_with_totp(page, base_url, session_world["kuraattori"])
    shell = ShellPage(page, base_url).open("/group-sessions/")
    shell.switch_language("en")
    assert shell.heading == "Group sessions"
    with page.expect_navigation():
        page.get_by_role("link", name="Kaivomäen koulu").click()
    assert "7A" in page.locator("table.cohort").inner_text()
    assert_accessible(page, "school's groups to meet")

    shell.open(f"/group-sessions/sessions/{session.pk}/")
    assert "Kaisa Kuraattori" in page.locator("main").inner_text()
    assert_accessible(page, "planned session")
    with page.expect_navigation():
        page.get_by_role("link", name="Record the session").click()
    assert_accessible(page, "record form")
    page.get_by_label("Yes, it was held").check()
    page.get_by_label("Pupils present").fill("18")
    page.get_by_label("Pupils in the group").fill("20")
    page.get_by_label("Other topics the group raised").fill("Välituntikiusaaminen")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the record").click()
    main = page.locator("main").inner_text()
    assert "The session record was saved." in page.locator(".messages").inner_text()
    assert "Pupils present: 18 of 20" in main and "Välituntikiusaaminen" in main
    assert page.locator(".session-status").inner_text().strip() == "Held"
    assert_accessible(page, "recorded session")

    # The printable QR code of the feedback link.
    with page.expect_navigation():
        page.get_by_role("link", name="Printable QR code").click()
    assert page.locator("svg.qr-code").count() == 1
    assert session.feedback_token in page.locator(".qr-url").inner_text()
    assert_accessible(page, "QR page")
    assert not csp_errors, csp_errors
