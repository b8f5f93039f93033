from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParenteveningsConfig(AppConfig):
    """Regional multilingual, multi-agency parent evenings: languages, interpreters, invitations and registrations."""

    name = "parentevenings"
    verbose_name = _("Parent evenings")
