"""The national absence classification as each municipality's starting configuration."""

from django.db import migrations

CATEGORIES = [
    # code, fi, sv, en, explained, aliases
    ("health", "Terveydellisiin syihin liittyvä poissaolo", "Frånvaro av hälsoskäl", "Health-related absence",
     True, ["terveys", "sairaus", "sjukdom", "hälsa", "sick", "illness", "terveydellinen syy"]),
    ("leave", "Ennalta anottu vapaa", "På förhand ansökt ledighet", "Leave applied in advance",
     True, ["loma", "vapaa", "lupa", "ledighet", "leave", "anottu vapaa"]),
    ("other_explained", "Muu selvitetty poissaolo", "Annan utredd frånvaro", "Other explained absence",
     True, ["muu selvitetty", "selvitetty", "utredd", "explained"]),
    ("unexplained", "Selvittämätön poissaolo", "Outredd frånvaro", "Unexplained absence",
     False, ["luvaton", "selvittämätön", "olovlig", "outredd", "unauthorised", "unauthorized"]),
    ("unclassified", "Luokittelematon poissaolo", "Oklassificerad frånvaro", "Unclassified absence",
     False, ["luokittelematon", "oklassificerad", "unclassified", "merkitsemätön"]),
]


def create(apps, schema_editor):
    AbsenceCategory = apps.get_model("absences", "AbsenceCategory")
    for order, (code, fi, sv, en, explained, aliases) in enumerate(CATEGORIES):
        AbsenceCategory.objects.update_or_create(
            code=code,
            defaults={"name_fi": fi, "name_sv": sv, "name_en": en, "explained": explained,
                      "aliases": aliases, "sort_order": order},
        )


class Migration(migrations.Migration):
    dependencies = [("absences", "0002_case_entries_append_only")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
