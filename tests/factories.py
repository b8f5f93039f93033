"""factory_boy factories for tenant and shared models. Use inside a municipality's schema
(the `in_espoo` / `in_vantaa` fixtures or django_tenants.utils.schema_context)."""

from __future__ import annotations

import datetime

import factory
from factory.django import DjangoModelFactory

from welfare.accounts.models import User
from welfare.models import Guardian, Role, School, SchoolType, SchoolYear, StaffRole, Student, TeachingGroup, Term


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.fi")
    first_name = factory.Faker("first_name", locale="fi_FI")
    last_name = factory.Faker("last_name", locale="fi_FI")
    password = factory.django.Password("correct horse battery")


class SchoolFactory(DjangoModelFactory):
    class Meta:
        model = School

    external_id = factory.Sequence(lambda n: f"S{n:04d}")
    name = factory.Sequence(lambda n: f"Koulu {n}")
    school_type = SchoolType.BASIC
    grade_min = 1
    grade_max = 9
    language = "fi"
    area = "Keskus"


class SchoolYearFactory(DjangoModelFactory):
    class Meta:
        model = SchoolYear
        django_get_or_create = ("name",)

    name = "2026–2027"
    start_date = datetime.date(2026, 8, 1)
    end_date = datetime.date(2027, 7, 31)


class TermFactory(DjangoModelFactory):
    class Meta:
        model = Term

    school_year = factory.SubFactory(SchoolYearFactory)
    name = "syksy"
    start_date = datetime.date(2026, 8, 12)
    end_date = datetime.date(2026, 12, 21)


class TeachingGroupFactory(DjangoModelFactory):
    class Meta:
        model = TeachingGroup

    school = factory.SubFactory(SchoolFactory)
    school_year = factory.SubFactory(SchoolYearFactory)
    grade = 7
    name = factory.Sequence(lambda n: f"7{chr(65 + n % 26)}{n}")


class StudentFactory(DjangoModelFactory):
    class Meta:
        model = Student

    external_id = factory.Sequence(lambda n: f"P{n:06d}")
    first_name = factory.Faker("first_name", locale="fi_FI")
    last_name = factory.Faker("last_name", locale="fi_FI")
    group = factory.SubFactory(TeachingGroupFactory)
    school = factory.SelfAttribute("group.school")
    grade = factory.SelfAttribute("group.grade")
    home_language = "fi"


class GuardianFactory(DjangoModelFactory):
    class Meta:
        model = Guardian

    name = factory.Faker("name", locale="fi_FI")
    language = "fi"


class StaffRoleFactory(DjangoModelFactory):
    """A role grant; pass user=<User> (stored as user_id) and school=<School> or None."""

    class Meta:
        model = StaffRole
        exclude = ("user",)
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    user_id = factory.SelfAttribute("user.pk")
    role = Role.PRINCIPAL
    school = factory.SubFactory(SchoolFactory)

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set(extracted)


TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def give_totp(user, secret: str = TEST_TOTP_SECRET):
    """Set up the second factor (TOTP) for a user, as allauth does after activation."""
    from allauth.mfa.totp.internal.auth import TOTP

    return TOTP.activate(user, secret)


def totp_code(secret: str = TEST_TOTP_SECRET, offset_seconds: int = 0) -> str:
    """The authenticator app's current code for ``secret``.

    A code read in the last seconds of its 30-second window may be checked in the next
    one; like a person would, wait for the fresh code then, so a slow browser test
    never submits a code that has just expired."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    left = 30 - (time.time() + offset_seconds) % 30
    if left < 4:
        time.sleep(left + 0.1)
    return format_hotp_value(hotp_value(secret, int((time.time() + offset_seconds) // 30)))


def sign_in(client, user, *, mfa_age_seconds: float | None = 0):
    """Sign ``user`` in on ``client`` as after password + TOTP, ``mfa_age_seconds`` ago
    (None: password only). Sets up TOTP for the user if missing."""
    import time

    from allauth.mfa.models import Authenticator

    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        give_totp(user)
    client.force_login(user)
    session = client.session
    records = [{"method": "password", "at": time.time(), "email": user.email}]
    if mfa_age_seconds is not None:
        records.append({"method": "mfa", "at": time.time() - mfa_age_seconds, "type": "totp"})
    session["account_authentication_methods_user"] = str(user.pk)
    session["account_authentication_methods"] = records
    session.save()
    return client
