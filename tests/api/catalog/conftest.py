"""A small catalog for the API: two countries, three cities, one mobile block without a
city, a block that needs a registration, and the three kinds of buyer (a direct customer,
a reseller with a discount and a price list, and that reseller's customer)."""

from decimal import Decimal

import pytest

from compliance.models import Requirement
from inventory import services as inventory_services
from tests.factories import AccountFactory, MarkupRuleFactory, UserFactory, reseller_account
from tests.inventory.factories import NumberBlockFactory, OperatorFactory

D = Decimal


@pytest.fixture
def stock(db, platform_admin):
    operator = OperatorFactory(name="EuroRange")
    registration = Requirement.objects.create(
        country="DE",
        title="Local address",
        text="An address in the area.",
        version=1,
        address_scope="area",
    )
    blocks = {
        "amsterdam": NumberBlockFactory(
            operator=operator, extra_channel_monthly_price=D("0.50"), sms=True
        ),
        "rotterdam": NumberBlockFactory(
            operator=operator,
            city="Rotterdam",
            region="South Holland",
            area_code="10",
            setup_fee=D("0.00"),
            monthly_price=D("1.50"),
            rate_per_minute=D("0"),
            max_concurrent_calls=2,
        ),
        "munich": NumberBlockFactory(
            operator=operator,
            country="DE",
            region="Bavaria",
            city="München",
            area_code="89",
            setup_fee=D("5.00"),
            monthly_price=None,
            weekly_price=D("0.90"),
            requirement=registration,
            fax=True,
        ),
        "dutch_mobile": NumberBlockFactory(
            operator=operator,
            city="",
            region="",
            area_code="6",
            number_type="mobile",
            monthly_price=D("4.00"),
            channels_included=1,
        ),
    }
    specs = {
        "amsterdam": "+31205550000-+31205550029",
        "rotterdam": "+31105550000-+31105550004",
        "munich": "+4989555000-+4989555009",
        "dutch_mobile": "+31612345000-+31612345004",
    }
    for key, spec in specs.items():
        inventory_services.dids_add(block=blocks[key], spec_text=spec, actor=platform_admin)
    return blocks


@pytest.fixture
def discount_reseller(db):
    """A reseller 10 % off list, whose customers pay 50 % on top of that for setup and
    recurring, with a fixed 1.00 added to the monthly price, rounded up to .x9."""
    reseller = reseller_account(wholesale_discount=D("10"), name="Resell Co")
    MarkupRuleFactory(
        reseller=reseller,
        setup_percent=D("50"),
        recurring_percent=D("50"),
        recurring_fixed=D("1.00"),
        rounding="x9",
    )
    return reseller


@pytest.fixture
def reseller_user(discount_reseller):
    return UserFactory(account=discount_reseller, role="reseller_admin")


@pytest.fixture
def resold_customer_admin(discount_reseller):
    customer = AccountFactory(parent=discount_reseller, name="Resold Ltd")
    return UserFactory(account=customer, role="customer_admin")
