"""The group sessions API: cohort groups, coverage, sessions (plan, record), feedback summaries —
permission-filtered, with warnings for double-bookings and suppression under five."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from rest_framework.authtoken.models import Token

from groupsessions.models import GroupSession, SessionStatus
from tests.conftest import host
from tests.groupsessions.factories import FeedbackResponseFactory, GroupSessionFactory, SessionStaffFactory, at
from welfare.models import Role

pytestmark = pytest.mark.django_db

BASE = "/api/v1/group-sessions"


def api(espoo, user):
    from rest_framework.test import APIClient

    client = APIClient(headers={"host": host(espoo)})
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def test_cohort_groups_by_role(espoo, world):
    users = world["users"]
    principal = api(espoo, users[Role.PRINCIPAL]).get(f"{BASE}/cohort-groups/")
    assert principal.status_code == 200
    assert sorted((g["school"], g["name"]) for g in principal.json()["results"]) == [
        (world["school"].pk, "7A"), (world["school"].pk, "7B")]
    coordinator = api(espoo, users[Role.MUNICIPAL_COORDINATOR]).get(f"{BASE}/cohort-groups/")
    assert len(coordinator.json()["results"]) == 3
    teacher = api(espoo, users[Role.CLASS_TEACHER]).get(f"{BASE}/cohort-groups/")
    assert teacher.json()["results"] == []
    assert api(espoo, users[Role.PRINCIPAL]).get(f"{BASE}/cohort-groups/?school=x").status_code == 400


def test_add_a_group_by_hand(espoo, world):
    client = api(espoo, world["users"][Role.SCHOOL_SOCIAL_WORKER])
    body = {"school": world["school"].pk, "school_year": world["year"].pk, "name": "Valmistava luokka"}
    created = client.post(f"{BASE}/cohort-groups/", body, format="json")
    assert created.status_code == 201 and created.json()["source"] == "manual"
    assert client.post(f"{BASE}/cohort-groups/", body, format="json").status_code == 400
    elsewhere = client.post(f"{BASE}/cohort-groups/", {**body, "school": world["other"].pk}, format="json")
    assert elsewhere.status_code == 403
    coordinator = api(espoo, world["users"][Role.MUNICIPAL_COORDINATOR])
    assert coordinator.post(f"{BASE}/cohort-groups/", {**body, "name": "X"}, format="json").status_code == 403


def test_coverage(espoo, world):
    with schema_context(espoo.schema_name):
        GroupSessionFactory(cohort_group=world["g7a"], status=SessionStatus.HELD, pupils_present=18,
                            pupils_enrolled=20, starts_at=at(world["year"].start_date.replace(month=9, day=10), 9))
    response = api(espoo, world["users"][Role.MUNICIPAL_COORDINATOR]).get(
        f"{BASE}/coverage/?school_year={world['year'].pk}")
    assert response.status_code == 200
    rows = {row["school_name"]: row for row in response.json()}
    assert (rows["Kaivomäen koulu"]["to_meet"], rows["Kaivomäen koulu"]["met"]) == (2, 1)
    assert rows["Kaivomäen koulu"]["deadline"] == "2026-10-31"
    assert rows["Kaivomäen koulu"]["pupils_met"] == "18" and rows["Lintuvaaran koulu"]["pupils_met"] == "0"
    principal = api(espoo, world["users"][Role.PRINCIPAL]).get(f"{BASE}/coverage/").json()
    assert [row["school_name"] for row in principal] == ["Kaivomäen koulu"]


def test_plan_record_and_feedback_through_the_api(espoo, world):
    kuraattori = world["users"][Role.SCHOOL_SOCIAL_WORKER]
    with schema_context(espoo.schema_name):
        other = GroupSessionFactory(cohort_group=world["g7b"], starts_at=at(world["year"].start_date.replace(
            month=9, day=15), 9, 30))
        SessionStaffFactory(session=other, user_id=kuraattori.pk, role=Role.SCHOOL_SOCIAL_WORKER)
    client = api(espoo, kuraattori)
    planned = client.post(f"{BASE}/sessions/", {
        "cohort_group": world["g7a"].pk, "starts_at": "2026-09-15T09:00:00+03:00",
        "ends_at": "2026-09-15T10:15:00+03:00", "place": "luokka 214",
        "staff": [{"user_id": kuraattori.pk, "role": Role.SCHOOL_SOCIAL_WORKER}]}, format="json")
    assert planned.status_code == 201, planned.json()
    session_id = planned.json()["id"]
    assert [w["session"] for w in planned.json()["warnings"]] == [other.pk]  # saved, with a warning
    assert "/group-sessions/feedback/" in planned.json()["feedback_url"]

    bad = client.post(f"{BASE}/sessions/{session_id}/record/", {"status": "held", "pupils_present": 30,
                                                                "pupils_enrolled": 20}, format="json")
    assert bad.status_code == 400 and "pupils_present" in bad.json()
    recorded = client.post(f"{BASE}/sessions/{session_id}/record/", {
        "status": "held", "pupils_present": 18, "pupils_enrolled": 20, "topics": ["introductions"]}, format="json")
    assert recorded.status_code == 200 and recorded.json()["status"] == "held"

    with schema_context(espoo.schema_name):
        session = GroupSession.objects.get(pk=session_id)
        for i in range(4):
            FeedbackResponseFactory(session=session, open_answer=f"vastaus {i}")
    few = client.get(f"{BASE}/sessions/{session_id}/feedback/").json()
    assert few == {"responses": "<5", "shown": False, "statements": [], "open_answers": []}
    with schema_context(espoo.schema_name):
        FeedbackResponseFactory(session=session, open_answer="vastaus 4", statement_4=None)
    five = client.get(f"{BASE}/sessions/{session_id}/feedback/").json()
    assert five["responses"] == "5" and five["shown"] and five["statements"][0]["mean"] == 4.0
    assert five["statements"][0]["answered"] == "5"
    assert (five["statements"][3]["answered"], five["statements"][3]["mean"]) == ("<5", None)  # four answered
    assert sorted(five["open_answers"]) == [f"vastaus {i}" for i in range(5)]


def test_sessions_only_where_the_user_records(espoo, world):
    with schema_context(espoo.schema_name):
        mine = GroupSessionFactory(cohort_group=world["g7a"])
        theirs = GroupSessionFactory(cohort_group=world["o7a"])
    nurse = api(espoo, world["users"][Role.SCHOOL_NURSE])
    assert [s["id"] for s in nurse.get(f"{BASE}/sessions/").json()["results"]] == [mine.pk]
    assert nurse.get(f"{BASE}/sessions/{theirs.pk}/").status_code == 404
    assert nurse.post(f"{BASE}/sessions/{theirs.pk}/record/", {"status": "not_held", "not_held_reason": "other"},
                      format="json").status_code == 404
    refused = nurse.post(f"{BASE}/sessions/", {"cohort_group": world["o7a"].pk, "starts_at": "2026-09-15T09:00:00Z",
                                               "ends_at": "2026-09-15T10:00:00Z"}, format="json")
    assert refused.status_code == 403
    teacher = api(espoo, world["users"][Role.CLASS_TEACHER])
    assert teacher.get(f"{BASE}/sessions/").json()["results"] == []


def test_staff_of_another_school_are_refused(espoo, world):
    client = api(espoo, world["users"][Role.SCHOOL_SOCIAL_WORKER])
    response = client.post(f"{BASE}/sessions/", {
        "cohort_group": world["g7a"].pk, "starts_at": "2026-09-15T09:00:00+03:00",
        "ends_at": "2026-09-15T10:00:00+03:00",
        "staff": [{"user_id": world["other_kuraattori"].pk, "role": Role.SCHOOL_SOCIAL_WORKER}]}, format="json")
    assert response.status_code == 400 and "staff" in response.json()
    with schema_context(espoo.schema_name):
        assert not GroupSession.objects.exists()


@pytest.mark.parametrize(("body", "expected"), [
    ({"cohort_group": 1, "starts_at": "0001-01-01T00:00:00Z", "ends_at": "0001-01-01T01:00:00Z"}, 400),
    ({"cohort_group": 1, "starts_at": "9999-12-31T23:00:00Z", "ends_at": "9999-12-31T23:59:00Z"}, 400),
    ({"cohort_group": 2**63 - 1, "starts_at": "2026-09-15T09:00:00Z", "ends_at": "2026-09-15T10:00:00Z"}, 403),
    ({"cohort_group": "x"}, 400),
])
def test_odd_input_is_a_4xx(espoo, world, body, expected):
    response = api(espoo, world["users"][Role.PRINCIPAL]).post(f"{BASE}/sessions/", body, format="json")
    assert response.status_code == expected
