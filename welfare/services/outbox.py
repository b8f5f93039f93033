"""The delivery loop of an outbox table (in-app notifications' e-mails, parents' messages).

Rows are written in the transaction that decides to send them and delivered later by a beat
task. Each row is claimed in its own short transaction (``FOR UPDATE SKIP LOCKED`` while it is
still pending) and its outcome is committed with it: several workers never send one row twice,
and a worker that dies mid-batch loses only the row it was sending, which stays pending.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from django.db import transaction
from django.db.models import Model, QuerySet

OUTCOMES = ("sent", "failed", "skipped", "retry")


def deliver_each(pending: QuerySet, deliver: Callable[[Model], str], *, batch: int) -> dict[str, int]:
    """Call ``deliver(row)`` (which sends, marks and saves the row and returns one of OUTCOMES)
    for up to ``batch`` rows of ``pending``, oldest first, each claimed in its own transaction.
    Returns the counts by outcome."""
    counts = Counter(dict.fromkeys(OUTCOMES, 0))
    for pk in list(pending.order_by("created_at", "id").values_list("pk", flat=True)[:batch]):
        with transaction.atomic():
            row = pending.select_for_update(skip_locked=True, of=("self",)).filter(pk=pk).first()
            if row is not None:  # else another worker holds it, or it is no longer pending
                counts[deliver(row)] += 1
    return dict(counts)


def error_text(exc: Exception) -> str:
    """What a failed send stores: the kind of error and the SMTP code only. The text of e.g.
    SMTPRecipientsRefused holds the address, which must not outlive its owner's data."""
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__}{f' {code}' if code else ''}"[:300]
