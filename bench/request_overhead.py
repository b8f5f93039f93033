"""request_overhead: what serving a municipality's landing page costs over a bare Django view.

In one child process (DEBUG off, the bench database), through ``django.test.Client`` and the
full middleware stack, requests are timed round-robin (after a warm-up):

* ``bare``: a trivial ``HttpResponse("ok")`` view added at run time to the public URLconf,
  requested on the bare host (``localhost``);
* ``tenant_bare``: the same view added to the municipality URLconf, on ``bench-001.localhost``
  (the difference to ``bare`` is switching to the municipality's schema);
* ``landing``: ``/`` on ``bench-001.localhost`` for an anonymous visitor;
* ``staff_bare`` / ``staff_landing``: the same for a signed-in user holding a municipal role.

Both hosts go through TenantMainMiddleware's domain lookup, so ``request_overhead_ms`` =
median(landing) − median(bare) is the schema switch plus the landing page's own view,
queries and template rendering.
"""

from __future__ import annotations

import argparse
import time

from bench._common import OPTIONS, django_child, emit, ensure_bench_db, log, result, setup_django

GOAL_MS = 5.0
SLUG = "bench-001"  # one of migrate_noop's municipalities (created here if missing)
BARE_PATH = "/__bench_bare__/"


def run(requests: int | None = None) -> None:
    ensure_bench_db()
    n = requests or (50 if OPTIONS.get("quick") else 200)
    log(f"request_overhead: {n} requests per variant on {SLUG}.localhost")
    rows = django_child("bench.request_overhead", "measure", "--n", str(n), timeout=600)
    data = rows[-1]
    medians, queries = data["median_ms"], data["queries"]
    emit("request_overhead_ms", medians["landing"] - medians["bare"], "ms", n=n, goal=f"< {GOAL_MS:.0f} ms")
    emit("landing_page_median_ms", medians["landing"], "ms", n=n, queries=queries["landing"])
    emit("bare_view_median_ms", medians["bare"], "ms", n=n, queries=queries["bare"])
    emit("tenant_bare_view_median_ms", medians["tenant_bare"], "ms", n=n, queries=queries["tenant_bare"])
    emit("staff_request_overhead_ms", medians["staff_landing"] - medians["staff_bare"], "ms", n=n)
    emit("staff_landing_page_median_ms", medians["staff_landing"], "ms", n=n, queries=queries["staff_landing"])
    emit("staff_bare_view_median_ms", medians["staff_bare"], "ms", n=n, queries=queries["staff_bare"])


# --- child side ----------------------------------------------------------------------------


def _bare_view(request):
    from django.http import HttpResponse

    return HttpResponse("ok")


def _install_bare_view() -> None:
    from django.urls import clear_url_caches, path

    import config.urls
    import config.urls_public

    for module in (config.urls_public, config.urls):
        module.urlpatterns.append(path(BARE_PATH.strip("/") + "/", _bare_view))
    clear_url_caches()


def _staff_user():
    from django.contrib.auth import get_user_model
    from django_tenants.utils import schema_context

    from welfare.models import Role, StaffRole
    from welfare.municipalities.models import Municipality

    user, _ = get_user_model().objects.get_or_create(email="bench-staff@bench.invalid")
    municipality = Municipality.objects.get(slug=SLUG)
    with schema_context(municipality.schema_name):
        # A coordinator: staff whose role needs no second factor, so the page itself is measured.
        StaffRole.objects.filter(user_id=user.pk).exclude(role=Role.MUNICIPAL_COORDINATOR).delete()
        StaffRole.objects.get_or_create(user_id=user.pk, role=Role.MUNICIPAL_COORDINATOR)
    return user


def _measure(n: int) -> None:
    import statistics

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from welfare.services.municipalities import create_municipality, host_for

    create_municipality(slug=SLUG, name_fi="Bench 001")
    _install_bare_view()
    tenant_host = host_for(SLUG)
    anonymous = Client(headers={"host": tenant_host})
    public = Client(headers={"host": "localhost"})
    staff = Client(headers={"host": tenant_host})
    staff.force_login(_staff_user())

    variants = {
        "bare": lambda: public.get(BARE_PATH),
        "tenant_bare": lambda: anonymous.get(BARE_PATH),
        "landing": lambda: anonymous.get("/"),
        "staff_bare": lambda: staff.get(BARE_PATH, headers={"host": "localhost"}),
        "staff_landing": lambda: staff.get("/"),
    }
    queries = {}
    for name, request in variants.items():
        for _ in range(max(10, n // 10)):  # warm-up: templates, URL resolvers, connection
            response = request()
            assert response.status_code == 200, (name, response.status_code)
        with CaptureQueriesContext(connection) as captured:
            request()
        queries[name] = len(captured)
    timings: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(n):
        for name, request in variants.items():
            started = time.perf_counter()
            response = request()
            timings[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (name, response.status_code)
    result(median_ms={name: statistics.median(values) for name, values in timings.items()}, queries=queries)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["measure"])
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    setup_django()
    _measure(args.n)
