"""The dashboards' frame: filters, the schools they select, and the panels the modules provide.

Who sees what (domain.md A4, A5): a coordinator or municipal admin (Action.VIEW_AGGREGATES with a
municipal grant) sees every school; a principal only their own school. Nobody sees a pupil's name
here: panels hold counts and figures only, and every count goes through welfare.aggregates.

Modules are never imported by ``welfare``: each lists a function in ``settings.DASHBOARD_PANELS``
taking a ``DashboardScope`` and returning ``Panel`` objects. Panels read rollup tables that their
module keeps current, so the number of queries per page does not grow with the number of schools.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from welfare.aggregates import SuppressedTable
from welfare.models import InstructionLanguage, School, SchoolType, SchoolYear, Term


def share(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole`` (one decimal); None when ``whole`` is 0."""
    return round(100 * part / whole, 1) if whole else None


def show_share(value: float | None) -> str:
    """A share for a table cell: "12,5 %" in the active language, "–" when there is none."""
    from django.utils.formats import number_format

    return "–" if value is None else number_format(value, 1) + " %"


@dataclass
class FigureTable:
    """A table of figures that are not counts (rates, hours per pupil, medians), already formatted
    as display strings; whatever small counts they derive from were checked by the panel."""

    row_labels: list[str]
    column_labels: list[str]
    cells: list[list[str]]
    notes: list[str] = field(default_factory=list)

    def rows(self):
        return [(label, cells, None) for label, cells in zip(self.row_labels, self.cells, strict=True)]

    def as_matrix(self, total_label: str = "") -> list[list[str]]:
        return [["", *self.column_labels], *[[label, *cells] for label, cells in zip(self.row_labels, self.cells,
                                                                                       strict=True)]]


@dataclass
class Panel:
    key: str  # unique on the page, used by the exports: "<app>-<what>"
    section: str  # the heading it is grouped under, e.g. "Absences"
    title: str
    description: str
    table: SuppressedTable | FigureTable
    row_heading: str
    chart: SafeString | str = ""  # server-rendered SVG with <title>/<desc>, the same data as the table


@dataclass
class DashboardScope:
    """What the filters selected, within what the user may see, and the school calendar (every
    school year and term, read once) that panels compare periods with."""

    school_year: SchoolYear | None
    term: Term | None
    schools: list[School]  # sorted by name
    years: list[SchoolYear]  # every school year, newest first
    terms: list[Term]  # every term, newest first

    @property
    def school_ids(self) -> list[int]:
        return [school.pk for school in self.schools]

    @property
    def start(self) -> date | None:
        return self.term.start_date if self.term else (self.school_year.start_date if self.school_year else None)

    @property
    def end(self) -> date | None:
        return self.term.end_date if self.term else (self.school_year.end_date if self.school_year else None)

    def previous_school_year(self) -> SchoolYear | None:
        if self.school_year is None:
            return None
        return next((y for y in self.years if y.end_date < self.school_year.start_date), None)

    def terms_of(self, year: SchoolYear | None) -> list[Term]:
        """The terms of ``year``, oldest first."""
        if year is None:
            return []
        return sorted((t for t in self.terms if t.school_year_id == year.pk), key=lambda t: t.start_date)


def school_calendar() -> tuple[list[SchoolYear], list[Term]]:
    """Every school year and term, newest first (two queries); each term knows its year."""
    years = list(SchoolYear.objects.order_by("-start_date"))
    by_pk = {year.pk: year for year in years}
    terms = list(Term.objects.order_by("-start_date"))
    for term in terms:
        term.school_year = by_pk.get(term.school_year_id)
    return years, terms


def scope_of(schools: list[School], school_year: SchoolYear, term: Term | None = None) -> DashboardScope:
    """A scope chosen without the filter form (the reports); callers have checked permissions."""
    years, terms = school_calendar()
    return DashboardScope(school_year=school_year, term=term, schools=schools, years=years, terms=terms)


