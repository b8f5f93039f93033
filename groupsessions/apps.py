from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsessionsConfig(AppConfig):
    """Welfare staff meet every new 7th-grade class and every first-year group: coverage, records and
    anonymous feedback."""

    name = "groupsessions"
    verbose_name = _("Group sessions")
