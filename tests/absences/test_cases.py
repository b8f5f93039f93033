"""Absence case work: worklists narrowed by the permission policy, the case page behind step-up MFA,
append-only entries and corrections, the "no reaction" flag, the chart, the principal's school view."""

from __future__ import annotations

import base64
import datetime
import secrets
import xml.etree.ElementTree as ET
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from allauth.mfa.models import Authenticator
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from absences import selectors_cases as selectors
from absences.charts import Threshold, cumulative_hours_svg
from absences.models import AbsenceCase, CaseEntry, Escalation
from absences.services import cases as services
from tests.absences.factories import (
    AbsenceCaseFactory,
    CaseEntryFactory,
    EscalationFactory,
    PolicyVersionFactory,
    absence_days,
    backdate,
    national_categories,
    step_of,
)
from tests.conftest import host
from tests.factories import (
    SchoolFactory,
    StaffRoleFactory,
    StudentFactory,
    TeachingGroupFactory,
    UserFactory,
    give_totp,
    sign_in,
)
from welfare.models import AuditAction, AuditEvent, Role

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


def client_for(municipality, user, *, mfa_age_seconds=60) -> Client:
    if not Authenticator.objects.filter(user=user).exists():
        give_totp(user, base64.b32encode(secrets.token_bytes(20)).decode())
    # English: the strings of these pages are new and not yet in the fi/sv catalogues.
    return sign_in(Client(headers={"host": host(municipality), "accept-language": "en"}), user,
                   mfa_age_seconds=mfa_age_seconds)


def events(schema: str, **filters) -> list[AuditEvent]:
    with schema_context(schema):
        return list(AuditEvent.objects.filter(**filters).order_by("id"))


def names(rows) -> list[str]:
    return [row.student.last_name for row in rows]


@pytest.fixture
def world(espoo):
    """Espoo, school A (groups 7A, 8A) and school B, the staircase policy (1: 30 h class teacher,
    notify principal; 2: 50 h class teacher, notify principal + kuraattori; 3: 70 h principal,
    notify kuraattori). Pupils (by last name):
    Aalto 7A step 1, overdue · Berg 7A step 2 · Cedergren 8A step 1 · Dahl 7A step 3 · Ek school B step 1."""
    with schema_context(espoo.schema_name):
        national_categories()
        school_a, school_b = SchoolFactory(name="Kaivomäen koulu"), SchoolFactory(name="Lintuvaaran koulu")
        g7a = TeachingGroupFactory(school=school_a, name="7A", grade=7)
        g8a = TeachingGroupFactory(school=school_a, name="8A", grade=8, school_year=g7a.school_year)
        gb = TeachingGroupFactory(school=school_b, name="7B", grade=7, school_year=g7a.school_year)
        version = PolicyVersionFactory()
        step1, step2, step3 = (step_of(version, level) for level in (1, 2, 3))
        pupils = {
            "aalto": StudentFactory(group=g7a, last_name="Aalto", first_name="Aino"),
            "berg": StudentFactory(group=g7a, last_name="Berg", first_name="Bea"),
            "cedergren": StudentFactory(group=g8a, last_name="Cedergren", first_name="Cai"),
            "dahl": StudentFactory(group=g7a, last_name="Dahl", first_name="Dani"),
            "ek": StudentFactory(group=gb, last_name="Ek", first_name="Eero"),
        }
        cases = {key: AbsenceCaseFactory(student=pupil) for key, pupil in pupils.items()}
        escalations = {
            "aalto": backdate(EscalationFactory(case=cases["aalto"], step=step1), 10),
            "berg": EscalationFactory(case=cases["berg"], step=step2),
            "cedergren": EscalationFactory(case=cases["cedergren"], step=step1),
            "dahl": EscalationFactory(case=cases["dahl"], step=step3),
            "ek": EscalationFactory(case=cases["ek"], step=step1),
        }
        users = {key: UserFactory(first_name=key.title(), last_name="Testi")
                 for key in ("teacher", "principal", "kuraattori", "coordinator", "counsellor")}
        StaffRoleFactory(user=users["teacher"], role=Role.CLASS_TEACHER, school=school_a, groups=[g7a])
        StaffRoleFactory(user=users["principal"], role=Role.PRINCIPAL, school=school_a)
        StaffRoleFactory(user=users["kuraattori"], role=Role.SCHOOL_SOCIAL_WORKER, school=school_a)
        StaffRoleFactory(user=users["coordinator"], role=Role.MUNICIPAL_COORDINATOR, school=None)
        StaffRoleFactory(user=users["counsellor"], role=Role.GUIDANCE_COUNSELLOR, school=school_a)
    return {"pupils": pupils, "cases": cases, "escalations": escalations, "version": version,
            "school_a": school_a, "school_b": school_b, **users}


