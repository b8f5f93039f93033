"""The dashboards' rollup of parent evenings: per evening and language, registrations, attendance,
interpreter coverage and feedback (``EveningLanguageRollup``).

The dashboards read the rollup, never registrations or feedback, so a page costs the same whatever
the number of evenings. ``refresh`` recomputes the rows of the given evenings from the raw rows in
the caller's transaction, so the rollup always equals a recomputation. The services call it for
the evening concerned on a registration, a cancellation (with its promotions), a check-in, a head
count, a feedback answer, a language added, changed or removed and an interpreter booking saved;
``rebuild`` (every evening) runs nightly and in the migration that created the table. What the
dashboards filter on (the evening's date, status and schools) is read from the evening itself.

Concurrency: each refresh takes a transaction-level advisory lock per evening before it reads, so
the last of two concurrent refreshes sees the other's committed rows.

After commit, a refresh tells the dashboards' panel cache (welfare.dashboard.rollups_changed).

Called by services, tasks and migrations; checks no permissions.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps as django_apps
from django.db.models import Count, Exists, OuterRef, Q, Sum

from parentevenings.models import BookingStatus, RegistrationStatus
from welfare.rollups import replace_rows

LOCK_NAMESPACE = ":parentevenings.rollup"


def compute(evening_ids: list[int], *, apps=django_apps) -> list:
    """Unsaved rollup rows of these evenings, from the raw rows."""
    rollup = apps.get_model("parentevenings", "EveningLanguageRollup")
    evening_language = apps.get_model("parentevenings", "EveningLanguage")
    booking = apps.get_model("parentevenings", "InterpreterBooking")
    feedback = apps.get_model("parentevenings", "Feedback")

    confirmed = Q(registrations__status=RegistrationStatus.CONFIRMED)
    checked_in = Q(registrations__checked_in_at__isnull=False)
    languages = (evening_language.objects.filter(evening_id__in=evening_ids)
                 .annotate(families=Count("registrations", filter=confirmed),
                           registered_adults=Sum("registrations__adults", filter=confirmed, default=0),
                           registered_children=Sum("registrations__children", filter=confirmed, default=0),
                           checked_in_adults=Sum("registrations__adults", filter=checked_in, default=0),
                           checked_in_children=Sum("registrations__children", filter=checked_in, default=0),
                           asking=Count("registrations", filter=confirmed & Q(registrations__interpreter_needed=True)),
                           confirmed_booking=Exists(booking.objects.filter(language=OuterRef("pk"),
                                                                           status=BookingStatus.CONFIRMED)))
                 .order_by("evening_id", "code"))
    rows = {}
    for language in languages:
        rows[(language.evening_id, language.code)] = rollup(
            evening_id=language.evening_id, language_code=language.code, offered=True, families=language.families,
            adults=language.registered_adults, children=language.registered_children,
            attended=(language.head_count if language.head_count is not None
                      else language.checked_in_adults + language.checked_in_children),
            families_needing_interpreter=language.asking, needs_interpreter=language.needs_interpreter,
            interpreter_confirmed=language.confirmed_booking)
    for found in (feedback.objects.filter(evening_id__in=evening_ids).values("evening_id", "language")
                  .annotate(n=Count("id"), total=Sum("score")).order_by()):
        key = (found["evening_id"], found["language"])
        row = rows.get(key)
        if row is None:  # feedback in a language the evening no longer offers
            row = rows[key] = rollup(evening_id=key[0], language_code=key[1], offered=False)
        row.feedback_responses, row.feedback_score_sum = found["n"], found["total"]
    return list(rows.values())


def refresh(evening_ids: Iterable[int], *, apps=django_apps) -> int:
    """Recompute the rollup rows of these evenings. Returns the rows written."""
    return replace_rows(apps.get_model("parentevenings", "EveningLanguageRollup"), "evening_id", evening_ids,
                        lambda ids: compute(ids, apps=apps), lock_namespace=LOCK_NAMESPACE)


def rebuild(*, apps=django_apps) -> int:
    """Recompute the whole municipality's rollup (nightly; the migration). Returns the rows written."""
    evening = apps.get_model("parentevenings", "ParentEvening")
    return refresh(evening.objects.values_list("pk", flat=True), apps=apps)
