"""Municipalities are the tenants: one PostgreSQL schema each (django-tenants)."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

UI_LANGUAGES = [("fi", _("Finnish")), ("sv", _("Swedish"))]


class Municipality(TenantMixin):
    """A municipality (kunta). Its welfare data lives in its own schema."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name_fi = models.CharField(_("name in Finnish"), max_length=100)
    name_sv = models.CharField(_("name in Swedish"), max_length=100, blank=True)
    official_languages = ArrayField(
        models.CharField(max_length=2, choices=UI_LANGUAGES), default=list, verbose_name=_("official languages")
    )
    wellbeing_county = models.CharField(_("wellbeing services county"), max_length=120, blank=True)
    # False while the schema is being created or migrated: beat and routing skip it.
    ready = models.BooleanField(_("ready"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # Schemas are created by the create_municipality command, never inside a web request.
    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        ordering = ["name_fi"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    def __str__(self) -> str:
        return self.name

    @property
    def is_public(self) -> bool:
        return self.schema_name == "public"

    @property
    def name(self) -> str:
        """The name in the current UI language where the municipality has one."""
        if get_language() == "sv" and self.name_sv:
            return self.name_sv
        return self.name_fi


class Domain(DomainMixin):
    """A host name that serves one municipality (e.g. espoo.localhost)."""

    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")
