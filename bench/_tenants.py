"""Django-side helpers of the benchmarks (import only in a child, after ``setup_django()``).

Template-schema cloning (django-tenants' ``TENANT_CREATION_FAKES_MIGRATIONS`` +
``TENANT_BASE_SCHEMA``) is switched on here per process, never in config/settings.py.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django_tenants.utils import schema_context, schema_exists

TEMPLATE_SCHEMA = "_template"  # a slug starts with a letter, so no municipality can be called this


def use_template_cloning(enabled: bool) -> None:
    """New municipalities are cloned from TEMPLATE_SCHEMA (True) or migrated from scratch (False)."""
    settings.TENANT_CREATION_FAKES_MIGRATIONS = enabled
    settings.TENANT_BASE_SCHEMA = TEMPLATE_SCHEMA if enabled else False


def all_migration_nodes() -> set[tuple[str, str]]:
    return set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def pending_migrations(schema_name: str, nodes: set[tuple[str, str]] | None = None) -> set[tuple[str, str]]:
    """Migrations not recorded in the schema's own django_migrations (two queries)."""
    nodes = all_migration_nodes() if nodes is None else nodes
    connection.set_schema(schema_name, include_public=False)
    try:
        recorder = MigrationRecorder(connection)
        if not recorder.has_table():
            return nodes
        return nodes - set(recorder.applied_migrations())
    finally:
        connection.set_schema_to_public()


def ensure_template_schema() -> float:
    """Create the template schema, or migrate it if it is behind. Returns the seconds spent.

    Cloning a stale template would be silently wrong: the fake migrate that follows the
    clone marks the missing migrations as applied without running them.
    """
    started = time.perf_counter()
    if not schema_exists(TEMPLATE_SCHEMA):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{TEMPLATE_SCHEMA}"')
        call_command("migrate_schemas", schema_name=TEMPLATE_SCHEMA, interactive=False, verbosity=0)
    elif pending_migrations(TEMPLATE_SCHEMA):
        call_command("migrate_schemas", schema_name=TEMPLATE_SCHEMA, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    return time.perf_counter() - started


def drop_municipality(slug: str) -> None:
    """Remove a bench municipality: its schema, domains and row."""
    from welfare.municipalities.models import Domain, Municipality

    connection.set_schema_to_public()
    municipality = Municipality.objects.filter(slug=slug).first()
    if municipality is None:
        return
    schema = municipality.schema_name
    Domain.objects.filter(tenant=municipality).delete()
    Municipality.objects.filter(pk=municipality.pk).delete()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def schema_signature(schema_name: str) -> set[tuple]:
    """Tables, columns, constraints, indexes and sequence positions, with the schema name
    taken out, so that two schemas built the same way compare equal."""

    def strip(value):
        if not isinstance(value, str):
            return value
        return value.replace(f'"{schema_name}".', "").replace(f"{schema_name}.", "")

    queries = {
        "column": """
            SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity,
                   identity_generation, character_maximum_length
            FROM information_schema.columns WHERE table_schema = %s""",
        "constraint": """
            SELECT rel.relname, con.conname, pg_get_constraintdef(con.oid)
            FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid
            JOIN pg_namespace ns ON ns.oid = rel.relnamespace WHERE ns.nspname = %s""",
        "index": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %s",
        "sequence": "SELECT sequencename, last_value, increment_by FROM pg_sequences WHERE schemaname = %s",
        "view": "SELECT table_name, view_definition FROM information_schema.views WHERE table_schema = %s",
        "trigger": """
            SELECT event_object_table, trigger_name, action_statement
            FROM information_schema.triggers WHERE trigger_schema = %s""",
    }
    signature: set[tuple] = set()
    with connection.cursor() as cursor:
        for kind, sql in queries.items():
            cursor.execute(sql, [schema_name])
            signature.update((kind, *(strip(value) for value in row)) for row in cursor.fetchall())
    with schema_context(schema_name), connection.cursor() as cursor:
        for table in ("django_migrations", "django_content_type"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            signature.add(("rows", table, cursor.fetchone()[0]))
    return signature
