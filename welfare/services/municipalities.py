"""Creating municipalities (tenants). Never called from a web request: schema creation
runs migrations and takes about a second (management command or Celery only)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from welfare.municipalities.models import Domain, Municipality

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


@dataclass
class CreatedMunicipality:
    municipality: Municipality
    created: bool
    seconds: float


def host_for(slug: str) -> str:
    return f"{slug}.{settings.BASE_DOMAIN}"


def base_url() -> str:
    """Scheme and host of the municipality the connection serves, for absolute links made without
    a request (e-mails, Celery tasks). At most one public-schema query."""
    slug = getattr(getattr(connection, "tenant", None), "slug", None) or (
        Municipality.objects.filter(schema_name=connection.schema_name).values_list("slug", flat=True).first()
        or connection.schema_name)
    scheme = "https" if settings.PRODUCTION else "http"
    return f"{scheme}://{host_for(slug)}"


def ensure_public_tenant() -> Municipality:
    """The public schema's tenant row and the bare host (e.g. localhost). Idempotent."""
    public, _ = Municipality.objects.get_or_create(
        schema_name=settings.PUBLIC_SCHEMA_NAME,
        defaults={"slug": "public", "name_fi": "Yhdessä", "name_sv": "Yhdessä", "ready": True},
    )
    Domain.objects.get_or_create(domain=settings.BASE_DOMAIN, defaults={"tenant": public, "is_primary": True})
    return public


def create_municipality(
    *, slug: str, name_fi: str, name_sv: str = "", languages: list[str] | None = None, wellbeing_county: str = ""
) -> CreatedMunicipality:
    """Create the municipality's schema (migrated) and its host; mark it ready.

    Idempotent: an existing municipality with the slug is returned as it is.
    Callers: the create_municipality and seed_demo management commands, Celery.
    """
    if not SLUG_RE.match(slug):
        raise ValueError(f"Invalid slug {slug!r}: use lowercase letters, digits and hyphens.")
    languages = languages or ["fi"]
    unknown = set(languages) - {"fi", "sv"}
    if unknown:
        raise ValueError(f"Unknown official language(s): {', '.join(sorted(unknown))} (use fi, sv).")
    started = time.perf_counter()
    ensure_public_tenant()
    existing = Municipality.objects.filter(slug=slug).first()
    if existing and existing.ready:
        return CreatedMunicipality(existing, False, time.perf_counter() - started)
    municipality = existing or Municipality(
        slug=slug,
        schema_name=slug.replace("-", "_"),
        name_fi=name_fi,
        name_sv=name_sv,
        official_languages=languages,
        wellbeing_county=wellbeing_county,
        ready=False,
    )
    # save() creates the schema and runs the tenant migrations (auto_create_schema).
    municipality.save(verbosity=0)
    if existing:  # a half-created municipality from an interrupted run: finish its schema
        municipality.create_schema(check_if_exists=True, verbosity=0)
    with transaction.atomic():
        Domain.objects.get_or_create(
            domain=host_for(slug), defaults={"tenant": municipality, "is_primary": True}
        )
        municipality.ready = True
        municipality.save(update_fields=["ready"])
    return CreatedMunicipality(municipality, True, time.perf_counter() - started)
