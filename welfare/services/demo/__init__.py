"""Demo data: municipalities, schools, pupils, guardians and a sign-in for every staff role.

``seed_demo()`` is called by the ``seed_demo`` management command (``make run`` seeds ``small``)
and by tests; never from a web request. It is idempotent: a municipality whose schema already
holds schools is left as it is, existing demo users are kept, so a second run only checks.

Every demo account uses ``settings.DEMO_PASSWORD`` and one shared TOTP secret
(``DEMO_TOTP_SECRET``), so a person can add it once to an authenticator app and sign in as
any role through the real two-step flow.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from welfare.accounts.models import User
from welfare.models import (
    MUNICIPAL_ROLES,
    ContactPreference,
    Guardian,
    Role,
    School,
    SchoolType,
    SchoolYear,
    StaffRole,
    Student,
    TeachingGroup,
)
from welfare.services.demo.accounts import (
    COUNTY_COUNSELLOR_EMAIL,
    PLATFORM_ADMIN_EMAIL,
    DemoAccount,
    demo_email,
    demo_totp_secret,
    ensure_demo_users,
    staff_accounts,
)
from welfare.services.demo.catalogue import ESPOO, VANTAA, MunicipalitySpec, SchoolSpec, helsinki
from welfare.services.demo.names import OTHER_LANGUAGE_WEIGHTS, NameMaker
from welfare.services.demo.school_years import ensure_school_years, school_year_dates
from welfare.services.municipalities import create_municipality

SCALES: tuple[str, ...] = ("small", "helsinki")
__all__ = [
    "COUNTY_COUNSELLOR_EMAIL", "PLATFORM_ADMIN_EMAIL", "SCALES", "SeedResult", "demo_email", "demo_totp_secret",
    "ensure_school_years", "school_year_dates", "seed_demo",
]

# The county counsellor serves each city's bilingual campus (domain.md A2: roles in two schemas).
COUNTY_COUNSELLOR_SCHOOLS = {
    "espoo": ("Kirkkojärven koulu", "Lagstads skola"),
    "vantaa": ("Koivukylän koulu", "Björkby skola"),
}
BATCH_SIZE = 5000
GROUP_SIZE_SMALL = (15, 25)
GROUP_SIZE_TARGET = 22  # pupils per group when a head count is given (large scale)
CONTACT_WEIGHTS = {
    ContactPreference.WILMA: 60,
    ContactPreference.SMS: 20,
    ContactPreference.EMAIL: 15,
    ContactPreference.LETTER: 5,
}


# --- Results -----------------------------------------------------------------------


@dataclass
class MunicipalitySeed:
    """What one municipality holds after the run, and whether this run created it."""

    slug: str
    name: str
    schema_created: bool
    data_created: bool
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class DemoLogin:
    label: str
    email: str
    where: tuple[str, ...]  # municipality slugs, or () for the platform


@dataclass
class SeedResult:
    scale: str
    seconds: float
    municipalities: list[MunicipalitySeed]
    logins: list[DemoLogin]
    users_created: int
    password: str
    totp_secret: str


# --- Configuration -------------------------------------------------------------------


def municipality_specs(scale: str) -> list[MunicipalitySpec]:
    """Espoo and Vantaa always (small); ``helsinki`` adds a full-size Helsinki."""
    if scale not in SCALES:
        raise ValueError(f"Unknown scale {scale!r}: use one of {', '.join(SCALES)}.")
    specs = [ESPOO, VANTAA]
    if scale == "helsinki":
        specs.append(helsinki())
    return specs


# --- Schools, groups, pupils, guardians ------------------------------------------------


def _split_evenly(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if index < extra else 0) for index in range(parts)]


def _letter(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else str(index + 1)


def _group_name(spec: SchoolSpec, grade: int, index: int, year_start: int) -> str:
    """7A, 7B in basic education; by starting year in upper secondary (26A) and vocational (SOTE26)."""
    if spec.school_type == SchoolType.BASIC:
        return f"{grade}{_letter(index)}"
    started = f"{(year_start - grade + 1) % 100:02d}"
    if spec.school_type == SchoolType.VOCATIONAL and spec.programmes:
        programme = spec.programmes[index % len(spec.programmes)]
        round_ = index // len(spec.programmes)
        return f"{programme}{started}" + (_letter(round_) if round_ else "")
    return f"{started}{_letter(index)}"


def group_plan(spec: SchoolSpec, year_start: int, rng: random.Random) -> list[tuple[int, str, int]]:
    """(grade, group name, pupils) for each group of the school in the school year."""
    grades = list(spec.grades)
    per_grade = _split_evenly(spec.pupils, len(grades)) if spec.pupils is not None else []
    plan = []
    for position, grade in enumerate(grades):
        if spec.pupils is None:
            sizes = [rng.randint(*GROUP_SIZE_SMALL) for _ in range(2 if grade in spec.double_grades else 1)]
        else:
            sizes = _split_evenly(per_grade[position], max(1, round(per_grade[position] / GROUP_SIZE_TARGET)))
        for index, size in enumerate(sizes):
            plan.append((grade, _group_name(spec, grade, index, year_start), size))
    return plan


class _People:
    """Draws home languages, names and guardians for one municipality, deterministically."""

    def __init__(self, spec: MunicipalitySpec, names: NameMaker) -> None:
        self.spec = spec
        self.names = names
        self.rng = random.Random(spec.seed)
        self.others = list(OTHER_LANGUAGE_WEIGHTS)
        self.other_weights = list(OTHER_LANGUAGE_WEIGHTS.values())
        self.contacts = list(CONTACT_WEIGHTS)
        self.contact_weights = list(CONTACT_WEIGHTS.values())

    def home_language(self, school_language: str) -> str:
        draw = self.rng.random()
        if school_language == "sv":  # Swedish schools: mostly Swedish, some Finnish-speaking families
            if draw < 0.82:
                return "sv"
            if draw < 0.92:
                return "fi"
        else:
            if draw < self.spec.finnish_share:
                return "fi"
            if draw < self.spec.finnish_share + self.spec.swedish_share:
                return "sv"
        return self.rng.choices(self.others, self.other_weights)[0]

    def guardians(self, student: Student, school_language: str) -> list[Guardian]:
        rng = self.rng
        count = 1 if len(self.spec.guardians_per_student) == 1 or rng.random() < 0.3 else 2
        language = student.home_language
        result = []
        first_female = rng.random() < 0.6
        for index in range(count):
            female = first_female if index == 0 else not first_female
            own = language
            if index == 1 and language in ("fi", "sv") and rng.random() < 0.25:
                own = "sv" if language == "fi" else "fi"  # a bilingual family
            first = self.names.first_name(own, female, rng)
            if rng.random() < 0.85:
                last = self.names.family_name_for(language, student.last_name, female)
            else:
                last = self.names.last_name(own, female, rng)
            result.append(Guardian(
                name=f"{first} {last}",
                language=own,
                contact_preference=rng.choices(self.contacts, self.contact_weights)[0],
            ))
        return result


def _bulk(model, objects: list) -> list:
    """bulk_create in batches; PostgreSQL returns the primary keys."""
    return model.objects.bulk_create(objects, batch_size=BATCH_SIZE)


def school_external_id(spec: MunicipalitySpec, position: int) -> str:
    """Five digits, like a Finnish institution code; stable, so a second run finds the demo schools."""
    return f"{spec.code_base + position + 1:05d}"


def seed_municipality_data(spec: MunicipalitySpec, current: SchoolYear, names: NameMaker) -> None:
    """Schools, groups of ``current`` school year, pupils and guardians. Call inside the municipality's schema."""
    people = _People(spec, names)
    schools = _bulk(School, [
        School(
            external_id=school_external_id(spec, position),
            name=school.name,
            school_type=school.school_type,
            grade_min=school.grade_min,
            grade_max=school.grade_max,
            language=school.language,
            area=school.area,
        )
        for position, school in enumerate(spec.schools)
    ])
    plans = []  # (school spec, school, grade, name, size)
    for school_spec, school in zip(spec.schools, schools, strict=True):
        for grade, name, size in group_plan(school_spec, current.start_date.year, people.rng):
            plans.append((school_spec, school, grade, name, size))
    groups = _bulk(TeachingGroup, [
        TeachingGroup(school=school, school_year=current, name=name, grade=grade)
        for _spec, school, grade, name, _size in plans
    ])
    students: list[Student] = []
    prefix = spec.slug[:3].upper()
    for (school_spec, school, grade, _name, size), group in zip(plans, groups, strict=True):
        for _ in range(size):
            language = people.home_language(school_spec.language)
            first, last, _female = names.person(language, people.rng, child=True)
            students.append(Student(
                external_id=f"{prefix}-{len(students) + 1:06d}",
                first_name=first,
                last_name=last,
                school=school,
                grade=grade,
                group=group,
                home_language=language,
            ))
    _bulk(Student, students)
    school_language = {school.pk: school.language for school in schools}
    families = [(student, people.guardians(student, school_language[student.school_id])) for student in students]
    guardians = _bulk(Guardian, [guardian for _student, family in families for guardian in family])
    links = []
    cursor = iter(guardians)
    for student, family in families:
        for _ in family:
            links.append(Guardian.students.through(guardian_id=next(cursor).pk, student_id=student.pk))
    _bulk(Guardian.students.through, links)


