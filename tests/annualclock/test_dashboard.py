"""The annual clock on the dashboards: the rollup equals a recomputation from the activities after
every change the services make, the panels show the adoption of templates and the activities done
and evaluated per school (people reached suppressed), a principal sees only their school, another
municipality's clocks never appear, the tables export, and the query count does not grow with
the number of schools."""

from __future__ import annotations

import csv
import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from annualclock import public, rollups, services, tasks
from annualclock.models import COPY_FIELDS, Activity, Clock, ClockRollup, Status
from annualclock.selectors import adoptions
from tests.annualclock.factories import ActivityFactory, ClockTemplateFactory, ring, school_year_2026
from tests.factories import SchoolFactory, SchoolYearFactory, StaffRoleFactory, UserFactory, sign_in
from welfare.models import Role

pytestmark = pytest.mark.django_db

FIGURES = ("planned", "done", "evaluated", "cancelled", "reach", "added", "removed", "changed")


def recomputed() -> dict[int, dict]:
    """clock → its figures, counted in Python from the activities as the year-end report
    (selectors.year_report) and the coordinator's adoption page (selectors.adoptions) count them."""
    result = {}
    for clock in Clock.objects.prefetch_related("activities__evaluation"):
        figures = dict.fromkeys(FIGURES, 0) | {"by_ring": {}}
        kept = set()
        for activity in clock.activities.all():
            ring_counts = figures["by_ring"].setdefault(str(activity.ring_id), [0, 0, 0, 0])
            evaluation = getattr(activity, "evaluation", None)
            if activity.status == Status.CANCELLED:
                figures["cancelled"] += 1
                ring_counts[3] += 1
            else:
                figures["planned"] += 1
                ring_counts[0] += 1
                if activity.status == Status.DONE:
                    figures["done"] += 1
                    ring_counts[1] += 1
                if evaluation is not None:
                    figures["evaluated"] += 1
                    ring_counts[2] += 1
                    figures["reach"] += evaluation.reach or 0
            source = (activity.copied_values or {}).get("source")
            if source is None or source not in clock.adopted_activity_ids:
                figures["added"] += 1
                continue
            kept.add(source)
            figures["changed"] += any(activity.copied_values.get(name) != getattr(activity, name)
                                      for name in COPY_FIELDS)
        figures["removed"] = len(set(clock.adopted_activity_ids) - kept)
        result[clock.pk] = figures
    return result


def stored() -> dict[int, dict]:
    return {row.clock_id: {name: getattr(row, name) for name in FIGURES} | {"by_ring": row.by_ring}
            for row in ClockRollup.objects.all()}


def assert_rollup_is_current() -> None:
    assert stored() == recomputed()


def test_rollup_equals_a_recomputation_after_every_change(in_espoo, world):
    rollups.rebuild()  # the fixture's clock was made without the services
    assert_rollup_is_current()
    template = ClockTemplateFactory(name="Perusopetus")
    for title, code in (("Ryhmäytyminen", "communal"), ("Turvallisuuskävely", "safety"), ("Kysely", "communal")):
        ActivityFactory(clock=None, template=template, title_fi=title, ring=ring(code))
    principal = UserFactory()
    StaffRoleFactory(user=principal, role=Role.PRINCIPAL, school=world.other_school)

    clock = services.adopt_template(template, school=world.other_school, school_year=world.year, user=principal)
    assert_rollup_is_current()
    assert stored()[clock.pk] | {"by_ring": None} == {"planned": 3, "done": 0, "evaluated": 0, "cancelled": 0,
                                                      "reach": 0, "added": 0, "removed": 0, "changed": 0,
                                                      "by_ring": None}

    copies = {a.title_fi: a for a in clock.activities.all()}
    edited = copies["Ryhmäytyminen"]
    edited.month_start = edited.month_end = 10
    services.save_activity(edited, user=principal)
    assert_rollup_is_current()
    services.save_activity(Activity(clock=clock, ring=ring("safety"), title_fi="Poistumisharjoitus", month_start=9,
                                    month_end=9), user=principal)
    assert_rollup_is_current()
    services.complete_activity(copies["Turvallisuuskävely"], user=principal, what_happened="Kävelty.", reach=12)
    assert_rollup_is_current()
    services.complete_activity(copies["Turvallisuuskävely"], user=principal, what_happened="Kävelty.", reach=30)
    assert_rollup_is_current()
    copies["Kysely"].status = Status.CANCELLED
    services.save_activity(copies["Kysely"], user=principal)
    assert_rollup_is_current()
    row = stored()[clock.pk]
    assert (row["planned"], row["done"], row["evaluated"], row["cancelled"], row["reach"]) == (3, 1, 1, 1, 30)
    assert (row["added"], row["removed"], row["changed"]) == (1, 0, 1)

    services.delete_activity(Activity.objects.get(pk=copies["Kysely"].pk), user=principal)
    assert_rollup_is_current()
    assert stored()[clock.pk]["removed"] == 1 and stored()[clock.pk]["cancelled"] == 0
    # The coordinator's adoption page tells the same story.
    with translation.override("en"):
        page = next(a for a in adoptions(template) if a.clock.pk == clock.pk)
    assert (len(page.added), len(page.removed), len(page.changed)) == (1, 1, 1)

    next_year = SchoolYearFactory(name="2027–2028", start_date=datetime.date(2027, 8, 1),
                                  end_date=datetime.date(2028, 7, 31))
    copy = services.copy_clock(clock, school_year=next_year, user=principal)
    assert_rollup_is_current()
    assert stored()[copy.pk]["planned"] == 3 and stored()[copy.pk]["done"] == 0

    empty = services.empty_clock(school=SchoolFactory(), school_year=world.year, user=principal)
    assert_rollup_is_current()
    assert stored()[empty.pk]["planned"] == 0

    public.add_followup_activity(user=world.principal, school_id=world.school.pk, title="Välituntikiusaaminen",
                                 description="", month=datetime.date(2026, 10, 1), source_label="Ryhmäkeskustelu")
    assert_rollup_is_current()
    assert stored()[world.clock.pk]["planned"] == 1


