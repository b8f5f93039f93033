"""The screens: who sees and changes what (table-driven), the wheel and its list, inline mark-done."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from django_tenants.utils import schema_context

from annualclock.models import Activity, Evaluation, Status
from tests.annualclock.factories import ActivityFactory, ClockTemplateFactory, ring

pytestmark = pytest.mark.django_db

# who → (clock page, activity edit page, template list)
MATRIX = {
    "principal": (200, 200, 403),
    "kuraattori": (200, 200, 403),
    "nurse": (200, 200, 403),
    "teacher": (200, 403, 403),
    "coordinator": (200, 403, 200),
    "admin": (200, 403, 403),
    "other_principal": (404, 404, 403),
}


@pytest.mark.parametrize("who", MATRIX)
def test_who_sees_and_edits_a_schools_clock(espoo, world, client_for, who):
    with schema_context(espoo.schema_name):
        activity = ActivityFactory(clock=world.clock, title_fi="Turvallisuuskävely")
    client = client_for(getattr(world, who))
    clock_page, edit_page, templates = MATRIX[who]
    response = client.get(f"/annual-clock/clocks/{world.clock.pk}/")
    assert response.status_code == clock_page
    if clock_page == 200:
        assert "Turvallisuuskävely" in response.content.decode()
    assert client.get(f"/annual-clock/activities/{activity.pk}/edit/").status_code == edit_page
    posted = client.post(f"/annual-clock/activities/{activity.pk}/done/", {"evaluation-what_happened": "Tehty"})
    assert posted.status_code == (302 if edit_page == 200 else (404 if edit_page == 404 else 403))
    with schema_context(espoo.schema_name):
        assert Activity.objects.get(pk=activity.pk).status == (Status.DONE if edit_page == 200 else Status.PLANNED)
    assert client.get("/annual-clock/templates/").status_code == templates


def test_index_lists_only_the_clocks_one_may_see(espoo, world, client_for):
    with schema_context(espoo.schema_name):
        from annualclock.models import Clock

        Clock.objects.create(school=world.other_school, school_year=world.year)
    mine = client_for(world.teacher).get("/annual-clock/").content.decode()
    assert "Kaivomäen koulu" in mine and "Lintuvaaran koulu" not in mine
    everyone = client_for(world.coordinator).get("/annual-clock/").content.decode()
    assert "Kaivomäen koulu" in everyone and "Lintuvaaran koulu" in everyone


def _wheel_links(html: str) -> list[str]:
    return re.findall(r'<a href="/annual-clock/activities/(\d+)/" class="wheel-item', html)


def test_wheel_and_list_show_the_same_activities_with_keyboard_links(espoo, world, client_for):
    with schema_context(espoo.schema_name):
        ids = [ActivityFactory(clock=world.clock, title_fi=f"Toiminta {n}", month_start=8 + n % 5,
                               month_end=8 + n % 5).pk for n in range(6)]
        ActivityFactory(clock=world.clock, title_fi="Päivätty", start_date="2026-09-17", end_date="2026-09-17")
    html = client_for(world.teacher).get(f"/annual-clock/clocks/{world.clock.pk}/").content.decode()
    wheel = html[html.index("<svg class=\"wheel\""):html.index("</svg>", html.index("<svg class=\"wheel\""))]
    list_part = html[html.index('id="list-heading"'):html.index('id="wheel-heading"')]
    assert len(_wheel_links(wheel)) == 7
    assert {int(i) for i in _wheel_links(wheel)} == {int(i) for i in re.findall(
        r'href="/annual-clock/activities/(\d+)/">', list_part)}
    assert set(ids) <= {int(i) for i in _wheel_links(wheel)}
    assert 'aria-label="Päivätty: 17.9.2026' in wheel and "<circle" in wheel  # a one-day activity is a dot
    assert 'role="group" aria-labelledby="wheel-title"' in wheel
    assert list_part.index("Elokuu") < list_part.index("Syyskuu") < list_part.index("Heinäkuu")


def test_filters_narrow_both_wheel_and_list(espoo, world, client_for):
    with schema_context(espoo.schema_name):
        ActivityFactory(clock=world.clock, title_fi="Turvaa", ring=ring("safety"), status=Status.DONE)
        ActivityFactory(clock=world.clock, title_fi="Yhteistä", owner_ids=[world.teacher.pk])
    client = client_for(world.teacher)

    def wheel_and_list(query: str) -> tuple[str, str]:
        html = client.get(f"/annual-clock/clocks/{world.clock.pk}/?{query}").content.decode()
        wheel = html.index('<svg class="wheel"')
        return html[wheel:], html[html.index('id="list-heading"'):wheel]

    for part in wheel_and_list("status=done"):
        assert "Turvaa" in part and "Yhteistä" not in part
    for part in wheel_and_list("owner=me"):
        assert "Yhteistä" in part and "Turvaa" not in part


def test_inline_mark_done_returns_the_row_and_the_wheel_out_of_band(espoo, world, client_for):
    with schema_context(espoo.schema_name):
        activity = ActivityFactory(clock=world.clock, title_fi="Vanhempainilta")
    client = client_for(world.principal)
    form = client.get(f"/annual-clock/activities/{activity.pk}/done/", headers={"HX-Request": "true"})
    assert form.status_code == 200 and 'hx-post="/annual-clock/activities/' in form.content.decode()
    invalid = client.post(f"/annual-clock/activities/{activity.pk}/done/", {"evaluation-what_happened": ""},
                          headers={"HX-Request": "true"})
    assert invalid.status_code == 200 and "errorlist" in invalid.content.decode()
    response = client.post(f"/annual-clock/activities/{activity.pk}/done/",
                           {"evaluation-what_happened": "40 huoltajaa paikalla", "evaluation-reach": "40",
                            "evaluation-next_year": "Tulkki mukaan"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="row-activity-{activity.pk}"' in html and "badge-done" in html
    assert 'id="wheel" hx-swap-oob="true"' in html
    assert re.search(rf'id="wheel-activity-{activity.pk}" aria-label="Vanhempainilta: [^"]*, Tehty"', html)
    with schema_context(espoo.schema_name):
        evaluation = Evaluation.objects.get(activity=activity)
        assert (evaluation.reach, evaluation.next_year) == (40, "Tulkki mukaan")


def test_reach_is_exact_for_the_welfare_group_and_suppressed_for_others(espoo, world, client_for):
    with schema_context(espoo.schema_name):
        activity = ActivityFactory(clock=world.clock, status=Status.DONE)
        Evaluation.objects.create(activity=activity, what_happened="Pieni ryhmä", reach=3)
    mine = client_for(world.principal).get(f"/annual-clock/activities/{activity.pk}/").content.decode()
    assert "<dd>3</dd>" in mine
    other = client_for(world.coordinator).get(f"/annual-clock/activities/{activity.pk}/").content.decode()
    assert "&lt;5" in other and "<dd>3</dd>" not in other


def test_detail_names_only_the_schools_staff_as_owners(espoo, world, client_for):
    """Users live in the public schema, shared by every municipality: an owner id of someone who is
    not the school's staff (set before the API checked them) shows no name."""
    from tests.factories import UserFactory

    outsider = UserFactory(first_name="Ulkopuolinen", last_name="Henkilö")
    with schema_context(espoo.schema_name):
        activity = ActivityFactory(clock=world.clock, owner_ids=[outsider.pk, world.nurse.pk])
    html = client_for(world.teacher).get(f"/annual-clock/activities/{activity.pk}/").content.decode()
    assert "Nurse Testinen" in html
    assert "Ulkopuolinen" not in html and outsider.email not in html


