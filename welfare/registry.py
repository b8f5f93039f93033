"""Extension points through which module apps add their data to the core's privacy work,
without ``welfare`` importing them (style.md: welfare depends on no module app).

Two registries, filled in each app's ``AppConfig.ready()``:

* **Subject access** (GDPR Art. 15): ``register_subject_access_section(func)`` where
  ``func(student) -> Section | Iterable[Section] | None`` returns what the app holds about
  one pupil.  Example (absences/apps.py)::

      def ready(self):
          from welfare.registry import register_subject_access_section
          from absences.privacy import escalation_sections
          register_subject_access_section(escalation_sections)

* **Retention**: ``register_retention_type(RetentionRecordType(...))``, one per kind of
  record with a retention period.  The nightly job (welfare.services.retention) runs every
  registered purge with the municipality's rule or the default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.functional import Promise

from welfare.models import RetentionAction


@dataclass(frozen=True)
class Section:
    """One part of a subject access export.

    ``key`` is a stable machine name (``"absences.escalations"``); ``title`` the heading in the
    active language; ``rows`` plain dicts whose values JSON can carry (str, int, bool, None,
    dates and datetimes; Django's JSON encoder writes dates as ISO 8601).  ``columns`` gives
    (row key, translated label) pairs for the readable PDF; without it the row keys are used.
    """

    key: str
    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    columns: Sequence[tuple[str, str]] = ()

    def column_pairs(self) -> list[tuple[str, str]]:
        if self.columns:
            return [(key, str(label)) for key, label in self.columns]
        keys: list[str] = []
        for row in self.rows:
            keys.extend(key for key in row if key not in keys)
        return [(key, key) for key in keys]

    def value_rows(self) -> list[list[Any]]:
        """The rows as lists of values in column order (for tables)."""
        keys = [key for key, _label in self.column_pairs()]
        return [[row.get(key) for key in keys] for row in self.rows]

    def labelled_values(self) -> list[tuple[str, Any]]:
        """(label, value) pairs of a one-row section (shown as a record, not a table)."""
        row = self.rows[0] if self.rows else {}
        return [(label, row.get(key)) for key, label in self.column_pairs()]


SectionProvider = Callable[[Any], "Section | Iterable[Section] | None"]
subject_access_sections: list[SectionProvider] = []


def register_subject_access_section(provider: SectionProvider) -> SectionProvider:
    """Add a provider of subject access sections (usable as a decorator; registering twice is a no-op)."""
    if provider not in subject_access_sections:
        subject_access_sections.append(provider)
    return provider


@dataclass(frozen=True)
class RetentionRecordType:
    """A kind of record with a retention period the municipality may set.

    ``purge(cutoff)`` deletes the records older than ``cutoff`` and returns how many it removed;
    ``anonymise(cutoff)``, when given, strips their personal data instead and returns how many
    it changed.  Both run in the municipality's schema, must be idempotent (a second call with
    the same cutoff changes nothing) and own their transactions.
    """

    code: str
    label: str | Promise
    default_days: int
    purge: Callable[[datetime], int]
    default_action: str = RetentionAction.DELETE
    anonymise: Callable[[datetime], int] | None = None
    help_text: str | Promise = ""

    def __post_init__(self) -> None:
        if self.default_action not in self.actions:
            raise ValueError(f"{self.code}: default action {self.default_action!r} has no function")

    @property
    def actions(self) -> list[str]:
        """The actions this record type supports, delete first."""
        return [RetentionAction.DELETE] + ([RetentionAction.ANONYMISE] if self.anonymise else [])

    def apply(self, action: str, cutoff: datetime) -> int:
        if action not in self.actions:  # never fall back to deleting what was to be anonymised
            raise ValueError(f"{self.code} does not support {action!r}")
        if action == RetentionAction.ANONYMISE:
            return self.anonymise(cutoff)
        return self.purge(cutoff)


_retention_types: dict[str, RetentionRecordType] = {}


def register_retention_type(record_type: RetentionRecordType) -> RetentionRecordType:
    """Register (or replace, by code) a record type with a retention period."""
    _retention_types[record_type.code] = record_type
    return record_type


def retention_types() -> list[RetentionRecordType]:
    """Registered record types in registration order."""
    return list(_retention_types.values())


def retention_type(code: str) -> RetentionRecordType | None:
    return _retention_types.get(code)
