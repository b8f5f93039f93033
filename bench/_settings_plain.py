"""Settings for the migrate_noop benchmark's baseline runs: config.settings with django-tenants'
own executors (standard, multiprocessing, subprocess) instead of django-tenants-smart-executor."""

from config.settings import *  # noqa: F403

GET_EXECUTOR_FUNCTION = None
