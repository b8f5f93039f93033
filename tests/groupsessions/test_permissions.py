"""Who may open which page: every role × every page of the module, through the policy."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context

from groupsessions.models import GroupSessionSettings, SessionStatus
from tests.groupsessions.conftest import client_for
from tests.groupsessions.factories import GroupSessionFactory
from welfare.models import Role

pytestmark = pytest.mark.django_db

R = Role
ALL = set(Role)
WELFARE = {R.SCHOOL_SOCIAL_WORKER, R.PSYCHOLOGIST, R.SCHOOL_NURSE, R.SCHOOL_DOCTOR}
RECORDERS = {R.PRINCIPAL, R.GUIDANCE_COUNSELLOR, *WELFARE}
SCHOOL_COVERAGE = RECORDERS | {R.SPECIAL_NEEDS_TEACHER}  # the welfare group and the principal
COVERAGE = SCHOOL_COVERAGE | {R.MUNICIPAL_COORDINATOR, R.MUNICIPAL_ADMIN}
SESSION_READERS = ALL - {R.DATA_PROTECTION_OFFICER}  # VIEW_ANNUAL_CLOCK: the annual clock links here

# (page, roles that get 200; everyone else 403). {school}, {group}, {session} are filled in.
PAGES = [
    ("/group-sessions/", ALL),  # everyone with a role; those without coverage see a notice
    ("/group-sessions/schools/{school}/", COVERAGE),
    ("/group-sessions/groups/{group}/plan/", RECORDERS),
    ("/group-sessions/sessions/{session}/", SESSION_READERS),
    ("/group-sessions/sessions/{session}/edit/", RECORDERS),
    ("/group-sessions/sessions/{session}/record/", RECORDERS),
    ("/group-sessions/sessions/{session}/qr/", RECORDERS),
    ("/group-sessions/settings/", {R.MUNICIPAL_COORDINATOR}),
]


@pytest.fixture
def objects(espoo, world):
    with schema_context(espoo.schema_name):
        session = GroupSessionFactory(cohort_group=world["g7a"])
    return {"school": world["school"].pk, "group": world["g7a"].pk, "session": session.pk}


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_pages_by_role(espoo, world, objects, role):
    client = client_for(espoo, world["users"][role])
    got = {path: client.get(path.format(**objects)).status_code for path, _ in PAGES}
    expected = {path: 200 if role in roles else 403 for path, roles in PAGES}
    assert got == expected


@pytest.mark.parametrize("role", [R.PRINCIPAL, R.SCHOOL_SOCIAL_WORKER, R.SPECIAL_NEEDS_TEACHER], ids=str)
def test_school_staff_get_nothing_of_another_school(espoo, world, role):
    with schema_context(espoo.schema_name):
        session = GroupSessionFactory(cohort_group=world["o7a"], status=SessionStatus.HELD)
    client = client_for(espoo, world["users"][role])
    for path in (f"/group-sessions/schools/{world['other'].pk}/", f"/group-sessions/groups/{world['o7a'].pk}/plan/",
                 f"/group-sessions/sessions/{session.pk}/", f"/group-sessions/sessions/{session.pk}/record/"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/group-sessions/sessions/{session.pk}/record/",
                       {"status": "not_held", "not_held_reason": "other"}).status_code == 403
    assert "Lintuvaaran koulu" not in client.get("/group-sessions/").content.decode()


def test_coordinator_sees_the_municipality_with_suppressed_people_counts(espoo, world):
    with schema_context(espoo.schema_name):
        GroupSessionFactory(cohort_group=world["g7a"], status=SessionStatus.HELD, pupils_present=3, pupils_enrolled=4)
    body = client_for(espoo, world["users"][R.MUNICIPAL_COORDINATOR]).get("/group-sessions/").content.decode()
    assert "Coverage in the municipality" in body

    def people(label: str) -> list[str]:  # the last two cells: pupils met, feedback responses
        row = body[body.index(label):]
        return re.findall(r'<td class="num">([^<]*)</td>', row[:row.index("</tr>")])[-2:]

    assert people("Kaivomäen koulu</a>") == ["&lt;5", "0"] and people("Lintuvaaran koulu</a>") == ["0", "0"]
    assert people(">Total</th>") == ["×", "0"]  # 3 pupils in all would give the "<5" away


def test_class_teacher_sees_a_held_sessions_small_counts_suppressed(espoo, world):
    with schema_context(espoo.schema_name):
        session = GroupSessionFactory(cohort_group=world["g7a"], status=SessionStatus.HELD, pupils_present=3,
                                      pupils_enrolled=4)
    teacher = client_for(espoo, world["users"][R.CLASS_TEACHER]).get(f"/group-sessions/sessions/{session.pk}/")
    assert "Pupils present: &lt;5 of &lt;5" in teacher.content.decode()
    nurse = client_for(espoo, world["users"][R.SCHOOL_NURSE]).get(f"/group-sessions/sessions/{session.pk}/")
    assert "Pupils present: 3 of 4" in nurse.content.decode()


def test_settings_change_the_deadline(espoo, world):
    client = client_for(espoo, world["users"][R.MUNICIPAL_COORDINATOR])
    response = client.post("/group-sessions/settings/", {"deadline_month": "9", "deadline_day": "30",
                                                         "feedback_days": "7"})
    assert response.status_code == 302
    with schema_context(espoo.schema_name):
        assert GroupSessionSettings.current().feedback_days == 7
    school = client_for(espoo, world["users"][R.PRINCIPAL]).get(f"/group-sessions/schools/{world['school'].pk}/")
    assert "9/30/2026" in school.content.decode() or "30.9.2026" in school.content.decode()
