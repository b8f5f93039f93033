"""Anonymous feedback of guardians (public; no name, address or IP address is stored)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from parentevenings.models import Feedback, ParentEvening
from parentevenings.services import rollups


def submit_feedback(evening: ParentEvening, *, language: str, score: int, useful: str = "",
                    missing: str = "") -> Feedback:
    """Store one anonymous answer. Open from the evening's day on, in one of its languages.
    Callers: the public feedback page (after spam checks)."""
    if not evening.is_public or evening.date > timezone.localdate():
        raise ValidationError(_("Feedback opens on the day of the evening."), code="not_open")
    if not evening.languages.filter(code=language).exists():
        raise ValidationError({"language": _("This evening has no group in that language.")})
    if not 1 <= score <= 10:
        raise ValidationError({"score": _("Give a score from 1 to 10.")})
    with transaction.atomic():
        answer = Feedback.objects.create(evening=evening, language=language, score=score,
                                         useful=useful.strip()[:1000], missing=missing.strip()[:1000])
        rollups.refresh([evening.pk])
        return answer