def grant_demo_roles(spec: MunicipalitySpec, users: dict[str, User], current: SchoolYear) -> None:
    """Role grants of the demo users in this municipality's schema.

    Skipped if any demo user holds a role here already, or if the demo schools are missing
    (a municipality with other data).

    School roles at the first basic school (the class teacher for its 7A); the kuraattori and
    psykologi also at a second school; municipal roles without a school; the county counsellor
    at the bilingual campus.
    """
    demo_ids = [user.pk for user in users.values()]
    if StaffRole.objects.filter(user_id__in=demo_ids).exists():
        return
    ids = {school_external_id(spec, position): school.name for position, school in enumerate(spec.schools)}
    by_name = {ids[school.external_id]: school for school in School.objects.filter(external_id__in=ids)
               if school.name == ids[school.external_id]}
    if len(by_name) != len(spec.schools):
        return
    basic = [school.name for school in spec.schools if school.school_type == SchoolType.BASIC]
    first, second = by_name[basic[0]], by_name[basic[1]]
    for role in Role:
        user = users[demo_email(role.value, spec.slug)]
        if role in MUNICIPAL_ROLES:
            StaffRole.objects.create(user_id=user.pk, role=role, school=None)
            continue
        grant = StaffRole.objects.create(user_id=user.pk, role=role, school=first)
        if role == Role.CLASS_TEACHER:
            grant.groups.set(TeachingGroup.objects.filter(school=first, school_year=current, name="7A"))
        if role in (Role.SCHOOL_SOCIAL_WORKER, Role.PSYCHOLOGIST):
            StaffRole.objects.create(user_id=user.pk, role=role, school=second)
    county = users.get(COUNTY_COUNSELLOR_EMAIL)
    for name in COUNTY_COUNSELLOR_SCHOOLS.get(spec.slug, ()):
        StaffRole.objects.create(user_id=county.pk, role=Role.SCHOOL_SOCIAL_WORKER, school=by_name[name])


