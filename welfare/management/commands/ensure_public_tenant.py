from django.core.management.base import BaseCommand

from welfare.services.municipalities import ensure_public_tenant


class Command(BaseCommand):
    help = "Create the public tenant and the bare host (YHDESSA_BASE_DOMAIN). Idempotent; run after migrations."

    def handle(self, *args, **options):
        public = ensure_public_tenant()
        self.stdout.write(f"Public site ready at {public.domains.first().domain}")
