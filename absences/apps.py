from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AbsencesConfig(AppConfig):
    """Absence hours against the municipality's thresholds, escalation steps and the confidential case log."""

    name = "absences"
    verbose_name = _("Absence follow-up")
