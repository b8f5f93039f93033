"""Data subject access (JSON and PDF export) and retention (nightly purge, rules page)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from tests.factories import GuardianFactory, StaffRoleFactory, StudentFactory, UserFactory, sign_in
from welfare import audit, registry, tasks
from welfare.models import (
    AuditAction,
    AuditEvent,
    CaseloadAssignment,
    ContactPreference,
    RetentionRule,
    RetentionRun,
    Role,
)
from welfare.pdf import PDFRenderingError, render_to_pdf
from welfare.registry import Section
from welfare.services import retention

pytestmark = pytest.mark.django_db

LOOKUP_URL = "/privacy/subject-access/"
RETENTION_URL = "/privacy/retention/"


def json_url(student) -> str:
    return f"/privacy/subject-access/{student.pk}/json/"


def pdf_url(student) -> str:
    return f"/privacy/subject-access/{student.pk}/pdf/"


def staff(client, role, school=None, groups=()):
    user = UserFactory(first_name="Päivi", last_name="Äijälä")
    StaffRoleFactory(user=user, role=role, school=school, groups=list(groups))
    sign_in(client, user)
    return user


@pytest.fixture
def pupil(in_espoo):
    student = StudentFactory(first_name="Äänä", last_name="Öhman-Lööf", external_id="P900001", home_language="sv")
    guardian = GuardianFactory(name="Örjan Öhman", language="sv", contact_preference=ContactPreference.SMS)
    guardian.students.add(student)
    return student


@pytest.fixture
def other_pupil(pupil):
    student = StudentFactory(first_name="Toinen", last_name="Oppilas", external_id="P900002", group=pupil.group)
    GuardianFactory(name="Vieras Huoltaja").students.add(student)
    audit.record(None, AuditAction.READ, obj=student, detail={"marker": "other"})
    return student


def sections(payload) -> dict:
    return {section["key"]: section for section in payload["sections"]}


# --- JSON export --------------------------------------------------------------------------------

def test_principal_exports_the_pupils_data_as_json(pupil, other_pupil, espoo_client):
    counsellor = UserFactory(first_name="Kaisa", last_name="Kuraattori")
    CaseloadAssignment.objects.create(user_id=counsellor.pk, student=pupil)
    reader = UserFactory(email="lukija@example.fi")
    audit.record(None, AuditAction.READ, obj=pupil, user=reader)
    principal = staff(espoo_client, Role.PRINCIPAL, school=pupil.school)

    response = espoo_client.get(json_url(pupil))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"] and "no-store" in response["Cache-Control"]
    payload = json.loads(response.content)
    assert payload["schema"] == "yhdessa.subject-access" and payload["schema_version"] == 1
    assert payload["generated_at"] and payload["student"]["register_id"] == "P900001"
    found = sections(payload)
    assert found["register"]["rows"] == [{
        "register_id": "P900001", "last_name": "Öhman-Lööf", "first_name": "Äänä", "school": pupil.school.name,
        "grade": pupil.grade, "group": pupil.group.name, "school_year": pupil.group.school_year.name,
        "home_language": "sv"}]
    assert [(g["name"], g["language"]) for g in found["guardians"]["rows"]] == [("Örjan Öhman", "sv")]
    assert found["caseload"]["rows"][0]["staff_id"] == counsellor.pk
    assert found["caseload"]["rows"][0]["staff_name"] == "Kaisa Kuraattori"
    trail = found["audit_trail"]["rows"]
    assert any(row["user_email"] == "lukija@example.fi" and row["user_id"] == reader.pk for row in trail)
    # Nothing about the other pupil of the same group.
    text = response.content.decode()
    for leak in ("P900002", "Toinen", "Vieras Huoltaja"):
        assert leak not in text
    assert other_pupil.pk not in {event.student_id for event in AuditEvent.objects.filter(
        user_email="lukija@example.fi")}
    # The export itself is audit-logged.
    export = AuditEvent.objects.filter(action=AuditAction.EXPORT, student_id=pupil.pk).get()
    assert (export.user_id, export.detail["format"]) == (principal.pk, "json")


def test_module_sections_come_through_the_registry(pupil, espoo_client):
    def absences_section(student):
        return Section(key="absences.cases", title="Poissaolot", columns=[("hours", "Tunnit")],
                       rows=[{"hours": 42, "student": student.external_id}])

    registry.register_subject_access_section(absences_section)
    try:
        staff(espoo_client, Role.DATA_PROTECTION_OFFICER)
        payload = json.loads(espoo_client.get(json_url(pupil)).content)
    finally:
        registry.subject_access_sections.remove(absences_section)
    assert sections(payload)["absences.cases"]["rows"] == [{"hours": 42, "student": "P900001"}]


# --- PDF export ---------------------------------------------------------------------------------

@pytest.fixture
def _fresh_catalogues():
    """Compile the .mo files if a .po is newer; Python's gettext caches catalogues by path, so
    forget those too or a catalogue compiled during this process would not be read."""
    import gettext

    from tests.browser.support import compile_messages_if_stale

    before = {path.stat().st_mtime for path in Path(settings.BASE_DIR, "locale").glob("*/LC_MESSAGES/django.mo")}
    compile_messages_if_stale()
    after = {path.stat().st_mtime for path in Path(settings.BASE_DIR, "locale").glob("*/LC_MESSAGES/django.mo")}
    if before != after:
        gettext._translations.clear()

def _pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "export.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) is not installed")
def test_pdf_export_is_a_finnish_pdf_with_embedded_fonts(pupil, espoo_client, tmp_path, _fresh_catalogues):
    principal = staff(espoo_client, Role.PRINCIPAL, school=pupil.school)

    response = espoo_client.get(pdf_url(pupil), headers={"accept-language": "fi"})

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = _pdf_text(response.content, tmp_path)
    assert "Äänä" in text and "Öhman-Lööf" in text and "Örjan Öhman" in text
    for heading in ("Rekisteritiedot", "Huoltajat"):
        assert heading in text
    assert "Register data" not in text
    if shutil.which("pdffonts"):
        fonts = subprocess.run(["pdffonts", str(tmp_path / "export.pdf")], capture_output=True, text=True,
                               check=True).stdout.splitlines()[2:]
        assert fonts, "no fonts in the PDF"
        assert all(line.split()[-5] == "yes" for line in fonts), fonts  # the "emb" column
        assert any("Noto" in line or "DejaVu" in line for line in fonts)
    event = AuditEvent.objects.get(action=AuditAction.EXPORT, student_id=pupil.pk)
    assert event.detail["format"] == "pdf" and event.user_id == principal.pk


@pytest.mark.skipif(not shutil.which("pdfinfo"), reason="poppler-utils (pdfinfo) is not installed")
def test_pdf_is_tagged_for_screen_readers(in_espoo, tmp_path):
    path = tmp_path / "tagged.pdf"
    path.write_bytes(render_to_pdf("welfare/pdf/base.html", {}))
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M), info


def test_pdf_errors_are_reported_clearly(in_espoo):
    with pytest.raises(PDFRenderingError, match="no-such-template"):
        render_to_pdf("welfare/pdf/no-such-template.html", {})


# --- Who may export -----------------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.CLASS_TEACHER, Role.MUNICIPAL_COORDINATOR, Role.SCHOOL_SOCIAL_WORKER,
                                  Role.MUNICIPAL_ADMIN])
def test_other_roles_cannot_export(pupil, espoo_client, role):
    school = None if role in (Role.MUNICIPAL_COORDINATOR, Role.MUNICIPAL_ADMIN) else pupil.school
    groups = [pupil.group] if role == Role.CLASS_TEACHER else []
    staff(espoo_client, role, school=school, groups=groups)
    for url in (LOOKUP_URL, json_url(pupil), pdf_url(pupil)):
        assert espoo_client.get(url).status_code in (403, 404), url
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_principal_of_another_school_gets_404(pupil, espoo_client):
    from tests.factories import SchoolFactory

    staff(espoo_client, Role.PRINCIPAL, school=SchoolFactory())
    assert espoo_client.get(json_url(pupil)).status_code == 404
    assert espoo_client.get(pdf_url(pupil)).status_code == 404
    page = espoo_client.post(LOOKUP_URL, {"register_id": pupil.external_id})
    assert page.status_code == 200 and pupil.last_name not in page.content.decode()


def test_vantaa_pupil_on_espoos_host_is_404(pupil, espoo, vantaa, espoo_client):
    with schema_context(vantaa.schema_name):
        vantaa_pupil = StudentFactory(id=987_654_321, external_id="V123", last_name="Vantaalainen")
    staff(espoo_client, Role.DATA_PROTECTION_OFFICER)
    assert espoo_client.get(json_url(vantaa_pupil)).status_code == 404
    page = espoo_client.post(LOOKUP_URL, {"register_id": "V123"})
    assert "Vantaalainen" not in page.content.decode()


def test_lookup_page_finds_the_pupil_and_logs_the_read(pupil, espoo_client):
    user = staff(espoo_client, Role.DATA_PROTECTION_OFFICER)
    assert espoo_client.get(LOOKUP_URL).status_code == 200
    html = espoo_client.post(LOOKUP_URL, {"register_id": " P900001 "}).content.decode()
    assert "Öhman-Lööf" in html and json_url(pupil) in html and pdf_url(pupil) in html
    assert AuditEvent.objects.filter(action=AuditAction.READ, student_id=pupil.pk, user_id=user.pk).exists()


def test_export_needs_a_recent_second_factor(pupil, espoo_client):
    user = UserFactory()
    StaffRoleFactory(user=user, role=Role.DATA_PROTECTION_OFFICER, school=None)
    sign_in(espoo_client, user, mfa_age_seconds=3600)
    response = espoo_client.get(json_url(pupil))
    assert response.status_code == 302 and "reauthenticate" in response["Location"]


# --- Retention ----------------------------------------------------------------------------------

def insert_audit_event(days_ago: float, *, object_id: str = "") -> None:
    """A backdated audit entry: occurred_at is auto_now_add and the trigger refuses UPDATE,
    so the row is inserted with raw SQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO welfare_auditevent (occurred_at, user_email, roles, action, object_type, object_id, "
            "request_id, path, detail) VALUES (%s, '', '', 'read', 'test', %s, '', '', '{}')",
            [timezone.now() - timedelta(days=days_ago), object_id],
        )


