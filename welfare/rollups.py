"""The one way module rollups (the dashboards' summary tables) are rebuilt for some keys.

A module computes its rows for a set of keys (schools, evenings) from the raw rows; this rebuilds
them in one transaction under advisory locks on those keys (taken in order, so two refreshes never
deadlock and never interleave), and tells the dashboard cache after commit. Callers: the module
services that change the raw rows, nightly rebuilds and data migrations (``model`` may be a
historical model)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import transaction

from welfare.dashboard import rollups_changed
from welfare.locks import advisory_locks


def replace_rows(model, key_field: str, keys: Iterable[int | None], compute: Callable[[list[int]], list], *,
                 lock_namespace: str) -> int:
    """Recompute ``model``'s rows whose ``key_field`` is in ``keys``; returns the rows written."""
    ids = sorted({int(key) for key in keys if key is not None})
    if not ids:
        return 0
    with transaction.atomic():
        advisory_locks(lock_namespace, ids)
        rows = compute(ids)
        model.objects.filter(**{f"{key_field}__in": ids}).delete()
        model.objects.bulk_create(rows)
        transaction.on_commit(rollups_changed)
    return len(rows)
