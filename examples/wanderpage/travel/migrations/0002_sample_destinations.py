"""Loads the sample destinations, so a fresh site has real content to show."""

from django.db import migrations


def load(apps, schema_editor):
    from travel.sample_content import DESTINATIONS

    destination = apps.get_model("travel", "Destination")
    for fields in DESTINATIONS:
        destination.objects.update_or_create(slug=fields["slug"], defaults=fields)


def unload(apps, schema_editor):
    from travel.sample_content import DESTINATIONS

    destination = apps.get_model("travel", "Destination")
    destination.objects.filter(slug__in=[d["slug"] for d in DESTINATIONS]).delete()


class Migration(migrations.Migration):
    dependencies = [("travel", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
