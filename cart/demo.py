"""Demo orders for `make run`: the demo customers buy a few numbers through the real
checkout (cart → ``order_place``), so every demo invoice belongs to an order that exists.

Run after the demo inventory, requirements and balances. Each order is keyed by its
checkout token: a second run finds it and changes nothing.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from compliance.selectors import requirements_for_blocks
from inventory.models import NumberBlock

from .models import Order
from .orders import order_place
from .services import cart_add_any, cart_clear

logger = logging.getLogger(__name__)

DEMO_ORDERS = [
    # (buyer's e-mail, checkout token, numbers: (country, area code, billing period))
    # Acme (US, outside the EU: no VAT): a New York number and a toll-free one, 16.00 USD;
    # then a London number, 3.00 USD — 81.00 USD stay on the balance.
    (
        "customer@didportal.test",
        "demo-order-1",
        [("US", "212", "monthly"), ("US", "800", "monthly")],
    ),
    ("customer@didportal.test", "demo-order-2", [("GB", "20", "monthly")]),
    # Bäckerei Schmidt (DE, no VAT number: German VAT), a Chicago number at Voxel's retail
    # price (list 1.00 less its 10 % discount, +30 %, up to .x9: 1.19 net).
    ("resold@didportal.test", "demo-order-resold-1", [("US", "312", "monthly")]),
    # Studio Lumen (GB, Voxel's second customer): a Manchester number and a Miami one, at
    # Voxel's retail prices; Voxel pays the platform wholesale for both.
    (
        "studio@didportal.test",
        "demo-order-resold-2",
        [("GB", "161", "monthly"), ("US", "305", "monthly")],
    ),
    # Numbers whose country asks for a registration, sold awaiting it (``compliance.demo``
    # then approves Acme's and rejects Bäckerei Schmidt's): a Paris number for Acme
    # (5.00 setup + 3.00 month, 73.00 USD stay on its balance), a Berlin one for Bäckerei
    # Schmidt.
    ("customer@didportal.test", "demo-order-3", [("FR", "1", "monthly")]),
    ("resold@didportal.test", "demo-order-resold-3", [("DE", "30", "monthly")]),
]


def _block(country, area_code):
    return NumberBlock.objects.filter(country=country, area_code=area_code).order_by("pk").first()


@transaction.atomic
def _place(user, token, wanted):
    cart_clear(user=user)
    blocks = []
    for country, area_code, period in wanted:
        block = _block(country, area_code)
        if block is None:  # the demo inventory does not have it (not seeded)
            return None
        cart_add_any(user=user, block=block, quantity=1, billing_period=period)
        blocks.append(block)
    # The demo buyer agrees to each requirement at the version the checkout shows.
    agreed = {r.pk: r.version for r in requirements_for_blocks(blocks)}
    return order_place(user=user, token=token, agreed=agreed)


def seed_orders():
    """Place each demo order not placed yet; returns the orders placed now."""
    placed = []
    for email, token, wanted in DEMO_ORDERS:
        user = User.objects.filter(email__iexact=email).first()
        if user is None or Order.objects.filter(token=token).exists():
            continue
        try:
            order = _place(user, token, wanted)
        except ValidationError as exc:  # e.g. a checkout code required by the settings
            logger.warning("demo order %s not placed: %s", token, exc)
            continue
        if order is not None:
            placed.append(order)
    return placed