def test_my_tasks_by_role_and_by_name(espoo, world, client_for):
    with schema_context(espoo.schema_name):
        ActivityFactory(clock=world.clock, title_fi="Terveystarkastukset", owner_role="terveydenhoitaja")
        ActivityFactory(clock=world.clock, title_fi="Nimetty hoitajalle", owner_ids=[world.nurse.pk])
        ActivityFactory(clock=world.clock, title_fi="Rehtorin asia", owner_role="rehtori")
    html = client_for(world.nurse).get("/annual-clock/my-tasks/").content.decode()
    assert "Terveystarkastukset" in html and "Nimetty hoitajalle" in html and "Rehtorin asia" not in html


def test_starting_a_clock_from_a_template(espoo, world, client_for):
    with schema_context(espoo.schema_name):
        template = ClockTemplateFactory(name="Perusopetus")
        ActivityFactory(clock=None, template=template, title_fi="Mallista")
    client = client_for(world.other_principal)
    response = client.post("/annual-clock/new/", {"school": world.other_school.pk, "school_year": world.year.pk,
                                                   "source": f"template:{template.pk}"})
    assert response.status_code == 302
    with schema_context(espoo.schema_name):
        assert Activity.objects.filter(clock__school=world.other_school, title_fi="Mallista").exists()
    # The teacher is not in the welfare group: no starting clocks.
    assert client_for(world.teacher).get("/annual-clock/new/").status_code == 403


