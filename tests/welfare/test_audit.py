"""The audit log: API reads are logged, the log browser answers "who has seen pupil X" and
"what did user Y see", its CSV export is complete and logged, and the log is append-only."""

from __future__ import annotations

import csv
import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_tenants.utils import schema_context

from tests.conftest import host
from tests.factories import SchoolFactory, StaffRoleFactory, StudentFactory, TeachingGroupFactory, UserFactory, sign_in
from welfare import audit
from welfare.models import AuditAction, AuditEvent, Role

pytestmark = pytest.mark.django_db


def client_for(municipality, user, **headers) -> Client:
    return sign_in(Client(headers={"host": host(municipality), **headers}), user, mfa_age_seconds=60)


def entries(schema: str, **filters) -> list[AuditEvent]:
    with schema_context(schema):
        return list(AuditEvent.objects.filter(**filters).order_by("id"))


@pytest.fixture
def world(espoo):
    """Espoo: one school, group 7A with 3 pupils (one named), 8A with 2; a principal, a class
    teacher of 7A, a municipal administrator, a data protection officer, a coordinator."""
    with schema_context(espoo.schema_name):
        school = SchoolFactory(name="Kaivomäen koulu")
        group_7a = TeachingGroupFactory(school=school, name="7A")
        group_8a = TeachingGroupFactory(school=school, name="8A", grade=8, school_year=group_7a.school_year)
        named = StudentFactory(group=group_7a, first_name="Ilmatar", last_name="Qvarnström", external_id="X-4242")
        pupils_7a = [named, *StudentFactory.create_batch(2, group=group_7a)]
        pupils_8a = StudentFactory.create_batch(2, group=group_8a)
        users = {
            "principal": UserFactory(email="rehtori@audit.test", first_name="Riikka", last_name="Rehtori"),
            "teacher": UserFactory(email="opettaja@audit.test", first_name="Olli", last_name="Opettaja"),
            "admin": UserFactory(email="paakayttaja@audit.test", first_name="Paula", last_name="Pääkäyttäjä"),
            "dpo": UserFactory(email="tietosuoja@audit.test", first_name="Tiina", last_name="Tietosuoja"),
            "coordinator": UserFactory(email="koordinaattori@audit.test", first_name="Kaisa", last_name="Koord"),
        }
        StaffRoleFactory(user=users["principal"], role=Role.PRINCIPAL, school=school)
        StaffRoleFactory(user=users["teacher"], role=Role.CLASS_TEACHER, school=school, groups=[group_7a])
        StaffRoleFactory(user=users["admin"], role=Role.MUNICIPAL_ADMIN, school=None)
        StaffRoleFactory(user=users["dpo"], role=Role.DATA_PROTECTION_OFFICER, school=None)
        StaffRoleFactory(user=users["coordinator"], role=Role.MUNICIPAL_COORDINATOR, school=None)
    return {"school": school, "named": named, "a7": pupils_7a, "a8": pupils_8a, **users}


# --- API --------------------------------------------------------------------------------

def test_api_list_logs_every_pupil_returned(espoo, world):
    client = Client(headers={"host": host(espoo), "x_request_id": "api-list-1"})
    client.force_login(world["principal"])
    response = client.get("/api/v1/students/")
    assert response.status_code == 200
    returned = {row["id"] for row in response.json()["results"]}
    assert returned == {p.pk for p in world["a7"] + world["a8"]}
    logged = entries(espoo.schema_name, action=AuditAction.READ)
    assert sorted(e.student_id for e in logged) == sorted(returned)
    assert {(e.user_id, e.request_id, e.object_type) for e in logged} == {
        (world["principal"].pk, "api-list-1", "welfare.student")}