def ids() -> set[str]:
    return set(AuditEvent.objects.filter(object_type="test").values_list("object_id", flat=True))


def test_nightly_job_deletes_old_audit_events_and_keeps_recent_ones(in_espoo):
    insert_audit_event(1830, object_id="old")
    insert_audit_event(2500, object_id="older")
    insert_audit_event(1800, object_id="recent")

    result = tasks.nightly_for_municipality.delay().get()

    assert result == in_espoo.schema_name
    assert ids() == {"recent"}
    run = RetentionRun.objects.get()
    assert run.ok and run.finished_at and run.counts["audit_event"] == 2
    entry = AuditEvent.objects.get(object_type="retention")
    assert entry.action == AuditAction.DELETE and entry.detail["counts"]["audit_event"] == 2
    # A second run deletes nothing more (the retention entry itself is recent).
    second = tasks.apply_retention.delay().get()
    assert second["counts"]["audit_event"] == 0 and ids() == {"recent"}
    assert RetentionRun.objects.count() == 2


def test_the_trigger_still_refuses_deletes_after_a_run(in_espoo):
    from django.db import DatabaseError, transaction

    insert_audit_event(1, object_id="kept")
    tasks.apply_retention.delay().get()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(object_type="test").delete()


def test_municipal_rule_overrides_the_default(in_espoo, vantaa):
    RetentionRule.objects.create(record_type="audit_event", days=30)
    insert_audit_event(40, object_id="past-own-rule")
    insert_audit_event(10, object_id="recent")
    with schema_context(vantaa.schema_name):
        insert_audit_event(40, object_id="vantaa-keeps")

    result = tasks.apply_retention.delay().get()

    assert result["counts"] == {"audit_event": 1} and ids() == {"recent"}
    with schema_context(vantaa.schema_name):
        tasks.apply_retention.delay().get()
        assert ids() == {"vantaa-keeps"}  # Vantaa keeps the 5-year default


