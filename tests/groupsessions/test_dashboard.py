"""Group sessions on the dashboards: the rollup equals a recomputation from the raw rows after every
kind of change; coverage and feedback panels with small numbers suppressed (totals included); a
principal sees their school only, another municipality nothing; a constant query count; exports."""

from __future__ import annotations

import csv
import datetime
import io
import re
import threading
from collections import defaultdict

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from groupsessions import rollups, services
from groupsessions.models import (
    STATEMENT_FIELDS,
    CohortGroup,
    FeedbackResponse,
    GroupSession,
    GroupSessionRollup,
    GroupSessionSettings,
    SessionStatus,
)
from tests.factories import (
    SchoolFactory,
    SchoolYearFactory,
    StaffRoleFactory,
    TeachingGroupFactory,
    UserFactory,
    give_totp,
    sign_in,
)
from tests.groupsessions.factories import CohortGroupFactory, FeedbackResponseFactory, GroupSessionFactory, at
from welfare.models import Role

pytestmark = pytest.mark.django_db
D = datetime.date


# --- The rollup equals a recomputation ------------------------------------------------------------

def recomputed() -> dict[tuple[int, int], dict]:
    """(school, school year) → figures, straight from groups, sessions and responses."""
    settings_row = GroupSessionSettings.current()
    tz = timezone.get_default_timezone()
    result: dict = {}
    for group in CohortGroup.objects.select_related("school_year"):
        deadline = settings_row.deadline_for(group.school_year)
        figures = result.setdefault((group.school_id, group.school_year_id), defaultdict(int, deadline=deadline))
        figures["groups_to_meet"] += 1
        sessions = list(GroupSession.objects.filter(cohort_group=group).order_by("starts_at", "id"))
        held = [s for s in sessions if s.status == SessionStatus.HELD]
        planned = [s for s in sessions if s.status == SessionStatus.PLANNED]
        if held:
            figures["groups_met"] += 1
            figures["met_by_deadline"] += held[0].starts_at.astimezone(tz).date() <= deadline
            figures["pupils_present"] += held[0].pupils_present or 0
            figures["pupils_enrolled"] += held[0].pupils_enrolled or 0
        elif planned:
            figures["groups_planned"] += 1
            figures["planned_after_deadline"] += planned[0].starts_at.astimezone(tz).date() > deadline
    for response in FeedbackResponse.objects.select_related("session__cohort_group"):
        figures = result[(response.session.cohort_group.school_id, response.session.cohort_group.school_year_id)]
        figures["responses"] += 1
        for name in STATEMENT_FIELDS:
            value = getattr(response, name)
            if value is not None:
                figures[f"{name}_sum"] += value
                figures[f"{name}_answers"] += 1
    fields = [f.name for f in GroupSessionRollup._meta.fields if f.name not in ("id", "school", "school_year")]
    return {key: {name: figures[name] for name in fields} for key, figures in result.items()}


def stored() -> dict[tuple[int, int], dict]:
    fields = [f.name for f in GroupSessionRollup._meta.fields if f.name not in ("id", "school", "school_year")]
    return {(row.school_id, row.school_year_id): {name: getattr(row, name) for name in fields}
            for row in GroupSessionRollup.objects.all()}


