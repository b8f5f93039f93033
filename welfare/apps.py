from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WelfareConfig(AppConfig):
    """The shared core of one municipality: schools, groups, pupils, staff roles."""

    name = "welfare"
    verbose_name = _("Student welfare")

    def ready(self) -> None:
        from welfare import audit  # noqa: F401  (connects the sign-in audit signals)
        from welfare.mfa import remember_used_codes_while_valid
        from welfare.services import (  # noqa: F401
            retention,  # registers the audit log's retention type
            staff,  # marks an invitee's email verified when they set their password
        )
        from welfare.services.reports import register as register_reports

        register_reports()
        remember_used_codes_while_valid()
