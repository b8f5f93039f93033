"""No pupil identity anywhere in the module (domain.md A1): the models hold no relation to a pupil
or guardian and no field for a person's name, contact details or identity number; feedback keeps
no IP address and no device id, only a keyed hash."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from groupsessions.models import FeedbackResponse, SessionStatus
from tests.conftest import host
from tests.groupsessions.factories import GroupSessionFactory
from welfare.models import Guardian, Student

PERSONAL = re.compile(r"(^|_)(first_?name|last_?name|full_?name|surname|given_?name|pupil_?name|student_?name|"
                      r"e_?mail|phone|mobile|address|ssn|hetu|henkilotunnus|personal_?id|identity|birth|"
                      r"ip|ip_address|device_?id|student|pupil|guardian)($|_)")
ALLOWED = {
    # Counts of pupils, not pupils.
    ("groupsession", "pupils_present"), ("groupsession", "pupils_enrolled"),
}


def module_models():
    return list(apps.get_app_config("groupsessions").get_models())


def test_the_scan_sees_every_model():
    assert {m.__name__ for m in module_models()} >= {
        "GroupSession", "CohortGroup", "SessionStaff", "FollowUp", "FeedbackResponse", "GroupSessionSettings"}


@pytest.mark.parametrize("model", module_models(), ids=lambda m: m.__name__)
def test_no_relation_to_a_pupil_or_guardian(model):
    for field in model._meta.get_fields():
        related = getattr(field, "related_model", None)
        assert related not in (Student, Guardian), f"{model.__name__}.{field.name} refers to {related.__name__}"
        if related is not None and related._meta.app_label == "welfare":
            # Only communal structures: schools, school years, teaching groups.
            assert related.__name__ in {"School", "SchoolYear", "TeachingGroup"}, (model.__name__, field.name)


@pytest.mark.parametrize("model", module_models(), ids=lambda m: m.__name__)
def test_no_field_for_a_persons_identity(model):
    for field in model._meta.get_fields():
        if field.is_relation and field.auto_created:
            continue
        name = field.name.lower()
        if (model.__name__.lower(), name) in ALLOWED:
            continue
        assert not PERSONAL.search(name), f"{model.__name__}.{field.name} looks like personal data"
        assert not isinstance(field, models.GenericIPAddressField | models.EmailField), (model.__name__, field.name)


def test_the_scan_would_catch_a_name_field():
    assert PERSONAL.search("first_name") and PERSONAL.search("student") and PERSONAL.search("ip_address")
    assert PERSONAL.search("guardian_phone") and PERSONAL.search("student_id")
    assert not PERSONAL.search("place") and not PERSONAL.search("device_hash")


@pytest.mark.django_db
def test_a_stored_response_holds_neither_the_address_nor_the_device_id(espoo, world):
    with schema_context(espoo.schema_name):
        session = GroupSessionFactory(cohort_group=world["g7a"], status=SessionStatus.HELD,
                                      feedback_closes_at=timezone.now() + timezone.timedelta(days=1))
    phone = Client(headers={"host": host(espoo)}, REMOTE_ADDR="192.0.2.77")
    path = f"/group-sessions/feedback/{session.feedback_token}/"
    cookie = phone.get(path).cookies["yhdessa_feedback_device"].value
    assert phone.post(path, {"statement_1": "5"}).status_code == 302
    with schema_context(espoo.schema_name):
        row = FeedbackResponse.objects.values().get()
    stored = " ".join(str(value) for value in row.values())
    assert "192.0.2.77" not in stored
    assert cookie.split(":")[0] not in stored
