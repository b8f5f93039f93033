from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AbsencesConfig(AppConfig):
    """Absence hours against the municipality's thresholds, escalation steps and the confidential case log."""

    name = "absences"
    verbose_name = _("Absence follow-up")

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from welfare.models import Student

        post_delete.connect(_pupil_deleted, sender=Student, dispatch_uid="absences-rollups-pupil-deleted")


def _pupil_deleted(sender, instance, **kwargs) -> None:
    """A deleted pupil's absence rows went with them (cascade): rebuild their school's rollups."""
    from absences.tasks import refresh_rollups_task, send_after_commit

    send_after_commit(refresh_rollups_task, [instance.school_id])
