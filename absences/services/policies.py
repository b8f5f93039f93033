"""Threshold policies: create from a preset, copy into a draft, publish (write verbs).

Versioning: a PolicyVersion is a draft until ``publish_version()`` sets ``published_at``; a
published version is never edited again: a change is a new draft copied from it
(``new_draft()``). The policy's current version is its latest published one, and it applies
from the next evaluation; escalations keep the version they were raised under (FK).

One active policy per municipality: the evaluation uses the **newest policy that has a published
version** (``absences.selectors.active_policy_version()``). Picking another preset and publishing
it therefore replaces the municipality's model; older policies stay for their escalations and
history. Callers: the policy editor views (which check Action.MANAGE_POLICIES and audit-log),
the benchmark and tests.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from absences.models import AbsenceCategory, EscalationStep, GradeBand, PolicyVersion, ThresholdPolicy
from absences.presets import PRESETS
from absences.selectors import active_policy_version

__all__ = ["active_policy_version", "create_policy_from_preset", "new_draft", "publish_version", "draft_of"]


@transaction.atomic
def create_policy_from_preset(preset: str, *, user_id: int | None = None, publish: bool = False,
                              name: str | None = None) -> ThresholdPolicy:
    """A new policy holding the preset as draft version 1 (published at once with ``publish``)."""
    data = PRESETS[preset]
    policy = ThresholdPolicy.objects.create(name=name or str(data["name"])[:120], preset=preset)
    categories = data["counted_categories"]
    if categories is None:
        categories = list(AbsenceCategory.objects.values_list("code", flat=True))
    version = PolicyVersion.objects.create(
        policy=policy, number=1, created_by_id=user_id, counting_period=data["counting_period"],
        check_dates=list(data["check_dates"]), counted_categories=list(categories), unit=data["unit"],
        scheduled_hours_per_week=dict(data["scheduled_hours_per_week"]),
        consecutive_days=data["consecutive_days"], unexplained_after_days=data["unexplained_after_days"],
    )
    for band_data in data["bands"]:
        band = GradeBand.objects.create(version=version, name=band_data["name"], grade_min=band_data["grade_min"],
                                        grade_max=band_data["grade_max"])
        EscalationStep.objects.bulk_create(EscalationStep(band=band, **step) for step in band_data["steps"])
    if publish:
        publish_version(version)
    return policy


def draft_of(policy: ThresholdPolicy) -> PolicyVersion | None:
    """The policy's unpublished version, if one is being edited."""
    return policy.versions.filter(published_at__isnull=True).order_by("-number").first()


@transaction.atomic
def new_draft(policy: ThresholdPolicy, *, user_id: int | None = None) -> PolicyVersion:
    """The draft to edit: the existing one, else a copy of the current version (bands and steps)."""
    ThresholdPolicy.objects.select_for_update().get(pk=policy.pk)  # one draft even on a double click
    existing = draft_of(policy)
    if existing is not None:
        return existing
    source = policy.current_version()
    number = (policy.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    if source is None:
        return PolicyVersion.objects.create(policy=policy, number=number, created_by_id=user_id)
    bands = list(source.bands.prefetch_related("steps"))
    source.pk, source.id, source._state.adding = None, None, True
    source.number, source.published_at, source.created_by_id = number, None, user_id
    source.save()
    for band in bands:
        steps = list(band.steps.all())
        band.pk, band.id, band._state.adding, band.version = None, None, True, source
        band.save()
        for step in steps:
            step.pk, step.id, step._state.adding, step.band = None, None, True, band
        EscalationStep.objects.bulk_create(steps)
    return source


@transaction.atomic
def publish_version(version: PolicyVersion) -> PolicyVersion:
    """Publish a draft: it becomes the policy's current version from the next evaluation."""
    if version.published_at is not None:
        raise ValueError("A published version cannot be published again.")
    version.published_at = timezone.now()
    version.save(update_fields=["published_at"])
    return version