def test_the_services_keep_the_rollup_equal_to_a_recomputation(in_espoo):
    now = timezone.now()
    today = timezone.localdate()
    year = SchoolYearFactory(start_date=today - datetime.timedelta(days=60),
                             end_date=today + datetime.timedelta(days=300))
    aalto, bergo = SchoolFactory(name="Aallon koulu"), SchoolFactory(name="Bergö skola")
    user = UserFactory()
    for school, name in ((aalto, "7A"), (aalto, "7B"), (bergo, "7A")):
        TeachingGroupFactory(school=school, school_year=year, name=name, grade=7)
    services.sync_cohort(year)
    assert stored() == recomputed() and stored()[(aalto.pk, year.pk)]["groups_to_meet"] == 2

    groups = {(g.school_id, g.name): g for g in CohortGroup.objects.all()}
    held = services.plan_session(user=user, cohort_group=groups[(aalto.pk, "7A")],
                                 starts_at=now - datetime.timedelta(hours=3), ends_at=now - datetime.timedelta(hours=2))
    assert stored() == recomputed() and stored()[(aalto.pk, year.pk)]["groups_planned"] == 1
    services.record_session(held, user=user, status=SessionStatus.HELD, pupils_present=17, pupils_enrolled=20)
    later = services.plan_session(user=user, cohort_group=groups[(aalto.pk, "7B")],
                                  starts_at=now + datetime.timedelta(days=10),
                                  ends_at=now + datetime.timedelta(days=10, hours=1))
    services.reschedule_session(later, starts_at=now + datetime.timedelta(days=12),
                                ends_at=now + datetime.timedelta(days=12, hours=1))
    assert stored() == recomputed()
    assert stored()[(aalto.pk, year.pk)]["pupils_present"] == 17

    services.add_cohort_group(user=user, school=bergo, school_year=year, name="Valmistava luokka")
    assert stored() == recomputed() and stored()[(bergo.pk, year.pk)]["groups_to_meet"] == 2

    for n, answers in enumerate([(4, 5, 3, None)] * 4 + [(2, None, 5, 5), (5, 5, 5, 5)]):
        services.submit_feedback(held, device_id=f"device-{n}", language="fi",
                                 answers=dict(zip(STATEMENT_FIELDS, answers, strict=True)))
    assert stored() == recomputed()
    assert stored()[(aalto.pk, year.pk)]["responses"] == 6
    assert stored()[(aalto.pk, year.pk)]["statement_2_answers"] == 5

    services.delete_session(later)
    assert stored() == recomputed() and stored()[(aalto.pk, year.pk)]["groups_planned"] == 0

    services.record_session(held, user=user, status=SessionStatus.NOT_HELD, not_held_reason="moved")
    assert stored() == recomputed() and stored()[(aalto.pk, year.pk)]["groups_met"] == 0

    services.update_settings(deadline_month=today.month, deadline_day=today.day, feedback_days=14)
    assert stored() == recomputed()
    assert stored()[(aalto.pk, year.pk)]["deadline"] == GroupSessionSettings.current().deadline_for(year)

    GroupSessionRollup.objects.all().delete()
    rollups.rebuild()
    assert stored() == recomputed()
    GroupSessionRollup.objects.all().delete()
    rollups.rebuild(apps=historical_apps("groupsessions", "0002_dashboard_rollup"))  # the migration's fill
    assert stored() == recomputed()


@pytest.mark.django_db(transaction=True)
def test_a_class_answering_at_once_is_counted_in_full(espoo, monkeypatch):
    """Two pupils' answers committed side by side: each refresh waits for the other's, so the last
    one counts both (without the lock one answer would fail on the rollup's unique key)."""
    from django_tenants.utils import schema_context

    with schema_context(espoo.schema_name):
        start = timezone.now() - datetime.timedelta(hours=2)
        session = GroupSessionFactory(starts_at=start, ends_at=start + datetime.timedelta(hours=1),
                                      feedback_closes_at=start + datetime.timedelta(days=14),
                                      status=SessionStatus.HELD, pupils_present=20, pupils_enrolled=21)
        rollups.rebuild()
    barrier = threading.Barrier(2, timeout=20)
    from welfare import rollups as shared_rollups

    lock = shared_rollups.advisory_locks

    def lock_when_both_have_answered(namespace, school_ids):
        barrier.wait()  # both responses are inserted and not yet committed
        lock(namespace, school_ids)

    monkeypatch.setattr(shared_rollups, "advisory_locks", lock_when_both_have_answered)
    errors = []

    def answer(n: int):
        try:
            with schema_context(espoo.schema_name):
                services.submit_feedback(session, device_id=f"phone-{n}", language="fi",
                                         answers={"statement_1": 4})
        except Exception as exc:  # noqa: BLE001 — reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with schema_context(espoo.schema_name):
        assert GroupSessionRollup.objects.get(school=session.cohort_group.school).responses == 2
        assert stored() == recomputed()


def historical_apps(app: str, migration: str):
    from django.db.migrations.loader import MigrationLoader

    return MigrationLoader(connection).project_state((app, migration)).apps


def test_overdue_depends_on_the_day_it_is_read():
    row = GroupSessionRollup(deadline=D(2026, 10, 31), groups_to_meet=5, groups_met=2, groups_planned=2,
                             planned_after_deadline=1)
    assert row.overdue(D(2026, 10, 1)) == 1  # before the deadline: only the groups planned after it
    assert row.overdue(D(2026, 11, 1)) == 3  # after it: every group not met


