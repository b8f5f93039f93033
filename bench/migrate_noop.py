"""migrate_noop: a deploy's ``manage.py migrate_schemas`` when there is nothing to migrate.

Setup (idempotent, kept in the bench database between runs; ``--fresh`` starts over):
``--tenants`` municipalities (default 300) called ``bench-001`` … created with
``create_municipality``; any schema that is behind is migrated first so the timed runs
are true no-ops.

Timed, each as a fresh ``manage.py migrate_schemas --noinput -v 0`` process (public schema
plus every municipality, what a deploy runs), wall time including Django start-up:

* ``standard`` executor (django-tenants' default),
* ``--executor=multiprocessing`` (``TENANT_MULTIPROCESSING_MAX_PROCESSES`` from settings),
* ``--executor=subprocess --parallel 4`` (one interpreter per schema; by default estimated
  from 20 schemas run the same way, ``--full`` runs it over all of them: many minutes),
* django-tenants-smart-executor (``GET_EXECUTOR_FUNCTION``), standard and multiprocessing,
  when the package is installed: it skips schemas whose django_migrations already holds
  every migration.

``migrate_noop_<N>_s`` is the recommended configuration's figure (the fastest of the runs
that finished).  A cProfile of the standard executor over a few schemas says where a no-op
migrate spends its time (``migrate_noop_per_schema_ms`` and its ``breakdown_ms``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from bench._common import OPTIONS, django_child, emit, ensure_bench_db, log, manage, result, setup_django

GOAL_S = 60.0
SLUG = "bench-{:03d}"
SUBPROCESS_PARALLEL = "4"


def variants() -> list[tuple[str, list[str], dict[str, str]]]:
    """(name, extra migrate_schemas args, env overrides)."""
    plain = {"DJANGO_SETTINGS_MODULE": "bench._settings_plain"}
    found = [
        ("standard", [], plain),
        ("multiprocessing", ["--executor=multiprocessing"], plain),
        ("subprocess", ["--executor=subprocess", "--parallel", SUBPROCESS_PARALLEL], plain),
        # config.settings: django-tenants-smart-executor (GET_EXECUTOR_FUNCTION), what deploys use.
        ("smart_standard", [], {}),
        ("smart_multiprocessing", ["--executor=multiprocessing"], {}),
    ]
    return found


def run() -> None:
    ensure_bench_db()
    n = int(OPTIONS.get("tenants") or 300)
    log(f"migrate_noop: making sure {n} municipalities exist and are migrated (first run: minutes)")
    started = time.perf_counter()
    setup = django_child("bench.migrate_noop", "setup", "--n", str(n), timeout=3600)[-1]
    log(f"migrate_noop: setup {time.perf_counter() - started:.1f} s "
        f"(created {setup['created']}, migrated {setup['migrated']}, tenants {setup['tenants']})")
    emit("migrate_noop_setup_s", time.perf_counter() - started, "s",
         created=setup["created"], migrated=setup["migrated"], tenants=setup["tenants"])

    timings: dict[str, float] = {}
    for name, args, env in variants():
        if OPTIONS.get("quick") and name in {"standard", "subprocess"}:
            continue
        if name == "subprocess" and not OPTIONS.get("full"):
            seconds = _estimate_subprocess(setup["tenants"], n)
            if seconds is not None:
                timings[name] = seconds
            continue
        log(f"migrate_noop: migrate_schemas ({name}) over {setup['tenants']} municipalities")
        try:
            seconds = manage(["migrate_schemas", "--noinput", "-v", "0", *args], timeout=1800, **env)
        except RuntimeError as exc:  # a timeout or failure is reported, the rest still runs
            log(f"migrate_noop: {name} failed: {exc}")
            emit(f"migrate_noop_{n}_{name}_s", None, "s", error=str(exc), tenants=setup["tenants"])
            continue
        log(f"migrate_noop: {name}: {seconds:.1f} s")
        timings[name] = seconds
        emit(f"migrate_noop_{n}_{name}_s", seconds, "s", tenants=setup["tenants"], args=" ".join(args),
             settings=env.get("DJANGO_SETTINGS_MODULE", "config.settings"))
    if timings:
        best = min(timings, key=timings.get)
        emit(f"migrate_noop_{n}_s", timings[best], "s", executor=best, tenants=setup["tenants"],
             goal=f"< {GOAL_S:.0f} s")

    log("migrate_noop: profiling a no-op migrate of a few schemas (standard executor)")
    profile = django_child("bench.migrate_noop", "profile", "--n", "10", timeout=600)[-1]
    emit("migrate_noop_per_schema_ms", profile["per_schema_ms"], "ms", breakdown_ms=profile["breakdown_ms"],
         schemas=profile["schemas"])


def _estimate_subprocess(tenants: int, n: int, sample: int = 20) -> float | None:
    """The subprocess executor runs ``manage.py migrate_schemas --executor=standard --schema X``
    per schema, ``--parallel`` at a time; over 300 schemas that takes many minutes, so by
    default the same command lines are timed for ``sample`` schemas and scaled up (plus the
    parent's own run over public). ``--full`` times the real thing."""
    from concurrent.futures import ThreadPoolExecutor

    sample = min(sample, tenants)
    schemas = [SLUG.format(i).replace("-", "_") for i in range(1, sample + 1)]
    log(f"migrate_noop: subprocess executor, estimated from {sample} schemas (--full for all {tenants})")
    try:
        plain = {"DJANGO_SETTINGS_MODULE": "bench._settings_plain"}
        public = manage(["migrate_schemas", "--shared", "--noinput", "-v", "0"], timeout=600, **plain)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=int(SUBPROCESS_PARALLEL)) as pool:
            for seconds in pool.map(lambda schema: manage(
                ["migrate_schemas", "--executor=standard", "--schema", schema, "--noinput", "-v", "0"],
                timeout=600, **plain,
            ), schemas):
                assert seconds > 0
        per_schema = (time.perf_counter() - started) / sample
    except RuntimeError as exc:
        log(f"migrate_noop: subprocess estimate failed: {exc}")
        emit(f"migrate_noop_{n}_subprocess_s", None, "s", error=str(exc), tenants=tenants)
        return None
    seconds = public + per_schema * tenants
    log(f"migrate_noop: subprocess (estimated): {seconds:.1f} s")
    emit(f"migrate_noop_{n}_subprocess_s", seconds, "s", tenants=tenants, estimated=True, sampled=sample,
         args=f"--executor=subprocess --parallel {SUBPROCESS_PARALLEL}", settings="bench._settings_plain")
    return seconds


