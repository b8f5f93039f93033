"""The annual clock's PDFs, made by welfare's generated-document mechanism (rendered in Celery):

* ``annualclock.year_plan``: the year plan, A3 landscape: the wheel and a table by month;
* ``annualclock.evaluation_report``: the year-end evaluation: planned, done and evaluated per
  ring, the open items, and what to change next year.

Who may have them: whoever may view the clock (Action.VIEW_ANNUAL_CLOCK), checked on request and
again on download. Counts of people reached are suppressed below five (welfare.aggregates).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from annualclock import selectors
from annualclock.models import Clock
from annualclock.presentation import month_groups, render_wheel
from welfare import policy
from welfare.aggregates import suppress_count
from welfare.pdf import render_to_pdf
from welfare.policy import Action
from welfare.services.documents import DocumentRenderer, RenderResult, register_renderer

YEAR_PLAN = "annualclock.year_plan"
EVALUATION_REPORT = "annualclock.evaluation_report"


def _clock_id(params) -> int | None:
    value = params.get("clock") if isinstance(params, dict) else None
    return value if isinstance(value, int) else None


def _clock(params) -> Clock | None:
    clock_id = _clock_id(params)
    if clock_id is None:
        return None
    return Clock.objects.select_related("school", "school_year").filter(pk=clock_id).first()


def permitted(user, params) -> bool:
    clock = _clock(params)
    return clock is not None and policy.can(user, Action.VIEW_ANNUAL_CLOCK, clock)


def _school_id(params):
    clock = _clock(params)
    return clock.school_id if clock else None


def _filename(clock: Clock, what: str) -> str:
    return f"{slugify(what)}-{slugify(clock.school.name)}-{slugify(str(clock.school_year))}.pdf"


def render_year_plan(params, progress) -> RenderResult:
    clock = _clock(params)
    today = timezone.localdate()
    progress(10)
    placed = selectors.placed_activities(clock)
    entries = selectors.provider_entries(clock)
    rings = selectors.rings()
    progress(30)
    wheel = render_wheel(clock, rings, placed, entries, today, link=False)
    progress(50)
    pdf = render_to_pdf("annualclock/pdf/year_plan.html", {
        "clock": clock, "wheel": wheel, "months": month_groups(placed, entries), "rings": rings, "today": today})
    progress(95)
    return RenderResult(pdf, _filename(clock, _("year plan")))


def render_evaluation_report(params, progress) -> RenderResult:
    clock = _clock(params)
    today = timezone.localdate()
    progress(10)
    placed = selectors.placed_activities(clock)
    summaries = selectors.year_report(placed, today)
    evaluations = [item.activity for item in placed if hasattr(item.activity, "evaluation")]
    progress(40)
    reach_total = sum(a.evaluation.reach or 0 for a in evaluations)
    pdf = render_to_pdf("annualclock/pdf/evaluation_report.html", {
        "clock": clock, "summaries": summaries, "evaluations": evaluations, "today": today,
        "reach_total": suppress_count(reach_total),
        "totals": {name: sum(getattr(s, name) for s in summaries)
                   for name in ("planned", "done", "evaluated", "cancelled")},
    })
    progress(95)
    return RenderResult(pdf, _filename(clock, _("evaluation report")))


def _title(what):
    def title(params) -> str:
        clock = _clock(params)
        return f"{what()}: {clock.school.name} {clock.school_year}" if clock else str(what())
    return title


def register() -> None:
    register_renderer(DocumentRenderer(kind=YEAR_PLAN, permitted=permitted, render=render_year_plan,
                                       title=_title(lambda: _("Year plan")), school_id=_school_id))
    register_renderer(DocumentRenderer(kind=EVALUATION_REPORT, permitted=permitted, render=render_evaluation_report,
                                       title=_title(lambda: _("Year-end evaluation report")), school_id=_school_id))
