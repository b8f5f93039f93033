from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WelfareConfig(AppConfig):
    """The shared core of one municipality: schools, groups, pupils, staff roles."""

    name = "welfare"
    verbose_name = _("Student welfare")

    def ready(self) -> None:
        from welfare import audit  # noqa: F401  (connects the sign-in audit signals)
        from welfare.services import retention  # noqa: F401  (registers the audit log's retention type)