# --- The panels -----------------------------------------------------------------------------------

@pytest.fixture
def town(in_espoo):
    """Aalto: 7A met on 15.9 (3 pupils present, 3 responses), 7B not met. Bergö: 7A met on 10.9 (18
    present, 12 responses, only 3 of them answered statement 4), 7B met after the deadline (20), 7C
    planned after it. Cygnaeus: 7A met on 9.9 (8 present, 8 responses, all 5s)."""
    year = SchoolYearFactory(start_date=D(2026, 8, 1), end_date=D(2027, 7, 31))
    aalto, bergo, cygnaeus = (SchoolFactory(name=name) for name in ("Aallon koulu", "Bergö skola",
                                                                     "Cygnaeuksen koulu"))

    def met(school, name, day, present):
        return GroupSessionFactory(cohort_group=CohortGroupFactory(school=school, school_year=year, name=name),
                                   starts_at=at(day, 9), status=SessionStatus.HELD,
                                   pupils_present=present, pupils_enrolled=present + 2)

    FeedbackResponseFactory.create_batch(3, session=met(aalto, "7A", D(2026, 9, 15), 3))
    CohortGroupFactory(school=aalto, school_year=year, name="7B")
    bergo_7a = met(bergo, "7A", D(2026, 9, 10), 18)
    FeedbackResponseFactory.create_batch(3, session=bergo_7a)
    FeedbackResponseFactory.create_batch(9, session=bergo_7a, statement_4=None)
    met(bergo, "7B", D(2026, 11, 5), 20)
    GroupSessionFactory(cohort_group=CohortGroupFactory(school=bergo, school_year=year, name="7C"),
                        starts_at=at(D(2026, 12, 10), 9))
    FeedbackResponseFactory.create_batch(8, session=met(cygnaeus, "7A", D(2026, 9, 9), 8),
                                         statement_1=5, statement_2=5, statement_3=5, statement_4=5)
    rollups.rebuild()
    return {"year": year, "Aallon koulu": aalto, "Bergö skola": bergo}


def staff(espoo_client, role, school=None):
    user = UserFactory()
    StaffRoleFactory(user=user, role=role, school=school)
    if role != Role.MUNICIPAL_COORDINATOR:
        give_totp(user)
    return sign_in(espoo_client, user)


def dashboard(client, town) -> str:
    response = client.get("/dashboard/", {"school_year": town["year"].pk}, headers={"accept-language": "en"})
    assert response.status_code == 200
    return response.content.decode()


def panel(html: str, key: str) -> str:
    start = html.index(f'id="{key}"')
    return html[start:html.index("</section>", start)]


def cells(html: str, label: str) -> list[str]:
    """The cells of the table row headed ``label``."""
    start = html.index(f'<th scope="row">{label}</th>')
    row = html[start:html.index("</tr>", start)]
    return re.findall(r'<td class="num">([^<]*)</td>', row)


def test_coordinator_sees_coverage_with_small_numbers_suppressed(town, espoo_client):
    html = dashboard(staff(espoo_client, Role.MUNICIPAL_COORDINATOR), town)
    coverage = panel(html, "groupsessions-coverage")
    assert "Group sessions: coverage by the deadline" in coverage and "<svg" in coverage
    # to meet, met, met by the deadline, share met by the deadline, overdue, pupils present
    aalto, bergo, cygnaeus, total = (cells(coverage, label) for label in (
        "Aallon koulu", "Bergö skola", "Cygnaeuksen koulu", "Total"))
    assert aalto[:4] == ["2", "1", "1", "50.0 %"] and bergo[:4] == ["3", "2", "1", "33.3 %"]
    assert cygnaeus[:4] == ["1", "1", "1", "100.0 %"] and total[:4] == ["6", "4", "3", "50.0 %"]
    # Aalto's 3 pupils cannot be worked out from the total: the next smallest count is hidden too.
    assert aalto[5] == "&lt;5" and bergo[5] == "38" and cygnaeus[5] == "×" and total[5] == "49"
    assert "×: hidden so that a number under five" in coverage


