"""The absence REST API: need-to-know filtering per role, municipality isolation, audit, step-up,
action logging through the case service, policies and notifications."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework.authtoken.models import Token

from absences.models import CaseEntry
from tests.absences.factories import (
    AbsenceCaseFactory,
    AbsenceRecordFactory,
    EscalationFactory,
    PolicyVersionFactory,
    category,
)
from tests.conftest import host
from tests.factories import SchoolFactory, StaffRoleFactory, StudentFactory, TeachingGroupFactory, UserFactory, sign_in
from welfare.models import AuditAction, AuditEvent, Notification, Role

pytestmark = pytest.mark.django_db


def client_for(municipality, user=None, *, token: bool = True, mfa_age_seconds: float | None = 0) -> Client:
    headers = {"host": host(municipality)}
    if user is not None and token:
        headers["authorization"] = f"Token {Token.objects.get_or_create(user=user)[0].key}"
    client = Client(headers=headers)
    if user is not None and not token:
        sign_in(client, user, mfa_age_seconds=mfa_age_seconds)
    return client


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def ids(items) -> set[int]:
    return {item["id"] for item in items}


def record_keys(items) -> set[tuple]:
    """Absence records are keyed by pupil, date and category."""
    return {(item["student"], item["date"], item["category"]) for item in items}


def key_of(record) -> tuple:
    return (record.student_id, record.date.isoformat(), record.category.code)


@pytest.fixture
def data(espoo):
    with schema_context(espoo.schema_name):
        school_a, school_b = SchoolFactory(), SchoolFactory()
        a7 = TeachingGroupFactory(school=school_a, grade=7)
        a8 = TeachingGroupFactory(school=school_a, grade=8, school_year=a7.school_year)
        b7 = TeachingGroupFactory(school=school_b, grade=7, school_year=a7.school_year)
        pupils = {name: StudentFactory(group=group) for name, group in (("a7", a7), ("a8", a8), ("b7", b7))}
        version = PolicyVersionFactory()
        cases, records = {}, {}
        for name, pupil in pupils.items():
            cases[name] = AbsenceCaseFactory(student=pupil)
            EscalationFactory(case=cases[name], policy_version=version)
            records[name] = AbsenceRecordFactory(student=pupil, category=category("unexplained"))
        users = {"principal": UserFactory(), "teacher": UserFactory(), "coordinator": UserFactory()}
        StaffRoleFactory(user=users["principal"], role=Role.PRINCIPAL, school=school_a)
        StaffRoleFactory(user=users["teacher"], role=Role.CLASS_TEACHER, school=school_a, groups=[a7])
        StaffRoleFactory(user=users["coordinator"], role=Role.MUNICIPAL_COORDINATOR, school=None)
    return {"pupils": pupils, "cases": cases, "records": records, "version": version, **users}


def audit_events(espoo, **filters):
    with schema_context(espoo.schema_name):
        return list(AuditEvent.objects.filter(**filters))


# --- Need to know ----------------------------------------------------------------------------------


ROLES_SEE = [("teacher", {"a7"}), ("principal", {"a7", "a8"}), ("coordinator", set())]


@pytest.mark.parametrize(("role", "visible"), ROLES_SEE)
def test_records_and_cases_are_filtered_by_role(espoo, data, role, visible):
    client = client_for(espoo, data[role])
    assert record_keys(rows(client.get("/api/v1/absences/records/"))) == {key_of(data["records"][n]) for n in visible}
    assert ids(rows(client.get("/api/v1/absences/cases/"))) == {data["cases"][n].pk for n in visible}


@pytest.mark.parametrize(("role", "opens"), ROLES_SEE)
def test_case_detail_only_within_need_to_know(espoo, data, role, opens):
    client = client_for(espoo, data[role])
    for name, case in data["cases"].items():
        response = client.get(f"/api/v1/absences/cases/{case.pk}/")
        assert response.status_code == (200 if name in opens else 404), (name, response.content)
        if name in opens:
            body = response.json()
            assert body["escalations"][0]["kind"] == "threshold"
            assert body["escalations"][0]["no_reaction"] is False


def test_record_filters_and_bad_values(espoo, data):
    client = client_for(espoo, data["principal"])
    pupil = data["pupils"]["a8"]
    assert record_keys(rows(client.get("/api/v1/absences/records/", {"student": pupil.pk}))) == {
        key_of(data["records"]["a8"])}
    assert rows(client.get("/api/v1/absences/records/", {"date_from": "2026-09-02"})) == []
    assert len(rows(client.get("/api/v1/absences/records/", {"date_to": "2026-09-01",
                                                             "category": "unexplained"}))) == 2
    for query, param in [("category=nosuch", "category"), ("date_from=yesterday", "date_from"),
                         ("student=-1", "student"), ("date_from=2026-09-02&date_to=2026-09-01", "date_to")]:
        response = client.get(f"/api/v1/absences/records/?{query}")
        assert response.status_code == 400 and param in response.json(), query


def test_another_municipalitys_case_id_is_404(espoo, vantaa, data):
    with schema_context(vantaa.schema_name):
        user = UserFactory()
        StaffRoleFactory(user=user, role=Role.PRINCIPAL, school=SchoolFactory())
    response = client_for(vantaa, user).get(f"/api/v1/absences/cases/{data['cases']['a7'].pk}/")
    assert response.status_code == 404


def test_vantaa_token_on_espoo_host_is_403(espoo, vantaa, data):
    with schema_context(vantaa.schema_name):
        user = UserFactory()
        StaffRoleFactory(user=user, role=Role.PRINCIPAL, school=SchoolFactory())
    client = client_for(espoo, user)
    for path in ["/api/v1/absences/records/", "/api/v1/absences/cases/", "/api/v1/absences/policies/",
                 f"/api/v1/absences/cases/{data['cases']['a7'].pk}/", "/api/v1/notifications/"]:
        assert client.get(path).status_code == 403, path
    assert client.post(f"/api/v1/absences/cases/{data['cases']['a7'].pk}/actions/", {}).status_code == 403


# --- Audit --------------------------------------------------------------------------------------------


def test_list_reads_are_audited_per_object(espoo, data):
    client = client_for(espoo, data["principal"])
    rows(client.get("/api/v1/absences/records/"))
    rows(client.get("/api/v1/absences/cases/"))
    reads = audit_events(espoo, action=AuditAction.READ, user_id=data["principal"].pk)
    expected = {data["pupils"]["a7"].pk, data["pupils"]["a8"].pk}
    assert {e.student_id for e in reads if e.object_type == "absences.absencerecord"} == expected
    record = data["records"]["a7"]  # a composite key, readable in the audit log
    assert f"{record.student_id}/{record.date.isoformat()}/{record.category_id}" in {
        e.object_id for e in reads if e.object_type == "absences.absencerecord"}
    assert {e.student_id for e in reads if e.object_type == "absences.absencecase"} == expected


def test_case_detail_is_audited(espoo, data):
    case = data["cases"]["a7"]
    assert client_for(espoo, data["teacher"]).get(f"/api/v1/absences/cases/{case.pk}/").status_code == 200
    [event] = audit_events(espoo, action=AuditAction.READ, object_type="absences.absencecase")
    assert event.student_id == case.student_id and event.object_id == str(case.pk)


# --- Step-up (session only) -----------------------------------------------------------------------------


def test_session_case_detail_needs_a_recent_second_factor(espoo, data):
    path = f"/api/v1/absences/cases/{data['cases']['a7'].pk}/"
    stale = client_for(espoo, data["teacher"], token=False, mfa_age_seconds=24 * 3600)
    response = stale.get(path)
    assert response.status_code == 403 and response.json()["detail"] == "step-up required"
    assert stale.post(f"{path}actions/", {}).status_code == 403
    none = client_for(espoo, data["teacher"], token=False, mfa_age_seconds=None)
    assert none.get(path).status_code == 403
    fresh = client_for(espoo, data["teacher"], token=False, mfa_age_seconds=0)
    assert fresh.get(path).status_code == 200
    # Lists do not ask for the second factor.
    assert stale.get("/api/v1/absences/cases/").status_code == 200


# --- Actions ------------------------------------------------------------------------------------------


def test_logging_an_action_creates_an_entry_and_audits_it(espoo, data):
    case = data["cases"]["a7"]
    today = timezone.localdate().isoformat()
    response = client_for(espoo, data["teacher"]).post(
        f"/api/v1/absences/cases/{case.pk}/actions/",
        {"kind": "guardian_contacted", "occurred_on": today, "contact_method": "phone", "referral_target": "kuraattori",
         "note": "Soitettu."}, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "guardian_contacted" and body["contact_method"] == "phone"
    assert body["referral_target"] == ""  # minimum data: only the kind's own field
    assert body["author_role"] == Role.CLASS_TEACHER
    with schema_context(espoo.schema_name):
        entry = CaseEntry.objects.get(pk=body["id"])
        assert entry.case_id == case.pk and entry.author_id == data["teacher"].pk
    [event] = audit_events(espoo, action=AuditAction.CREATE, object_type="absences.caseentry")
    assert event.object_id == str(entry.pk) and event.student_id == case.student_id
    detail = client_for(espoo, data["teacher"]).get(f"/api/v1/absences/cases/{case.pk}/").json()
    assert [e["id"] for e in detail["entries"]] == [entry.pk]


@pytest.mark.parametrize(("payload", "field"), [
    ({"kind": "guardian_contacted", "occurred_on": "2026-09-01"}, "contact_method"),
    ({"kind": "step_reached", "occurred_on": "2026-09-01"}, "kind"),
    ({"kind": "meeting", "occurred_on": "2999-01-01"}, "occurred_on"),
    ({"kind": "meeting"}, "occurred_on"),
    ({"kind": "referral", "occurred_on": "2026-09-01", "referral_target": "nowhere"}, "referral_target"),
])
def test_invalid_action_is_a_400_naming_the_field(espoo, data, payload, field):
    case = data["cases"]["a7"]
    response = client_for(espoo, data["teacher"]).post(f"/api/v1/absences/cases/{case.pk}/actions/", payload,
                                                       content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    with schema_context(espoo.schema_name):
        assert not CaseEntry.objects.filter(case=case).exists()


def test_action_on_closed_case_is_a_400(espoo, data):
    case = data["cases"]["a8"]
    client = client_for(espoo, data["principal"])
    path = f"/api/v1/absences/cases/{case.pk}/actions/"
    today = timezone.localdate().isoformat()
    closed = client.post(path, {"kind": "closed", "occurred_on": today, "close_reason": "recovered"},
                         content_type="application/json")
    assert closed.status_code == 201
    again = client.post(path, {"kind": "meeting", "occurred_on": today}, content_type="application/json")
    assert again.status_code == 400 and "non_field_errors" in again.json()


def test_action_outside_need_to_know_is_404(espoo, data):
    for user, name in [(data["teacher"], "a8"), (data["coordinator"], "a7"), (data["principal"], "b7")]:
        response = client_for(espoo, user).post(
            f"/api/v1/absences/cases/{data['cases'][name].pk}/actions/",
            {"kind": "meeting", "occurred_on": "2026-09-01"}, content_type="application/json")
        assert response.status_code == 404, name


# --- Policies -----------------------------------------------------------------------------------------


def test_policies_admin_sees_all_versions_readers_the_current_one(espoo, data):
    with schema_context(espoo.schema_name):
        admin = UserFactory()
        StaffRoleFactory(user=admin, role=Role.MUNICIPAL_ADMIN, school=None)
        policy = data["version"].policy
        draft = PolicyVersionFactory(policy=policy, number=2, published_at=None)
    admin_rows = rows(client_for(espoo, admin).get("/api/v1/absences/policies/"))
    [admin_policy] = [row for row in admin_rows if row["id"] == policy.pk]
    assert {v["id"] for v in admin_policy["versions"]} == {data["version"].pk, draft.pk}
    [reader_policy] = rows(client_for(espoo, data["teacher"]).get("/api/v1/absences/policies/"))
    assert [v["id"] for v in reader_policy["versions"]] == [data["version"].pk]
    steps = reader_policy["versions"][0]["bands"][0]["steps"]
    assert [s["level"] for s in steps] == [1, 2, 3, 4] and steps[0]["notified_roles"] == [Role.PRINCIPAL]
    assert client_for(espoo, data["coordinator"]).get("/api/v1/absences/policies/").status_code == 403


# --- Notifications ------------------------------------------------------------------------------------


def test_notifications_only_own_and_mark_read(espoo, data):
    teacher, principal = data["teacher"], data["principal"]
    with schema_context(espoo.schema_name):
        mine = [Notification.objects.create(recipient_id=teacher.pk, kind="escalation", title=f"Porras {i}",
                                            dedupe_key=f"t:{i}") for i in range(2)]
        theirs = Notification.objects.create(recipient_id=principal.pk, kind="escalation", title="Rehtorille",
                                             dedupe_key="p:1")
    client = client_for(espoo, teacher)
    assert ids(rows(client.get("/api/v1/notifications/"))) == {n.pk for n in mine}
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    response = client.post(f"/api/v1/notifications/{mine[0].pk}/read/")
    assert response.status_code == 200 and response.json()["read_at"]
    assert ids(rows(client.get("/api/v1/notifications/", {"unread": "true"}))) == {mine[1].pk}
    assert ids(rows(client.get("/api/v1/notifications/", {"unread": "false"}))) == {mine[0].pk}
    assert client.get("/api/v1/notifications/", {"unread": "maybe"}).status_code == 400
    with schema_context(espoo.schema_name):
        theirs.refresh_from_db()
        assert theirs.read_at is None


