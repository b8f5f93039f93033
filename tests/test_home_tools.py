"""The front page offers each signed-in person the tools their roles open, and no others."""

import pytest
from django_tenants.utils import schema_context

from tests.factories import SchoolFactory, StaffRoleFactory, UserFactory, sign_in
from welfare.models import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("role", "expected", "absent"), [
    (Role.MUNICIPAL_ADMIN, ["/staff/", "/dashboard/imports/", "/audit/", "/privacy/retention/"], ["/pupils/"]),
    (Role.DATA_PROTECTION_OFFICER, ["/audit/", "/privacy/subject-access/"], ["/staff/", "/pupils/"]),
    (Role.PRINCIPAL, ["/pupils/", "/privacy/subject-access/"], ["/staff/", "/audit/"]),
    (Role.MUNICIPAL_COORDINATOR, [], ["/pupils/", "/staff/", "/audit/", "/privacy/"]),
])
def test_front_page_tools_follow_the_policy(espoo, espoo_client, role, expected, absent):
    user = UserFactory()
    with schema_context(espoo.schema_name):
        StaffRoleFactory(user=user, role=role, school=None if role in {
            Role.MUNICIPAL_ADMIN, Role.DATA_PROTECTION_OFFICER, Role.MUNICIPAL_COORDINATOR} else SchoolFactory())
    sign_in(espoo_client, user)
    body = espoo_client.get("/").content.decode()
    for url in expected:
        assert f'href="{url}"' in body, url
    for url in absent:
        assert f'href="{url}' not in body, url
