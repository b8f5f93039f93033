"""Planning and recording sessions through the pages: the double-booking warning, the record's
rules (counts only, no names), follow-ups to the annual clock in one click."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from groupsessions.models import FollowUp, GroupSession, SessionStatus, Topic
from tests.groupsessions.conftest import client_for
from tests.groupsessions.factories import FollowUpFactory, GroupSessionFactory, SessionStaffFactory, at
from welfare.models import AuditAction, AuditEvent, Role

pytestmark = pytest.mark.django_db

D = datetime.date


def plan_data(day="2026-09-15", start="09:00", end="10:15", staff=(), **extra):
    return {"day": day, "start": start, "end": end, "place": "luokka 214",
            "staff": [f"{user.pk}:{role}" for user, role in staff], **extra}


def test_kuraattori_plans_a_session_with_staff(espoo, world):
    kuraattori, nurse = world["users"][Role.SCHOOL_SOCIAL_WORKER], world["users"][Role.SCHOOL_NURSE]
    client = client_for(espoo, kuraattori)
    page = client.get(f"/group-sessions/groups/{world['g7a'].pk}/plan/")
    assert page.status_code == 200
    assert "Testi-kuraattori" in page.content.decode() and "Testi-terveydenhoitaja" in page.content.decode()
    response = client.post(f"/group-sessions/groups/{world['g7a'].pk}/plan/", plan_data(
        staff=[(kuraattori, Role.SCHOOL_SOCIAL_WORKER), (nurse, Role.SCHOOL_NURSE)]))
    with schema_context(espoo.schema_name):
        session = GroupSession.objects.get()
        assert response.status_code == 302 and response["Location"] == f"/group-sessions/sessions/{session.pk}/"
        assert timezone.localtime(session.starts_at).strftime("%Y-%m-%d %H:%M") == "2026-09-15 09:00"
        assert {(s.user_id, s.role) for s in session.staff.all()} == {
            (kuraattori.pk, Role.SCHOOL_SOCIAL_WORKER), (nurse.pk, Role.SCHOOL_NURSE)}
        assert session.feedback_closes_at == session.ends_at + datetime.timedelta(days=14)
        assert len(session.feedback_token) >= 30
        assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_id=str(session.pk)).exists()
    detail = client.get(response["Location"]).content.decode()
    assert "Testi-terveydenhoitaja" in detail and "Not recorded yet." in detail


def test_staff_from_another_school_cannot_be_listed(espoo, world):
    client = client_for(espoo, world["users"][Role.SCHOOL_SOCIAL_WORKER])
    response = client.post(f"/group-sessions/groups/{world['g7a'].pk}/plan/", plan_data(
        staff=[(world["other_kuraattori"], Role.SCHOOL_SOCIAL_WORKER)]))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    with schema_context(espoo.schema_name):
        assert not GroupSession.objects.exists()


def test_double_booking_is_a_warning_on_the_form_not_an_error(espoo, world):
    kuraattori = world["users"][Role.SCHOOL_SOCIAL_WORKER]
    other_kuraattori = world["other_kuraattori"]
    with schema_context(espoo.schema_name):
        # The same person booked at the other school, 9:30–10:30 the same day.
        from tests.factories import StaffRoleFactory
        StaffRoleFactory(user=kuraattori, role=Role.SCHOOL_SOCIAL_WORKER, school=world["other"])
        elsewhere = GroupSessionFactory(cohort_group=world["o7a"], starts_at=at(D(2026, 9, 15), 9, 30),
                                        ends_at=at(D(2026, 9, 15), 10, 30))
        SessionStaffFactory(session=elsewhere, user_id=kuraattori.pk)
        SessionStaffFactory(session=elsewhere, user_id=other_kuraattori.pk)
    client = client_for(espoo, kuraattori)
    url = f"/group-sessions/groups/{world['g7a'].pk}/plan/"
    data = plan_data(staff=[(kuraattori, Role.SCHOOL_SOCIAL_WORKER)])
    first = client.post(url, data)
    body = first.content.decode()
    assert first.status_code == 200
    assert "A staff member is already booked at this time" in body and "Lintuvaaran koulu" in body
    assert "Testi-kuraattori" in body
    with schema_context(espoo.schema_name):
        assert GroupSession.objects.count() == 1  # not saved yet
    confirmed = client.post(url, {**data, "confirm_overlap": "on"})
    assert confirmed.status_code == 302
    with schema_context(espoo.schema_name):
        assert GroupSession.objects.count() == 2
    # The session page keeps warning while it is planned.
    assert "booked in another session at the same time" in client.get(confirmed["Location"]).content.decode()
    # Back to back is not a double-booking.
    later = client.post(url.replace(str(world["g7a"].pk), str(world["g7b"].pk)),
                        plan_data(start="10:30", end="11:30", staff=[(kuraattori, Role.SCHOOL_SOCIAL_WORKER)]))
    assert later.status_code == 302


def test_recording_a_held_session_counts_and_topics(espoo, world):
    kuraattori = world["users"][Role.SCHOOL_SOCIAL_WORKER]
    with schema_context(espoo.schema_name):
        session = GroupSessionFactory(cohort_group=world["g7a"])
    client = client_for(espoo, kuraattori)
    form = client.get(f"/group-sessions/sessions/{session.pk}/record/")
    assert 'value="3"' in form.content.decode()  # enrolled, counted from the register
    response = client.post(f"/group-sessions/sessions/{session.pk}/record/", {
        "status": "held", "pupils_present": "18", "pupils_enrolled": "20",
        "topics": [Topic.INTRODUCTIONS, Topic.OWN_WELLBEING], "other_topics": "Välituntikiusaaminen"})
    assert response.status_code == 302
    with schema_context(espoo.schema_name):
        session.refresh_from_db()
        assert (session.status, session.pupils_present, session.pupils_enrolled) == (SessionStatus.HELD, 18, 20)
        assert session.topics == [Topic.INTRODUCTIONS, Topic.OWN_WELLBEING]
        assert session.recorded_by_id == kuraattori.pk
    detail = client.get(f"/group-sessions/sessions/{session.pk}/").content.decode()
    assert "Pupils present: 18 of 20" in detail and "Välituntikiusaaminen" in detail


@pytest.mark.parametrize(("data", "field_error"), [
    ({"status": "held", "pupils_present": "21", "pupils_enrolled": "20"}, "More pupils present than in the group"),
    ({"status": "held", "pupils_enrolled": "20"}, "Give the number of pupils present"),
    ({"status": "not_held"}, "Give the reason the session was not held"),
    ({}, "This field is required"),
])
def test_record_rules(espoo, world, data, field_error):
    with schema_context(espoo.schema_name):
        session = GroupSessionFactory(cohort_group=world["g7a"])
    client = client_for(espoo, world["users"][Role.PRINCIPAL])
    response = client.post(f"/group-sessions/sessions/{session.pk}/record/", data)
    assert response.status_code == 200
    assert field_error in response.content.decode()
    with schema_context(espoo.schema_name):
        session.refresh_from_db()
        assert session.status == SessionStatus.PLANNED


def test_a_future_session_cannot_be_recorded_as_held_but_can_be_cancelled(espoo, world):
    with schema_context(espoo.schema_name):
        start = timezone.now() + datetime.timedelta(days=3)
        session = GroupSessionFactory(cohort_group=world["g7a"], starts_at=start,
                                      ends_at=start + datetime.timedelta(hours=1))
    client = client_for(espoo, world["users"][Role.GUIDANCE_COUNSELLOR])
    url = f"/group-sessions/sessions/{session.pk}/record/"
    held = client.post(url, {"status": "held", "pupils_present": "1", "pupils_enrolled": "2"})
    assert "before it has started" in held.content.decode()
    assert client.post(url, {"status": "not_held", "not_held_reason": "moved"}).status_code == 302
    with schema_context(espoo.schema_name):
        session.refresh_from_db()
        assert (session.status, session.not_held_reason) == (SessionStatus.NOT_HELD, "moved")


def test_follow_up_becomes_an_annual_clock_activity_in_one_click(espoo, world, monkeypatch):
    calls = []

    def fake_add(**kwargs):
        calls.append(kwargs)
        return "/annual-clock/activities/77/"

    monkeypatch.setattr("annualclock.public.add_followup_activity", fake_add)
    kuraattori = world["users"][Role.SCHOOL_SOCIAL_WORKER]
    with schema_context(espoo.schema_name):
        session = GroupSessionFactory(cohort_group=world["g7a"], status=SessionStatus.HELD)
    client = client_for(espoo, kuraattori)
    added = client.post(f"/group-sessions/sessions/{session.pk}/follow-ups/", {
        "fu-title": "Välituntikiusaaminen nousi esiin", "fu-description": "", "fu-month": "2026-11"})
    assert added.status_code == 302
    with schema_context(espoo.schema_name):
        follow_up = FollowUp.objects.get()
        assert follow_up.month == D(2026, 11, 1)
    url = f"/group-sessions/sessions/{session.pk}/follow-ups/{follow_up.pk}/to-clock/"
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == "/annual-clock/activities/77/"
    assert calls == [{"user": calls[0]["user"], "school_id": world["school"].pk,
                      "title": "Välituntikiusaaminen nousi esiin", "description": calls[0]["description"],
                      "month": D(2026, 11, 1), "source_label": "Group session 7A"}]
    assert calls[0]["user"].pk == kuraattori.pk and "7A" in calls[0]["description"]
    # A second click does not add a second activity.
    assert client.post(url)["Location"] == "/annual-clock/activities/77/"
    assert len(calls) == 1
    with schema_context(espoo.schema_name):
        follow_up.refresh_from_db()
        assert follow_up.clock_url == "/annual-clock/activities/77/" and follow_up.added_to_clock_by_id == kuraattori.pk
    assert "On the annual clock" in client.get(f"/group-sessions/sessions/{session.pk}/").content.decode()


def test_follow_up_to_the_real_annual_clock(espoo, world):
    """Against annualclock.public.add_followup_activity itself (the annual clock issue implements it):
    the activity's page opens for the same user."""
    kuraattori = world["users"][Role.SCHOOL_SOCIAL_WORKER]
    with schema_context(espoo.schema_name):
        follow_up = FollowUpFactory(session=GroupSessionFactory(cohort_group=world["g7a"], status=SessionStatus.HELD))
    client = client_for(espoo, kuraattori)
    response = client.post(f"/group-sessions/sessions/{follow_up.session_id}/follow-ups/{follow_up.pk}/to-clock/")
    assert response.status_code == 302
    with schema_context(espoo.schema_name):
        follow_up.refresh_from_db()
    assert follow_up.clock_url, "annualclock.public.add_followup_activity did not add the activity"
    assert response["Location"] == follow_up.clock_url
    assert client.get(follow_up.clock_url).status_code == 200


