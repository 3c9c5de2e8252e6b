"""What a script does: DIDWW's official SDK (``didww`` on PyPI, unmodified) against a live
test server — reserve, order by reservation, by available number and by SKU + qty, the
balance dropping by exactly each order's amount, retries, errors as JSON:API errors."""

from decimal import Decimal

import pytest
from didww.enums import CallbackMethod, OrderStatus
from didww.exceptions import DidwwApiError
from didww.query_params import QueryParams
from didww.resources.available_did import AvailableDid
from didww.resources.did_reservation import DidReservation
from didww.resources.order import Order
from didww.resources.order_item.available_did_order_item import AvailableDidOrderItem
from didww.resources.order_item.did_order_item import DidOrderItem
from didww.resources.order_item.reservation_did_order_item import ReservationDidOrderItem

from cart.models_orders import Order as OrderRow
from inventory.models import DID
from tests.api.conftest import fund, key_for, sdk_for
from tests.api.orders.conftest import numbers_of, sku_of, stocked_block
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def setup(platform_admin):
    block = stocked_block(platform_admin)
    user = UserFactory(role="customer_admin")
    fund(user.account, "100.00")
    _key, secret = key_for(user)
    return block, user, secret


def balance_of(sdk):
    return Decimal(sdk.balance().find().data.balance)


def test_reserve_then_order_by_reservation(live_server, setup):
    block, user, secret = setup
    sdk = sdk_for(live_server, secret)
    did = numbers_of(block)[2]

    reservation = DidReservation()
    reservation.description = "for the Amsterdam office"
    reservation.available_did = AvailableDid.build(str(did.pk))
    created = sdk.did_reservations().create(reservation).data
    assert created.description == "for the Amsterdam office"
    assert created.expires_at > created.created_at
    listed = sdk.did_reservations().list().data
    assert [r.id for r in listed] == [created.id]
    assert sdk.did_reservations().find(created.id).data.id == created.id

    before = balance_of(sdk)
    item = ReservationDidOrderItem()
    item.did_reservation_id = created.id
    item.sku_id = sku_of(block)
    order = Order()
    order.items = [item]
    placed = sdk.orders().create(order).data
    assert placed.status == OrderStatus.COMPLETED and placed.is_completed
    assert before - balance_of(sdk) == Decimal(placed.amount)
    (bought,) = placed.items
    assert bought.sku_id == sku_of(block)
    assert DID.objects.get(pk=did.pk).owner_id == user.account_id
    assert sdk.did_reservations().list().data == []


def test_order_by_available_number_and_by_sku_and_qty(live_server, setup):
    block, user, secret = setup
    sdk = sdk_for(live_server, secret)
    did = numbers_of(block)[0]
    before = balance_of(sdk)

    one = AvailableDidOrderItem()
    one.available_did_id = str(did.pk)
    one.sku_id = sku_of(block)
    order = Order()
    order.items = [one]
    order.external_reference_id = "erp-1001"
    order.callback_url = None
    first = sdk.orders().create(order).data
    assert first.is_completed and first.external_reference_id == "erp-1001"
    middle = balance_of(sdk)
    assert before - middle == Decimal(first.amount)

    many = DidOrderItem()
    many.sku_id = sku_of(block)
    many.qty = 3
    bulk = Order()
    bulk.items = [many]
    second = sdk.orders().create(bulk).data
    assert len(second.items) == 3
    assert middle - balance_of(sdk) == Decimal(second.amount)
    assert Decimal(second.amount) == 3 * Decimal(first.amount)
    assert DID.objects.filter(owner=user.account).count() == 4

    # Read back through the SDK: list, filter, show.
    listed = sdk.orders().list(QueryParams().sort("created_at")).data
    assert [o.id for o in listed] == [first.id, second.id]
    found = sdk.orders().list(QueryParams().filter("external_reference_id", "erp-1001")).data
    assert [o.id for o in found] == [first.id]
    shown = sdk.orders().find(second.id).data
    assert shown.amount == second.amount and shown.reference == second.reference


def test_retry_with_the_same_external_reference_returns_the_first_order(live_server, setup):
    block, user, secret = setup
    sdk = sdk_for(live_server, secret)

    def place():
        item = DidOrderItem()
        item.sku_id = sku_of(block)
        item.qty = 2
        order = Order()
        order.items = [item]
        order.external_reference_id = "retry-me"
        order.callback_method = CallbackMethod.POST
        return sdk.orders().create(order).data

    first = place()
    after = balance_of(sdk)
    again = place()
    assert again.id == first.id and again.amount == first.amount
    assert balance_of(sdk) == after
    assert OrderRow.objects.filter(account=user.account).count() == 1


def test_errors_come_back_as_jsonapi_errors(live_server, setup, platform_admin):
    block, user, secret = setup
    sdk = sdk_for(live_server, secret)
    before = balance_of(sdk)

    unknown = AvailableDidOrderItem()
    unknown.available_did_id = "987654321"
    order = Order()
    order.items = [unknown]
    with pytest.raises(DidwwApiError) as refused:
        sdk.orders().create(order)
    assert refused.value.status_code == 422
    assert "does not exist" in refused.value.errors[0]["detail"]

    dear = stocked_block(platform_admin, first="5560000", monthly_price=Decimal("40.00"))
    many = DidOrderItem()
    many.sku_id = sku_of(dear)
    many.qty = 5
    order = Order()
    order.items = [many]
    with pytest.raises(DidwwApiError) as short:
        sdk.orders().create(order)
    assert short.value.status_code == 422
    assert short.value.errors[0]["detail"].startswith("Your balance is 100.00")
    assert balance_of(sdk) == before
    assert not OrderRow.objects.exists()

    with pytest.raises(DidwwApiError) as missing:
        sdk.orders().find("987654321")
    assert missing.value.status_code == 404
    with pytest.raises(DidwwApiError) as bad_filter:
        sdk.orders().list(QueryParams().filter("colour", "red"))
    assert bad_filter.value.status_code == 400
    reservation = DidReservation()
    reservation.available_did = AvailableDid.build("987654321")
    with pytest.raises(DidwwApiError) as no_number:
        sdk.did_reservations().create(reservation)
    assert no_number.value.status_code == 422
    sdk.did_reservations().delete("987654321")  # the SDK treats 404 on delete as done


def test_read_only_key_cannot_order(live_server, setup):
    block, user, _secret = setup
    _key, read_only = key_for(user, read_only=True)
    item = DidOrderItem()
    item.sku_id = sku_of(block)
    item.qty = 1
    order = Order()
    order.items = [item]
    with pytest.raises(DidwwApiError) as forbidden:
        sdk_for(live_server, read_only).orders().create(order)
    assert forbidden.value.status_code == 403
    assert sdk_for(live_server, read_only).orders().list().data == []