def test_a_held_lock_prevents_a_concurrent_run(in_espoo):
    insert_audit_event(3000, object_id="old")
    from welfare.locks import singleton_key

    key = singleton_key(retention.LOCK_NAME)
    assert in_espoo.schema_name in key
    assert cache.add(key, "another-run", timeout=60)
    try:
        result = tasks.apply_retention.delay().get()
    finally:
        cache.delete(key)
    assert result == {"schema": in_espoo.schema_name, "skipped": True}
    assert ids() == {"old"} and not RetentionRun.objects.exists()
    # Once released, the next run goes ahead and releases the lock afterwards.
    assert tasks.apply_retention.delay().get()["counts"]["audit_event"] == 1
    assert cache.get(key) is None


def test_a_failing_module_purge_is_recorded_and_the_rest_still_run(in_espoo):
    def broken(cutoff):
        raise RuntimeError("disk on fire")

    registry.register_retention_type(registry.RetentionRecordType(
        code="test_broken", label="Broken", default_days=30, purge=broken))
    insert_audit_event(3000, object_id="old")
    try:
        result = tasks.apply_retention.delay().get()
    finally:
        registry._retention_types.pop("test_broken")
    run = RetentionRun.objects.get()
    assert not result["ok"] and not run.ok and "disk on fire" in run.error
    assert run.counts == {"audit_event": 1}


