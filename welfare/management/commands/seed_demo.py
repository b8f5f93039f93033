"""``manage.py seed_demo [--scale small|helsinki]``: demo municipalities, data and sign-ins.

Thin: the work is in welfare.services.demo. Idempotent; always prints where to go and how to sign in.
"""

import os
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from welfare.services.demo import SCALES, SeedResult, seed_demo
from welfare.services.municipalities import host_for


class Command(BaseCommand):
    help = "Create the demo municipalities (Espoo, Vantaa; Helsinki at --scale helsinki) with demo data. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=SCALES, default="small")
        parser.add_argument(
            "--allow-production", action="store_true", help="seed even when YHDESSA_ENV=production (a demo server)"
        )

    def handle(self, *args, **opts):
        if settings.PRODUCTION and not opts["allow_production"]:
            raise CommandError("Refusing to seed demo data in production; pass --allow-production for a demo server.")
        try:
            result = seed_demo(opts["scale"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.print_summary(result)

    def print_summary(self, result: SeedResult) -> None:
        out = self.stdout.write
        port = os.environ.get("PORT", "8000")
        base = f"http://{settings.BASE_DOMAIN}:{port}/"
        out(self.style.SUCCESS(f"Demo data ({result.scale}) ready in {result.seconds:.1f} s"))
        for seed in result.municipalities:
            state = "created" if seed.data_created else "already seeded"
            counts = ", ".join(f"{value:,} {key}" for key, value in seed.counts.items())
            out(f"  {seed.name:<10} {state:<15} {counts}  ({seed.seconds:.1f} s)")

        out("\nOpen:")
        for seed in result.municipalities:
            out(f"  http://{host_for(seed.slug)}:{port}/  {seed.name}")
        out(f"  {base}  public site; platform admin at {base}platform-admin/")

        slugs = [seed.slug for seed in result.municipalities]
        out(f"\nDemo logins (password for every account: {result.password}):")
        width = max(len(login.label) for login in result.logins) + 2
        out(("  " + "role".ljust(width) + "".join(slug.ljust(32) for slug in slugs)).rstrip())
        for login in result.logins:
            if "<slug>" in login.email:
                cells = "".join(login.email.replace("<slug>", slug).ljust(32) for slug in slugs)
            elif login.where:
                cells = f"{login.email}  (roles in {' and '.join(login.where)})"
            else:
                cells = f"{login.email}  (at {base}platform-admin/)"
            out(("  " + login.label.ljust(width) + cells).rstrip())

        out("\nTwo-step sign-in: every demo account has the same TOTP authenticator.")
        out("Add this shared TOTP secret to an authenticator app (or set it before the first seed to change it):")
        out(f"  DEMO_TOTP_SECRET={result.totp_secret}")
        out(f"  otpauth://totp/{quote('Yhdessä demo')}?secret={result.totp_secret}&issuer={quote('Yhdessä')}")
        if result.users_created:
            out(f"({result.users_created} demo accounts created in this run)")
