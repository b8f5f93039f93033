"""The pupils' anonymous feedback: no sign-in, once per device, closed after the set days,
rate-limited, in the school's language or the pupil's choice; results suppressed under five and
open answers only for the school's welfare staff."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from groupsessions.feedback import DEVICE_COOKIE
from groupsessions.models import FeedbackResponse, SessionStatus
from tests.conftest import host
from tests.groupsessions.conftest import client_for
from tests.groupsessions.factories import FeedbackResponseFactory, GroupSessionFactory
from welfare.models import Role

pytestmark = pytest.mark.django_db

ANSWERS = {"statement_1": "4", "statement_2": "5", "statement_3": "2", "statement_4": "", "open_answer": "Kiitos!"}


def pupil(espoo, ip="10.0.0.1", lang: str | None = "en", **cookies) -> Client:
    """A pupil's phone; by default the pupil has picked English with the language buttons."""
    client = Client(headers={"host": host(espoo)}, REMOTE_ADDR=ip)
    if lang:
        client.cookies["django_language"] = lang
    for name, value in cookies.items():
        client.cookies[name] = value
    return client


@pytest.fixture
def session(espoo, world):
    with schema_context(espoo.schema_name):
        start = timezone.now() - datetime.timedelta(hours=2)
        return GroupSessionFactory(cohort_group=world["g7a"], starts_at=start,
                                   ends_at=start + datetime.timedelta(hours=1),
                                   feedback_closes_at=start + datetime.timedelta(days=14), status=SessionStatus.HELD)


def url(session) -> str:
    return f"/group-sessions/feedback/{session.feedback_token}/"


def responses(espoo, session) -> list[FeedbackResponse]:
    with schema_context(espoo.schema_name):
        return list(FeedbackResponse.objects.filter(session=session))


def test_a_pupil_answers_without_signing_in_once_per_device(espoo, session):
    phone = pupil(espoo)
    form = phone.get(url(session))
    assert form.status_code == 200
    body = form.content.decode()
    assert "I know where to get help at school if I need it." in body and 'name="statement_4"' in body
    assert DEVICE_COOKIE in form.cookies
    device_id = form.cookies[DEVICE_COOKIE].value

    sent = phone.post(url(session), ANSWERS)
    assert sent.status_code == 302 and sent["Location"].endswith("?sent=1")
    assert "Thank you! Your answer was saved." in phone.get(sent["Location"]).content.decode()
    [stored] = responses(espoo, session)
    assert (stored.statement_1, stored.statement_2, stored.statement_3, stored.statement_4) == (4, 5, 2, None)
    assert stored.open_answer == "Kiitos!"
    assert device_id.split(":")[0] not in stored.device_hash and len(stored.device_hash) == 64

    again = phone.post(url(session), ANSWERS)
    assert again.status_code == 409
    assert "You have already answered" in again.content.decode()
    assert "statement_1" not in phone.get(url(session)).content.decode()  # no form for this device
    assert len(responses(espoo, session)) == 1

    other_phone = pupil(espoo)
    other_phone.get(url(session))
    assert other_phone.post(url(session), ANSWERS).status_code == 302
    assert len(responses(espoo, session)) == 2


def test_a_post_without_the_device_cookie_or_with_a_forged_one_is_not_saved(espoo, session):
    no_cookie = pupil(espoo).post(url(session), ANSWERS)
    forged = pupil(espoo, **{DEVICE_COOKIE: "abcdefghijklmnop"}).post(url(session), ANSWERS)
    for response in (no_cookie, forged):
        assert response.status_code == 400
        assert "Allow cookies for this page" in response.content.decode()
    assert responses(espoo, session) == []


def test_an_empty_answer_is_refused(espoo, session):
    phone = pupil(espoo)
    phone.get(url(session))
    response = phone.post(url(session), {"statement_1": "", "open_answer": "  "})
    assert response.status_code == 400 and "Answer at least one question." in response.content.decode()
    bad = phone.post(url(session), {"statement_1": "9"})
    assert bad.status_code == 400
    assert responses(espoo, session) == []


def test_feedback_is_refused_after_closing(espoo, session):
    phone = pupil(espoo)
    phone.get(url(session))
    with schema_context(espoo.schema_name):
        session.feedback_closes_at = timezone.now() - datetime.timedelta(minutes=1)
        session.save()
    assert "This feedback form is closed." in phone.get(url(session)).content.decode()
    response = phone.post(url(session), ANSWERS)
    assert response.status_code == 410
    assert responses(espoo, session) == []


def test_feedback_is_closed_for_a_session_not_held(espoo, world):
    with schema_context(espoo.schema_name):
        cancelled = GroupSessionFactory(cohort_group=world["g7a"], status=SessionStatus.NOT_HELD,
                                        not_held_reason="cancelled")
    phone = pupil(espoo)
    phone.get(url(cancelled))
    assert phone.post(url(cancelled), ANSWERS).status_code == 410


@override_settings(GROUPSESSIONS_FEEDBACK_RATE="2/m")
def test_posts_are_rate_limited_per_address(espoo, session):
    address = f"10.9.{timezone.now().second}.{timezone.now().microsecond % 250}"
    phones = [pupil(espoo, ip=address) for _ in range(3)]
    for phone in phones:
        phone.get(url(session))
    assert [phone.post(url(session), ANSWERS).status_code for phone in phones] == [302, 302, 429]
    assert "Too many answers came from this network" in phones[2].post(url(session), ANSWERS).content.decode()
    assert len(responses(espoo, session)) == 2
    elsewhere = pupil(espoo, ip="10.8.0.1")  # another school network is not affected
    elsewhere.get(url(session))
    assert elsewhere.post(url(session), ANSWERS).status_code == 302


