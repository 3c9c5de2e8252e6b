"""Fixtures for registrations: a block whose numbers need one, a compliance officer, and
helpers that buy through the real checkout."""

import uuid
from decimal import Decimal

import pytest

from cart import services as cart_services
from cart.orders import order_place
from compliance.models import Requirement
from inventory import services as inventory_services
from tests.factories import UserFactory, platform
from tests.inventory.factories import NumberBlockFactory, OperatorFactory


@pytest.fixture
def compliance_officer(db):
    return UserFactory(account=platform(), role="platform_compliance")


@pytest.fixture
def paris_requirement(db):
    """France, local numbers in Paris: a personal or business identity with its ID number,
    an address in the number's city, one identity document and one proof of address,
    30 days to provide them."""
    return Requirement.objects.create(
        country="FR",
        number_type="local",
        area="Paris",
        title="French geographic numbers",
        text="French geographic numbers need the end user's identity and an address in the area.",
        identity_type="any",
        identity_fields=["id_number"],
        address_scope="area",
        identity_proofs=1,
        address_proofs=1,
        deadline_days=30,
    )


@pytest.fixture
def paris(db, platform_admin, paris_requirement):
    """A Paris block (setup 2.00, monthly 4.00, 2 channels) of 5 numbers needing
    ``paris_requirement``."""
    block = NumberBlockFactory(
        operator=OperatorFactory(name="FR Range"),
        country="FR",
        region="Île-de-France",
        city="Paris",
        area_code="1",
        setup_fee=Decimal("2.00"),
        monthly_price=Decimal("4.00"),
        channels_included=2,
        requirement=paris_requirement,
    )
    inventory_services.dids_add(
        block=block, spec_text="+33155500000-+33155500004", actor=platform_admin
    )
    return block


def buy(user, *numbers, agreed=None, for_account=None):
    """Put ``numbers`` in ``user``'s cart and check out, agreeing to every requirement shown;
    returns the order."""
    cart_services.cart_add_numbers(user=user, numbers=list(numbers))
    if agreed is None:
        agreed = {r.pk: r.version for r in Requirement.objects.filter(active=True)}
    return order_place(
        user=user,
        token=uuid.uuid4().hex,
        agreed=agreed,
        ip_address="203.0.113.7",
        for_account=for_account,
    )
