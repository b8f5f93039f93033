"""seed_demo: demo municipalities a person can open and sign in to, as every role, with TOTP."""

from __future__ import annotations

import io
import time
import unicodedata
from datetime import date

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from welfare.accounts.models import User
from welfare.models import Guardian, Role, School, SchoolType, SchoolYear, StaffRole, Student, TeachingGroup
from welfare.services.demo import (
    COUNTY_COUNSELLOR_EMAIL,
    PLATFORM_ADMIN_EMAIL,
    demo_email,
    demo_totp_secret,
    school_year_dates,
    seed_demo,
)
from welfare.services.demo.catalogue import HELSINKI_SCHOOLS, HELSINKI_STUDENTS, helsinki

SLUGS = ("espoo", "vantaa")


@pytest.fixture
def locmem_cache(settings):
    """allauth remembers used TOTP codes in the cache; keep tests off the shared Redis."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def seeded(municipalities, db):
    return seed_demo("small")


def _current_code() -> str:
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(demo_totp_secret(), counter))


def _is_latin(text: str) -> bool:
    return all(unicodedata.name(ch).startswith("LATIN") for ch in text if ch.isalpha())


# --- Without the database --------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [(date(2026, 11, 23), "2026–2027"), (date(2027, 7, 31), "2026–2027"), (date(2027, 8, 1), "2027–2028")],
)
def test_school_year_follows_the_date(today, expected):
    start_year = today.year if today.month >= 8 else today.year - 1
    dates = school_year_dates(start_year)
    assert dates["name"] == expected
    assert dates["start"] <= today <= dates["end"]
    (autumn, autumn_start, autumn_end), (spring, spring_start, spring_end) = dates["terms"]
    assert (autumn, spring) == ("syksy", "kevät")
    assert autumn_start.month == 8 and 8 <= autumn_start.day <= 14 and autumn_end.month == 12
    assert spring_start.month == 1 and spring_end.month in (5, 6)


def test_helsinki_has_150_schools_and_exactly_50000_students():
    spec = helsinki()
    assert len(spec.schools) == HELSINKI_SCHOOLS
    assert sum(school.pupils for school in spec.schools) == HELSINKI_STUDENTS
    assert {school.school_type for school in spec.schools} == {
        SchoolType.BASIC, SchoolType.UPPER_SECONDARY, SchoolType.VOCATIONAL
    }
    assert len({school.name for school in spec.schools}) == HELSINKI_SCHOOLS
    assert helsinki() == spec  # deterministic


# --- The small seed ----------------------------------------------------------------------


def test_small_seed_gives_both_municipalities_realistic_schools_and_pupils(seeded):
    for slug in SLUGS:
        with schema_context(slug):
            schools = list(School.objects.all())
            assert {s.school_type for s in schools} >= {
                SchoolType.BASIC, SchoolType.UPPER_SECONDARY, SchoolType.VOCATIONAL
            }
            assert {s.language for s in schools} == {"fi", "sv"}
            # the bilingual campus: a Finnish and a Swedish basic school in one area
            basic_areas = {(s.area, s.language) for s in schools if s.school_type == SchoolType.BASIC}
            assert any((area, "sv") in basic_areas for area, language in basic_areas if language == "fi")

            today = timezone.localdate()
            current = SchoolYear.objects.get(start_date__lte=today, end_date__gte=today)
            assert current.terms.count() == 2
            assert SchoolYear.objects.filter(end_date__lt=current.start_date).exists()
            assert set(TeachingGroup.objects.filter(school=schools[0]).values_list("school_year", flat=True)) == {
                current.pk
            }

            students = Student.objects.all()
            assert 500 < students.count() <= 1500
            languages = set(students.values_list("home_language", flat=True))
            assert {"fi", "sv"} < languages and len(languages) >= 5
            swedish_school_pupils = students.filter(school__language="sv")
            assert swedish_school_pupils.filter(home_language="sv").count() > swedish_school_pupils.count() / 2
            for group in TeachingGroup.objects.all():
                assert 15 <= group.students.count() <= 25, group
            assert all(_is_latin(f"{s.first_name}{s.last_name}") for s in students)

            guardians_per_student = set(students.annotate(n=Count("guardians")).values_list("n", flat=True))
            assert guardians_per_student == {1, 2}


def test_every_role_signs_in_with_password_and_the_shared_totp(seeded, locmem_cache):
    for role in Role:
        client = Client(headers={"host": "espoo.localhost"})
        email = demo_email(role.value, "espoo")
        assert EmailAddress.objects.filter(email=email, verified=True, primary=True).exists()
        response = client.post("/accounts/login/", {"login": email, "password": settings.DEMO_PASSWORD})
        assert response.status_code == 302 and "2fa" in response["Location"], (role, response)
        response = client.post(response["Location"], {"code": _current_code()})
        assert response.status_code == 302, (role, response)
        assert client.session["_auth_user_id"] == str(User.objects.get(email=email).pk), role


def test_totp_code_from_the_shared_secret_validates(seeded, locmem_cache):
    user = User.objects.get(email="kuraattori@vantaa.demo")
    totp = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).wrap()
    assert not totp.validate_code(f"{(int(_current_code()) + 1) % 10**6:06d}")
    assert totp.validate_code(_current_code())
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists()
    admin = User.objects.get(email=PLATFORM_ADMIN_EMAIL)
    assert admin.is_superuser and admin.check_password(settings.DEMO_PASSWORD)


def test_grants_follow_need_to_know_and_the_county_counsellor_works_in_both(seeded):
    county = User.objects.get(email=COUNTY_COUNSELLOR_EMAIL)
    for slug in SLUGS:
        with schema_context(slug):
            assert StaffRole.objects.filter(user_id=county.pk, role=Role.SCHOOL_SOCIAL_WORKER).exists()
            teacher = User.objects.get(email=demo_email(Role.CLASS_TEACHER, slug))
            grant = StaffRole.objects.get(user_id=teacher.pk)
            assert [group.name for group in grant.groups.all()] == ["7A"]
            counsellor = User.objects.get(email=demo_email(Role.SCHOOL_SOCIAL_WORKER, slug))
            assert StaffRole.objects.filter(user_id=counsellor.pk).values("school").distinct().count() == 2
            coordinator = User.objects.get(email=demo_email(Role.MUNICIPAL_COORDINATOR, slug))
            assert StaffRole.objects.get(user_id=coordinator.pk).school is None
            assert StaffRole.objects.values("role").distinct().count() == len(Role)


def test_second_run_creates_nothing_and_prints_how_to_sign_in(seeded):
    def counts():
        result = {"users": User.objects.count(), "emails": EmailAddress.objects.count(),
                  "authenticators": Authenticator.objects.count()}
        for slug in SLUGS:
            with schema_context(slug):
                for model in (School, TeachingGroup, Student, Guardian, StaffRole, SchoolYear):
                    result[f"{slug}.{model.__name__}"] = model.objects.count()
        return result

    before = counts()
    out = io.StringIO()
    started = time.perf_counter()
    call_command("seed_demo", stdout=out)
    assert time.perf_counter() - started < 2
    assert counts() == before
    text = out.getvalue()
    for expected in ("http://espoo.localhost:8000/", "http://vantaa.localhost:8000/", "http://localhost:8000/",
                     "rehtori@espoo.demo", COUNTY_COUNSELLOR_EMAIL, settings.DEMO_PASSWORD,
                     f"DEMO_TOTP_SECRET={demo_totp_secret()}", "already seeded"):
        assert expected in text
