"""The coordinator's and the principal's dashboards: suppressed figures, no names, own schools
only, exports, and a query count that does not grow with the number of schools."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from absences.models import AbsenceRecord
from absences.services import rollups
from absences.services.evaluation import evaluate_students
from tests.absences.factories import category
from tests.absences.test_evaluation import TODAY, make_calendar, policy
from tests.factories import (
    SchoolFactory,
    StaffRoleFactory,
    StudentFactory,
    TeachingGroupFactory,
    UserFactory,
    give_totp,
    sign_in,
)
from tests.pdftools import pdf_info, pdf_text
from welfare.models import Role

pytestmark = pytest.mark.django_db


def absent(pupil, hours: int) -> None:
    day, left = date(2026, 9, 1), hours
    while left > 0:
        if day.weekday() < 5:
            AbsenceRecord.objects.create(student=pupil, date=day, category=category("health"),
                                         hours=Decimal(min(6, left)))
            left -= 6
        day += timedelta(days=1)


@pytest.fixture
def town(in_espoo):
    """Two schools: Aalto (3 pupils past 30 h of 20) and Bergö (8 past 30 h of 20)."""
    year = make_calendar()
    policy("lape")
    schools = {}
    for name, past in (("Aallon koulu", 3), ("Bergö skola", 8)):
        school = SchoolFactory(name=name)
        group = TeachingGroupFactory(school=school, school_year=year, grade=8)
        pupils = [StudentFactory(school=school, group=group, grade=8, first_name="Salainen", last_name=f"Nimi{n}")
                  for n in range(20)]
        for pupil in pupils[:past]:
            absent(pupil, 36)
        schools[name] = school
    evaluate_students(today=TODAY)
    rollups.refresh_all()
    return schools


def staff(espoo_client, role, school=None):
    user = UserFactory()
    StaffRoleFactory(user=user, role=role, school=school)
    if role != Role.MUNICIPAL_COORDINATOR:
        give_totp(user)
    return sign_in(espoo_client, user)


def panel(html: str, key: str) -> str:
    start = html.index(f'id="{key}"')
    return html[start:html.index("</section>", start)]


def row(html: str, label: str) -> str:
    start = html.index(f'<th scope="row">{label}')
    return html[start:html.index("</tr>", start)]


def test_coordinator_sees_suppressed_counts_and_no_names(town, espoo_client):
    client = staff(espoo_client, Role.MUNICIPAL_COORDINATOR)
    html = client.get("/dashboard/", {"school_year": ""}, headers={"accept-language": "en"}).content.decode()
    steps = panel(html, "absences-steps-by-school")
    assert "Aallon koulu" in steps and "Bergö skola" in steps
    aalto_row = row(steps, "Aallon koulu")
    assert "&lt;5" in aalto_row and ">3<" not in aalto_row and "3 (" not in aalto_row
    # The column total would give Aalto's 3 away (11 − 8): Bergö's 8 is hidden too.
    bergo_row = row(steps, "Bergö skola")
    assert "8 (" not in bergo_row
    # nor does the chart beside the table: no share of a hidden count (Bergö 8/20, Aalto 3/20)
    chart = steps[steps.index("<svg"):steps.index("</svg>")]
    assert "40" not in chart and "15" not in chart
    assert "Salainen" not in html and "Nimi1" not in html


def test_principal_sees_only_their_school(town, espoo_client):
    client = staff(espoo_client, Role.PRINCIPAL, town["Bergö skola"])
    html = client.get("/dashboard/", {"school_year": ""}, headers={"accept-language": "en"}).content.decode()
    assert "Bergö skola" in html and "Aallon koulu" not in html
    assert "8 (40,0 %)" in panel(html, "absences-steps-by-school") or "8 (40.0 %)" in panel(
        html, "absences-steps-by-school")


def test_teacher_gets_the_explanation_and_no_figures(town, espoo_client):
    client = staff(espoo_client, Role.CLASS_TEACHER, town["Aallon koulu"])
    response = client.get("/dashboard/", headers={"accept-language": "en"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "for principals, municipal coordinators" in html and "absences-steps-by-school" not in html
    assert client.get("/dashboard/export/absences-steps-by-school.csv").status_code == 403


def test_vantaa_coordinator_sees_none_of_espoos_schools(town, vantaa, vantaa_client):
    from django_tenants.utils import schema_context

    with schema_context(vantaa.schema_name):
        client = staff(vantaa_client, Role.MUNICIPAL_COORDINATOR)
        html = client.get("/dashboard/", headers={"accept-language": "en"}).content.decode()
    assert "Aallon koulu" not in html and "Bergö skola" not in html


def test_exports_carry_the_suppressed_table(town, espoo_client):
    client = staff(espoo_client, Role.MUNICIPAL_COORDINATOR)
    response = client.get("/dashboard/export/absences-steps-by-school.csv", headers={"accept-language": "en"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "School" and rows[-1][0] == "Total"
    aalto = next(row for row in rows if row[0] == "Aallon koulu")
    assert aalto[1] == "<5" and "3" not in aalto[1:]
    workbook = load_workbook(io.BytesIO(client.get("/dashboard/export/absences-steps-by-school.xlsx").content))
    values = [[cell.value for cell in row] for row in workbook.active.iter_rows()]
    assert any(row[0] == "Aallon koulu" and row[1] == "<5" for row in values)
    assert client.get("/dashboard/export/no-such-panel.csv").status_code == 404


def test_query_count_does_not_grow_with_schools(town, espoo_client):
    client = staff(espoo_client, Role.MUNICIPAL_COORDINATOR)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/dashboard/").status_code == 200
        return len(captured)

    client.get("/dashboard/")  # the session's once-a-minute save happens here, not in the counts
    before = queries()
    year = town["Aallon koulu"].groups.first().school_year
    for n in range(6):
        school = SchoolFactory(name=f"Lisäkoulu {n}")
        group = TeachingGroupFactory(school=school, school_year=year, grade=7)
        for pupil in [StudentFactory(school=school, group=group, grade=7) for _ in range(6)]:
            absent(pupil, 40)
    evaluate_students(today=TODAY)
    rollups.refresh_all()
    assert queries() == before


# --- Reports (PDF) --------------------------------------------------------------------------


def make_report(client, django_capture_on_commit_callbacks, **data):
    from welfare.models import GeneratedDocument, SchoolYear

    data.setdefault("school_year", SchoolYear.objects.get().pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/dashboard/reports/", data, headers={"accept-language": "en"})
    assert response.status_code == 302
    document = GeneratedDocument.objects.order_by("-pk").first()
    return response, document


def test_principal_makes_the_schools_annual_report_in_swedish(town, espoo_client, django_capture_on_commit_callbacks):
    client = staff(espoo_client, Role.PRINCIPAL, town["Bergö skola"])
    response, document = make_report(client, django_capture_on_commit_callbacks, report="school",
                                     school=town["Bergö skola"].pk, report_language="sv")
    assert response["Location"] == f"/documents/{document.pk}/" and document.status == "done"
    download = client.get(f"/documents/{document.pk}/download/")
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    text = pdf_text(download.content)
    assert "Bergö skola" in text and "Aallon koulu" not in text
    assert "Stegöverskridanden och reaktioner per steg" in text  # the panels, in Swedish
    assert "Salainen" not in text


def test_principal_cannot_report_on_another_school_or_the_municipality(town, espoo_client,
                                                                       django_capture_on_commit_callbacks):
    from welfare.models import GeneratedDocument

    client = staff(espoo_client, Role.PRINCIPAL, town["Bergö skola"])
    make_report(client, django_capture_on_commit_callbacks, report="school", school=town["Aallon koulu"].pk,
                report_language="fi")
    make_report(client, django_capture_on_commit_callbacks, report="municipal", report_language="fi")
    assert not GeneratedDocument.objects.exists()


def test_coordinator_makes_the_municipal_summary_with_suppressed_figures(town, espoo_client,
                                                                          django_capture_on_commit_callbacks):
    client = staff(espoo_client, Role.MUNICIPAL_COORDINATOR)
    _response, document = make_report(client, django_capture_on_commit_callbacks, report="municipal",
                                      report_language="fi")
    assert document.status == "done" and document.kind == "welfare.municipal_report"
    text = pdf_text(client.get(f"/documents/{document.pk}/download/").content)
    assert "Aallon koulu" in text and "Bergö skola" in text
    assert "Portaan ylitykset ja reagointi portaittain" in text and "<5" in text
    # a tagged PDF (the PDF/UA variant): screen readers get its structure
    info = pdf_info(document.content)
    assert re.search(r"^Tagged:\s+yes$", info, re.M), info


def test_cached_panels_follow_the_rollups(town, espoo_client, settings):
    """With the panel cache on, a second request reads the panels from the cache (fewer
    queries), and a rollup rebuild makes the next request show the new figures."""
    from welfare.dashboard import rollups_changed

    settings.DASHBOARD_CACHE = True
    rollups_changed()  # a fresh version: nothing from another run can match
    client = staff(espoo_client, Role.MUNICIPAL_COORDINATOR)

    def get() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            html = client.get("/dashboard/", headers={"accept-language": "en"}).content.decode()
        return len(captured), html

    client.get("/dashboard/", headers={"accept-language": "fi"})  # the session's save, and a cached fi page
    first, _html = get()
    second, html = get()
    assert second < first
    assert "Lisäkoulu" not in html
    year = town["Aallon koulu"].groups.first().school_year
    school = SchoolFactory(name="Lisäkoulu X")
    group = TeachingGroupFactory(school=school, school_year=year, grade=7)
    for pupil in [StudentFactory(school=school, group=group, grade=7) for _ in range(6)]:
        absent(pupil, 40)
    evaluate_students(today=TODAY)
    with CaptureQueriesContext(connection):
        rollups.refresh_all()
    rollups_changed()  # what refresh_all's on-commit hook does outside a test transaction
    _count, html = get()
    assert "Lisäkoulu X" in panel(html, "absences-steps-by-school")


def test_reaction_rate_is_hidden_where_it_would_reveal_a_small_count(town, espoo_client):
    """11 pupils past step 1, 3 with an action in time: "<5", so the rate (27 %) is not shown
    either (3 = 27 % × 11)."""
    from absences.models import AbsenceCase
    from absences.services.cases import log_action

    actor = UserFactory()
    for case in AbsenceCase.objects.order_by("pk")[:3]:
        log_action(case, user=actor, author_role=Role.CLASS_TEACHER, kind="guardian_contacted",
                   occurred_on=TODAY, contact_method="phone")
    rollups.refresh_all()
    client = staff(espoo_client, Role.MUNICIPAL_COORDINATOR)
    html = client.get("/dashboard/", {"school_year": ""}, headers={"accept-language": "en"}).content.decode()
    counts = row(panel(html, "absences-escalations"), "Step 1")
    assert ">11<" in counts and ">×<" in counts and ">3<" not in counts
    rate = row(panel(html, "absences-reaction"), "Step 1")
    assert "27" not in rate and "×" in rate


@pytest.mark.parametrize(("with_action", "shown"), [(8, False), (6, True), (11, True)])
def test_escalations_with_an_action_never_give_the_rest_away(town, espoo_client, with_action, shown):
    """11 pupils past step 1: 8 with an action in time would tell that 3 had none (a "<5"); 6 and
    11 are shown (the rest, 5 and 0, are publishable). No totals row is published."""
    from absences.models import AbsenceCase
    from absences.services.cases import log_action

    actor = UserFactory()
    for case in AbsenceCase.objects.order_by("pk")[:with_action]:
        log_action(case, user=actor, author_role=Role.CLASS_TEACHER, kind="guardian_contacted",
                   occurred_on=TODAY, contact_method="phone")
    rollups.refresh_all()
    client = staff(espoo_client, Role.MUNICIPAL_COORDINATOR)
    html = client.get("/dashboard/", {"school_year": ""}, headers={"accept-language": "en"}).content.decode()
    table = panel(html, "absences-escalations")
    counts = row(table, "Step 1")
    assert ">11<" in counts
    assert (f">{with_action}<" in counts) is shown and (">×<" in counts) is not shown
    assert ">Total<" not in table


def test_exports_never_carry_a_formula(town, espoo_client):
    """A school named like a spreadsheet formula is exported as text, in CSV and in XLSX."""
    School = type(town["Aallon koulu"])
    School.objects.filter(pk=town["Aallon koulu"].pk).update(name="=HYPERLINK(\"http://x\")")
    client = staff(espoo_client, Role.MUNICIPAL_COORDINATOR)
    content = client.get("/dashboard/export/absences-steps-by-school.csv").content
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert ["'=HYPERLINK(\"http://x\")"] == [row[0] for row in rows if "HYPERLINK" in row[0]]
    workbook = load_workbook(io.BytesIO(client.get("/dashboard/export/absences-steps-by-school.xlsx").content))
    names = [row[0].value for row in workbook.active.iter_rows() if row[0].value and "HYPERLINK" in str(row[0].value)]
    assert names == ["'=HYPERLINK(\"http://x\")"]


def test_the_municipal_admin_sees_the_dashboard_but_exports_nothing(town, espoo_client):
    """Exports and PDF reports need Action.EXPORT (principals for their school, coordinators);
    the municipal admin only reads the suppressed figures."""
    admin = staff(espoo_client, Role.MUNICIPAL_ADMIN)
    page = admin.get("/dashboard/")
    html = page.content.decode()
    assert page.status_code == 200 and "absences-steps-by-school" in html
    assert "/dashboard/export/" not in html and "/dashboard/reports/" not in html
    assert admin.get("/dashboard/export/absences-steps-by-school.csv").status_code == 403
    school = town["Aallon koulu"]
    assert admin.post("/dashboard/reports/", {"report": "school", "school": school.pk}).status_code == 403
    coordinator = staff(espoo_client, Role.MUNICIPAL_COORDINATOR)
    assert "/dashboard/export/" in coordinator.get("/dashboard/").content.decode()
    assert coordinator.get("/dashboard/export/absences-steps-by-school.csv").status_code == 200
