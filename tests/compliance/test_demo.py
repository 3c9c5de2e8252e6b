"""The demo seed creates the requirements and links them to the matching demo blocks, once."""

import pytest
from django.core.management import call_command

from compliance.models import Requirement, RequirementVersion
from inventory.models import NumberBlock

pytestmark = pytest.mark.django_db


def test_seed_demo_links_requirements_to_their_blocks_idempotently():
    call_command("seed_demo")
    gb = Requirement.objects.get(country="GB")
    de = Requirement.objects.get(country="DE")
    gb_local = NumberBlock.objects.filter(country="GB", number_type="local")
    assert gb_local.count() >= 4
    assert set(gb_local.values_list("requirement", flat=True)) == {gb.pk}
    assert set(
        NumberBlock.objects.filter(country="DE", number_type="local").values_list(
            "requirement", flat=True
        )
    ) == {de.pk}
    # Mobile numbers are not geographic: no requirement.
    assert not NumberBlock.objects.filter(number_type="mobile", requirement__isnull=False).exists()
    # The link is recorded in the block's history, signed by the demo admin.
    change = gb_local.first().history.first()
    assert change.history_user.email == "admin@didportal.test"
    assert gb.versions.get().version == 1

    snapshot = (
        Requirement.objects.count(),
        RequirementVersion.objects.count(),
        list(NumberBlock.objects.order_by("pk").values_list("requirement", flat=True)),
        NumberBlock.history.count(),
    )
    call_command("seed_demo")
    assert snapshot == (
        Requirement.objects.count(),
        RequirementVersion.objects.count(),
        list(NumberBlock.objects.order_by("pk").values_list("requirement", flat=True)),
        NumberBlock.history.count(),
    )
    assert Requirement.objects.filter(version=1).count() == Requirement.objects.count() == 3