def test_when_the_annual_clock_refuses_the_follow_up_stays(espoo, world, monkeypatch):
    from django.core.exceptions import PermissionDenied

    def refuse(**kwargs):
        raise PermissionDenied

    monkeypatch.setattr("annualclock.public.add_followup_activity", refuse)
    with schema_context(espoo.schema_name):
        follow_up = FollowUpFactory(session=GroupSessionFactory(cohort_group=world["g7a"]))
    client = client_for(espoo, world["users"][Role.SCHOOL_NURSE])
    response = client.post(f"/group-sessions/sessions/{follow_up.session_id}/follow-ups/{follow_up.pk}/to-clock/",
                           follow=True)
    assert "You may not add activities to this school" in response.content.decode()
    with schema_context(espoo.schema_name):
        follow_up.refresh_from_db()
        assert follow_up.clock_url == ""


def test_a_session_planned_by_mistake_is_removed_a_recorded_one_stays(espoo, world):
    from tests.groupsessions.factories import FeedbackResponseFactory

    with schema_context(espoo.schema_name):
        mistake = GroupSessionFactory(cohort_group=world["g7a"])
        answered = GroupSessionFactory(cohort_group=world["g7a"])
        FeedbackResponseFactory(session=answered)
        held = GroupSessionFactory(cohort_group=world["g7a"], status=SessionStatus.NOT_HELD, not_held_reason="moved")
    teacher = client_for(espoo, world["users"][Role.CLASS_TEACHER])
    assert teacher.post(f"/group-sessions/sessions/{mistake.pk}/delete/").status_code == 403
    client = client_for(espoo, world["users"][Role.SCHOOL_SOCIAL_WORKER])
    page = client.get(f"/group-sessions/sessions/{mistake.pk}/").content.decode()
    assert "Remove this planned session" in page
    assert "Remove this planned session" not in client.get(f"/group-sessions/sessions/{answered.pk}/").content.decode()
    assert client.get(f"/group-sessions/sessions/{mistake.pk}/delete/").status_code == 405
    response = client.post(f"/group-sessions/sessions/{mistake.pk}/delete/", follow=True)
    assert "The planned session was removed." in response.content.decode()
    for kept in (answered, held):
        response = client.post(f"/group-sessions/sessions/{kept.pk}/delete/", follow=True)
        assert "record it as not held instead" in response.content.decode()
    with schema_context(espoo.schema_name):
        assert set(GroupSession.objects.values_list("pk", flat=True)) == {answered.pk, held.pk}
        assert AuditEvent.objects.filter(action=AuditAction.DELETE, object_id=str(mistake.pk)).count() == 1
        assert not AuditEvent.objects.filter(action=AuditAction.DELETE, object_id=str(answered.pk)).exists()


