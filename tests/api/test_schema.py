"""The OpenAPI document, and schemathesis against it: no 5xx, every response as documented.

This is the "CI fuzzes the API against its schema on demo data" check: schemathesis loads
/api/schema/ from the WSGI app in-process (same database connection and test transaction
as the fixtures), generates requests for every operation, valid and invalid, and fails on
a server error or a response body that does not match the schema.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django_tenants.utils import schema_context
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application
from tests.conftest import host
from welfare.models import Role, Student

pytestmark = pytest.mark.django_db

SCHEMA_PATH = "/api/schema/?format=json"
OPERATIONS = {
    ("DELETE", "/api/v1/annual-clock/activities/{id}/"),
    ("GET", "/api/v1/absences/cases/"),
    ("GET", "/api/v1/absences/cases/{id}/"),
    ("GET", "/api/v1/absences/imports/"),
    ("GET", "/api/v1/absences/imports/{id}/"),
    ("GET", "/api/v1/absences/policies/"),
    ("GET", "/api/v1/absences/policies/{id}/"),
    ("GET", "/api/v1/absences/records/"),
    ("GET", "/api/v1/annual-clock/activities/"),
    ("GET", "/api/v1/annual-clock/activities/{id}/"),
    ("GET", "/api/v1/annual-clock/clocks/"),
    ("GET", "/api/v1/annual-clock/clocks/{id}/"),
    ("GET", "/api/v1/annual-clock/evaluations/"),
    ("GET", "/api/v1/annual-clock/evaluations/{id}/"),
    ("GET", "/api/v1/annual-clock/feeds/"),
    ("GET", "/api/v1/annual-clock/feeds/{id}/"),
    ("GET", "/api/v1/annual-clock/rings/"),
    ("GET", "/api/v1/annual-clock/rings/{id}/"),
    ("GET", "/api/v1/annual-clock/templates/"),
    ("GET", "/api/v1/annual-clock/templates/{id}/"),
    ("GET", "/api/v1/group-sessions/cohort-groups/"),
    ("GET", "/api/v1/group-sessions/cohort-groups/{id}/"),
    ("GET", "/api/v1/group-sessions/coverage/"),
    ("GET", "/api/v1/group-sessions/sessions/"),
    ("GET", "/api/v1/group-sessions/sessions/{id}/"),
    ("GET", "/api/v1/group-sessions/sessions/{id}/feedback/"),
    ("GET", "/api/v1/groups/"),
    ("GET", "/api/v1/groups/{id}/"),
    ("GET", "/api/v1/notifications/"),
    ("GET", "/api/v1/parent-evenings/evenings/"),
    ("GET", "/api/v1/parent-evenings/evenings/{id}/"),
    ("GET", "/api/v1/parent-evenings/evenings/{id}/feedback-summary/"),
    ("GET", "/api/v1/parent-evenings/interpreters/"),
    ("GET", "/api/v1/parent-evenings/interpreters/{id}/"),
    ("GET", "/api/v1/parent-evenings/invitations/"),
    ("GET", "/api/v1/parent-evenings/invitations/{id}/"),
    ("GET", "/api/v1/parent-evenings/languages/"),
    ("GET", "/api/v1/parent-evenings/languages/{id}/"),
    ("GET", "/api/v1/parent-evenings/registrations/"),
    ("GET", "/api/v1/parent-evenings/registrations/{id}/"),
    ("GET", "/api/v1/school-years/"),
    ("GET", "/api/v1/school-years/{id}/"),
    ("GET", "/api/v1/schools/"),
    ("GET", "/api/v1/schools/{id}/"),
    ("GET", "/api/v1/students/"),
    ("GET", "/api/v1/students/{id}/"),
    ("PATCH", "/api/v1/annual-clock/activities/{id}/"),
    ("PATCH", "/api/v1/annual-clock/clocks/{id}/"),
    ("PATCH", "/api/v1/annual-clock/evaluations/{id}/"),
    ("PATCH", "/api/v1/annual-clock/templates/{id}/"),
    ("POST", "/api/v1/absences/cases/{id}/actions/"),
    ("POST", "/api/v1/absences/imports/"),
    ("POST", "/api/v1/annual-clock/activities/"),
    ("POST", "/api/v1/annual-clock/clocks/"),
    ("POST", "/api/v1/annual-clock/evaluations/"),
    ("POST", "/api/v1/annual-clock/feeds/"),
    ("POST", "/api/v1/annual-clock/feeds/{id}/regenerate/"),
    ("POST", "/api/v1/annual-clock/feeds/{id}/revoke/"),
    ("POST", "/api/v1/annual-clock/templates/"),
    ("POST", "/api/v1/annual-clock/templates/{id}/adopt/"),
    ("POST", "/api/v1/group-sessions/cohort-groups/"),
    ("POST", "/api/v1/group-sessions/sessions/"),
    ("POST", "/api/v1/group-sessions/sessions/{id}/record/"),
    ("POST", "/api/v1/notifications/{id}/read/"),
    ("POST", "/api/v1/parent-evenings/public/registrations/"),
}


def test_schema_is_a_valid_openapi_3_document_covering_the_api_only(espoo_client):
    response = espoo_client.get(SCHEMA_PATH)
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    validate_schema(document)  # raises jsonschema.ValidationError on an invalid document
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert operations == OPERATIONS  # nothing outside /api/v1/ (no /healthz, no i18n), nothing missing
    assert {"tokenAuth", "cookieAuth"} <= set(document["components"]["securitySchemes"])
    assert document == _generated_schema()  # what schemathesis below fuzzes is what clients get


def test_schema_is_not_served_on_the_bare_host(municipalities):
    from django.test import Client

    assert Client(headers={"host": "localhost"}).get(SCHEMA_PATH).status_code == 404


# --- schemathesis ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded_demo(municipalities, django_db_blocker):
    """The small demo (seed_demo), committed once for this module and emptied afterwards."""
    from tests.dbutil import empty_committed_data
    from welfare.services.demo import seed_demo

    with django_db_blocker.unblock():
        seed_demo("small")
    yield
    with django_db_blocker.unblock():
        empty_committed_data()
        connection.set_schema_to_public()


@pytest.fixture
def demo_data(seeded_demo, espoo):
    """The demo principal of Espoo and an API token to read with."""
    principal = get_user_model().objects.get(email=f"{Role.PRINCIPAL}@espoo.demo")
    with schema_context(espoo.schema_name):
        assert Student.objects.exists()
    return {"token": Token.objects.get_or_create(user=principal)[0].key}


@pytest.fixture
def keep_test_transaction():
    """Django's WSGI handler closes the connection when a request starts and finishes, which would
    end the test's transaction; Django's own test client switches this off the same way."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def _generated_schema() -> dict:
    """The document /api/schema/ serves, built without a request (the test above proves they match).

    Built at import because ``schemathesis.pytest.from_fixture`` (lazy loading through a fixture)
    fails on pytest 9 (it sets ``node._nodeid``, which pytest 9 no longer has).
    """
    document = SchemaGenerator(urlconf="config.urls").get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


schema = schemathesis.openapi.from_dict(_generated_schema())
schema.app = application  # calls go to the WSGI app in-process: same connection, same test transaction


@schema.parametrize()
# No example database: nothing written into the repository; a failure prints its reproduction.
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_api_never_fails_and_matches_its_schema(case, espoo, demo_data, keep_test_transaction):
    case.call_and_validate(
        headers={"Host": host(espoo), "Authorization": f"Token {demo_data['token']}"},
        checks=[not_a_server_error, response_schema_conformance],
    )


def test_schema_generates_without_warnings(tmp_path):
    """`manage.py spectacular --validate --fail-on-warn`: every app's endpoints are annotated and
    every choice set has its own enum name (settings.SPECTACULAR_SETTINGS)."""
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")
