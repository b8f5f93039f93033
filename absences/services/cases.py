"""Write verbs of the absence case log: log an action, correct an entry, close the case.

Entries are append-only (migration 0002's trigger refuses UPDATE and DELETE): a correction is a new
entry pointing to the one it corrects, and the original stays visible (anchors.md A5, "court safe").
Each verb owns its transaction and locks the case row, so two staff members logging at once cannot
both become the step's "first action". The callers (views, API) have checked LOG_CASE_ACTION.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from absences.models import AbsenceCase, CaseEntry, Escalation
from absences.selectors_cases import ACTION_KINDS, effective_kind

# The one field each kind asks for besides the date.
KIND_FIELDS = {
    CaseEntry.Kind.GUARDIAN_CONTACTED: "contact_method",
    CaseEntry.Kind.REFERRAL: "referral_target",
    CaseEntry.Kind.CLOSED: "close_reason",
}
DETAIL_FIELDS = ("contact_method", "referral_target", "close_reason")


def _details(kind: str, *, contact_method: str = "", referral_target: str = "", close_reason: str = "") -> dict:
    """The kind's own field (required) and nothing else: minimum data (domain.md A3)."""
    values = {"contact_method": contact_method, "referral_target": referral_target, "close_reason": close_reason}
    needed = KIND_FIELDS.get(kind)
    if needed and not values[needed]:
        raise ValidationError({needed: _("This field is required for this kind of action.")})
    return {name: (values[name] if name == needed else "") for name in DETAIL_FIELDS}


def _check_date(occurred_on: datetime.date) -> None:
    if occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": _("The date cannot be in the future.")})


def _lock(case: AbsenceCase) -> AbsenceCase:
    return AbsenceCase.objects.select_for_update(no_key=True).get(pk=case.pk)


@transaction.atomic
def log_action(case: AbsenceCase, *, user, author_role: str, kind: str, occurred_on: datetime.date,
               contact_method: str = "", referral_target: str = "", close_reason: str = "",
               note: str = "") -> CaseEntry:
    """Append a structured action to an open case. The first action after a step was reached sets
    that step's ``first_action_at``; a "closed" action closes the case. Raises ValidationError."""
    if kind not in ACTION_KINDS:
        raise ValidationError({"kind": _("Choose an action.")})
    details = _details(kind, contact_method=contact_method, referral_target=referral_target,
                       close_reason=close_reason)
    _check_date(occurred_on)
    locked = _lock(case)
    if locked.status != AbsenceCase.Status.OPEN:
        raise ValidationError(_("The case is closed: actions can no longer be logged."))
    latest = locked.escalations.order_by("-reached_at", "-id").first()
    entry = CaseEntry.objects.create(case=locked, kind=kind, occurred_on=occurred_on, author_id=user.pk,
                                     author_role=author_role, escalation=latest, note=note.strip()[:300],
                                     **details)
    Escalation.objects.filter(case=locked, first_action_at__isnull=True, reached_at__lt=entry.created_at).update(
        first_action_at=entry.created_at)
    if kind == CaseEntry.Kind.CLOSED:
        AbsenceCase.objects.filter(pk=locked.pk).update(status=AbsenceCase.Status.CLOSED)
        case.status = AbsenceCase.Status.CLOSED
    _refresh_dashboards(locked.student.school_id)
    return entry


def _refresh_dashboards(school_id: int) -> None:
    """The reaction rate and days-to-action of the school's dashboard rows, after commit."""
    from absences.tasks import refresh_rollups_task, send_after_commit

    send_after_commit(refresh_rollups_task, [school_id], hours=False)


def close_case(case: AbsenceCase, *, user, author_role: str, close_reason: str, occurred_on: datetime.date,
               note: str = "") -> CaseEntry:
    """Close the case with a reason (attendance recovered, moved school, in treatment, other)."""
    return log_action(case, user=user, author_role=author_role, kind=CaseEntry.Kind.CLOSED,
                      occurred_on=occurred_on, close_reason=close_reason, note=note)


@transaction.atomic
def correct_entry(original: CaseEntry, *, user, author_role: str, occurred_on: datetime.date, note: str,
                  contact_method: str = "", referral_target: str = "", close_reason: str = "") -> CaseEntry:
    """Append a correction of ``original`` (an action or an earlier correction not yet corrected):
    the corrected date and detail, and a note saying why (required). The original is kept."""
    if not note.strip():
        raise ValidationError({"note": _("Say briefly why the entry is corrected.")})
    _check_date(occurred_on)
    _lock(original.case)
    original = CaseEntry.objects.get(pk=original.pk)
    if original.kind == CaseEntry.Kind.STEP_REACHED:
        raise ValidationError(_("A step reached is recorded by the evaluation and cannot be corrected here."))
    if original.corrections.exists():
        raise ValidationError(_("This entry has already been corrected: correct the latest correction."))
    chain = {entry.pk: entry for entry in original.case.entries.all()}
    details = _details(effective_kind(original, chain), contact_method=contact_method,
                       referral_target=referral_target, close_reason=close_reason)
    return CaseEntry.objects.create(case_id=original.case_id, kind=CaseEntry.Kind.CORRECTION, occurred_on=occurred_on,
                                    author_id=user.pk, author_role=author_role, escalation_id=original.escalation_id,
                                    note=note.strip()[:300], corrects=original, **details)
