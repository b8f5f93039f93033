import pytest

from tests.factories import StaffRoleFactory, StudentFactory, UserFactory
from welfare import policy
from welfare.models import Role

pytestmark = pytest.mark.django_db


def test_class_teacher_sees_only_own_group(in_espoo):
    mine = StudentFactory()
    other = StudentFactory(group__school=mine.school)
    teacher = UserFactory()
    StaffRoleFactory(user=teacher, role=Role.CLASS_TEACHER, school=mine.school, groups=[mine.group])
    assert list(policy.visible_students(teacher)) == [mine]
    assert other not in policy.visible_students(teacher)
