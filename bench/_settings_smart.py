"""Settings for the migrate_noop benchmark's "smart" runs: config.settings plus
django-tenants-smart-executor, which skips schemas that have nothing to migrate."""

from config.settings import *  # noqa: F403

GET_EXECUTOR_FUNCTION = "django_tenants_smart_executor.load_executor"

# It logs one WARNING per skipped schema ("No migrations needed for schema …"): 300 lines a deploy.
LOGGING["loggers"]["django_tenants_smart_executor"] = {"level": "ERROR"}  # noqa: F405