def municipality_counts() -> dict[str, int]:
    """Head counts of the current schema, for the summary."""
    return {
        "schools": School.objects.count(),
        "groups": TeachingGroup.objects.count(),
        "students": Student.objects.count(),
        "guardians": Guardian.objects.count(),
        "staff roles": StaffRole.objects.count(),
    }


def seed_modules(today: date) -> None:
    """Each module app's demo data (``<app>.demo.seed``, idempotent), in the current schema.
    The apps are named in settings.DEMO_MODULE_SEEDS: welfare imports no module app."""
    from django.utils.module_loading import import_string

    for path in settings.DEMO_MODULE_SEEDS:
        import_string(path)(today=today)


# --- The whole seed --------------------------------------------------------------------


def seed_demo(scale: str = "small", *, today: date | None = None) -> SeedResult:
    """Create (or check) the demo municipalities, their data and the demo accounts.

    Callers: the seed_demo management command and tests. Not for web requests: creating a
    schema runs migrations. Deterministic: the same scale and date give the same people.
    """
    started = time.perf_counter()
    today = today or timezone.localdate()
    specs = municipality_specs(scale)
    password = settings.DEMO_PASSWORD
    secret = demo_totp_secret()

    municipalities = []
    for spec in specs:
        mstarted = time.perf_counter()
        created = create_municipality(
            slug=spec.slug, name_fi=spec.name_fi, name_sv=spec.name_sv,
            languages=list(spec.languages), wellbeing_county=spec.county,
        )
        municipalities.append((spec, created.municipality, created.created, time.perf_counter() - mstarted))

    lazy_names: list[NameMaker] = []

    def names() -> NameMaker:  # building the Faker pools takes a moment; only when needed
        if not lazy_names:
            lazy_names.append(NameMaker(seed=2026))
        return lazy_names[0]

    emails = {demo_email(role.value, spec.slug) for spec in specs for role in Role}
    emails |= {COUNTY_COUNSELLOR_EMAIL, PLATFORM_ADMIN_EMAIL}
    if User.objects.filter(email__in=emails).count() == len(emails):
        accounts = [DemoAccount(email, "", "") for email in sorted(emails)]  # all exist: names unused
    else:
        accounts = staff_accounts(specs, names())
    with transaction.atomic():
        users, users_created = ensure_demo_users(accounts, password, secret)

    results = []
    for spec, municipality, schema_created, seconds in municipalities:
        mstarted = time.perf_counter()
        with schema_context(municipality.schema_name), transaction.atomic():
            current, _previous = ensure_school_years(today)
            data_created = not School.objects.exists()
            if data_created:
                seed_municipality_data(spec, current, names())
            grant_demo_roles(spec, users, current)
            seed_modules(today)
            counts = municipality_counts()
        results.append(MunicipalitySeed(
            slug=spec.slug, name=spec.name_fi, schema_created=schema_created, data_created=data_created,
            seconds=seconds + time.perf_counter() - mstarted, counts=counts,
        ))

    logins = [DemoLogin(role.value, demo_email(role.value, "<slug>"), tuple(spec.slug for spec in specs))
              for role in Role]
    logins.append(DemoLogin("kuraattori (county)", COUNTY_COUNSELLOR_EMAIL, tuple(COUNTY_COUNSELLOR_SCHOOLS)))
    logins.append(DemoLogin("platform admin", PLATFORM_ADMIN_EMAIL, ()))
    return SeedResult(
        scale=scale, seconds=time.perf_counter() - started, municipalities=results, logins=logins,
        users_created=users_created, password=password, totp_secret=secret,
    )
