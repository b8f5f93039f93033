"""Reads of parent evenings, already filtered by the permission policy.

MANAGE_PARENT_EVENINGS: the coordinator (municipality-wide) sees every evening; a principal sees
the evenings in which one of their schools takes part. Reports for coordinators go through
welfare.aggregates (small numbers suppressed); no selector returns guardians' contact details.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import BooleanField, Count, ExpressionWrapper, Prefetch, Q, QuerySet, Sum
from django.http import Http404
from django.utils.translation import gettext as _

from parentevenings.languages import display_name
from parentevenings.models import (
    HAS_CONTACT,
    BookingStatus,
    EveningLanguage,
    EveningLanguageRollup,
    EveningStatus,
    Feedback,
    InterpreterBooking,
    ParentEvening,
    Registration,
    RegistrationStatus,
)
from welfare import policy
from welfare.aggregates import SuppressedTable, suppress_count, suppress_mean, suppress_table
from welfare.policy import Action


def manageable_evenings(user) -> QuerySet[ParentEvening]:
    """Evenings the user may manage (coordinator: all; principal: their schools' evenings)."""
    schools = policy.allowed_schools(user, Action.MANAGE_PARENT_EVENINGS)
    evenings = ParentEvening.objects.all()
    if schools is None:
        return evenings
    return evenings.filter(pk__in=ParentEvening.objects.filter(schools__in=schools).values("pk"))


def manages_everything(user) -> bool:
    """Municipality-wide grant (the coordinator): may keep the agency list and the settings."""
    return policy.allowed_schools(user, Action.MANAGE_PARENT_EVENINGS) is None


def evening_for_manager(user, pk: int) -> ParentEvening:
    """The evening if the user may manage it; 404 otherwise (no hint that it exists)."""
    evening = manageable_evenings(user).filter(pk=pk).first()
    if evening is None:
        raise Http404
    return evening


def public_evening(token: str) -> ParentEvening:
    """A published evening by its public token (guardians, no sign-in); 404 otherwise."""
    evening = (ParentEvening.objects.filter(public_token=token, status=EveningStatus.PUBLISHED)
               .prefetch_related("languages", "evening_agencies__agency").first())
    if evening is None:
        raise Http404
    return evening


def evening_language(evening: ParentEvening, code: str) -> EveningLanguage:
    """One language of an evening the caller has already found (managed or public); 404 otherwise."""
    language = next((lang for lang in evening.languages.all() if lang.code == code), None)
    if language is None:
        raise Http404
    language.evening = evening
    return language


@dataclass
class LanguageRow:
    """One language group of an evening, for the organisers' table."""

    language: EveningLanguage
    families: int = 0
    people: int = 0
    waiting_people: int = 0
    checked_in_people: int = 0
    bookings: list[InterpreterBooking] = field(default_factory=list)

    @property
    def attended(self) -> int | None:
        if self.language.head_count is not None:
            return self.language.head_count
        return self.checked_in_people or None

    @property
    def interpreter_confirmed(self) -> bool:
        return any(booking.status == BookingStatus.CONFIRMED for booking in self.bookings)

    @property
    def lacks_interpreter(self) -> bool:
        return self.language.needs_interpreter and not self.interpreter_confirmed


def _sum(field_name, **condition):
    return Sum(field_name, filter=Q(**{f"registrations__{k}": v for k, v in condition.items()}), default=0)


def language_rows(evening: ParentEvening) -> list[LanguageRow]:
    """Per language: registered families and people, waiting list, needs, check-ins, bookings.
    Callers: managers of the evening (operational figures, no names)."""
    confirmed = {"status": RegistrationStatus.CONFIRMED}
    languages = (evening.languages.annotate(
        families=Count("registrations", filter=Q(registrations__status=RegistrationStatus.CONFIRMED)),
        adults=_sum("registrations__adults", **confirmed),
        children=_sum("registrations__children", **confirmed),
        waiting_adults=_sum("registrations__adults", status=RegistrationStatus.WAITING),
        waiting_children=_sum("registrations__children", status=RegistrationStatus.WAITING),
        in_adults=_sum("registrations__adults", checked_in_at__isnull=False),
        in_children=_sum("registrations__children", checked_in_at__isnull=False),
    ).prefetch_related(Prefetch("bookings", queryset=InterpreterBooking.objects.order_by("id"))))
    rows = []
    for language in languages:
        language.evening = evening
        rows.append(LanguageRow(
            language=language, families=language.families, people=language.adults + language.children,
            waiting_people=language.waiting_adults + language.waiting_children,
            checked_in_people=language.in_adults + language.in_children, bookings=list(language.bookings.all()),
        ))
    return rows


def staff_registrations(evenings: QuerySet[ParentEvening]) -> QuerySet[Registration]:
    """Registrations of these evenings for check-in and the staff API: codes, counts and needs only.
    Contact details are deferred and never loaded (they are for the guardian's own messages);
    ``contact_given`` says in SQL what ``Registration.has_contact`` says of a loaded row."""
    return (Registration.objects.filter(evening__in=evenings).select_related("language")
            .defer("contact_name", "contact_email", "contact_phone")
            .annotate(contact_given=ExpressionWrapper(HAS_CONTACT, output_field=BooleanField())))


def registrations_of(evening: ParentEvening) -> QuerySet[Registration]:
    """One evening's registrations for its check-in page (see ``staff_registrations``)."""
    return staff_registrations(ParentEvening.objects.filter(pk=evening.pk)).order_by("created_at", "id")


@dataclass
class FeedbackSummary:
    language: str
    name: str  # the language's name in the UI language
    responses: str  # suppressed count ("<5" for 1–4)
    mean_score: str  # "" when too few answers to show
    useful: list[str]
    missing: list[str]


def _summaries(answers: list[Feedback]) -> list[FeedbackSummary]:
    """Per language: fewer than five answers show "<5" and no mean or texts (welfare.aggregates)."""
    by_language: dict[str, list[Feedback]] = defaultdict(list)
    for answer in answers:
        by_language[answer.language].append(answer)
    summaries = []
    for code, rows in sorted(by_language.items()):
        mean = suppress_mean(sum(r.score for r in rows), len(rows))
        summaries.append(FeedbackSummary(
            language=code, name=display_name(code), responses=suppress_count(len(rows)),
            mean_score="" if mean is None else f"{mean:.1f}",
            useful=[r.useful for r in rows if r.useful] if mean is not None else [],
            missing=[r.missing for r in rows if r.missing] if mean is not None else [],
        ))
    return summaries


def feedback_summary(evening_ids) -> list[FeedbackSummary]:
    """Feedback per language of the given evenings (small numbers suppressed). Callers: managers."""
    return _summaries(list(Feedback.objects.filter(evening_id__in=evening_ids).order_by("language", "id")))


@dataclass
class AreaReport:
    area: str
    evenings: list[ParentEvening]
    table: SuppressedTable
    languages_lacking_interpreter: list[tuple[ParentEvening, str]]  # (evening, language name)
    feedback: list[FeedbackSummary]


def area_reports(user) -> list[AreaReport]:
    """The coordinator's view: per area, registrations vs attendance per language (people,
    suppressed), languages still lacking a confirmed interpreter, and feedback per language.
    Read from the dashboards' rollup and the feedback rows: three queries whatever the evenings."""
    evenings = {evening.pk: evening for evening in
                manageable_evenings(user).exclude(status=EveningStatus.CANCELLED).order_by("area", "date", "id")}
    rollup_rows: dict[str, list[EveningLanguageRollup]] = defaultdict(list)
    for row in EveningLanguageRollup.objects.filter(evening_id__in=evenings, offered=True).order_by("language_code"):
        rollup_rows[evenings[row.evening_id].area].append(row)
    answers: dict[str, list[Feedback]] = defaultdict(list)
    for answer in Feedback.objects.filter(evening_id__in=evenings).order_by("language", "id"):
        answers[evenings[answer.evening_id].area].append(answer)
    by_area: dict[str, list[ParentEvening]] = defaultdict(list)
    for evening in evenings.values():
        by_area[evening.area].append(evening)
    reports = []
    for area, area_evenings in sorted(by_area.items()):
        registered: dict[str, int] = defaultdict(int)
        attended: dict[str, int] = defaultdict(int)
        for row in rollup_rows[area]:
            registered[row.language_code] += row.people
            attended[row.language_code] += row.attended
        lacking = sorted(((evenings[row.evening_id], display_name(row.language_code))
                          for row in rollup_rows[area] if row.lacks_interpreter),
                         key=lambda pair: (pair[0].date, pair[0].pk, pair[1]))
        codes = sorted(registered)
        table = suppress_table([f"{display_name(code)} ({code})" for code in codes],
                               [_("Registered people"), _("Attended people")],
                               [[registered[code], attended[code]] for code in codes])
        reports.append(AreaReport(area=area, evenings=area_evenings, table=table,
                                  languages_lacking_interpreter=lacking, feedback=_summaries(answers[area])))
    return reports
