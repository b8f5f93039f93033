from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnnualclockConfig(AppConfig):
    """The welfare group's year plan: municipal templates, activities by month, done and evaluated."""

    name = "annualclock"
    verbose_name = _("Annual clock")

    def ready(self) -> None:
        from annualclock import documents

        documents.register()  # the year plan and evaluation report PDFs (welfare.services.documents)
