"""Root conftest: test settings before Django loads, embedded services when nothing is configured."""

import os

os.environ.setdefault("YHDESSA_TESTING", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

from config import devservices  # noqa: E402

devservices.up()  # no-op for whichever of DATABASE_URL / REDIS_URL is set
