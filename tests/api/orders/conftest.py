"""Orders-lane fixtures: a stocked block (numbers are available DIDs: their pks are the
ids), a funded buyer, and helpers for the JSON:API bodies DIDWW's SDK sends."""

import pytest

from api.ids import sku_id
from inventory import services as inventory_services
from inventory.models import DID
from tests.api.conftest import fund, jsonapi_client
from tests.inventory.factories import NumberBlockFactory, OperatorFactory


def stocked_block(admin, first="5550000", count=10, **fields):
    """An Amsterdam block (setup 1.00, 2.00 a month, 2 channels) with ``count`` numbers."""
    block = NumberBlockFactory(operator=OperatorFactory(name="EuroRange"), **fields)
    last = str(int(first) + count - 1)
    inventory_services.dids_add(block=block, spec_text=f"{first}-{last}", actor=admin)
    return block


def numbers_of(block):
    return list(DID.objects.filter(block=block).order_by("number"))


@pytest.fixture
def block(db, platform_admin):
    return stocked_block(platform_admin)


@pytest.fixture
def buyer(customer_admin):
    """A direct customer's admin with 100.00 (above MIN_PURCHASE_BALANCE: funded)."""
    fund(customer_admin.account, "100.00")
    return customer_admin


@pytest.fixture
def client_of(buyer):
    return jsonapi_client(buyer)


def reservation_body(did, description="for the shop"):
    return {
        "data": {
            "type": "did_reservations",
            "attributes": {"description": description},
            "relationships": {
                "available_did": {"data": {"type": "available_dids", "id": str(did.pk)}}
            },
        }
    }


def order_body(*items, **attributes):
    """``items``: attribute dicts of ``did_order_items``."""
    return {
        "data": {
            "type": "orders",
            "attributes": {
                "items": [{"type": "did_order_items", "attributes": item} for item in items],
                **attributes,
            },
        }
    }


def sku_of(block, channels=None):
    return sku_id(block.pk, channels or block.channels_included)


def balance(account):
    from billing.selectors import balance_for  # noqa: PLC0415

    return balance_for(account)