def test_rebuild_repairs_what_was_changed_outside_the_services(in_espoo, world):
    template = ClockTemplateFactory()
    ActivityFactory(clock=None, template=template)
    clock = services.adopt_template(template, school=world.other_school, school_year=world.year,
                                    user=world.other_principal)
    clock.activities.update(status=Status.DONE)
    assert stored()[clock.pk]["done"] == 0
    assert tasks.rebuild_rollup()["clocks"] == Clock.objects.count()  # the nightly repair
    assert_rollup_is_current()
    assert stored()[clock.pk]["done"] == 1


def test_demo_seed_leaves_a_current_rollup(in_espoo):
    from annualclock import demo
    from welfare.services.demo.school_years import ensure_school_years

    today = datetime.date(2026, 11, 20)
    ensure_school_years(today)
    SchoolFactory.create_batch(2, school_type="basic")
    demo.seed(today=today)
    assert_rollup_is_current()
    assert sum(row["removed"] for row in stored().values()) == 1  # the local change the coordinator sees


# --- The dashboard ------------------------------------------------------------------------------


@pytest.fixture
def town(in_espoo):
    """Aallon koulu adopted the template (changed one activity, one done with 3 people reached);
    Bergö skola keeps its own clock (two activities, one done reaching 40); Citykoulu has no clock."""
    year = school_year_2026()
    template = ClockTemplateFactory(name="Kunnan malli")
    for title in ("Ryhmäytyminen", "Turvallisuuskävely", "Vanhempainilta", "Kysely"):
        ActivityFactory(clock=None, template=template, title_fi=title)
    actor = UserFactory()
    schools = {name: SchoolFactory(name=name) for name in ("Aallon koulu", "Bergö skola", "Citykoulu")}
    aalto = services.adopt_template(template, school=schools["Aallon koulu"], school_year=year, user=actor)
    first, second = aalto.activities.order_by("id")[:2]
    services.complete_activity(first, user=actor, what_happened="Hyvin meni.", reach=3)
    second.month_start = second.month_end = 11
    services.save_activity(second, user=actor)
    bergo = services.empty_clock(school=schools["Bergö skola"], school_year=year, user=actor)
    for title in ("Föräldramöte", "Trygghetsvandring"):
        services.save_activity(Activity(clock=bergo, ring=ring("safety"), title_sv=title, month_start=9,
                                        month_end=9), user=actor)
    services.complete_activity(bergo.activities.first(), user=actor, what_happened="Bra.", reach=40)
    return {"year": year, "template": template, "actor": actor, **schools}


def staff(client, role, school=None):
    user = UserFactory()
    StaffRoleFactory(user=user, role=role, school=school)
    return sign_in(client, user)


def page(client, town) -> str:
    response = client.get("/dashboard/", {"school_year": town["year"].pk}, headers={"accept-language": "en"})
    assert response.status_code == 200
    return response.content.decode()


def panel(html: str, key: str) -> str:
    start = html.index(f'id="{key}"')
    return html[start:html.index("</section>", start)]


def row(html: str, label: str) -> list[str]:
    start = html.index(f'<th scope="row">{label}')
    return re.findall(r"<td[^>]*>(.*?)</td>", html[start:html.index("</tr>", start)])


