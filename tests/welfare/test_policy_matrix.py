"""Every role × every action, on real data in two municipalities (domain.md A4: need to know).

The expected table is written out here by hand, independently of welfare.policy.RULES:
  M  allowed on every object of the municipality
  S  allowed in the role's own school only
  G  allowed for the pupils of the class teacher's own groups only
  -  denied everywhere
Nothing is ever allowed in a municipality where the user holds no role.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tests.factories import SchoolFactory, StaffRoleFactory, StudentFactory, TeachingGroupFactory, UserFactory
from welfare import policy
from welfare.models import Role
from welfare.policy import Action

pytestmark = pytest.mark.django_db

ROLES = [Role.PRINCIPAL, Role.CLASS_TEACHER, Role.SPECIAL_NEEDS_TEACHER, Role.GUIDANCE_COUNSELLOR,
         Role.SCHOOL_SOCIAL_WORKER, Role.PSYCHOLOGIST, Role.SCHOOL_NURSE, Role.SCHOOL_DOCTOR,
         Role.MUNICIPAL_COORDINATOR, Role.MUNICIPAL_ADMIN, Role.DATA_PROTECTION_OFFICER]

#                          PR   CT   SNT  GC   KU   PS   NU   DR   CO   AD   DPO
EXPECTED = {
    Action.VIEW_SCHOOL:            "S S S S S S S S M M M",
    Action.VIEW_PUPIL:             "S G S S S S S S - - -",
    Action.VIEW_PUPIL_ABSENCES:    "S G S S S S S S - - -",
    Action.OPEN_ABSENCE_CASE:      "S G S - S S S S - - -",
    Action.LOG_CASE_ACTION:        "S G S - S S S S - - -",
    Action.IMPORT_ABSENCES:        "S - - - - - - - - M -",
    Action.MANAGE_POLICIES:        "- - - - - - - - - M -",
    Action.VIEW_ANNUAL_CLOCK:      "S S S S S S S S M M -",
    Action.EDIT_ANNUAL_CLOCK:      "S - S S S S S S - - -",
    Action.MANAGE_CLOCK_TEMPLATES: "- - - - - - - - M - -",
    Action.RECORD_GROUP_SESSION:   "S - - S S S S S - - -",
    Action.VIEW_OPEN_FEEDBACK:     "S - - S S S S S - - -",
    Action.MANAGE_PARENT_EVENINGS: "S - - - - - - - M - -",
    Action.VIEW_AGGREGATES:        "S - - - - - - - M M -",
    Action.EXPORT:                 "S - - - - - - - M - -",
    Action.MANAGE_STAFF:           "- - - - - - - - - M -",
    Action.IMPORT_REGISTER:        "- - - - - - - - - M -",
    Action.VIEW_AUDIT_LOG:         "- - - - - - - - - M M",
    Action.EXPORT_PUPIL_DATA:      "S - - - - - - - - - M",
    Action.MANAGE_RETENTION:       "- - - - - - - - - M M",
}
PUPIL_ACTIONS = {Action.VIEW_PUPIL, Action.VIEW_PUPIL_ABSENCES, Action.OPEN_ABSENCE_CASE, Action.LOG_CASE_ACTION,
                 Action.EXPORT_PUPIL_DATA}
MUNICIPAL = {Role.MUNICIPAL_COORDINATOR, Role.MUNICIPAL_ADMIN, Role.DATA_PROTECTION_OFFICER}


def test_every_action_is_in_the_table():
    assert set(EXPECTED) == set(Action)


@pytest.fixture
def world(espoo, vantaa):
    """Espoo: school A (group 7A with a pupil, group 7B with a pupil) and school B (a pupil).
    Vantaa: one school and pupil. One user per role, holding it in Espoo only."""
    with schema_context(espoo.schema_name):
        school_a, school_b = SchoolFactory(name="A"), SchoolFactory(name="B")
        group_a = TeachingGroupFactory(school=school_a, name="7A")
        own_group_pupil = StudentFactory(group=group_a)
        other_group_pupil = StudentFactory(group=TeachingGroupFactory(school=school_a, name="7B"))
        other_school_pupil = StudentFactory(group=TeachingGroupFactory(school=school_b, name="7C"))
        users = {}
        for role in ROLES:
            user = UserFactory(email=f"{role}@matrix.test")
            StaffRoleFactory(user=user, role=role, school=None if role in MUNICIPAL else school_a,
                             groups=[group_a] if role == Role.CLASS_TEACHER else None)
            users[role] = user
    with schema_context(vantaa.schema_name):
        vantaa_pupil = StudentFactory()
    return {"users": users, "schools": (school_a, school_b),
            "pupils": (own_group_pupil, other_group_pupil, other_school_pupil), "vantaa_pupil": vantaa_pupil}


@pytest.mark.parametrize("action", list(Action))
def test_role_by_action_matrix(world, espoo, vantaa, action):
    codes = EXPECTED[action].split()
    own_group_pupil, other_group_pupil, other_school_pupil = world["pupils"]
    school_a, school_b = world["schools"]
    for role, code in zip(ROLES, codes, strict=True):
        user = world["users"][role]
        policy.forget_roles(user)
        if action in PUPIL_ACTIONS:
            cases = [(own_group_pupil, code in "MSG"), (other_group_pupil, code in "MS"),
                     (other_school_pupil, code == "M")]
        else:
            cases = [(school_a, code in "MS"), (school_b, code == "M")]
        with schema_context(espoo.schema_name):
            for obj, expected in cases:
                assert policy.can(user, action, obj) is expected, f"{role} {action} {obj!r}: expected {expected}"
            assert policy.can(user, action) is (code != "-"), f"{role} {action} anywhere"
        policy.forget_roles(user)
        with schema_context(vantaa.schema_name):
            target = world["vantaa_pupil"] if action in PUPIL_ACTIONS else world["vantaa_pupil"].school
            assert policy.can(user, action, target) is False, f"{role} {action} in Vantaa"
            assert policy.can(user, action) is False
        policy.forget_roles(user)


@pytest.mark.parametrize("action", [Action.VIEW_PUPIL_ABSENCES, Action.OPEN_ABSENCE_CASE, Action.VIEW_SCHOOL])
def test_holders_names_exactly_the_users_can_allows(world, espoo, action):
    """Notifications are addressed with policy.holders(): the batch answer must be can()'s."""
    from welfare.models import CaseloadAssignment, MunicipalSettings

    own_group_pupil, other_group_pupil, other_school_pupil = world["pupils"]
    with schema_context(espoo.schema_name):
        CaseloadAssignment.objects.create(user_id=world["users"][Role.PSYCHOLOGIST].pk, student=own_group_pupil)
        for scope in ("school", "caseload"):
            MunicipalSettings.objects.update_or_create(pk=1, defaults={"welfare_staff_scope": scope})
            targets = {pupil: policy.target_of(pupil) for pupil in world["pupils"]}
            answer = policy.holders(action, targets.values())
            for pupil, target in targets.items():
                expected = set()
                for user in world["users"].values():
                    policy.forget_roles(user)
                    if policy.can(user, action, pupil):
                        expected.add(user.pk)
                assert answer[target] == expected, (scope, pupil)
            assert answer[targets[other_school_pupil]] == (
                {world["users"][r].pk for r in (Role.MUNICIPAL_COORDINATOR, Role.MUNICIPAL_ADMIN,
                                                Role.DATA_PROTECTION_OFFICER)} if action == Action.VIEW_SCHOOL
                else set())
        # only the roles asked for; a deactivated account is nobody's recipient
        teacher = world["users"][Role.CLASS_TEACHER]
        only = policy.holders(action, [targets[own_group_pupil]], roles={Role.CLASS_TEACHER})
        assert only[targets[own_group_pupil]] == {teacher.pk}
        teacher.is_active = False
        teacher.save(update_fields=["is_active"])
        only = policy.holders(action, [targets[own_group_pupil]], roles={Role.CLASS_TEACHER})
        assert only[targets[own_group_pupil]] == set()