def test_api_list_logs_only_the_page_returned(espoo, world, monkeypatch):
    from rest_framework.pagination import PageNumberPagination

    monkeypatch.setattr(PageNumberPagination, "page_size", 2)
    client = Client(headers={"host": host(espoo)})
    client.force_login(world["principal"])
    response = client.get("/api/v1/students/")
    returned = [row["id"] for row in response.json()["results"]]
    assert len(returned) == 2 and response.json()["count"] == 5
    assert sorted(e.student_id for e in entries(espoo.schema_name, action=AuditAction.READ)) == sorted(returned)


def test_api_retrieve_logs_the_one_pupil(espoo, world):
    client = Client(headers={"host": host(espoo)})
    client.force_login(world["teacher"])
    named = world["named"]
    assert client.get(f"/api/v1/students/{named.pk}/").status_code == 200
    assert [(e.student_id, e.object_id) for e in entries(espoo.schema_name, action=AuditAction.READ)] == [
        (named.pk, str(named.pk))]
    # Outside the teacher's group: 404, and nothing is logged as read.
    assert client.get(f"/api/v1/students/{world['a8'][0].pk}/").status_code == 404
    assert len(entries(espoo.schema_name, action=AuditAction.READ)) == 1


def test_api_empty_list_logs_nothing(espoo, world):
    client = Client(headers={"host": host(espoo)})
    client.force_login(world["coordinator"])
    assert client.get("/api/v1/students/").json()["results"] == []
    assert entries(espoo.schema_name, action=AuditAction.READ) == []


# --- The log browser ---------------------------------------------------------------------

@pytest.fixture
def history(espoo, world):
    """The principal opened the named pupil and another; the teacher listed 7A via the API."""
    principal = client_for(espoo, world["principal"], x_request_id="req-principal-1")
    assert principal.get(f"/pupils/{world['named'].pk}/").status_code == 200
    assert principal.get(f"/pupils/{world['a8'][0].pk}/").status_code == 200
    teacher = Client(headers={"host": host(espoo)})
    teacher.force_login(world["teacher"])
    assert teacher.get("/api/v1/students/").status_code == 200
    return world


def test_who_has_seen_pupil_x(espoo, history):
    named = history["named"]
    expected = entries(espoo.schema_name, student_id=named.pk)
    client = client_for(espoo, history["dpo"])
    response = client.get("/audit/", {"pupil": "x-4242"})
    assert response.status_code == 200
    rows = response.context["page"].rows
    assert len(expected) == 2  # the principal's record read and the teacher's API list
    assert [row.event.pk for row in rows] == [e.pk for e in reversed(expected)]
    assert {row.event.user_email for row in rows} == {"rehtori@audit.test", "opettaja@audit.test"}
    body = response.content.decode()
    assert "Qvarnström Ilmatar (X-4242)" in body
    assert "req-principal-1" in body
    assert "Rehtori (Kaivomäen koulu)" in body  # role and school resolved to names (Finnish UI)
    # By name too; now the DPO's own first look is among the entries (looking is logged).
    response = client.get("/audit/", {"pupil": "ilmatar qvarn"})
    shown = [row.event for row in response.context["page"].rows]
    assert [e.pk for e in shown[1:]] == [e.pk for e in reversed(expected)]
    assert (shown[0].user_id, shown[0].object_type) == (history["dpo"].pk, "welfare.auditevent")


def test_looking_up_a_pupil_in_the_log_is_itself_logged(espoo, history):
    named = history["named"]
    client_for(espoo, history["dpo"], x_request_id="dpo-look-1").get("/audit/", {"pupil": "X-4242"})
    [look] = entries(espoo.schema_name, user_id=history["dpo"].pk, action=AuditAction.READ)
    assert look.student_id == named.pk
    assert look.object_type == "welfare.auditevent"
    assert look.request_id == "dpo-look-1"
    assert look.detail["filter"]["pupil"] == "X-4242"


def test_the_pupil_lookup_resolves_pupils_without_n_plus_1(espoo, history, django_assert_max_num_queries):
    client = client_for(espoo, history["admin"])
    client.get("/audit/")  # warm up (session, settings rows)
    with django_assert_max_num_queries(20) as captured:
        response = client.get("/audit/")
    student_queries = [q for q in captured.captured_queries if 'FROM "welfare_student"' in q["sql"]]
    assert len(student_queries) == 1
    assert len(response.context["page"].rows) >= 7


