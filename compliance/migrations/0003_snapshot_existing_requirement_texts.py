"""Keep the current words of requirements made before versions were kept (as their version)."""

import hashlib

from django.db import migrations


def snapshot(apps, schema_editor):
    Requirement = apps.get_model("compliance", "Requirement")
    RequirementVersion = apps.get_model("compliance", "RequirementVersion")
    for requirement in Requirement.objects.filter(versions__isnull=True).iterator():
        RequirementVersion.objects.create(
            requirement=requirement,
            version=requirement.version,
            title=requirement.title,
            text=requirement.text,
            text_sha256=hashlib.sha256(requirement.text.encode("utf-8")).hexdigest(),
            created_at=requirement.created_at,
        )
        Requirement.objects.filter(pk=requirement.pk).update(updated_at=requirement.created_at)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0002_requirement_versions_and_agreements")]

    operations = [migrations.RunPython(snapshot, migrations.RunPython.noop)]
