"""The contract between the annual clock and the modules it shows in read-only rings.

Module apps never import each other's models (docs/architecture.md). A module that has dated
events for a school (group sessions, parent evenings) exposes one function
``clock_entries(school_id, start, end) -> list[ClockEntry]`` and lists it in
``settings.ANNUAL_CLOCK_PROVIDERS``; ``annualclock`` calls every provider through
``entries_for_school``. Entries carry no pupil identities.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class ClockEntry:
    source: str  # the providing app's label, e.g. "groupsessions": one read-only ring per source
    ring_label: str  # the ring's name, already translated (e.g. "Group sessions")
    key: str  # stable within the source, e.g. "session-42" (used for iCalendar UIDs)
    title: str  # translated, no pupil names
    start: date
    end: date  # inclusive; equal to start for one-day events
    url: str  # where the entry's own page is (the app's screen), "" when none
    status: str = ""  # a short translated status, e.g. "Held", "Planned"


def entries_for_school(school_id: int, start: date, end: date) -> list[ClockEntry]:
    """Every provider's entries for one school between two dates (inclusive), sorted by date.
    Callers: annualclock views, feeds and PDFs, which have already checked VIEW_ANNUAL_CLOCK."""
    entries: list[ClockEntry] = []
    for path in settings.ANNUAL_CLOCK_PROVIDERS:
        entries.extend(import_string(path)(school_id, start, end))
    return sorted(entries, key=lambda entry: (entry.start, entry.source, entry.key))