# --- Retention page -----------------------------------------------------------------------------

@pytest.fixture
def _english():
    with translation.override("en"):
        yield


def test_rules_page_validates_days_and_logs_changes(in_espoo, espoo_client, _english):
    user = staff(espoo_client, Role.DATA_PROTECTION_OFFICER)
    page = espoo_client.get(RETENTION_URL, headers={"accept-language": "en"})
    assert page.status_code == 200 and "Audit log entries" in page.content.decode()

    too_short = espoo_client.post(RETENTION_URL, {"audit_event-days": "29", "audit_event-action": "delete"},
                                  headers={"accept-language": "en"})
    assert too_short.status_code == 200 and "greater than or equal to 30" in too_short.content.decode()
    not_supported = espoo_client.post(RETENTION_URL, {"audit_event-days": "400", "audit_event-action": "anonymise"})
    assert not_supported.status_code == 200
    assert not RetentionRule.objects.exists()

    saved = espoo_client.post(RETENTION_URL, {"audit_event-days": "3650", "audit_event-action": "delete"})
    assert saved.status_code == 302
    rule = RetentionRule.objects.get(record_type="audit_event")
    assert (rule.days, rule.action, rule.updated_by_id) == (3650, "delete", user.pk)
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, object_type="welfare.retentionrule")
    assert event.user_id == user.pk and event.detail["changes"] == {"days": [1826, 3650]}
    # Saving the same values again changes and logs nothing.
    espoo_client.post(RETENTION_URL, {"audit_event-days": "3650", "audit_event-action": "delete"})
    assert AuditEvent.objects.filter(object_type="welfare.retentionrule").count() == 1


def test_rules_page_shows_the_last_runs(in_espoo, espoo_client, _english):
    insert_audit_event(3000, object_id="old")
    tasks.apply_retention.delay().get()
    staff(espoo_client, Role.MUNICIPAL_ADMIN)
    html = espoo_client.get(RETENTION_URL, headers={"accept-language": "en"}).content.decode()
    assert "Latest runs" in html and "Audit log entries: 1" in html


@pytest.mark.parametrize("role", [Role.PRINCIPAL, Role.MUNICIPAL_COORDINATOR])
def test_rules_page_is_for_admins_and_the_dpo_only(in_espoo, espoo_client, role):
    from tests.factories import SchoolFactory

    staff(espoo_client, role, school=SchoolFactory() if role == Role.PRINCIPAL else None)
    assert espoo_client.get(RETENTION_URL).status_code == 403
    assert espoo_client.post(RETENTION_URL, {"audit_event-days": "40", "audit_event-action": "delete"}
                             ).status_code == 403
    assert not RetentionRule.objects.exists()
