"""The welfare reports (PDF), made from the dashboards' panels by the generated-document mechanism:

* ``welfare.school_report``: a school's annual welfare report (toimintakertomus): every module's
  panels for that one school (annual-clock evaluation, group sessions, absence aggregates, parent
  evenings), in Finnish or Swedish;
* ``welfare.municipal_report``: the municipal summary: the same panels across the schools the
  filters select (school type, area, language of instruction).

Both hold only what the dashboards show: suppressed counts and figures, never names. Who may
have them (checked on request and again on download): Action.EXPORT for the school (principal of
that school, coordinator); the municipal summary needs a municipality-wide grant of it.
Registered in WelfareConfig.ready(); rendered in Celery.
"""

from __future__ import annotations

from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from welfare.dashboard import panels_for, scope_of
from welfare.models import InstructionLanguage, School, SchoolType, SchoolYear
from welfare.pdf import render_to_pdf
from welfare.policy import Action, allowed_schools, can
from welfare.services.documents import DocumentRenderer, RenderResult, register_renderer

SCHOOL_REPORT = "welfare.school_report"
MUNICIPAL_REPORT = "welfare.municipal_report"
REPORT_LANGUAGES = ("fi", "sv")


def _int(params, name) -> int | None:
    value = params.get(name) if isinstance(params, dict) else None
    return value if isinstance(value, int) else None


def _year(params) -> SchoolYear | None:
    year_id = _int(params, "school_year")
    return SchoolYear.objects.filter(pk=year_id).first() if year_id else None


def _school(params) -> School | None:
    school_id = _int(params, "school")
    return School.objects.filter(pk=school_id).first() if school_id else None


def school_report_permitted(user, params) -> bool:
    school = _school(params)
    return (school is not None and _year(params) is not None and params.get("language") in REPORT_LANGUAGES
            and can(user, Action.EXPORT, school))


def municipal_report_permitted(user, params) -> bool:
    return (_year(params) is not None and params.get("language") in REPORT_LANGUAGES
            and allowed_schools(user, Action.EXPORT) is None)


def municipal_schools(params) -> list[School]:
    schools = School.objects.order_by("name")
    if params.get("school_type") in SchoolType.values:
        schools = schools.filter(school_type=params["school_type"])
    if params.get("area"):
        schools = schools.filter(area=str(params["area"])[:100])
    if params.get("school_language") in InstructionLanguage.values:
        schools = schools.filter(language=params["school_language"])
    return list(schools)


def _render(params, progress, *, schools: list[School], whole: bool, heading: str, filename: str) -> RenderResult:
    from django.db import connection

    year = _year(params)
    with translation.override(params["language"]):
        progress(10)
        scope = scope_of(schools, year)
        panels = panels_for(scope)
        progress(50)
        title = heading % {"year": year}
        pdf = render_to_pdf("welfare/pdf/report.html", {
            "title": title, "panels": panels, "schools": schools, "year": year, "whole": whole,
            "municipality": getattr(connection, "tenant", None), "today": timezone.localdate()})
        progress(95)
        return RenderResult(pdf, f"{slugify(filename)}-{slugify(str(year))}.pdf")


def render_school_report(params, progress) -> RenderResult:
    school = _school(params)
    with translation.override(params["language"]):
        heading = _("Annual welfare report: %(school)s, school year %%(year)s") % {"school": school.name}
        filename = _("welfare report") + " " + school.name
    return _render(params, progress, schools=[school], whole=False, heading=heading, filename=filename)


def render_municipal_report(params, progress) -> RenderResult:
    with translation.override(params["language"]):
        heading = _("Student welfare across schools, school year %(year)s")
        filename = _("municipal welfare summary")
    return _render(params, progress, schools=municipal_schools(params), whole=True, heading=heading,
                   filename=filename)


def register() -> None:
    register_renderer(DocumentRenderer(
        kind=SCHOOL_REPORT, permitted=school_report_permitted, render=render_school_report,
        title=lambda params: _("Annual welfare report"), school_id=lambda params: _int(params, "school")))
    register_renderer(DocumentRenderer(
        kind=MUNICIPAL_REPORT, permitted=municipal_report_permitted, render=render_municipal_report,
        title=lambda params: _("Municipal welfare summary")))