def test_coordinator_compares_adoption_and_activities_across_schools(town, espoo_client):
    html = page(staff(espoo_client, Role.MUNICIPAL_COORDINATOR), town)
    adoption = panel(html, "annualclock-adoption")
    assert row(adoption, "Aallon koulu") == ["Template adopted", "Kunnan malli", "0", "0", "1"]
    assert row(adoption, "Bergö skola")[:2] == ["Own clock", "–"]
    assert row(adoption, "Citykoulu")[:2] == ["No clock", "–"]
    assert row(adoption, "Total")[0] == "1 of 3 use a template"
    assert "<svg" in adoption

    activities = panel(html, "annualclock-activities")
    assert "Citykoulu" not in activities
    # Planned, done, evaluated, cancelled, share done, share evaluated, people reached.
    assert row(activities, "Aallon koulu") == ["4", "1", "1", "0", "25.0 %", "25.0 %", "&lt;5"]
    # 40 would give Aalto's 3 away from the total of 43, so it is hidden too.
    assert row(activities, "Bergö skola") == ["2", "1", "1", "0", "50.0 %", "50.0 %", "×"]
    assert row(activities, "Total") == ["6", "2", "2", "0", "33.3 %", "33.3 %", "43"]
    assert 'role="img"' in activities

    rings = panel(html, "annualclock-rings")
    assert row(rings, "Communal welfare")[:2] == ["4", "1"] and row(rings, "Safety")[:2] == ["2", "1"]


def test_principal_sees_only_their_school(town, espoo_client):
    html = page(staff(espoo_client, Role.PRINCIPAL, town["Bergö skola"]), town)
    for key in ("annualclock-adoption", "annualclock-activities", "annualclock-rings"):
        assert "Aallon koulu" not in panel(html, key) and "Citykoulu" not in panel(html, key)
    assert row(panel(html, "annualclock-activities"), "Bergö skola")[:4] == ["2", "1", "1", "0"]
    assert row(panel(html, "annualclock-adoption"), "Total")[0] == "0 of 1 use a template"
    assert row(panel(html, "annualclock-rings"), "Safety")[:2] == ["2", "1"]
    assert "Communal welfare" not in panel(html, "annualclock-rings")


def test_teacher_gets_no_clock_figures(town, espoo_client):
    client = staff(espoo_client, Role.CLASS_TEACHER, town["Aallon koulu"])
    html = client.get("/dashboard/", headers={"accept-language": "en"}).content.decode()
    assert "annualclock-activities" not in html
    assert client.get("/dashboard/export/annualclock-activities.csv").status_code == 403


def test_another_municipality_sees_none_of_espoos_clocks(town, vantaa, vantaa_client):
    from django_tenants.utils import schema_context

    with schema_context(vantaa.schema_name):
        client = staff(vantaa_client, Role.MUNICIPAL_COORDINATOR)
        html = client.get("/dashboard/", headers={"accept-language": "en"}).content.decode()
    assert "Aallon koulu" not in html and "Bergö skola" not in html and "Kunnan malli" not in html


def test_csv_export_of_the_activity_panel(town, espoo_client):
    client = staff(espoo_client, Role.MUNICIPAL_COORDINATOR)
    response = client.get("/dashboard/export/annualclock-activities.csv", {"school_year": town["year"].pk},
                          headers={"accept-language": "en"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["School", "Planned", "Done", "Evaluated", "Cancelled", "Share done", "Share evaluated",
                       "People reached"]
    assert rows[1] == ["Aallon koulu", "4", "1", "1", "0", "25.0 %", "25.0 %", "<5"]
    assert rows[-1][:5] == ["Total", "6", "2", "2", "0"]
    assert not any("3" == cell for row in rows for cell in row[7:])
    adoption = client.get("/dashboard/export/annualclock-adoption.csv", {"school_year": town["year"].pk},
                          headers={"accept-language": "en"})
    assert any(row[:2] == ["Citykoulu", "No clock"] for row in csv.reader(
        io.StringIO(adoption.content.decode("utf-8-sig")), delimiter=";"))


def test_query_count_does_not_grow_with_schools_and_clocks(town, espoo_client):
    client = staff(espoo_client, Role.MUNICIPAL_COORDINATOR)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert "annualclock-activities" in page(client, town)
        return len(captured)

    page(client, town)  # the session's once-a-minute save happens here, not in the counts
    before = queries()
    for n in range(5):
        clock = services.adopt_template(town["template"], school=SchoolFactory(name=f"Lisäkoulu {n}"),
                                        school_year=town["year"], user=town["actor"])
        services.complete_activity(clock.activities.first(), user=town["actor"], what_happened="Ok.", reach=n)
        services.save_activity(Activity(clock=clock, ring=ring("guidance"), title_fi="Oma", month_start=1,
                                        month_end=1), user=town["actor"])
    html_rows = panel(page(client, town), "annualclock-activities").count('<th scope="row">')
    assert html_rows == 2 + 5 + 1  # Aalto, Bergö, the new schools and the total
    assert queries() == before