def test_a_group_added_by_mistake_is_removed_register_groups_and_groups_with_sessions_stay(espoo, world):
    from groupsessions.models import CohortGroup
    from tests.groupsessions.factories import CohortGroupFactory

    with schema_context(espoo.schema_name):
        mistake = CohortGroupFactory(school=world["school"], school_year=world["year"], name="VALMA-typo")
        used = CohortGroupFactory(school=world["school"], school_year=world["year"], name="Valmistava")
        GroupSessionFactory(cohort_group=used)
    client = client_for(espoo, world["users"][Role.SCHOOL_SOCIAL_WORKER])
    page = client.get(f"/group-sessions/schools/{world['school'].pk}/?year={world['year'].pk}").content.decode()
    assert f"/group-sessions/groups/{mistake.pk}/remove/" in page
    assert f"/group-sessions/groups/{world['g7a'].pk}/remove/" not in page  # from the register
    other = client_for(espoo, world["other_kuraattori"])
    assert other.post(f"/group-sessions/groups/{mistake.pk}/remove/").status_code == 403  # another school's staff

    response = client.post(f"/group-sessions/groups/{mistake.pk}/remove/", follow=True)
    assert "VALMA-typo was removed from the groups to meet." in response.content.decode()
    refused = {
        used.pk: "The group has a session",
        world["g7a"].pk: "Groups from the student register cannot be removed.",
    }
    for pk, message in refused.items():
        assert message in client.post(f"/group-sessions/groups/{pk}/remove/", follow=True).content.decode()
    with schema_context(espoo.schema_name):
        assert not CohortGroup.objects.filter(pk=mistake.pk).exists()
        assert CohortGroup.objects.filter(pk__in=[used.pk, world["g7a"].pk]).count() == 2
        assert AuditEvent.objects.filter(action=AuditAction.DELETE, object_id=str(mistake.pk)).count() == 1
