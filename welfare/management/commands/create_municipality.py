from django.core.management.base import BaseCommand, CommandError

from welfare.services.municipalities import create_municipality, host_for


class Command(BaseCommand):
    help = "Create a municipality: its schema (migrated) and its host. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name-fi", required=True)
        parser.add_argument("--name-sv", default="")
        parser.add_argument("--languages", default="fi", help="official languages, e.g. fi,sv")
        parser.add_argument("--county", default="", help="wellbeing services county")

    def handle(self, *args, **opts):
        try:
            result = create_municipality(
                slug=opts["slug"],
                name_fi=opts["name_fi"],
                name_sv=opts["name_sv"],
                languages=[code.strip() for code in opts["languages"].split(",") if code.strip()],
                wellbeing_county=opts["county"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        verb = "Created" if result.created else "Already exists:"
        self.stdout.write(
            f"{verb} {result.municipality.name_fi} (schema {result.municipality.schema_name}) "
            f"at http://{host_for(result.municipality.slug)}/ in {result.seconds:.2f} s"
        )
