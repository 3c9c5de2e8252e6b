from decimal import Decimal

import pytest

from compliance.models import Requirement
from inventory import services as inventory_services
from tests.inventory.factories import NumberBlockFactory, OperatorFactory


@pytest.fixture
def stock(db, platform_admin):
    """Three cities in two countries, stocked through the same service the console uses."""
    operator = OperatorFactory(name="EuroRange")
    proof = Requirement.objects.create(
        country="DE", title="Proof of address", text="A local address in the area.", version=1
    )
    blocks = {
        "amsterdam": NumberBlockFactory(operator=operator),
        "munich": NumberBlockFactory(
            operator=operator,
            country="DE",
            region="Bavaria",
            city="München",
            area_code="89",
            setup_fee=Decimal("5.00"),
            monthly_price=Decimal("3.00"),
            weekly_price=Decimal("0.90"),
            requirement=proof,
            sms=True,
        ),
        "dutch_mobile": NumberBlockFactory(
            operator=operator,
            city="",
            region="",
            area_code="",
            number_type="mobile",
            monthly_price=Decimal("4.00"),
            buy_monthly_cost=Decimal("1.23457"),
        ),
    }
    specs = {
        "amsterdam": "5550000-5550039",
        "munich": "+4989555000-+4989555019",
        "dutch_mobile": "+31612345000-+31612345009",
    }
    for key, spec in specs.items():
        inventory_services.dids_add(block=blocks[key], spec_text=spec, actor=platform_admin)
    return blocks