def test_what_did_user_y_see(espoo, history):
    client = client_for(espoo, history["admin"])
    response = client.get("/audit/", {"user": "OPETTAJA@audit.test", "action": AuditAction.READ})
    rows = response.context["page"].rows
    assert {row.event.user_id for row in rows} == {history["teacher"].pk}
    assert sorted(row.event.student_id for row in rows) == sorted(p.pk for p in history["a7"])  # own group only
    body = response.content.decode()
    assert "Qvarnström Ilmatar (X-4242)" in body


def test_filters_by_action_object_type_and_date(espoo, history):
    client = client_for(espoo, history["admin"])
    assert client.get("/audit/", {"action": AuditAction.EXPORT}).context["page"].paginator.count == 0
    all_count = len(entries(espoo.schema_name))
    today = timezone.localdate()
    by_type = client.get("/audit/", {"object_type": "welfare.student"}).context["page"].paginator.count
    assert by_type == len(entries(espoo.schema_name, object_type="welfare.student"))
    in_range = client.get("/audit/", {"date_from": today.isoformat(), "date_to": today.isoformat()})
    assert in_range.context["page"].paginator.count >= all_count
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    assert client.get("/audit/", {"date_from": tomorrow}).context["page"].paginator.count == 0
    bad = client.get("/audit/", {"date_from": tomorrow, "date_to": today.isoformat()})
    assert bad.context["page"] is None and bad.context["form"].errors


def test_times_are_shown_in_helsinki_time(espoo, world):
    with schema_context(espoo.schema_name):
        event = AuditEvent.objects.create(action=AuditAction.READ, user_email="x@audit.test")
    local = event.occurred_at.astimezone(ZoneInfo("Europe/Helsinki")).strftime("%Y-%m-%d %H:%M:%S")
    utc = event.occurred_at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
    body = client_for(espoo, world["admin"]).get("/audit/", {"user": "x@audit.test"}).content.decode()
    assert local in body and utc not in body


def test_csv_export_contains_the_filtered_entries_and_is_logged(espoo, history):
    named = history["named"]
    client = client_for(espoo, history["dpo"], x_request_id="dpo-export-1")
    response = client.post("/audit/export.csv", {"pupil": "X-4242"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-espoo-')
    raw = b"".join(response.streaming_content).decode("utf-8")
    assert raw.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(raw[1:]), delimiter=";"))
    header, body = rows[0], rows[1:]
    with translation.override("fi"):  # Finnish UI, Finnish headers
        assert header[:2] == [gettext("Time"), gettext("User")] and len(header) == 11
    assert header[1] == "Käyttäjä"
    expected = entries(espoo.schema_name, student_id=named.pk, action=AuditAction.READ)
    assert len(body) == len(expected) == 2
    assert {row[1] for row in body} == {"rehtori@audit.test", "opettaja@audit.test"}
    assert {row[6] for row in body} == {"Qvarnström Ilmatar"}
    assert {row[7] for row in body} == {"X-4242"}
    assert "req-principal-1" in {row[9] for row in body}
    [export] = entries(espoo.schema_name, action=AuditAction.EXPORT)
    assert (export.user_id, export.student_id, export.request_id) == (history["dpo"].pk, named.pk, "dpo-export-1")
    assert export.detail["filter"]["pupil"] == "X-4242"
    assert export.detail["format"] == "csv"


def test_csv_cells_cannot_become_spreadsheet_formulas(espoo, world):
    with schema_context(espoo.schema_name):
        AuditEvent.objects.create(action=AuditAction.LOGIN_FAILED, user_email="=HYPERLINK(\"x\")@evil.test")
    response = client_for(espoo, world["admin"]).post("/audit/export.csv", {"action": AuditAction.LOGIN_FAILED})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode()[1:]), delimiter=";"))
    assert rows[1][1].startswith("'=")