def test_feedback_means_only_where_five_answered_and_the_count_is_shown(town, espoo_client):
    feedback = panel(dashboard(staff(espoo_client, Role.MUNICIPAL_COORDINATOR), town), "groupsessions-feedback")
    aalto, bergo, cygnaeus, total = (cells(feedback, label) for label in (
        "Aallon koulu", "Bergö skola", "Cygnaeuksen koulu", "Total"))
    assert aalto == ["&lt;5", "×", "×", "×", "×"]
    assert bergo == ["12", "4.0", "5.0", "3.0", "×"]  # statement 4: three answers
    # Cygnaeus's count is hidden to protect Aalto's; its means would show that it has five or more.
    assert cygnaeus == ["×", "×", "×", "×", "×"]
    assert total == ["23", "4.3", "5.0", "3.7", "4.6"]  # exact over all answers: 100/23, 115/23, 85/23, 64/14


def test_principal_sees_only_their_school(town, espoo_client):
    html = dashboard(staff(espoo_client, Role.PRINCIPAL, town["Bergö skola"]), town)
    coverage = panel(html, "groupsessions-coverage")
    assert "Bergö skola" in coverage and "Aallon koulu" not in html and "Cygnaeuksen koulu" not in html
    assert cells(coverage, "Bergö skola") == cells(coverage, "Total")
    assert cells(coverage, "Bergö skola")[:4] == ["3", "2", "1", "33.3 %"]
    feedback = panel(html, "groupsessions-feedback")
    assert cells(feedback, "Bergö skola") == ["12", "4.0", "5.0", "3.0", "×"]
    # The "total" of one school would give its three answers to statement 4 away.
    assert cells(feedback, "Total") == ["12", "4.0", "5.0", "3.0", "×"]


def test_another_municipality_sees_none_of_it(town, vantaa, vantaa_client):
    from django_tenants.utils import schema_context

    with schema_context(vantaa.schema_name):
        client = staff(vantaa_client, Role.MUNICIPAL_COORDINATOR)
        html = client.get("/dashboard/", headers={"accept-language": "en"}).content.decode()
    assert "Aallon koulu" not in html and "Bergö skola" not in html


def test_query_count_does_not_grow_with_schools(town, espoo_client):
    client = staff(espoo_client, Role.MUNICIPAL_COORDINATOR)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert "groupsessions-coverage" in dashboard(client, town)
        return len(captured)

    dashboard(client, town)  # the session's once-a-minute save happens here, not in the counts
    before = queries()
    for n in range(6):
        school = SchoolFactory(name=f"Lisäkoulu {n}")
        for name in ("7A", "7B"):
            session = GroupSessionFactory(cohort_group=CohortGroupFactory(school=school, school_year=town["year"],
                                                                          name=name),
                                          starts_at=at(D(2026, 9, 20), 9), status=SessionStatus.HELD,
                                          pupils_present=19, pupils_enrolled=21)
            FeedbackResponseFactory.create_batch(6, session=session)
    rollups.rebuild()
    assert queries() == before


def test_csv_export_carries_the_suppressed_table(town, espoo_client):
    client = staff(espoo_client, Role.MUNICIPAL_COORDINATOR)
    response = client.get("/dashboard/export/groupsessions-coverage.csv", {"school_year": town["year"].pk},
                          headers={"accept-language": "en"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["School", "Groups to meet", "Groups met"] and rows[0][-1] == "Pupils present"
    assert [row[0] for row in rows] == ["School", "Aallon koulu", "Bergö skola", "Cygnaeuksen koulu", "Total"]
    assert rows[1][:5] == ["Aallon koulu", "2", "1", "1", "50.0 %"] and rows[1][-1] == "<5"
    assert [row[-1] for row in rows[2:]] == ["38", "×", "49"]


def test_an_answer_reaches_the_cached_dashboard(town, espoo_client, settings, django_capture_on_commit_callbacks):
    from welfare.dashboard import rollups_changed

    settings.DASHBOARD_CACHE = True
    rollups_changed()  # a version of its own: no panels cached by another run
    client = staff(espoo_client, Role.PRINCIPAL, town["Bergö skola"])
    assert cells(panel(dashboard(client, town), "groupsessions-feedback"), "Bergö skola")[0] == "12"
    session = GroupSession.objects.get(cohort_group__school=town["Bergö skola"], cohort_group__name="7A")
    GroupSession.objects.filter(pk=session.pk).update(feedback_closes_at=timezone.now() + datetime.timedelta(days=1))
    session.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_feedback(session, device_id="late-phone", language="sv", answers={"statement_1": 5})
    assert cells(panel(dashboard(client, town), "groupsessions-feedback"), "Bergö skola")[0] == "13"