def test_adding_an_activity_with_dates_outside_the_school_year_is_refused(espoo, world, client_for):
    client = client_for(world.principal)
    with schema_context(espoo.schema_name):
        ring_id = ring().pk
    data = {"ring": ring_id, "title_fi": "Leirikoulu", "month_start": 9, "month_end": 9, "recurrence": "once",
            "target_group": "grades", "target_grades": "6", "start_date": "2028-09-01", "end_date": "2028-09-03"}
    response = client.post(f"/annual-clock/clocks/{world.clock.pk}/activities/new/", data)
    assert response.status_code == 400 and "lukuvuoden 2026–2027 sisällä" in response.content.decode()
    data.update(start_date="2026-09-01", end_date="2026-09-03")
    assert client.post(f"/annual-clock/clocks/{world.clock.pk}/activities/new/", data).status_code == 302
    with schema_context(espoo.schema_name):
        assert Activity.objects.get(title_fi="Leirikoulu").target_grades == [6]


@override_settings(ANNUAL_CLOCK_PROVIDERS=["tests.annualclock.test_views.sessions_provider"])
def test_other_modules_entries_are_a_read_only_ring(espoo, world, client_for):
    html = client_for(world.teacher).get(f"/annual-clock/clocks/{world.clock.pk}/").content.decode()
    assert 'aria-label="Ryhmäkeskustelut"' in html  # its own ring on the wheel
    row = html[html.index('<li id="row-groupsessions-session-42"'):]
    row = row[:row.index("</li>")]
    assert 'class="activity-row read-only"' in row and "Ryhmäkeskustelu 7A" in row and "Pidetty" in row
    assert "Mark done" not in row and "Merkitse" not in row
    assert 'href="/group-sessions/sessions/42/"' in html
    assert "/annual-clock/activities/" not in html.split("Ryhmäkeskustelu 7A")[1].split("</li>")[0]


def sessions_provider(school_id, start, end):
    import datetime

    from welfare.clock import ClockEntry

    return [ClockEntry(source="groupsessions", ring_label="Ryhmäkeskustelut", key="session-42",
                       title="Ryhmäkeskustelu 7A", start=datetime.date(2026, 9, 10), end=datetime.date(2026, 9, 10),
                       url="/group-sessions/sessions/42/", status="Pidetty")]


def _inline_edit_data(activity, **changes) -> dict:
    """What the inline edit form posts, as the browser would send it (the form's own prefix)."""
    from annualclock.forms import ActivityForm

    form = ActivityForm(instance=activity, prefix=f"edit-{activity.pk}")
    data = {}
    for name in form.fields:
        value = changes.get(name, form[name].value())
        if value is None or value is False:
            continue
        key = form.add_prefix(name)
        if value is True:
            data[key] = "on"
        elif isinstance(value, (list, tuple)):
            data[key] = [str(v) for v in value]
        else:
            data[key] = str(value)
    return data


def test_inline_edit_on_a_filtered_page_keeps_the_filter(espoo, world, client_for):
    """An activity edited out of the ring the page shows leaves the list and the wheel; one moved
    to another month is listed under that month (the list comes back out of band)."""
    with schema_context(espoo.schema_name):
        communal, safety = ring("communal"), ring("safety")
        moved = ActivityFactory(clock=world.clock, ring=communal, title_fi="Siirtyvä", month_start=9, month_end=9)
        stays = ActivityFactory(clock=world.clock, ring=communal, title_fi="Pysyvä", month_start=10, month_end=10)
        other = ActivityFactory(clock=world.clock, ring=safety, title_fi="Turvakävely", month_start=10, month_end=10)
        to_safety = _inline_edit_data(moved, ring=safety.pk)
        to_march = _inline_edit_data(stays, month_start=3, month_end=3)
    client = client_for(world.principal)
    page = f"http://espoo.localhost/annual-clock/clocks/{world.clock.pk}/?ring={communal.pk}"
    headers = {"HX-Request": "true", "HX-Current-URL": page}

    response = client.post(f"/annual-clock/activities/{moved.pk}/edit/", to_safety, headers=headers)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="row-activity-{moved.pk}"' not in html and f'id="wheel-activity-{moved.pk}"' not in html
    assert f'id="row-activity-{stays.pk}"' in html  # the filtered list, out of band
    assert f'id="row-activity-{other.pk}"' not in html and f'id="wheel-activity-{other.pk}"' not in html

    response = client.post(f"/annual-clock/activities/{stays.pk}/edit/", to_march, headers=headers)
    html = response.content.decode()
    month_list = html[html.index('id="month-list" hx-swap-oob="true"'):]
    row = month_list.index(f'id="row-activity-{stays.pk}"')
    assert row > month_list.index('id="month-3"')  # listed under March now
    assert 'id="month-4"' not in month_list or row < month_list.index('id="month-4"')
    with schema_context(espoo.schema_name):
        moved.refresh_from_db()
        stays.refresh_from_db()
        assert moved.ring_id == safety.pk and (stays.month_start, stays.month_end) == (3, 3)