# --- Worklists ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("user", "expected"), [
    ("teacher", ["Aalto", "Berg"]),  # own group, steps the class teacher owns (not Dahl: step 3 is the principal's)
    ("principal", ["Aalto", "Berg", "Cedergren", "Dahl"]),  # own school: notified of 1–2, owns 3; not school B
    ("kuraattori", ["Berg", "Dahl"]),  # served school, notified of steps 2 and 3
    ("counsellor", []),  # sees the school's pupils but no step is theirs
    ("coordinator", []),  # never names
])
def test_worklist_shows_what_the_role_may_see_and_act_on(espoo, world, user, expected):
    with schema_context(espoo.schema_name):
        assert names(selectors.worklist(world[user], timezone.localdate())) == expected
    response = client_for(espoo, world[user]).get("/absences/")
    assert response.status_code == 200
    shown = [row.student.last_name for row in response.context.get("rows") or []]
    assert shown == expected
    for key, pupil in world["pupils"].items():
        if key.title() not in expected:
            assert f"{pupil.last_name} {pupil.first_name}" not in response.content.decode()


def test_worklist_sorts_no_reaction_first_then_react_by_then_highest_step(espoo, world):
    with schema_context(espoo.schema_name):
        rows = selectors.worklist(world["principal"], timezone.localdate())
    # Aalto is overdue; Berg and Cedergren react by the same day (step 2 before step 1); Dahl has 10 days.
    assert names(rows) == ["Aalto", "Berg", "Cedergren", "Dahl"]
    assert [row.overdue for row in rows] == [True, False, False, False]
    assert [row.responsible for row in rows] == [False, False, False, True]


def test_worklist_shows_the_no_reaction_badge_in_words_and_audits_every_pupil(espoo, world):
    client = client_for(espoo, world["teacher"])
    response = client.get("/absences/")
    html = response.content.decode()
    assert html.count('class="badge badge-danger no-reaction">No reaction<') == 1
    reads = events(espoo.schema_name, action=AuditAction.READ, user_id=world["teacher"].pk)
    assert sorted(e.student_id for e in reads) == sorted([world["pupils"]["aalto"].pk, world["pupils"]["berg"].pk])
    assert {e.object_type for e in reads} == {"absences.absencecase"}
    assert {e.detail["view"] for e in reads} == {"absence_worklist"}


def test_coordinator_gets_a_notice_and_no_names(espoo, world):
    response = client_for(espoo, world["coordinator"]).get("/absences/")
    assert response.status_code == 200
    assert response.context["names_hidden"] is True
    assert "aggregates only" in response.content.decode()
    assert not events(espoo.schema_name, action=AuditAction.READ, user_id=world["coordinator"].pk)


def test_closed_cases_leave_the_worklist(espoo, world):
    with schema_context(espoo.schema_name):
        services.close_case(world["cases"]["berg"], user=world["teacher"], author_role=Role.CLASS_TEACHER,
                            close_reason=CaseEntry.CloseReason.RECOVERED, occurred_on=timezone.localdate())
        assert names(selectors.worklist(world["teacher"], timezone.localdate())) == ["Aalto"]


