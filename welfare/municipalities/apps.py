from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MunicipalitiesConfig(AppConfig):
    """Municipalities (the tenants) and their host names: public schema."""

    name = "welfare.municipalities"
    label = "municipalities"
    verbose_name = _("Municipalities")
