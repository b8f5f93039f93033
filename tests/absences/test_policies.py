"""Threshold policies: presets as data, versions (draft → publish, the previous one kept), the
active policy, and the browser editor (municipal admins only, every change audit-logged)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from absences.models import EscalationStep, PolicyVersion, ThresholdPolicy
from absences.presets import PRESETS
from absences.selectors import active_policy_version
from absences.services.policies import create_policy_from_preset, new_draft, publish_version
from tests.absences.factories import national_categories
from tests.conftest import host
from tests.factories import SchoolFactory, StaffRoleFactory, UserFactory, sign_in
from welfare.models import AuditAction, AuditEvent, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def categories(in_espoo):
    return national_categories()


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- Presets and versions -----------------------------------------------------------------------


@pytest.mark.parametrize(("preset", "limits"), [
    ("lape", {"1–9": [30, 50, 70, 100]}),
    ("vaasa", {"1–6": [30, 60, 90, 120], "7–9": [40, 80, 110, 140]}),
    ("tampere", {"1–9": [5, 10, 20]}),
    ("turku", {"1–9": [50, 100, 150]}),
    ("kemi", {"1–9": [25, 50]}),
    ("heinola", {"1–9": [25, 50, 80]}),
])
def test_each_preset_becomes_an_editable_draft_with_its_real_limits(categories, preset, limits):
    policy = create_policy_from_preset(preset)
    version = policy.versions.get()
    assert version.published_at is None and policy.preset == preset
    got = {band.name: [int(s.threshold) for s in band.steps.order_by("level")] for band in version.bands.all()}
    assert got == limits
    assert version.consecutive_days == 3 and version.unexplained_after_days == 7
    for step in EscalationStep.objects.filter(band__version=version):
        assert step.required_action and step.days_to_react in (7, 14) and step.responsible_role in Role.values


def test_presets_count_all_categories_except_kemi(categories):
    assert set(create_policy_from_preset("lape").versions.get().counted_categories) == {
        "health", "leave", "other_explained", "unexplained", "unclassified"}
    assert set(create_policy_from_preset("kemi").versions.get().counted_categories) == {
        "health", "unexplained", "unclassified"}
    tampere = create_policy_from_preset("tampere").versions.get()
    assert tampere.unit == "percent" and tampere.scheduled_hours_per_week["7"] == 30
    assert set(PRESETS) == {"lape", "vaasa", "tampere", "turku", "kemi", "heinola"}


def test_a_new_version_is_a_copy_and_the_newest_published_policy_is_active(categories):
    lape = create_policy_from_preset("lape", publish=True)
    assert active_policy_version() == lape.versions.get()
    draft = new_draft(lape)
    assert new_draft(lape) == draft  # one draft at a time
    assert draft.number == 2 and active_policy_version().number == 1  # a draft is not in use
    publish_version(draft)
    assert active_policy_version() == draft and lape.current_version() == draft
    assert PolicyVersion.objects.filter(policy=lape, number=1, published_at__isnull=False).exists()
    with pytest.raises(ValueError):
        publish_version(draft)
    turku = create_policy_from_preset("turku")
    assert active_policy_version() == draft  # a draft-only policy is not active
    publish_version(turku.versions.get())
    assert active_policy_version().policy == turku


# --- The editor ---------------------------------------------------------------------------------


@pytest.fixture
def admin(in_espoo):
    user = UserFactory()
    StaffRoleFactory(user=user, role=Role.MUNICIPAL_ADMIN, school=None)
    return user


@pytest.fixture
def admin_client(espoo, admin, categories):
    return sign_in(Client(headers={"host": host(espoo), "accept-language": "en"}), admin)


def policy_events():
    return list(AuditEvent.objects.filter(object_type="absences.policyversion").order_by("id"))


def edit_data(version, **changes) -> dict:
    """The edit form as the browser posts it, with ``changes`` applied."""
    data = {
        "version-counting_period": version.counting_period, "version-unit": version.unit,
        "version-check_dates_text": ", ".join(version.check_dates),
        "version-counted_categories": list(version.counted_categories),
        "version-consecutive_days": version.consecutive_days or "",
        "version-unexplained_after_days": version.unexplained_after_days or "",
        "bands-TOTAL_FORMS": version.bands.count() + 1, "bands-INITIAL_FORMS": version.bands.count(),
        "bands-MIN_NUM_FORMS": 0, "bands-MAX_NUM_FORMS": 1000,
    }
    for grade, hours in version.scheduled_hours_per_week.items():
        data[f"version-hours_grade_{grade}"] = hours
    for i, band in enumerate(version.bands.all()):
        data.update({f"bands-{i}-id": band.pk, f"bands-{i}-version": version.pk, f"bands-{i}-name": band.name,
                     f"bands-{i}-grade_min": band.grade_min, f"bands-{i}-grade_max": band.grade_max})
        steps = list(band.steps.order_by("level"))
        prefix = f"steps-{band.pk}"
        data.update({f"{prefix}-TOTAL_FORMS": len(steps) + 1, f"{prefix}-INITIAL_FORMS": len(steps),
                     f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000,
                     f"{prefix}-{len(steps)}-days_to_react": 7})  # the empty form's initial value
        for j, step in enumerate(steps):
            data.update({f"{prefix}-{j}-id": step.pk, f"{prefix}-{j}-band": band.pk,
                         f"{prefix}-{j}-level": step.level, f"{prefix}-{j}-threshold": step.threshold,
                         f"{prefix}-{j}-name": step.name, f"{prefix}-{j}-responsible_role": step.responsible_role,
                         f"{prefix}-{j}-notified_roles": list(step.notified_roles),
                         f"{prefix}-{j}-required_action": step.required_action,
                         f"{prefix}-{j}-days_to_react": step.days_to_react})
    data.update(changes)
    return data


def test_admin_picks_a_preset_edits_the_draft_and_publishes_a_new_version(admin_client, admin):
    page = admin_client.get("/absences/policies/")
    assert page.status_code == 200 and "No policy is in use yet" in text(page)
    response = admin_client.post("/absences/policies/preset/", {"preset": "lape"})
    policy = ThresholdPolicy.objects.get()
    assert response.status_code == 302 and response.url == f"/absences/policies/{policy.pk}/"
    version = policy.versions.get()
    edit = admin_client.get(response.url)
    assert edit.status_code == 200 and "Draft version 1" in text(edit)
    band = version.bands.get()
    step_prefix = f"steps-{band.pk}"
    response = admin_client.post(response.url, edit_data(version, **{
        "action": "publish", f"{step_prefix}-0-threshold": "25", "version-consecutive_days": ""}))
    assert response.status_code == 302, re.findall(r"errorlist[^<]*<li>[^<]*", text(response))
    version.refresh_from_db()
    assert version.published_at and version.consecutive_days is None
    assert band.steps.get(level=1).threshold == Decimal("25")
    assert active_policy_version() == version

    # A published version is not edited: a new draft is started from it.
    assert "Start a new version" in text(admin_client.get(f"/absences/policies/{policy.pk}/"))
    admin_client.post(f"/absences/policies/{policy.pk}/", {"action": "new_draft"})
    draft = policy.versions.get(number=2)
    band2 = draft.bands.get()
    response = admin_client.post(f"/absences/policies/{policy.pk}/", edit_data(draft, **{
        "action": "save", f"steps-{band2.pk}-1-threshold": "60"}))
    assert response.status_code == 302
    assert draft.bands.get().steps.get(level=2).threshold == 60
    assert version.bands.get().steps.get(level=2).threshold == 50  # version 1 unchanged
    assert active_policy_version() == version  # a saved draft is not in use
    listing = admin_client.get("/absences/policies/")
    assert [(row["current"], row["draft"], row["active"]) for row in listing.context["rows"]] == [
        (version, draft, True)]
    assert "In use" in text(listing) and "version 2" in text(listing)
    history = admin_client.get(f"/absences/policies/{policy.pk}/history/")
    assert "Version 2" in text(history) and "Version 1" in text(history)

    events = policy_events()
    assert [(e.action, e.detail["version"]) for e in events] == [
        (AuditAction.CREATE, 1), (AuditAction.UPDATE, 1), (AuditAction.CREATE, 2), (AuditAction.UPDATE, 2)]
    assert all(e.user_id == admin.pk for e in events)
    assert events[1].detail["published"] is True and events[3].detail["published"] is False


def test_the_editor_refuses_overlapping_bands_and_unordered_steps(admin_client):
    admin_client.post("/absences/policies/preset/", {"preset": "vaasa"})
    policy = ThresholdPolicy.objects.get()
    version = policy.versions.get()
    primary = version.bands.get(grade_min=1)
    response = admin_client.post(f"/absences/policies/{policy.pk}/", edit_data(version, **{
        "action": "save", "bands-0-grade_max": "7"}))
    assert response.status_code == 200 and "Grade 7 is in two bands." in text(response)
    response = admin_client.post(f"/absences/policies/{policy.pk}/", edit_data(version, **{
        "action": "save", f"steps-{primary.pk}-1-threshold": "20"}))
    assert response.status_code == 200
    assert "Each step needs a higher threshold than the step before it." in text(response)
    assert primary.steps.get(level=2).threshold == 60
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE, object_type="absences.policyversion").exists()


@pytest.mark.parametrize("role", [Role.PRINCIPAL, Role.MUNICIPAL_COORDINATOR, Role.CLASS_TEACHER,
                                  Role.SCHOOL_SOCIAL_WORKER, Role.DATA_PROTECTION_OFFICER])
def test_other_roles_get_403_on_every_policy_page_and_action(espoo, categories, role):
    user = UserFactory()
    municipal = role in (Role.MUNICIPAL_COORDINATOR, Role.DATA_PROTECTION_OFFICER)
    StaffRoleFactory(user=user, role=role, school=None if municipal else SchoolFactory())
    policy = create_policy_from_preset("lape")
    client = sign_in(Client(headers={"host": host(espoo)}), user)
    for method, path, data in [
        ("get", "/absences/policies/", None),
        ("post", "/absences/policies/preset/", {"preset": "kemi"}),
        ("get", f"/absences/policies/{policy.pk}/", None),
        ("post", f"/absences/policies/{policy.pk}/", {"action": "new_draft"}),
        ("get", f"/absences/policies/{policy.pk}/history/", None),
    ]:
        response = getattr(client, method)(path, data)
        assert response.status_code == 403, (path, response.status_code)
    assert ThresholdPolicy.objects.count() == 1 and not policy_events()


def test_visitors_are_sent_to_sign_in(espoo, categories):
    response = Client(headers={"host": host(espoo)}).get("/absences/policies/")
    assert response.status_code == 302 and "/accounts/login/" in response.url
