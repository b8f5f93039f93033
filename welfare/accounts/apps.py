from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Users: one identity across municipalities (domain.md part A, decision 2)."""

    name = "welfare.accounts"
    label = "accounts"
    verbose_name = _("Accounts")
