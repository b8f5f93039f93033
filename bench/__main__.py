"""``python -m bench [names...]``: run the benchmarks, one JSON line per metric on stdout.

    python -m bench                       # all of them (first run: a few minutes of setup)
    python -m bench request_overhead      # just one (or several) by module name
    python -m bench --fresh               # drop the bench database first
    python -m bench --tenants 50 migrate_noop
    python -m bench --quick               # fewer samples, skips the slowest migrate runs
    python -m bench --full migrate_noop   # the subprocess executor over every schema (slow)
    python -m bench --list

Progress goes to stderr. See bench/README.md for what each metric means.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import platform
import sys
import time
import traceback
from pathlib import Path

from bench import _common

# Cheapest first; anything else found in bench/ runs after these, by name.
ORDER = ["tenant_create", "request_overhead", "migrate_noop"]


def discover() -> list[str]:
    found = []
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if callable(getattr(module, "run", None)):
            found.append(info.name)
    return sorted(found, key=lambda name: (ORDER.index(name) if name in ORDER else len(ORDER), name))


def emit_meta() -> None:
    import django

    _common.emit(
        "bench_meta", 1, "info",
        python=platform.python_version(), django=django.get_version(),
        django_tenants=_version("django-tenants"), postgresql=_server_version(),
        cpu_count=os.cpu_count(), load_avg_1m=round(os.getloadavg()[0], 2), machine=platform.machine(),
        database=_common.BENCH_DB_NAME, started=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def _server_version() -> str | None:
    try:
        with _common._admin_connect() as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception:  # noqa: BLE001 - metadata only
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="benchmark modules to run (default: all)")
    parser.add_argument("--fresh", action="store_true", help="drop the bench database first")
    parser.add_argument("--tenants", type=int, default=300, help="municipalities for migrate_noop (300)")
    parser.add_argument("--quick", action="store_true", help="fewer samples; skips the slowest migrate runs")
    parser.add_argument("--full", action="store_true",
                        help="migrate_noop: time the subprocess executor over every schema, not a sample")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)

    available = discover()
    if args.list:
        print("\n".join(available))
        return 0
    unknown = [name for name in args.names if name not in available]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)} (have: {', '.join(available)})")
    _common.OPTIONS.update(fresh=args.fresh, tenants=args.tenants, quick=args.quick, full=args.full)

    emit_meta()
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        _common.log("warning: the machine is busy (load average above the CPU count); figures will be noisy")
    failed = []
    for name in args.names or available:
        _common.log(f"== {name}")
        started = time.perf_counter()
        try:
            importlib.import_module(f"bench.{name}").run()
        except Exception:  # noqa: BLE001 - report it and go on with the next benchmark
            traceback.print_exc()
            _common.emit(f"{name}_error", None, "error", benchmark=name)
            failed.append(name)
        _common.log(f"== {name} done in {time.perf_counter() - started:.1f} s")
    if failed:
        _common.log(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
