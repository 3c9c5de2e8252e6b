"""Keys fixtures: a regulated block anyone can buy from (its requirement is "in force"),
and the users of the access tests."""

import pytest

from compliance.models import Requirement
from compliance.services.requirements import requirement_save
from inventory import services as inventory_services
from tests.factories import UserFactory
from tests.inventory.factories import NumberBlockFactory, OperatorFactory


@pytest.fixture
def regulated(db, platform_admin):
    """A Paris block with three numbers in stock, needing "French geographic numbers"."""
    requirement = Requirement.objects.create(
        country="FR",
        number_type="local",
        title="French geographic numbers",
        text="The end user lives or works in the area of the number.",
    )
    block = NumberBlockFactory(
        operator=OperatorFactory(name="FR Range"),
        country="FR",
        region="Île-de-France",
        city="Paris",
        area_code="1",
        requirement=requirement,
    )
    inventory_services.dids_add(
        block=block, spec_text="+33155500000-+33155500002", actor=platform_admin
    )
    return requirement


def text_changed(requirement, platform_admin, text="Now also: a proof of address in the area."):
    """An admin rewrites the requirement's text: its version goes up by one."""
    return requirement_save(actor=platform_admin, requirement=requirement, text=text)


@pytest.fixture
def customer_billing(customer):
    return UserFactory(account=customer, role="customer_billing")


@pytest.fixture
def second_admin(customer):
    return UserFactory(account=customer, role="customer_admin")
