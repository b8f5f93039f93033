"""Database helpers for tests that commit data (live_server browser tests, module-wide demo data)."""

from __future__ import annotations

from django.db import connection

FLUSH_SCHEMA = "browser_test_flush"  # always empty: pytest-django's flush finds nothing to delete there
KEEP_PUBLIC_TABLES = {"municipalities_municipality", "municipalities_domain", "django_content_type",
                      "auth_permission", "django_migrations"}
KEEP_TENANT_TABLES = {"django_content_type", "django_migrations"}


def _truncate_schema(cursor, schema: str, keep: set[str]) -> None:
    cursor.execute("SELECT table_name FROM information_schema.tables "
                   "WHERE table_schema = %s AND table_type = 'BASE TABLE'", [schema])
    tables = [name for (name,) in cursor.fetchall() if name not in keep]
    if tables:
        quoted = ", ".join(f'"{schema}"."{name}"' for name in tables)
        cursor.execute(f"TRUNCATE {quoted}")


def empty_committed_data() -> None:
    """Delete what a transactional test committed; keep the session-wide municipalities."""
    from welfare.municipalities.models import Municipality  # noqa: PLC0415

    connection.set_schema_to_public()
    schemas = list(Municipality.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
    with connection.cursor() as cursor:
        for schema in schemas:
            _truncate_schema(cursor, schema, KEEP_TENANT_TABLES)
        _truncate_schema(cursor, "public", KEEP_PUBLIC_TABLES)
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{FLUSH_SCHEMA}"')


def run_together(schema_name: str, work, *, threads: int = 2, timeout: float = 30) -> list:
    """Call ``work()`` in ``threads`` threads released at the same moment, each on its own database
    connection in ``schema_name`` (what two workers or two requests racing do); returns their
    results. An error in any thread fails the test."""
    import threading

    from django_tenants.utils import schema_context

    barrier = threading.Barrier(threads, timeout=timeout)
    results, errors = [], []

    def run():
        try:
            with schema_context(schema_name):
                barrier.wait()
                results.append(work())
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connection.close()

    started = [threading.Thread(target=run) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout)
    assert not errors, errors
    assert len(results) == threads, "a thread did not finish in time"
    return results