def test_cancelling_an_inline_edit_returns_the_row_alone(espoo, world, client_for):
    with schema_context(espoo.schema_name):
        activity = ActivityFactory(clock=world.clock, title_fi="Peruttava muokkaus", month_start=10, month_end=10)
    response = client_for(world.principal).get(f"/annual-clock/activities/{activity.pk}/row/",
                                               headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith(f'<li id="row-activity-{activity.pk}"') and "Peruttava muokkaus" in html
    assert "Lokakuu" in html and f'hx-get="/annual-clock/activities/{activity.pk}/done/"' in html
    assert "hx-swap-oob" not in html and "<svg" not in html  # nothing changed: no wheel, no month list
    teacher = client_for(world.teacher).get(f"/annual-clock/activities/{activity.pk}/row/").content.decode()
    assert "Peruttava muokkaus" in teacher and "/edit/" not in teacher


def test_inline_save_queries_do_not_grow_with_the_clock(espoo, world, client_for):
    """An inline save sends the wheel and the month list back out of band: built from one query for
    the activities, whatever their number."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with schema_context(espoo.schema_name):
        activity = ActivityFactory(clock=world.clock, title_fi="Muokattava", month_start=9, month_end=9)
    client = client_for(world.principal)
    headers = {"HX-Request": "true",
               "HX-Current-URL": f"http://espoo.localhost/annual-clock/clocks/{world.clock.pk}/?status=planned"}

    def queries(title: str) -> int:
        with schema_context(espoo.schema_name):
            data = _inline_edit_data(activity, title_fi=title)
        with CaptureQueriesContext(connection) as captured:
            response = client.post(f"/annual-clock/activities/{activity.pk}/edit/", data, headers=headers)
        assert response.status_code == 200 and title in response.content.decode()
        return len(captured)

    queries("Ensimmäinen")
    before = queries("Toinen")
    with schema_context(espoo.schema_name):
        for n in range(10):
            evaluated = ActivityFactory(clock=world.clock, title_fi=f"Muu {n}", month_start=10, month_end=11,
                                        owner_ids=[world.nurse.pk], ring=ring(["safety", "guidance"][n % 2]))
            Evaluation.objects.create(activity=evaluated, what_happened="Tehty")
    assert queries("Kolmas") == before


def test_the_welfare_group_sets_its_clocks_own_reminder_days(espoo, world, client_for):
    from annualclock.models import Clock, ClockSettings
    from welfare.models import AuditAction, AuditEvent

    with schema_context(espoo.schema_name):
        ClockSettings.objects.update_or_create(pk=1, defaults={"reminder_days": 9})
    url = f"/annual-clock/clocks/{world.clock.pk}/reminders/"
    page = client_for(world.principal).get(f"/annual-clock/clocks/{world.clock.pk}/").content.decode()
    assert url in page and "(9 " in page  # the municipality's 9 days, in whatever language the page is in
    assert url not in client_for(world.teacher).get(f"/annual-clock/clocks/{world.clock.pk}/").content.decode()
    assert client_for(world.teacher).post(url, {"reminders-reminder_days": "3"}).status_code == 403
    assert client_for(world.other_principal).post(url, {"reminders-reminder_days": "3"}).status_code == 404

    client = client_for(world.principal)
    refused = client.post(url, {"reminders-reminder_days": "61"})
    assert refused.status_code == 400 and "field-invalid" in refused.content.decode()
    assert client.post(url, {"reminders-reminder_days": "3"}).status_code == 302
    with schema_context(espoo.schema_name):
        assert Clock.objects.get(pk=world.clock.pk).reminder_days == 3
        event = AuditEvent.objects.get(action=AuditAction.UPDATE, object_type="annualclock.clock")
        assert event.detail["reminder_days"] == {"from": None, "to": 3}
    assert client.post(url, {"reminders-reminder_days": ""}).status_code == 302  # back to the municipality's
    with schema_context(espoo.schema_name):
        assert Clock.objects.get(pk=world.clock.pk).reminder_days is None
