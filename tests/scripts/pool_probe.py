"""Run by tests/test_tenancy.py in a subprocess with DATABASE_POOL=1.

Alternates municipalities through the pool: direct ORM use with a close() after
each unit of work (as at the end of a request), and real requests from several
threads. Prints one JSON line: {"pooled": bool, "checks": n, "leaks": [...]}.
"""

import json
import os
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import close_old_connections, connection  # noqa: E402
from django.test import Client  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from welfare.models import School  # noqa: E402
from welfare.municipalities.models import Municipality  # noqa: E402

EXPECTED = {"espoo": "Pool Espoo", "vantaa": "Pool Vantaa"}
leaks: list[str] = []
checks = 0
lock = threading.Lock()


def check(slug: str, names: list[str]) -> None:
    global checks
    with lock:
        checks += 1
        if EXPECTED[slug] not in names or EXPECTED["vantaa" if slug == "espoo" else "espoo"] in names:
            leaks.append(f"{slug}: {names}")


municipalities = {m.slug: m for m in Municipality.objects.filter(slug__in=EXPECTED)}
for i in range(100):
    slug = "espoo" if i % 2 == 0 else "vantaa"
    with tenant_context(municipalities[slug]):
        check(slug, list(School.objects.values_list("name", flat=True)))
    connection.close()  # returns the connection to the pool, as at the end of a request


def worker(offset: int) -> None:
    for i in range(25):
        slug = "espoo" if (i + offset) % 2 == 0 else "vantaa"
        with tenant_context(municipalities[slug]):
            check(slug, list(School.objects.values_list("name", flat=True)))
        close_old_connections()
        connection.close()


threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()

# Real requests through the middleware: the anonymous front page is rendered per host.
client = Client()
for i in range(20):
    slug = "espoo" if i % 2 == 0 else "vantaa"
    response = client.get("/", headers={"host": f"{slug}.localhost"})
    with lock:
        checks += 1
        if response.status_code != 200 or municipalities[slug].name_fi not in response.content.decode():
            leaks.append(f"request {slug}: {response.status_code}")

print(json.dumps({"pooled": "pool" in connection.settings_dict["OPTIONS"], "checks": checks, "leaks": leaks}))