# --- The case page --------------------------------------------------------------------------------

def test_case_page_needs_a_recent_second_factor(espoo, world):
    case = world["cases"]["aalto"]
    client = client_for(espoo, world["teacher"], mfa_age_seconds=3600)
    response = client.get(f"/absences/cases/{case.pk}/")
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert location.path == "/accounts/2fa/reauthenticate/"
    assert parse_qs(location.query)["next"] == [f"/absences/cases/{case.pk}/"]
    assert not events(espoo.schema_name, action=AuditAction.READ, user_id=world["teacher"].pk)
    # Logging an action also asks for it, and saves nothing.
    response = client.post(f"/absences/cases/{case.pk}/actions/", {"log-kind": "meeting"})
    assert response.status_code == 302 and "/accounts/2fa/reauthenticate/" in response["Location"]
    with schema_context(espoo.schema_name):
        assert not CaseEntry.objects.filter(case=case).exists()


def test_case_page_shows_the_timeline_chart_and_writes_a_read(espoo, world):
    case = world["cases"]["aalto"]
    with schema_context(espoo.schema_name):
        absence_days(world["pupils"]["aalto"], datetime.date(2026, 9, 1), 6)
    response = client_for(espoo, world["teacher"]).get(f"/absences/cases/{case.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Aalto Aino" in html
    assert "Step 1 reached: Huoltajaan yhteys" in html
    assert "No reaction" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert "Do not write health or family details here: Yhdessä is not a client record." in html
    assert response.context["detail"].hours == Decimal("36")
    [read] = events(espoo.schema_name, action=AuditAction.READ, user_id=world["teacher"].pk)
    assert (read.object_type, read.object_id, read.student_id) == (
        "absences.absencecase", str(case.pk), world["pupils"]["aalto"].pk)


@pytest.mark.parametrize(("user", "pupil"), [
    ("teacher", "cedergren"),  # another group of the same school
    ("teacher", "ek"),  # another school
    ("principal", "ek"),
    ("kuraattori", "ek"),
    ("counsellor", "aalto"),  # may see absences but not open the case log
])
def test_case_page_is_404_and_denied_for_a_case_the_user_may_not_open(espoo, world, user, pupil):
    case = world["cases"][pupil]
    response = client_for(espoo, world[user]).get(f"/absences/cases/{case.pk}/")
    assert response.status_code == 404
    assert f'{world["pupils"][pupil].last_name} {world["pupils"][pupil].first_name}' not in response.content.decode()
    [denied] = events(espoo.schema_name, action=AuditAction.DENIED, user_id=world[user].pk)
    assert (denied.object_id, denied.student_id) == (str(case.pk), world["pupils"][pupil].pk)
    assert not events(espoo.schema_name, action=AuditAction.READ, user_id=world[user].pk)


def test_a_missing_case_is_404_like_a_forbidden_one(espoo, world):
    response = client_for(espoo, world["principal"]).get("/absences/cases/999999/")
    assert response.status_code == 404
    [denied] = events(espoo.schema_name, action=AuditAction.DENIED, user_id=world["principal"].pk)
    assert denied.student_id is None


def test_another_municipality_shows_nothing(espoo, vantaa, world):
    """Espoo's principal on Vantaa's host: no role there, so not even the worklist opens."""
    with schema_context(vantaa.schema_name):
        case = AbsenceCaseFactory(student=StudentFactory(last_name="Vanhanen"))
        EscalationFactory(case=case)
    client = client_for(vantaa, world["principal"])
    for path in ("/absences/", f"/absences/cases/{case.pk}/"):
        response = client.get(path)
        assert response.status_code in (403, 404)
        assert "Vanhanen" not in response.content.decode()


# --- Logging actions, append-only entries and corrections --------------------------------------------

def test_logging_a_guardian_contact_clears_the_no_reaction_flag(espoo, world):
    case, escalation = world["cases"]["aalto"], world["escalations"]["aalto"]
    today = timezone.localdate()
    with schema_context(espoo.schema_name):
        assert list(selectors.no_reaction(Escalation.objects.all(), today)) == [escalation]
    client = client_for(espoo, world["teacher"])
    response = client.post(f"/absences/cases/{case.pk}/actions/", {
        "log-kind": "guardian_contacted", "log-occurred_on": today.isoformat(), "log-contact_method": "phone",
        "log-note": ""})
    assert response.status_code == 302
    with schema_context(espoo.schema_name):
        entry = CaseEntry.objects.get(case=case)
        assert response["Location"] == f"/absences/cases/{case.pk}/#entry-{entry.pk}"
        assert (entry.kind, entry.contact_method, entry.author_role, entry.author_id) == (
            "guardian_contacted", "phone", Role.CLASS_TEACHER, world["teacher"].pk)
        assert entry.escalation_id == escalation.pk
        assert not selectors.no_reaction(Escalation.objects.all(), today).exists()
        rows = selectors.worklist(world["teacher"], today)
        assert names(rows) == ["Berg", "Aalto"]  # Aalto's step has its action: no longer urgent
        assert not rows[1].overdue and not rows[1].pending
    [created] = events(espoo.schema_name, action=AuditAction.CREATE)
    assert (created.object_type, created.object_id, created.student_id) == (
        "absences.caseentry", str(entry.pk), world["pupils"]["aalto"].pk)
    page = client.get(f"/absences/cases/{case.pk}/").content.decode()
    assert "no-reaction" not in page
    assert "Guardian contacted" in page and "Contact method: Phone" in page


def test_no_reaction_appears_only_after_the_days_to_react(espoo, world):
    escalation = world["escalations"]["berg"]  # reached today, 7 days to react
    with schema_context(espoo.schema_name):
        assert escalation not in selectors.no_reaction(Escalation.objects.all(), timezone.localdate())
        assert escalation not in selectors.no_reaction(Escalation.objects.all(), escalation.react_by)
        later = escalation.react_by + datetime.timedelta(days=1)
        assert escalation in selectors.no_reaction(Escalation.objects.all(), later)


def test_an_action_before_the_step_does_not_count_as_a_reaction(espoo, world):
    case = world["cases"]["aalto"]
    with schema_context(espoo.schema_name):
        services.log_action(case, user=world["teacher"], author_role=Role.CLASS_TEACHER, kind="meeting",
                            occurred_on=timezone.localdate())
        newer = backdate(EscalationFactory(case=case, step=step_of(world["version"], 2)), 0, react_within=-1)
        Escalation.objects.filter(pk=newer.pk).update(reached_at=timezone.now())
        flagged = set(selectors.no_reaction(Escalation.objects.filter(case=case), timezone.localdate()))
        assert flagged == {Escalation.objects.get(pk=newer.pk)}


def test_first_action_at_is_set_once(espoo, world):
    case, escalation = world["cases"]["aalto"], world["escalations"]["aalto"]
    with schema_context(espoo.schema_name):
        first = services.log_action(case, user=world["teacher"], author_role=Role.CLASS_TEACHER,
                                    kind="guardian_contacted", contact_method="email",
                                    occurred_on=timezone.localdate())
        services.log_action(case, user=world["teacher"], author_role=Role.CLASS_TEACHER, kind="meeting",
                            occurred_on=timezone.localdate())
        escalation.refresh_from_db()
        assert escalation.first_action_at == first.created_at


def test_kind_specific_fields_are_required_and_errors_tied_to_the_field(espoo, world):
    case = world["cases"]["aalto"]
    client = client_for(espoo, world["teacher"])
    response = client.post(f"/absences/cases/{case.pk}/actions/", {
        "log-kind": "referral", "log-occurred_on": timezone.localdate().isoformat()})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_log-referral_target_error"' in html
    assert 'aria-describedby="id_log-referral_target_error' in html or \
        'aria-describedby="id_log-referral_target_helptext id_log-referral_target_error"' in html
    future = timezone.localdate() + datetime.timedelta(days=2)
    response = client.post(f"/absences/cases/{case.pk}/actions/", {
        "log-kind": "meeting", "log-occurred_on": future.isoformat()})
    assert response.status_code == 400
    with schema_context(espoo.schema_name):
        assert not CaseEntry.objects.filter(case=case).exists()
        with pytest.raises(ValidationError):
            services.log_action(case, user=world["teacher"], author_role=Role.CLASS_TEACHER,
                                kind=CaseEntry.Kind.CORRECTION, occurred_on=timezone.localdate())


def test_entries_are_append_only(espoo, world):
    with schema_context(espoo.schema_name):
        entry = CaseEntryFactory(case=world["cases"]["aalto"])
        entry.note = "changed"
        with pytest.raises(DatabaseError), transaction.atomic():
            entry.save()
        with pytest.raises(DatabaseError), transaction.atomic():
            CaseEntry.objects.filter(pk=entry.pk).update(contact_method="email")
        with pytest.raises(DatabaseError), transaction.atomic():
            entry.delete()
        entry.refresh_from_db()
        assert (entry.note, entry.contact_method) == ("", "phone")


def test_a_correction_is_a_new_entry_and_the_original_stays_visible(espoo, world):
    case = world["cases"]["aalto"]
    today = timezone.localdate()
    with schema_context(espoo.schema_name):
        original = services.log_action(case, user=world["teacher"], author_role=Role.CLASS_TEACHER,
                                       kind="guardian_contacted", contact_method="phone", occurred_on=today)
    client = client_for(espoo, world["teacher"])
    yesterday = today - datetime.timedelta(days=1)
    prefix = f"correct-{original.pk}"
    url = f"/absences/cases/{case.pk}/entries/{original.pk}/correct/"
    # Why is required.
    response = client.post(url, {f"{prefix}-occurred_on": yesterday.isoformat(), f"{prefix}-contact_method": "email"})
    assert response.status_code == 400
    response = client.post(url, {f"{prefix}-occurred_on": yesterday.isoformat(), f"{prefix}-contact_method": "email",
                                 f"{prefix}-note": "Wilma-viesti, ei puhelu"})
    assert response.status_code == 302
    with schema_context(espoo.schema_name):
        correction = CaseEntry.objects.get(corrects=original)
        assert (correction.kind, correction.contact_method, correction.occurred_on) == (
            "correction", "email", yesterday)
        original.refresh_from_db()
        assert (original.contact_method, original.occurred_on) == ("phone", today)
        # The original cannot be corrected twice; the correction can.
        with pytest.raises(ValidationError):
            services.correct_entry(original, user=world["teacher"], author_role=Role.CLASS_TEACHER,
                                   occurred_on=today, note="x", contact_method="letter")
        services.correct_entry(correction, user=world["teacher"], author_role=Role.CLASS_TEACHER,
                               occurred_on=today, note="Kirje", contact_method="letter")
        # A correction is not a reaction of its own.
        assert CaseEntry.Kind.CORRECTION not in selectors.ACTION_KINDS
    html = client.get(f"/absences/cases/{case.pk}/").content.decode()
    assert html.count(">Corrected<") == 2
    assert f'href="#entry-{original.pk}"' in html and f'href="#entry-{correction.pk}"' in html
    assert "Contact method: Phone" in html and "Contact method: Email" in html
    [created] = events(espoo.schema_name, action=AuditAction.CREATE)  # the one made through the page
    assert created.detail["corrects"] == original.pk


def test_closing_the_case_records_the_reason_and_stops_new_actions(espoo, world):
    case = world["cases"]["berg"]
    client = client_for(espoo, world["teacher"])
    response = client.post(f"/absences/cases/{case.pk}/actions/", {
        "log-kind": "closed", "log-occurred_on": timezone.localdate().isoformat(), "log-close_reason": "moved"})
    assert response.status_code == 302
    with schema_context(espoo.schema_name):
        case.refresh_from_db()
        assert case.status == AbsenceCase.Status.CLOSED
        assert CaseEntry.objects.get(case=case).close_reason == "moved"
        with pytest.raises(ValidationError):
            services.log_action(case, user=world["teacher"], author_role=Role.CLASS_TEACHER, kind="meeting",
                                occurred_on=timezone.localdate())
    html = client.get(f"/absences/cases/{case.pk}/").content.decode()
    assert "Save the action" not in html
    assert "Reason for closing: Moved to another school" in html


# --- The chart -----------------------------------------------------------------------------------------

def test_chart_is_valid_svg_with_the_thresholds_and_a_text_alternative(espoo, world):
    with schema_context(espoo.schema_name):
        absence_days(world["pupils"]["aalto"], datetime.date(2026, 9, 1), 7, hours="5", step_days=2)
        series = selectors.cumulative_series(world["cases"]["aalto"], None)
    assert series[-1][2] == Decimal("35")
    thresholds = [Threshold(1, Decimal("30")), Threshold(2, Decimal("50")), Threshold(3, Decimal("70"))]
    svg = cumulative_hours_svg(series, thresholds, datetime.date(2026, 8, 12), datetime.date(2027, 5, 31),
                               title="Aalto <& steps>")
    root = ET.fromstring(str(svg))
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Aalto <& steps>"
    desc = root.find(f"{SVG}desc").text
    assert "35 hours" in desc and "Step 1 (30 h) reached on" in desc and "Step 2 (50 h) not reached" in desc
    lines = root.findall(f".//{SVG}line[@class='threshold']")
    assert [line.get("data-value") for line in lines] == ["30", "50", "70"]
    ys = [float(line.get("y1")) for line in lines]
    assert ys == sorted(ys, reverse=True)  # higher threshold, higher on the chart
    assert root.find(f".//{SVG}polyline").get("points")
    assert "style" not in str(svg)


def test_chart_without_data_says_so(espoo, world):
    svg = cumulative_hours_svg([], [], datetime.date(2026, 8, 12), datetime.date(2027, 5, 31), title="t")
    root = ET.fromstring(str(svg))
    assert "No counted absence hours" in root.find(f"{SVG}desc").text
    assert root.find(f".//{SVG}polyline") is None


# --- The principal's school view ---------------------------------------------------------------------

def test_school_view_counts_pupils_per_step_and_lists_no_reaction(espoo, world):
    client = client_for(espoo, world["principal"])
    response = client.get("/absences/school/")
    assert response.status_code == 200
    view = response.context["view"]
    assert [(group.level, names(group.rows)) for group in view.groups] == [
        (3, ["Dahl"]), (2, ["Berg"]), (1, ["Aalto", "Cedergren"])]
    assert [(row.student.last_name, escalation.level) for row, escalation in view.no_reaction] == [("Aalto", 1)]
    html = response.content.decode()
    assert "Ek" not in [row.student.last_name for row in view.rows]
    assert "Eero" not in html
    reads = events(espoo.schema_name, action=AuditAction.READ, user_id=world["principal"].pk)
    assert len(reads) == 4 and {e.detail["view"] for e in reads} == {"absence_school_view"}
    # The same school by id; another school is 404.
    by_id = client.get(f"/absences/schools/{world['school_a'].pk}/")
    assert by_id.status_code == 200 and by_id.context["view"].school == world["school_a"]
    assert client.get(f"/absences/schools/{world['school_b'].pk}/").status_code == 404


@pytest.mark.parametrize("user", ["teacher", "kuraattori", "coordinator"])
def test_school_view_is_the_principals(espoo, world, user):
    assert client_for(espoo, world[user]).get("/absences/school/").status_code == 403
