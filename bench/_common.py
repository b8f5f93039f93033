"""Helpers shared by the benchmarks: JSON-line output, the bench database, Django subprocesses.

The runner process never configures Django: every benchmark does its Django work in a
child process (``python -m bench.<module> ...``) whose ``DATABASE_URL`` points at the bench
database (``yhdessa_bench`` on the same PostgreSQL server as the app), so a benchmark never
touches the development or test databases.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DB_NAME = os.environ.get("YHDESSA_BENCH_DB", "yhdessa_bench")
# A Django child that runs longer than this is killed: every benchmark stops by itself.
DEFAULT_TIMEOUT_S = 900

# Set by the runner (bench/__main__.py) from its command line.
OPTIONS: dict = {"fresh": False, "tenants": 300, "quick": False, "full": False}


# --- Output ----------------------------------------------------------------------------


def emit(metric: str, value: float | int | str | None, unit: str, **extra) -> dict:
    """Print one JSON line ``{"metric": ..., "value": ..., "unit": ..., **extra}`` to stdout."""
    if isinstance(value, float):
        value = round(value, 4)
    record = {"metric": metric, "value": value, "unit": unit, **extra}
    print(json.dumps(record, ensure_ascii=False, sort_keys=False), flush=True)
    return record


def log(message: str) -> None:
    """Human progress, to stderr (stdout carries only JSON lines)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


@contextmanager
def stopwatch() -> Iterator[dict]:
    """``with stopwatch() as t: ...`` then ``t["s"]`` is the wall time in seconds."""
    timing: dict = {}
    started = time.perf_counter()
    try:
        yield timing
    finally:
        timing["s"] = time.perf_counter() - started


# --- The bench database ----------------------------------------------------------------


def server_url() -> str:
    """The URL of the app's database (DATABASE_URL, else the embedded server)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    sys.path.insert(0, str(BASE_DIR))
    from config import devservices

    return devservices.embedded_database_url()


def with_db_name(url: str, name: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path=f"/{name}"))


def bench_database_url() -> str:
    return with_db_name(server_url(), BENCH_DB_NAME)


def _admin_connect():
    import psycopg

    return psycopg.connect(with_db_name(server_url(), "postgres"), autocommit=True, connect_timeout=10)


def bench_db_exists() -> bool:
    with _admin_connect() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB_NAME]).fetchone() is not None


def drop_bench_db() -> None:
    from psycopg import sql

    with _admin_connect() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DB_NAME)))
    _READY.clear()
    log(f"dropped database {BENCH_DB_NAME}")


_READY: set[str] = set()


def ensure_bench_db() -> str:
    """Create the bench database if missing and migrate every schema in it (a new migration
    reaches the municipalities an earlier run created; a no-op when up to date). Returns its URL.

    Done once per runner process (``--fresh`` drops the database first).
    """
    url = bench_database_url()
    if url in _READY:
        return url
    if OPTIONS.get("fresh") and "fresh-done" not in _READY:
        drop_bench_db()
        _READY.add("fresh-done")
    from psycopg import sql

    if not bench_db_exists():
        with _admin_connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB_NAME)))
        log(f"created database {BENCH_DB_NAME}")
    with stopwatch() as t:
        manage(["migrate_schemas", "--noinput", "-v", "0"], timeout=1800)
        django_child("bench._common", "public-tenant", timeout=120)
    log(f"bench database ready ({t['s']:.1f} s): {url}")
    _READY.add(url)
    return url


# --- Django children -------------------------------------------------------------------


def django_env(**overrides: str | None) -> dict[str, str]:
    """Environment of a Django child: the bench database, production-like settings."""
    env = dict(os.environ)
    for name in ("YHDESSA_TESTING", "YHDESSA_TEST_DB_SUFFIX", "PYTEST_CURRENT_TEST", "PYTEST_VERSION"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=bench_database_url(),
        YHDESSA_BENCH_DB=BENCH_DB_NAME,
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(BASE_DIR) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _run(cmd: list[str], *, env: dict[str, str], timeout: float, capture: bool) -> subprocess.CompletedProcess:
    try:
        completed = subprocess.run(
            cmd, cwd=BASE_DIR, env=env, timeout=timeout, text=True,
            stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=None,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"timed out after {timeout:.0f} s: {' '.join(cmd)}") from exc
    if completed.returncode != 0:
        raise RuntimeError(f"exit status {completed.returncode}: {' '.join(cmd)}")
    return completed


def manage(args: list[str], *, timeout: float = DEFAULT_TIMEOUT_S, **env_overrides: str | None) -> float:
    """Run ``manage.py <args>`` against the bench database; returns its wall time in seconds.

    Its own output goes to /dev/null (stderr stays visible for errors).
    """
    cmd = [sys.executable, str(BASE_DIR / "manage.py"), *args]
    started = time.perf_counter()
    _run(cmd, env=django_env(**env_overrides), timeout=timeout, capture=False)
    return time.perf_counter() - started


def django_child(
    module: str, *args: str, timeout: float = DEFAULT_TIMEOUT_S, **env_overrides: str | None
) -> list[dict]:
    """Run ``python -m <module> <args>`` against the bench database.

    The child prints JSON lines (results) to stdout; they are returned parsed. Other stdout
    lines (e.g. migrate's progress) are passed on to stderr with ``BENCH_VERBOSE=1``.
    """
    cmd = [sys.executable, "-m", module, *args]
    completed = _run(cmd, env=django_env(**env_overrides), timeout=timeout, capture=True)
    results = []
    for line in completed.stdout.splitlines():
        try:
            results.append(json.loads(line))
        except ValueError:
            if os.environ.get("BENCH_VERBOSE"):
                print(line, file=sys.stderr)
    return results


def setup_django() -> None:
    """In a child: configure Django (refuses to run against anything but the bench database)."""
    url = os.environ.get("DATABASE_URL", "")
    if urlparse(url).path.lstrip("/") != BENCH_DB_NAME:
        raise SystemExit(f"refusing to run a benchmark against {url!r}: not the bench database")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic here

    django.setup()


def result(**values) -> None:
    """In a child: hand one result dict back to the parent (a JSON line on stdout)."""
    print(json.dumps(values), flush=True)


def _public_tenant() -> None:
    setup_django()
    from welfare.services.municipalities import ensure_public_tenant

    ensure_public_tenant()


if __name__ == "__main__":
    if sys.argv[1:] == ["public-tenant"]:
        _public_tenant()
    else:
        raise SystemExit(f"unknown command {sys.argv[1:]}")
