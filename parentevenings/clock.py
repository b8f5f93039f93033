"""What this module shows on a school's annual clock (welfare.clock contract): the evenings in
which the school takes part, in their own ring."""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils.translation import gettext as _

from parentevenings.models import EveningStatus, ParentEvening
from welfare.clock import ClockEntry


def clock_entries(school_id: int, start: date, end: date) -> list[ClockEntry]:
    """Evenings of the school between two dates (inclusive), cancelled ones left out.
    Callers: annualclock (which has checked VIEW_ANNUAL_CLOCK for the school)."""
    evenings = (ParentEvening.objects.filter(schools=school_id, date__gte=start, date__lte=end)
                .exclude(status=EveningStatus.CANCELLED).prefetch_related("languages").order_by("date", "id"))
    status_labels = {EveningStatus.DRAFT: _("Being planned"), EveningStatus.PUBLISHED: _("Invitations out")}
    entries = []
    for evening in evenings:
        codes = ", ".join(language.code for language in evening.languages.all())
        title = f"{evening.title} ({codes})" if codes else evening.title
        entries.append(ClockEntry(
            source="parentevenings", ring_label=_("Parent evenings"), key=f"evening-{evening.pk}",
            title=title, start=evening.date, end=evening.date,
            url=reverse("parentevenings:evening", args=[evening.pk]),
            status=str(status_labels.get(evening.status, "")),
        ))
    return entries