@pytest.mark.parametrize("role", ["principal", "teacher", "coordinator"])
def test_audit_pages_are_refused_to_other_roles(espoo, history, role):
    client = client_for(espoo, history[role])
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/", {"pupil": "X-4242"}).status_code == 403
    response = client.post("/audit/export.csv", {"pupil": "X-4242"})
    assert response.status_code == 403
    assert b"X-4242" not in response.content
    assert entries(espoo.schema_name, action=AuditAction.EXPORT) == []


def test_export_needs_post(espoo, world):
    assert client_for(espoo, world["admin"]).get("/audit/export.csv").status_code == 405


def test_audit_log_of_one_municipality_is_not_shown_on_another_host(espoo, vantaa, history):
    with schema_context(vantaa.schema_name):
        vantaa_dpo = UserFactory(email="dpo@vantaa.test")
        StaffRoleFactory(user=vantaa_dpo, role=Role.DATA_PROTECTION_OFFICER, school=None)
    response = client_for(vantaa, vantaa_dpo).get("/audit/", {"pupil": "X-4242"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0
    assert "Qvarnström" not in response.content.decode()
    assert client_for(espoo, vantaa_dpo).get("/audit/").status_code == 403


# --- Append-only ---------------------------------------------------------------------------

@pytest.fixture
def event(espoo, world):
    with schema_context(espoo.schema_name):
        yield audit.record(None, AuditAction.READ, obj=world["named"], user=world["principal"])


def test_orm_update_is_refused(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(user_email="someone.else@audit.test")
    event.user_email = "someone.else@audit.test"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).user_email == "rehtori@audit.test"


def test_orm_delete_is_refused(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize("sql", [
    "UPDATE welfare_auditevent SET action = 'create' WHERE id = %s",
    "UPDATE welfare_auditevent SET student_id = NULL WHERE id = %s",
    "DELETE FROM welfare_auditevent WHERE id = %s",
])
def test_raw_sql_update_and_delete_are_refused(event, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.student_id) == (AuditAction.READ, event.student_id)


def test_appending_still_works(event):
    before = AuditEvent.objects.count()
    audit.record(None, AuditAction.READ, object_type="welfare.student", object_id="1")
    assert AuditEvent.objects.count() == before + 1


def test_audit_events_are_not_editable_in_the_admin_site():
    """The only admin site is the platform's (bare host, public schema); the audit log lives in
    the municipalities' schemas and is not registered there. If it ever is, it must be read-only."""
    if not admin.site.is_registered(AuditEvent):
        return
    model_admin = admin.site.get_model_admin(AuditEvent)
    assert not model_admin.has_change_permission(None)
    assert not model_admin.has_delete_permission(None)
    assert not model_admin.has_add_permission(None)


@pytest.mark.parametrize(("forwarded", "proxies", "expected"), [
    ("203.0.113.5", 1, "203.0.113.5"),  # what our proxy appended
    ("6.6.6.6, 203.0.113.5", 1, "203.0.113.5"),  # the client wrote 6.6.6.6 itself: ignored
    ("6.6.6.6, 203.0.113.5, 10.0.0.9", 2, "203.0.113.5"),  # two proxies of ours
    ("203.0.113.5", 2, "10.0.0.2"),  # did not pass both proxies: the connecting address
    ("not-an-address", 1, "10.0.0.2"),
    ("", 1, "10.0.0.2"),
])
def test_client_ip_is_the_address_our_proxy_saw(settings, rf, forwarded, proxies, expected):
    """The audit log and the rate limits take the address our outermost proxy appended to
    X-Forwarded-For; whatever a client writes into the header itself is ignored."""
    settings.AUDIT_TRUST_X_FORWARDED_FOR = True
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert audit.client_ip(request) == expected
    settings.AUDIT_TRUST_X_FORWARDED_FOR = False
    assert audit.client_ip(request) == "10.0.0.2"