def test_unknown_or_short_tokens_are_not_found(espoo, session):
    assert pupil(espoo).get("/group-sessions/feedback/1/").status_code == 404
    assert pupil(espoo).get(f"/group-sessions/feedback/{session.feedback_token[:-1]}x/").status_code == 404


@pytest.mark.parametrize(("school_language", "cookie", "expected"), [
    ("fi", None, "fi"), ("sv", None, "sv"), ("fi", "sv", "sv"), ("sv", "en", "en"), ("fi", "de", "fi"),
])
def test_language_is_the_schools_unless_the_pupil_chose(espoo, session, school_language, cookie, expected):
    with schema_context(espoo.schema_name):
        session.cohort_group.school.language = school_language
        session.cohort_group.school.save()
    phone = pupil(espoo, lang=cookie)
    assert f'<html lang="{expected}"' in phone.get(url(session)).content.decode()


def _five(espoo, session, n: int, **fields):
    with schema_context(espoo.schema_name):
        for i in range(n):
            FeedbackResponseFactory(session=session, open_answer=f"Avoin vastaus {i}", **fields)


def test_results_under_five_responses_are_not_shown(espoo, world, session):
    _five(espoo, session, 4)
    page = client_for(espoo, world["users"][Role.SCHOOL_SOCIAL_WORKER]).get(
        f"/group-sessions/sessions/{session.pk}/").content.decode()
    assert "Responses: &lt;5" in page
    assert "Fewer than five responses" in page and "feedback-results" not in page
    assert "Avoin vastaus" not in page  # open answers also wait for five


def test_results_from_five_responses_and_open_answers_only_for_welfare_staff(espoo, world, session):
    _five(espoo, session, 5)
    users = world["users"]
    page = client_for(espoo, users[Role.SCHOOL_SOCIAL_WORKER]).get(f"/group-sessions/sessions/{session.pk}/")
    body = page.content.decode()
    assert "Responses: 5" in body and "feedback-results" in body
    assert "Avoin vastaus 0" in body and "Avoin vastaus 4" in body
    for role in (Role.CLASS_TEACHER, Role.SPECIAL_NEEDS_TEACHER, Role.MUNICIPAL_COORDINATOR):
        other = client_for(espoo, users[role]).get(f"/group-sessions/sessions/{session.pk}/")
        assert other.status_code == 200, role
        assert "feedback-results" in other.content.decode()
        assert "Avoin vastaus" not in other.content.decode(), role


def test_a_question_most_pupils_skipped_is_hidden_on_its_own(espoo, world, session):
    _five(espoo, session, 3)
    _five(espoo, session, 3, statement_4=None)
    body = client_for(espoo, world["users"][Role.PRINCIPAL]).get(
        f"/group-sessions/sessions/{session.pk}/").content.decode()
    assert "Responses: 6" in body
    assert body.count("Fewer than five answers: not shown.") == 1


def test_school_results_add_up_the_schools_sessions(espoo, world, session):
    with schema_context(espoo.schema_name):
        second = GroupSessionFactory(cohort_group=world["g7b"], status=SessionStatus.HELD)
    _five(espoo, session, 3)
    _five(espoo, second, 3)
    body = client_for(espoo, world["users"][Role.PRINCIPAL]).get(
        f"/group-sessions/schools/{world['school'].pk}/?year={world['year'].pk}").content.decode()
    assert "Responses: 6" in body and "feedback-results" in body


def test_school_results_do_not_give_away_a_sessions_hidden_answers(espoo, world, session):
    """7A's ten responses are shown on its own page; 7B's three are not. The school's results minus
    7A's would be 7B's three answers exactly, so the school's are withheld; once 7B's hidden part
    reaches five they show again."""
    with schema_context(espoo.schema_name):
        second = GroupSessionFactory(cohort_group=world["g7b"], status=SessionStatus.HELD)
    _five(espoo, session, 10)
    _five(espoo, second, 3, statement_1=1)
    principal = client_for(espoo, world["users"][Role.PRINCIPAL])
    school_page = f"/group-sessions/schools/{world['school'].pk}/?year={world['year'].pk}"
    body = principal.get(school_page).content.decode()
    assert "Responses: 13" not in body and "Responses: ×" in body
    assert "feedback-results" not in body and "give away the answers of a session with fewer than five" in body
    assert "Responses: 10" in principal.get(f"/group-sessions/sessions/{session.pk}/").content.decode()

    _five(espoo, second, 2, statement_1=1)  # 7B now has five responses: shown on its own page too
    body = principal.get(school_page).content.decode()
    assert "Responses: 15" in body and "feedback-results" in body


def test_a_statement_is_withheld_at_school_level_when_a_session_skipped_it_mostly(espoo, world, session):
    """Both sessions are shown, but 7B's statement 4 (three answers) is hidden on 7B's page: the
    school's statement 4 would give those three answers away."""
    with schema_context(espoo.schema_name):
        second = GroupSessionFactory(cohort_group=world["g7b"], status=SessionStatus.HELD)
    _five(espoo, session, 6)
    _five(espoo, second, 3, statement_4=1)
    _five(espoo, second, 3, statement_4=None)
    body = client_for(espoo, world["users"][Role.PRINCIPAL]).get(
        f"/group-sessions/schools/{world['school'].pk}/?year={world['year'].pk}").content.decode()
    assert "Responses: 12" in body and "feedback-results" in body
    assert body.count("give away the answers of a session with fewer than five") == 1
    assert "<td class=\"num\">×</td>" in body
