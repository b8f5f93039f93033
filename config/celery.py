"""Celery with tenant-schemas-celery: every task runs in the schema it was sent from."""

import os

from tenant_schemas_celery.app import CeleryApp as TenantAwareCeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = TenantAwareCeleryApp("yhdessa")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
