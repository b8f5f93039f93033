"""Read queries of absence follow-up: the active policy, counting periods, reaction tracking,
the imports a user may see.

Except ``visible_imports``, these return data without checking permissions: the caller (a view
that has authorised, a Celery task, a service) decides who sees the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, QuerySet

from absences.models import AbsenceImport, CaseEntry, CountingPeriod, PolicyVersion
from welfare.models import SchoolYear, Term
from welfare.policy import Action, allowed_schools


def active_policy_version() -> PolicyVersion | None:
    """The version the evaluation uses: the latest published version of the newest policy that has
    one (exactly one policy is active per municipality; see absences.services.policies)."""
    return (PolicyVersion.objects.filter(published_at__isnull=False).select_related("policy")
            .order_by("-policy__created_at", "-policy_id", "-number").first())


@dataclass(frozen=True)
class CountingWindow:
    """Where one evaluation counts.

    ``start``–``end`` is the counting period (an AbsenceCase is unique per pupil and this pair);
    ``data_end`` = min(today, end) is the last day whose absences count; ``school_days`` are
    the weekdays of the stored terms from ``start`` to ``data_end`` (the base of the % unit).
    """

    start: date
    end: date
    data_end: date
    school_days: int


def weekdays_between(first: date, last: date) -> int:
    """Monday–Friday days in [first, last] (public holidays are not stored, so they count)."""
    if last < first:
        return 0
    days = (last - first).days + 1
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    for offset in range(rest):
        if (first.weekday() + offset) % 7 < 5:
            count += 1
    return count


def _school_days(start: date, data_end: date) -> int:
    terms = Term.objects.filter(start_date__lte=data_end, end_date__gte=start)
    total = sum(weekdays_between(max(t.start_date, start), min(t.end_date, data_end)) for t in terms)
    return total if terms else weekdays_between(start, data_end)


def counting_window(version: PolicyVersion, today: date) -> CountingWindow | None:
    """The counting period of ``version`` on ``today`` (None: nothing to count yet).

    * school year: the SchoolYear containing today (Tampere: never reset during the year);
    * term: the Term containing today; between terms, the latest term that has started;
    * check dates ("MM-DD", e.g. Tuusula 11-01 and 03-01): from the start of the school year
      containing today to the **latest check date already passed** (≤ today). Each check date is
      its own period, so a pupil is alerted at each check date when over a limit; before the
      first check date of the year nothing is evaluated.
    """
    if version.counting_period == CountingPeriod.TERM:
        term = (Term.objects.filter(start_date__lte=today, end_date__gte=today).first()
                or Term.objects.filter(start_date__lte=today).order_by("-start_date").first())
        if term is None:
            return None
        start, end = term.start_date, term.end_date
    else:
        year = SchoolYear.objects.containing(today)
        if year is None:
            return None
        start, end = year.start_date, year.end_date
        if version.counting_period == CountingPeriod.CHECK_DATES:
            passed = [d for d in (_check_date(text, year) for text in version.check_dates) if d and d <= today]
            if not passed:
                return None
            end = max(passed)
    data_end = min(today, end)
    return CountingWindow(start=start, end=end, data_end=data_end, school_days=_school_days(start, data_end))


def _check_date(text: str, year: SchoolYear) -> date | None:
    """'MM-DD' placed inside the school year (autumn dates in its first calendar year)."""
    try:
        month, day = (int(part) for part in text.split("-"))
        for calendar_year in (year.start_date.year, year.end_date.year):
            candidate = date(calendar_year, month, day)
            if year.start_date <= candidate <= year.end_date:
                return candidate
    except ValueError:
        return None
    return None


# Entries that answer a step: everything but the step itself and corrections.
NON_ACTION_KINDS = (CaseEntry.Kind.STEP_REACHED, CaseEntry.Kind.CORRECTION)
ACTION_KINDS = tuple(kind for kind in CaseEntry.Kind if kind not in NON_ACTION_KINDS)


def with_reaction(escalation_qs: QuerySet) -> QuerySet:
    """Annotate ``has_action``: an action entry of the case was recorded after the step was reached."""
    actions = CaseEntry.objects.filter(case_id=OuterRef("case_id"), kind__in=ACTION_KINDS,
                                       created_at__gt=OuterRef("reached_at"))
    return escalation_qs.annotate(has_action=Exists(actions))


def no_reaction(escalation_qs: QuerySet, today: date) -> QuerySet:
    """Escalations whose reaction time has run out (``react_by`` strictly before ``today``) with no
    action recorded since they were reached: the principal's "absence and reaction report"
    (Primus, domain.md §7). The caller filters ``escalation_qs`` by permission first."""
    return with_reaction(escalation_qs).filter(react_by__lt=today, has_action=False)


def is_overdue(escalation, today: date) -> bool:
    """For an escalation annotated by ``with_reaction``."""
    return not escalation.has_action and escalation.react_by < today


def visible_imports(user) -> QuerySet:
    """Imports the user may see, newest first: every import for a municipal IMPORT_ABSENCES grant,
    otherwise only the user's own (their errors name pupils). For the import pages and the API,
    which have checked IMPORT_ABSENCES."""
    queryset = AbsenceImport.objects.order_by("-created_at", "-id")
    if allowed_schools(user, Action.IMPORT_ABSENCES) is None:
        return queryset
    return queryset.filter(user_id=user.pk)
