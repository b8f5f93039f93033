"""School years and terms of the demo (domain.md A7: dates are data, computed here and stored)."""

from __future__ import annotations

from datetime import date, timedelta

from welfare.models import SchoolYear, Term


def _weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _not_on_weekend(day: date, forward: bool) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1 if forward else -1)
    return day


def school_year_dates(start_year: int) -> dict:
    """Dates of the school year starting in August of ``start_year``.

    The year runs 1 Aug – 31 Jul. Autumn term (syksy) from the Wednesday on or after 8 August to
    about 21 December; spring term (kevät) from about 7 January to the Saturday of week 22.
    """
    autumn = (_weekday_on_or_after(date(start_year, 8, 8), 2), _not_on_weekend(date(start_year, 12, 21), False))
    spring = (_not_on_weekend(date(start_year + 1, 1, 7), True), date.fromisocalendar(start_year + 1, 22, 6))
    return {
        "name": f"{start_year}–{start_year + 1}",
        "start": date(start_year, 8, 1),
        "end": date(start_year + 1, 7, 31),
        "terms": [("syksy", *autumn), ("kevät", *spring)],
    }


def ensure_school_years(today: date) -> tuple[SchoolYear, SchoolYear]:
    """The current school year (containing ``today``) and the previous one, with their terms.

    Runs in the current municipality's schema. Idempotent.
    """
    current_start = today.year if today.month >= 8 else today.year - 1
    years = []
    for start_year in (current_start, current_start - 1):
        dates = school_year_dates(start_year)
        year, _ = SchoolYear.objects.get_or_create(
            name=dates["name"], defaults={"start_date": dates["start"], "end_date": dates["end"]}
        )
        for name, start, end in dates["terms"]:
            Term.objects.get_or_create(school_year=year, name=name, defaults={"start_date": start, "end_date": end})
        years.append(year)
    return years[0], years[1]
