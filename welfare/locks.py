"""Locks of one municipality (the schema in use), in two kinds:

* ``advisory_lock`` / ``advisory_locks``: PostgreSQL advisory locks held until the transaction
  ends, for writers that must not interleave (two imports, two changes to one person's grants,
  two rollup refreshes of one school). Keys are namespaced by schema and name.
* ``singleton``: a Redis lock with an expiry for long jobs that must not run twice at once (the
  nightly evaluation, retention); a crashed worker's lock expires by itself, and a run releases
  only its own lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.core.cache import cache
from django.db import connection


def advisory_locks(name: str, keys: Iterable[int]) -> None:
    """Transaction-scoped locks on ``keys`` under ``name`` in this schema, taken in key order (so
    two callers never deadlock). Call inside transaction.atomic()."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':' || %s), id::int) "
                       "FROM (SELECT unnest(%s::bigint[]) AS id ORDER BY 1) AS ids",
                       [name, sorted({int(key) for key in keys})])


def advisory_lock(name: str, key: int = 0) -> None:
    """One transaction-scoped lock (see ``advisory_locks``)."""
    advisory_locks(name, [key])


def singleton_key(name: str) -> str:
    """One key per municipality and database (should two deployments share a Redis)."""
    return f"lock:{name}:{connection.settings_dict['NAME']}:{connection.schema_name}"


@contextmanager
def singleton(name: str, seconds: int) -> Iterator[bool]:
    """``with singleton("retention", 3600) as held:`` — ``held`` is False when another run of this
    municipality holds the lock (then do nothing)."""
    key, token = singleton_key(name), uuid.uuid4().hex
    held = cache.add(key, token, timeout=seconds)
    try:
        yield held
    finally:
        if held and cache.get(key) == token:
            cache.delete(key)
