"""factory_boy factories for the absence follow-up. Use inside a municipality's schema (the
``in_espoo`` fixture or django_tenants.utils.schema_context).

Categories are looked up or created by code: migration 0003 seeds the national ones, but browser
tests empty the tenant tables after each test, so a factory must not rely on the seed.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from absences.models import (
    AbsenceCase,
    AbsenceCategory,
    AbsenceRecord,
    CaseEntry,
    Escalation,
    EscalationStep,
    GradeBand,
    PolicyVersion,
    ThresholdPolicy,
)
from tests.factories import StudentFactory
from welfare.models import Role

NATIONAL_CATEGORIES = {
    "health": ("Terveydellisiin syihin liittyvä poissaolo", "Frånvaro av hälsoskäl", "Health-related absence", True),
    "leave": ("Ennalta anottu vapaa", "På förhand ansökt ledighet", "Leave applied in advance", True),
    "other_explained": ("Muu selvitetty poissaolo", "Annan utredd frånvaro", "Other explained absence", True),
    "unexplained": ("Selvittämätön poissaolo", "Outredd frånvaro", "Unexplained absence", False),
    "unclassified": ("Luokittelematon poissaolo", "Oklassificerad frånvaro", "Unclassified absence", False),
}
ALL_CATEGORY_CODES = list(NATIONAL_CATEGORIES)


class AbsenceCategoryFactory(DjangoModelFactory):
    class Meta:
        model = AbsenceCategory
        django_get_or_create = ("code",)

    code = "unexplained"
    name_fi = factory.LazyAttribute(lambda o: NATIONAL_CATEGORIES.get(o.code, (o.code,) * 3)[0])
    name_sv = factory.LazyAttribute(lambda o: NATIONAL_CATEGORIES.get(o.code, (o.code,) * 3)[1])
    name_en = factory.LazyAttribute(lambda o: NATIONAL_CATEGORIES.get(o.code, (o.code,) * 3)[2])
    explained = factory.LazyAttribute(lambda o: NATIONAL_CATEGORIES.get(o.code, (0, 0, 0, True))[3])


def category(code: str) -> AbsenceCategory:
    """The category with ``code`` (national codes get their real names)."""
    return AbsenceCategoryFactory(code=code)


def national_categories() -> list[AbsenceCategory]:
    return [category(code) for code in ALL_CATEGORY_CODES]


class ThresholdPolicyFactory(DjangoModelFactory):
    class Meta:
        model = ThresholdPolicy

    name = factory.Sequence(lambda n: f"Poissaolon portaat {n}")


# The capital-region LAPE staircase, the default steps: (level, threshold, name, responsible, notified, days).
STAIRCASE = [
    (1, "30", "Huoltajaan yhteys", Role.CLASS_TEACHER, [Role.PRINCIPAL], 7),
    (2, "50", "Tapaaminen", Role.CLASS_TEACHER, [Role.PRINCIPAL, Role.SCHOOL_SOCIAL_WORKER], 7),
    (3, "70", "Monialainen asiantuntijaryhmä", Role.PRINCIPAL, [Role.SCHOOL_SOCIAL_WORKER], 10),
    (4, "100", "Jatkotoimet", Role.PRINCIPAL, [Role.SCHOOL_SOCIAL_WORKER, Role.PSYCHOLOGIST], 10),
]


class PolicyVersionFactory(DjangoModelFactory):
    """A published version with one grade band 1–9 and the staircase's steps (``steps=False``: none;
    ``steps=[(level, threshold, name, responsible, notified, days), ...]``: these)."""

    class Meta:
        model = PolicyVersion
        skip_postgeneration_save = True

    policy = factory.SubFactory(ThresholdPolicyFactory)
    number = 1
    published_at = factory.LazyFunction(timezone.now)
    counted_categories = factory.LazyFunction(lambda: list(ALL_CATEGORY_CODES))

    @factory.post_generation
    def steps(self, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        band = GradeBand.objects.create(version=self, name="1–9", grade_min=1, grade_max=9)
        for level, threshold, name, responsible, notified, days in extracted or STAIRCASE:
            EscalationStep.objects.create(band=band, level=level, threshold=Decimal(threshold), name=name,
                                          responsible_role=responsible, notified_roles=list(notified),
                                          days_to_react=days, required_action=f"{name}.")


def step_of(version: PolicyVersion, level: int) -> EscalationStep:
    return EscalationStep.objects.get(band__version=version, level=level)


class AbsenceCaseFactory(DjangoModelFactory):
    class Meta:
        model = AbsenceCase

    student = factory.SubFactory(StudentFactory)
    period_start = datetime.date(2026, 8, 12)
    period_end = datetime.date(2027, 5, 31)


class EscalationFactory(DjangoModelFactory):
    """A threshold escalation; pass ``step=`` (its version, level and role follow) or the fields.
    ``reached_at`` is auto_now_add: use ``backdate(escalation, days)`` to move it into the past."""

    class Meta:
        model = Escalation

    case = factory.SubFactory(AbsenceCaseFactory)
    kind = Escalation.Kind.THRESHOLD
    step = None
    policy_version = factory.LazyAttribute(lambda o: o.step.band.version if o.step else PolicyVersionFactory())
    level = factory.LazyAttribute(lambda o: o.step.level if o.step else 1)
    reached_on = factory.LazyFunction(timezone.localdate)
    counted_value = factory.LazyAttribute(lambda o: o.step.threshold if o.step else Decimal("30"))
    hours_by_category = factory.LazyAttribute(lambda o: {"unexplained": str(o.counted_value)})
    responsible_role = factory.LazyAttribute(lambda o: o.step.responsible_role if o.step else Role.CLASS_TEACHER)
    react_by = factory.LazyAttribute(
        lambda o: o.reached_on + datetime.timedelta(days=o.step.days_to_react if o.step else 7))


def backdate(escalation: Escalation, days: int, *, react_within: int | None = None) -> Escalation:
    """Move an escalation ``days`` into the past (reached_at, reached_on and react_by follow)."""
    react_within = react_within if react_within is not None else (
        escalation.step.days_to_react if escalation.step else 7)
    reached_at = timezone.now() - datetime.timedelta(days=days)
    reached_on = timezone.localdate(reached_at)
    Escalation.objects.filter(pk=escalation.pk).update(
        reached_at=reached_at, reached_on=reached_on, react_by=reached_on + datetime.timedelta(days=react_within))
    escalation.refresh_from_db()
    return escalation


class AbsenceRecordFactory(DjangoModelFactory):
    class Meta:
        model = AbsenceRecord

    student = factory.SubFactory(StudentFactory)
    date = datetime.date(2026, 9, 1)
    category = factory.LazyFunction(lambda: category("unexplained"))
    hours = Decimal("6")


def absence_days(student, start: datetime.date, days: int, hours: str = "6", code: str = "unexplained",
                 step_days: int = 1) -> list[AbsenceRecord]:
    """``days`` records of ``hours`` each for ``student`` from ``start`` (every ``step_days``-th day)."""
    cat = category(code)
    return [AbsenceRecordFactory(student=student, date=start + datetime.timedelta(days=i * step_days),
                                 category=cat, hours=Decimal(hours)) for i in range(days)]


class CaseEntryFactory(DjangoModelFactory):
    """A raw timeline entry (tests of the append-only rule); the services are the real write path."""

    class Meta:
        model = CaseEntry

    case = factory.SubFactory(AbsenceCaseFactory)
    kind = CaseEntry.Kind.GUARDIAN_CONTACTED
    occurred_on = factory.LazyFunction(timezone.localdate)
    contact_method = CaseEntry.ContactMethod.PHONE
    author_role = Role.CLASS_TEACHER
