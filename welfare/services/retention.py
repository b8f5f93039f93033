"""Retention: every record type is kept for the period the municipality sets, then deleted or
anonymised by the nightly job (anchors.md B "read log and retention", "GDPR and retention").

Record types come from ``welfare.registry``; this module registers the core's own
(``audit_event``).  Periods are configuration, not law in code: the National Archives'
figures are not confirmed (domain.md §1.3, [UNVERIFIED]), so every default can be changed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from welfare import audit
from welfare.locks import singleton
from welfare.models import RETENTION_MIN_DAYS, AuditAction, AuditEvent, RetentionRule, RetentionRun
from welfare.registry import RetentionRecordType, register_retention_type, retention_type, retention_types

log = logging.getLogger(__name__)

RETENTION_MAX_DAYS = 100 * 366
LOCK_SECONDS = 3 * 60 * 60  # longer than any run; a crashed worker's lock expires by itself
PURGE_BATCH = 10_000


# --- The core's record types ----------------------------------------------------------------

def purge_audit_events(cutoff: datetime) -> int:
    """Delete audit entries older than ``cutoff``, in batches.

    The append-only trigger (migration 0003) lets a DELETE through only while the
    transaction-local setting ``yhdessa.audit_purge`` is 'on'; it is switched off again
    before each batch's transaction ends, so nothing else in the transaction can delete.
    """
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(AuditEvent.objects.filter(occurred_at__lt=cutoff).order_by("pk")
                       .values_list("pk", flat=True)[:PURGE_BATCH])
            if not ids:
                return deleted
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL yhdessa.audit_purge = 'on'")
                cursor.execute("DELETE FROM welfare_auditevent WHERE id = ANY(%s)", [ids])
                deleted += cursor.rowcount
                cursor.execute("SET LOCAL yhdessa.audit_purge = 'off'")
        if len(ids) < PURGE_BATCH:
            return deleted


AUDIT_EVENTS = register_retention_type(RetentionRecordType(
    code="audit_event",
    label=_("Audit log entries"),
    help_text=_("Who read or changed which data and when. Entries cannot be anonymised, only deleted."),
    default_days=1826,  # 5 years
    purge=purge_audit_events,
))


# --- Rules ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class EffectiveRule:
    record_type: RetentionRecordType
    days: int
    action: str
    customised: bool  # the municipality has its own rule

    @property
    def code(self) -> str:
        return self.record_type.code


def effective_rules() -> list[EffectiveRule]:
    """Every registered record type with the municipality's rule or the default (any caller)."""
    rules = {rule.record_type: rule for rule in RetentionRule.objects.all()}
    result = []
    for record_type in retention_types():
        rule = rules.get(record_type.code)
        if rule is not None:
            result.append(EffectiveRule(record_type, rule.days, rule.action, True))
        else:
            result.append(EffectiveRule(record_type, record_type.default_days, record_type.default_action, False))
    return result


def set_retention_rule(code: str, *, days: int, action: str, user=None) -> tuple[RetentionRule | None, dict]:
    """Set the municipality's rule for one record type; returns (rule, changes).

    ``changes`` maps field → [old, new] and is empty when nothing changed (then nothing is
    written).  Callers (the retention page) have checked Action.MANAGE_RETENTION and audit
    the change.
    """
    record_type = retention_type(code)
    if record_type is None:
        raise ValueError(f"Unknown record type {code!r}")
    if not RETENTION_MIN_DAYS <= days <= RETENTION_MAX_DAYS:
        raise ValueError(f"days must be between {RETENTION_MIN_DAYS} and {RETENTION_MAX_DAYS}")
    if action not in record_type.actions:
        raise ValueError(f"{code} does not support {action!r}")
    with transaction.atomic():
        rule = RetentionRule.objects.select_for_update().filter(record_type=code).first()
        old_days = rule.days if rule else record_type.default_days
        old_action = rule.action if rule else record_type.default_action
        changes = {}
        if old_days != days:
            changes["days"] = [old_days, days]
        if old_action != action:
            changes["action"] = [old_action, action]
        if not changes:
            return rule, {}
        if rule is None:
            rule = RetentionRule(record_type=code)
        rule.days, rule.action = days, action
        rule.updated_by_id = getattr(user, "pk", None)
        rule.save()
    return rule, changes


# --- The nightly run --------------------------------------------------------------------------

LOCK_NAME = "retention"


def run_retention(*, now: datetime | None = None) -> RetentionRun | None:
    """Apply every registered record type's rule in the current municipality.

    Called by the nightly Celery task (welfare.tasks.apply_retention), never from a request.
    Returns None without doing anything when another run for this municipality holds the
    lock.  Idempotent: a second run with the same rules finds nothing more to remove.
    Records a RetentionRun and writes one audit entry with the counts.
    """
    with singleton(LOCK_NAME, LOCK_SECONDS) as held:
        if not held:
            log.info("retention already running in %s; skipped", connection.schema_name)
            return None
        now = now or timezone.now()
        run = RetentionRun.objects.create()
        counts: dict[str, int] = {}
        errors: dict[str, str] = {}
        for rule in effective_rules():
            cutoff = now - timedelta(days=rule.days)
            try:
                counts[rule.code] = rule.record_type.apply(rule.action, cutoff)
            except Exception as exc:  # one failing module must not stop the others
                log.exception("retention of %s failed in %s", rule.code, connection.schema_name)
                errors[rule.code] = f"{type(exc).__name__}: {exc}"[:500]
        run.counts, run.ok, run.finished_at = counts, not errors, timezone.now()
        run.error = "\n".join(f"{code}: {message}" for code, message in errors.items())
        run.save(update_fields=["counts", "ok", "finished_at", "error"])
        audit.record(None, AuditAction.DELETE, object_type="retention", object_id=str(run.pk),
                     detail={"counts": counts, "errors": errors})
        return run