class DashboardFilterForm(forms.Form):
    """The filters. School years and terms are read once (two queries) and offered as plain
    choices, so rendering and cleaning the form costs no further queries."""

    school_year = forms.TypedChoiceField(label=_("School year"), required=False, coerce=int, empty_value=None)
    term = forms.TypedChoiceField(label=_("Term"), required=False, coerce=int, empty_value=None)
    school_type = forms.ChoiceField(label=_("School type"), required=False)
    area = forms.ChoiceField(label=_("Area"), required=False)
    language = forms.ChoiceField(label=_("Language of instruction"), required=False)

    def __init__(self, *args, schools, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        years, terms = school_calendar()
        self.years = {year.pk: year for year in years}
        self.terms = {term.pk: term for term in terms}
        current = next((y for y in self.years.values() if y.start_date <= today <= y.end_date),
                       next(iter(self.years.values()), None))
        self.fields["school_year"].choices = [(pk, str(year)) for pk, year in self.years.items()]
        self.fields["school_year"].initial = current.pk if current else None
        self.fields["term"].choices = [("", _("Whole school year"))] + [
            (pk, f"{term.name} {term.school_year}") for pk, term in self.terms.items()]
        every = [("", _("All"))]
        self.fields["school_type"].choices = every + list(SchoolType.choices)
        self.fields["area"].choices = every + [(area, area) for area in sorted({s.area for s in schools if s.area})]
        self.fields["language"].choices = every + list(InstructionLanguage.choices)
        self.current_year = current

    def selected(self) -> tuple[SchoolYear | None, Term | None, dict]:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        year = self.years.get(data.get("school_year")) or self.current_year
        term = self.terms.get(data.get("term"))
        if term is not None and year is not None and term.school_year_id != year.pk:
            term = None  # a term of another year: the whole chosen year
        return year, term, data


def scope_for(user, params, *, today: date) -> tuple[DashboardFilterForm, DashboardScope]:
    """The filter form bound to ``params`` and the scope it selects. Callers have checked
    Action.VIEW_AGGREGATES; a principal's schools are their own whatever the filters say."""
    from welfare.policy import Action, allowed_schools
    from welfare.selectors import school_overview

    allowed = allowed_schools(user, Action.VIEW_AGGREGATES)
    schools = school_overview()  # with group and pupil counts for the page's school table
    if allowed is not None:
        schools = schools.filter(pk__in=allowed)
    schools = list(schools)
    form = DashboardFilterForm(params or None, schools=schools, today=today)
    year, term, data = form.selected()
    selected = [school for school in schools
                if (not data.get("school_type") or school.school_type == data["school_type"])
                and (not data.get("area") or school.area == data["area"])
                and (not data.get("language") or school.language == data["language"])]
    return form, DashboardScope(school_year=year, term=term, schools=selected, years=list(form.years.values()),
                                terms=list(form.terms.values()))


PANEL_CACHE_SECONDS = 15 * 60  # also bounds staleness should a database be restored under a warm cache
_VERSION_KEY = "dashboard:rollup-version"


def rollups_changed() -> None:
    """Modules call this after their rollups changed (after commit): cached panels of this
    municipality are then recomputed on the next request. Never raises (a cache outage only
    means panels are computed afresh)."""
    import uuid

    from django.core.cache import cache

    try:
        cache.set(_VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:  # noqa: BLE001 — the cache is an optimisation
        pass


def _cache_key(scope: DashboardScope) -> str | None:
    import hashlib
    import uuid

    from django.core.cache import cache
    from django.utils import translation

    if not settings.DASHBOARD_CACHE:
        return None
    try:
        version = cache.get_or_set(_VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:  # noqa: BLE001
        return None
    schools = hashlib.sha256(",".join(map(str, scope.school_ids)).encode()).hexdigest()[:32]
    year = scope.school_year.pk if scope.school_year else 0
    term = scope.term.pk if scope.term else 0
    return f"dashboard:panels:{version}:{translation.get_language()}:{year}:{term}:{schools}:{timezone.localdate()}"


def panels_for(scope: DashboardScope, *, use_cache: bool = True) -> list[Panel]:
    """Every module's panels for the scope, in the order of settings.DASHBOARD_PANELS.

    Panels change only when a module's rollups do, so they are kept in the cache (per
    municipality: the cache keys carry the schema) under the rollups' version, the language and
    exactly the schools of the scope, which the permission policy chose."""
    from django.core.cache import cache

    key = _cache_key(scope) if use_cache else None
    if key is not None:
        try:
            cached = cache.get(key)
        except Exception:  # noqa: BLE001
            cached = None
        if cached is not None:
            return cached
    panels: list[Panel] = []
    for path in settings.DASHBOARD_PANELS:
        panels.extend(import_string(path)(scope))
    if key is not None:
        try:
            cache.set(key, panels, timeout=PANEL_CACHE_SECONDS)
        except Exception:  # noqa: BLE001
            pass
    return panels