# --- child side ----------------------------------------------------------------------------


def _setup(n: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from bench._tenants import all_migration_nodes, pending_migrations
    from welfare.municipalities.models import Municipality
    from welfare.services.municipalities import create_municipality

    wanted = [SLUG.format(i) for i in range(1, n + 1)]
    have = set(Municipality.objects.filter(slug__in=wanted, ready=True).values_list("slug", flat=True))
    missing = [slug for slug in wanted if slug not in have]
    started = time.perf_counter()
    devnull = open(os.devnull, "w")  # noqa: SIM115 - create_municipality's migrate output
    for i, slug in enumerate(missing, 1):
        real_stdout, sys.stdout = sys.stdout, devnull
        try:
            create_municipality(slug=slug, name_fi=f"Bench {slug}")
        finally:
            sys.stdout = real_stdout
        if i % 25 == 0 or i == len(missing):
            rate = (time.perf_counter() - started) / i
            print(f"  created {i}/{len(missing)} ({rate:.2f} s each)", file=sys.stderr, flush=True)
    nodes = all_migration_nodes()
    schemas = list(Municipality.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
    behind = [schema for schema in schemas if pending_migrations(schema, nodes)]
    for schema in behind:
        call_command("migrate_schemas", schema_name=schema, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    result(created=len(missing), migrated=len(behind), tenants=len(schemas))


def _profile(n: int) -> None:
    """cProfile a no-op ``migrate_schemas -v 0`` over n schemas; sum a few telling functions."""
    import cProfile
    import pstats

    from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
    from django_tenants.migration_executors import StandardExecutor

    from welfare.municipalities.models import Municipality

    schemas = list(
        Municipality.objects.filter(slug__startswith="bench-").order_by("slug").values_list("schema_name", flat=True)
    )[:n]
    # The options exactly as `manage.py migrate_schemas --noinput -v 0` parses them (call_command
    # would differ: it skips the system checks), run through the standard executor.
    command = MigrateSchemasCommand()
    options = vars(command.create_parser("manage.py", "migrate_schemas").parse_args(["--noinput", "-v", "0"]))
    StandardExecutor((), options).run_migrations(tenants=schemas[:1])  # warm imports and caches
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    StandardExecutor((), options).run_migrations(tenants=list(schemas))
    profiler.disable()
    total = time.perf_counter() - started
    stats = pstats.Stats(profiler).stats  # {(file, line, func): (cc, nc, tt, ct, callers)}
    wanted = {
        "migrate command, all of it": ("django/core/management/commands/migrate.py", "handle"),
        "system checks": ("django/core/management/base.py", "check"),
        "migration loader (graph from disk + applied)": ("django/db/migrations/loader.py", "build_graph"),
        "project state (applied migrations)": ("django/db/migrations/executor.py", "_create_project_state"),
        "render post-migrate apps": ("django/db/migrations/state.py", "apps"),
        "executor.migrate (plan, state)": ("django/db/migrations/executor.py", "migrate"),
        "post_migrate signal": ("django/core/management/sql.py", "emit_post_migrate_signal"),
        "  of which contenttypes": ("django/contrib/contenttypes/management/__init__.py", "create_contenttypes"),
        "pre_migrate signal": ("django/core/management/sql.py", "emit_pre_migrate_signal"),
    }
    breakdown = {}
    for label, (path, func) in wanted.items():
        cumulative = [ct for (file, _line, name), (_cc, _nc, _tt, ct, _c) in stats.items()
                      if file.endswith(path) and name == func]
        breakdown[label] = round(max(cumulative, default=0.0) * 1000 / len(schemas), 1)
    result(per_schema_ms=round(total * 1000 / len(schemas), 1), breakdown_ms=breakdown, schemas=len(schemas))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["setup", "profile"])
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    setup_django()
    if args.command == "setup":
        _setup(args.n)
    else:
        _profile(args.n)
