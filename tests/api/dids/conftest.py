from decimal import Decimal

import pytest

from inventory import services as inventory_services
from tests.inventory.factories import NumberBlockFactory, OperatorFactory


@pytest.fixture
def munich(db, platform_admin):
    """A Munich block (setup 5.00, monthly 3.00 with 2 channels, 1.50 per extra channel;
    DE VAT 19 %) with five numbers in stock."""
    block = NumberBlockFactory(
        operator=OperatorFactory(name="EuroRange"),
        country="DE",
        region="Bavaria",
        city="München",
        area_code="89",
        setup_fee=Decimal("5.00"),
        monthly_price=Decimal("3.00"),
        channels_included=2,
        extra_channel_monthly_price=Decimal("1.50"),
    )
    inventory_services.dids_add(
        block=block, spec_text="+4989555000-+4989555004", actor=platform_admin
    )
    return block


def buy(user, *numbers, token):
    """Numbers bought through the web's checkout (cart, then ``order_place``)."""
    from cart import services as cart_services  # noqa: PLC0415
    from cart.orders import order_place  # noqa: PLC0415

    cart_services.cart_add_numbers(
        user=user, numbers=list(numbers), channels=None, billing_period="monthly"
    )
    return order_place(user=user, token=token, ip_address="203.0.113.9")
