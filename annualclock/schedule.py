"""When an activity happens: its span in a school year and its occurrences (recurrence expansion).

Pure functions over model instances (no queries beyond what the caller passed in), used by the
wheel, the lists, the iCalendar feeds, the reminders and the PDFs, so they all agree.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from annualclock.models import SCHOOL_YEAR_MONTHS, Activity, Recurrence, month_position, school_year_month_start


@dataclass(frozen=True)
class Occurrence:
    index: int  # 0, 1, …: stable for a given activity and recurrence (part of the iCalendar UID)
    start: date
    end: date  # inclusive


def month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def span(activity: Activity, school_year) -> tuple[date, date]:
    """First and last day of the activity in ``school_year`` (dates win over months)."""
    if activity.start_date is not None:
        return activity.start_date, activity.end_date
    start = school_year_month_start(school_year, activity.month_start)
    end = month_end(school_year_month_start(school_year, activity.month_end))
    return start, end


def months_of(activity: Activity) -> list[int]:
    """The calendar months the activity's month range covers, in school-year order."""
    first, last = month_position(activity.month_start), month_position(activity.month_end)
    return list(SCHOOL_YEAR_MONTHS[first:last + 1])


def _add_months(day: date, months: int) -> date:
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _default_terms(school_year) -> list[tuple[date, date]]:
    autumn_end = date(school_year.start_date.year, 12, 31)
    return [(school_year.start_date, autumn_end), (date(school_year.end_date.year, 1, 1), school_year.end_date)]


def occurrences(activity: Activity, school_year, terms: list[tuple[date, date]] | None = None) -> list[Occurrence]:
    """The activity's occurrences in ``school_year``.

    * once: the whole span;
    * every month: month-level, each month of the range as a whole month; with dates, the start
      date's day of each month up to the end date (one-day events);
    * every term: the part of the span in each term (``terms`` as (start, end); the school year's
      halves when none are stored); terms the span does not touch are skipped.
    """
    start, end = span(activity, school_year)
    if activity.recurrence == Recurrence.MONTHLY:
        found = []
        if activity.start_date is None:
            for index, month in enumerate(months_of(activity)):
                first = school_year_month_start(school_year, month)
                found.append(Occurrence(index, first, month_end(first)))
            return found
        index, day = 0, start
        while day <= end:
            found.append(Occurrence(index, day, day))
            index += 1
            day = _add_months(start, index)
        return found
    if activity.recurrence == Recurrence.TERMLY:
        found = []
        for index, (term_start, term_end) in enumerate(terms or _default_terms(school_year)):
            first, last = max(start, term_start), min(end, term_end)
            if first <= last:
                found.append(Occurrence(index, first, last))
        return found or [Occurrence(0, start, end)]
    return [Occurrence(0, start, end)]


def terms_of(school_year) -> list[tuple[date, date]]:
    """The stored terms of a school year as (start, end), in order (one query)."""
    return [(term.start_date, term.end_date) for term in school_year.terms.order_by("start_date")]
