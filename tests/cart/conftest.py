from decimal import Decimal

import pytest

from billing.models import TaxRate
from inventory import services as inventory_services
from tests.inventory.factories import NumberBlockFactory, OperatorFactory


@pytest.fixture
def blocks(db, platform_admin):
    """Amsterdam (monthly only, 10 numbers) and Munich (monthly + weekly, extra channels
    priced, 5 numbers), stocked through the console's service."""
    operator = OperatorFactory(name="EuroRange")
    amsterdam = NumberBlockFactory(operator=operator)
    munich = NumberBlockFactory(
        operator=operator,
        country="DE",
        region="Bavaria",
        city="München",
        area_code="89",
        setup_fee=Decimal("5.00"),
        monthly_price=Decimal("3.00"),
        weekly_price=Decimal("0.90"),
        channels_included=2,
        extra_channel_monthly_price=Decimal("1.50"),
    )
    inventory_services.dids_add(block=amsterdam, spec_text="5550000-5550009", actor=platform_admin)
    inventory_services.dids_add(
        block=munich, spec_text="+4989555000-+4989555004", actor=platform_admin
    )
    return {"amsterdam": amsterdam, "munich": munich}


@pytest.fixture
def vat_rates(db):
    """The EU rates the billing migration seeds (asserted, so a test never runs without)."""
    assert TaxRate.objects.filter(country="DE").exists()
    return {code: rate for code, rate in TaxRate.objects.values_list("country", "rate")}
