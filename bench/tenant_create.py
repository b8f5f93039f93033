"""tenant_create: how long one new municipality takes to become usable.

Times ``welfare.services.municipalities.create_municipality`` (schema, tenant migrations,
domain, ready flag) five times and emits the median and the maximum.  The same is then
timed with django-tenants' template cloning (``TENANT_CREATION_FAKES_MIGRATIONS`` +
``TENANT_BASE_SCHEMA``, switched on in the child only), and a cloned schema is compared
with a migrated one (columns, constraints, indexes, sequences, migration rows).
The municipalities made here are dropped again.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from bench._common import django_child, emit, ensure_bench_db, log, median, result, setup_django

GOAL_S = 2.0


def run() -> None:
    ensure_bench_db()
    n = 2 if os_quick() else 5
    for mode in ("migrate", "clone"):
        log(f"tenant_create: creating {n} municipalities ({mode})")
        rows = django_child("bench.tenant_create", "create", "--n", str(n), "--mode", mode, timeout=600)
        times = [row["s"] for row in rows if "s" in row]
        suffix = "" if mode == "migrate" else "_clone"
        extra = {"n": n, "samples": [round(t, 3) for t in times]}
        if mode == "migrate":
            extra["goal"] = f"< {GOAL_S} s"
        else:
            template = next((row for row in rows if "template_s" in row), {})
            extra["template_refresh_s"] = round(template.get("template_s", 0.0), 3)
        emit(f"tenant_create{suffix}_s", median(times), "s", **extra)
        emit(f"tenant_create{suffix}_p_max_s", max(times), "s", n=n)
    log("tenant_create: comparing a cloned schema with a migrated one")
    rows = django_child("bench.tenant_create", "compare", timeout=300)
    check = rows[-1]
    emit("tenant_clone_schema_matches", int(check["matches"]), "bool",
         differences=check["differences"], examples=check["examples"])


def os_quick() -> bool:
    from bench._common import OPTIONS

    return bool(OPTIONS.get("quick"))


# --- child side ----------------------------------------------------------------------------


def _create(n: int, mode: str) -> None:
    from bench._tenants import drop_municipality, ensure_template_schema, use_template_cloning
    from welfare.services.municipalities import create_municipality

    use_template_cloning(mode == "clone")
    if mode == "clone":
        result(template_s=ensure_template_schema())  # the first one may build the template
    prefix = f"bench-new-{os.getpid()}"
    slugs = [f"{prefix}-{i}" for i in range(n)]
    try:
        for slug in slugs:
            started = time.perf_counter()
            if mode == "clone":
                ensure_template_schema()  # part of the cost: a stale template must not be cloned
            created = create_municipality(slug=slug, name_fi=f"Bench {slug}")
            seconds = time.perf_counter() - started
            assert created.created and created.municipality.ready
            print(f"  {slug}: {seconds:.3f} s", file=sys.stderr)
            result(slug=slug, s=seconds)
    finally:
        for slug in slugs:
            drop_municipality(slug)


def _compare() -> None:
    from bench._tenants import (
        drop_municipality,
        ensure_template_schema,
        schema_signature,
        use_template_cloning,
    )
    from welfare.services.municipalities import create_municipality

    prefix = f"bench-cmp-{os.getpid()}"
    try:
        use_template_cloning(False)
        migrated = create_municipality(slug=f"{prefix}-m", name_fi="Migrated").municipality
        use_template_cloning(True)
        ensure_template_schema()
        cloned = create_municipality(slug=f"{prefix}-c", name_fi="Cloned").municipality
        a = schema_signature(migrated.schema_name)
        b = schema_signature(cloned.schema_name)
        diff = sorted(map(str, a ^ b))
        # A new row in the clone must get a fresh id (identity sequences copied with their position).
        from django.db import connection
        from django_tenants.utils import schema_context

        with schema_context(cloned.schema_name), connection.cursor() as cursor:
            cursor.execute("SELECT max(id) FROM django_content_type")
            before = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO django_content_type (app_label, model) VALUES ('bench', 'probe') RETURNING id"
            )
            new_id = cursor.fetchone()[0]
        if new_id <= before:
            diff.append(f"identity sequence not advanced: new id {new_id} <= {before}")
        result(matches=not diff, differences=len(diff), examples=diff[:6])
    finally:
        drop_municipality(f"{prefix}-m")
        drop_municipality(f"{prefix}-c")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["create", "compare"])
    parser.add_argument("--n", type=int, default=5)
    parser.add_argument("--mode", choices=["migrate", "clone"], default="migrate")
    args = parser.parse_args()
    setup_django()
    if args.command == "create":
        _create(args.n, args.mode)
    else:
        _compare()
