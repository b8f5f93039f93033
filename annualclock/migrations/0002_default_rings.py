"""The default rings (categories) of the annual clock (annualclock.defaults)."""

from django.db import migrations


def create_rings(apps, schema_editor):
    from annualclock.defaults import ensure_default_rings

    ensure_default_rings(apps.get_model("annualclock", "Ring"))


class Migration(migrations.Migration):
    dependencies = [("annualclock", "0001_initial")]

    operations = [migrations.RunPython(create_rings, migrations.RunPython.noop)]
