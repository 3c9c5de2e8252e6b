"""A script written for DIDWW, run unmodified against didportal: the official ``didww`` SDK
finds a city, its DID group and price, picks numbers, buys them (one by number, two by
SKU + quantity), sees its balance drop by exactly the order's amount, lists and labels its
new numbers, and reads refusals as JSON:API errors. Every id it uses came from the API."""

from decimal import Decimal

import pytest
from didww.enums import OrderStatus
from didww.exceptions import DidwwApiError
from didww.query_params import QueryParams
from didww.resources.order import Order
from didww.resources.order_item.available_did_order_item import AvailableDidOrderItem
from didww.resources.order_item.did_order_item import DidOrderItem

from tests.api.catalog.conftest import stock  # noqa: F401 (fixture)
from tests.api.conftest import fund, key_for, sdk_for
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.usefixtures("stock")
def test_a_didww_script_buys_and_manages_numbers(live_server):
    buyer = UserFactory(role="customer_admin", account__country="NL")
    fund(buyer.account, "50.00")
    sdk = sdk_for(live_server, key_for(buyer)[1])

    (netherlands,) = sdk.countries().list(QueryParams().filter("iso", "NL")).data
    cities = sdk.cities().list(QueryParams().filter("country.id", netherlands.id)).data
    rotterdam = next(city for city in cities if city.name == "Rotterdam")
    (group,) = (
        sdk.did_groups()
        .list(QueryParams().filter("city.id", rotterdam.id).include("stock_keeping_units"))
        .data
    )
    assert group.meta["needs_registration"] is False
    (sku,) = [s for s in group.stock_keeping_units if s.channels_included_count == 2]
    assert (Decimal(sku.setup_price), Decimal(sku.monthly_price)) == (
        Decimal("0.00"),
        Decimal("1.50"),
    )
    available = sdk.available_dids().list(QueryParams().filter("did_group.id", group.id)).data
    numbers = [did.number for did in available]
    assert numbers == sorted(numbers) and len(numbers) == 5

    before = Decimal(sdk.balance().find().data.balance)
    by_number = AvailableDidOrderItem()
    by_number.available_did_id = available[0].id
    by_number.sku_id = sku.id
    any_two = DidOrderItem()
    any_two.sku_id = sku.id
    any_two.qty = 2
    order = Order()
    order.items = [by_number, any_two]
    order.external_reference_id = "journey-1"
    placed = sdk.orders().create(order).data
    assert placed.status == OrderStatus.COMPLETED
    amount = Decimal(placed.amount)
    assert amount > 0
    after = Decimal(sdk.balance().find().data.balance)
    assert before - after == amount

    mine = sdk.dids().list(QueryParams().sort("number")).data
    assert len(mine) == 3
    assert available[0].number in [did.number for did in mine]
    first = mine[0]
    first.description = "Rotterdam front desk"
    sdk.dids().update(first)
    assert sdk.dids().find(first.id).data.description == "Rotterdam front desk"
    again = sdk.orders().create(order).data  # a retry of the same external reference
    assert again.id == placed.id
    assert Decimal(sdk.balance().find().data.balance) == after

    with pytest.raises(DidwwApiError) as unknown:
        sdk.did_groups().find("999999")
    assert unknown.value.status_code == 404
    with pytest.raises(DidwwApiError) as bad_filter:
        sdk.available_dids().list(QueryParams().filter("no_such_filter", "1"))
    assert bad_filter.value.status_code == 400
    gone = AvailableDidOrderItem()
    gone.available_did_id = "999999999"
    gone.sku_id = sku.id
    refused = Order()
    refused.items = [gone]
    with pytest.raises(DidwwApiError) as unknown_number:
        sdk.orders().create(refused)
    assert unknown_number.value.status_code == 422

    broke = UserFactory(role="customer_admin", account__country="NL")
    broke_sdk = sdk_for(live_server, key_for(broke)[1])
    with pytest.raises(DidwwApiError) as short:
        broke_sdk.orders().create(order)
    assert short.value.status_code == 422
    assert "balance" in str(short.value).lower()
    assert Decimal(broke_sdk.balance().find().data.balance) == Decimal("0.00")