@pytest.mark.parametrize("role", ROLES)
def test_pupil_lists_are_filtered_by_the_same_rules(world, espoo, vantaa, role):
    own_group_pupil, other_group_pupil, other_school_pupil = world["pupils"]
    code = EXPECTED[Action.VIEW_PUPIL].split()[ROLES.index(role)]
    expected = {"S": {own_group_pupil, other_group_pupil}, "G": {own_group_pupil}, "-": set()}[code]
    user = world["users"][role]
    with schema_context(espoo.schema_name):
        assert set(policy.visible_students(user)) == expected
    policy.forget_roles(user)
    with schema_context(vantaa.schema_name):
        assert not policy.visible_students(user).exists()
    policy.forget_roles(user)


def test_caseload_scoping_limits_welfare_staff_to_assigned_pupils(world, espoo):
    from welfare.models import CaseloadAssignment, MunicipalSettings

    own_group_pupil, other_group_pupil, _ = world["pupils"]
    kuraattori = world["users"][Role.SCHOOL_SOCIAL_WORKER]
    with schema_context(espoo.schema_name):
        CaseloadAssignment.objects.create(user_id=kuraattori.pk, student=other_group_pupil)
        assert set(policy.visible_students(kuraattori)) == {own_group_pupil, other_group_pupil}  # school scope
        MunicipalSettings.objects.update_or_create(pk=1, defaults={"welfare_staff_scope": "caseload"})
        policy.forget_roles(kuraattori)  # the scoping is memoised with the grants
        assert set(policy.visible_students(kuraattori)) == {other_group_pupil}
        assert policy.can(kuraattori, Action.OPEN_ABSENCE_CASE, other_group_pupil)
        assert not policy.can(kuraattori, Action.OPEN_ABSENCE_CASE, own_group_pupil)
        # The principal is not welfare staff: still the whole school.
        principal = world["users"][Role.PRINCIPAL]
        assert set(policy.visible_students(principal)) == {own_group_pupil, other_group_pupil}


def test_revoked_and_deactivated_grants_allow_nothing(world, espoo):
    from django.utils import timezone

    from welfare.models import StaffRole

    principal = world["users"][Role.PRINCIPAL]
    own_group_pupil = world["pupils"][0]
    with schema_context(espoo.schema_name):
        StaffRole.objects.filter(user_id=principal.pk).update(revoked_at=timezone.now())
        policy.forget_roles(principal)
        assert not policy.can(principal, Action.VIEW_PUPIL, own_group_pupil)
        teacher = world["users"][Role.CLASS_TEACHER]
        teacher.is_active = False
        assert not policy.visible_students(teacher).exists()


def test_mfa_is_required_exactly_for_roles_that_can_open_pupil_data():
    assert policy.MFA_REQUIRED_ROLES == set(ROLES) - {Role.MUNICIPAL_COORDINATOR}
