"""The school's annual welfare report and the municipal summary for the seeded demo: every
module's section is there, in Finnish or Swedish, with figures and no names."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.pdftools import pdf_text
from welfare.models import School, SchoolType, SchoolYear, Student
from welfare.services.reports import render_municipal_report, render_school_report

pytestmark = pytest.mark.django_db

SECTIONS = {"fi": ["Poissaolot", "Vuosikello", "Ryhmäkeskustelut", "Vanhempainillat"],
            "sv": ["Frånvaro", "Årsklocka", "Gruppsamtal", "Föräldramöten"]}


@pytest.fixture(scope="module")
def demo(municipalities, django_db_blocker):
    from tests.dbutil import empty_committed_data
    from welfare.services.demo import seed_demo

    with django_db_blocker.unblock():
        seed_demo("small")
    yield
    with django_db_blocker.unblock():
        empty_committed_data()


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_school_report_of_a_seeded_school_has_every_module(demo, language):
    with schema_context("espoo"):
        school = School.objects.filter(school_type=SchoolType.BASIC, grade_max__gte=7).order_by("name").first()
        year = SchoolYear.objects.get(start_date__lte=timezone.localdate(), end_date__gte=timezone.localdate())
        progress = []
        result = render_school_report({"school": school.pk, "school_year": year.pk, "language": language},
                                      progress.append)
        names = list(Student.objects.filter(school=school).values_list("last_name", flat=True)[:50])
    text = pdf_text(result.content)
    assert school.name in text
    for section in SECTIONS[language]:
        assert section in text, section
    assert progress and progress[-1] >= 90
    assert not [name for name in names if len(name) > 4 and f" {name} " in f" {text} "]


def test_municipal_summary_lists_the_schools_of_the_filter(demo):
    with schema_context("espoo"):
        year = SchoolYear.objects.get(start_date__lte=timezone.localdate(), end_date__gte=timezone.localdate())
        upper = list(School.objects.filter(school_type=SchoolType.UPPER_SECONDARY).values_list("name", flat=True))
        basic = list(School.objects.filter(school_type=SchoolType.BASIC).values_list("name", flat=True))
        result = render_municipal_report({"school_year": year.pk, "language": "fi",
                                          "school_type": SchoolType.UPPER_SECONDARY}, lambda percent: None)
    text = pdf_text(result.content)
    assert upper and all(name in text for name in upper)
    assert not any(name in text for name in basic)
