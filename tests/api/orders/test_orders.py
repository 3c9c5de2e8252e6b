"""/v3/orders through the test client: every kind of item, idempotency, refusals, reads."""

from decimal import Decimal

import pytest
from django.conf import settings

from api.models import ApiKeyAgreement, DidReservation
from billing.models import Subscription
from cart.models_orders import Order
from inventory.models import DID
from tests.api.conftest import fund, jsonapi_client, key_for
from tests.api.orders.conftest import (
    balance,
    numbers_of,
    order_body,
    reservation_body,
    sku_of,
    stocked_block,
)
from tests.compliance.factories import RequirementFactory

pytestmark = pytest.mark.django_db


def test_order_by_available_number_charges_exactly_the_amount(client_of, buyer, block):
    did = numbers_of(block)[3]
    before = balance(buyer.account)
    response = client_of.post("/v3/orders", order_body({"available_did_id": str(did.pk)}))
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert data["type"] == "orders"
    attributes = data["attributes"]
    assert attributes["status"] == "completed"
    amount = Decimal(attributes["amount"])
    assert amount > 0
    assert before - balance(buyer.account) == amount
    order = Order.objects.get(pk=data["id"])
    assert order.gross == amount and order.api_key.account == buyer.account
    assert attributes["reference"] == order.reference
    (item,) = attributes["items"]
    assert item["type"] == "did_order_items"
    assert item["attributes"]["available_did_id"] == str(did.pk)
    assert item["attributes"]["number"] == did.number[1:]
    assert item["attributes"]["status"] == "completed"
    assert item["attributes"]["nrc"] == "1.00" and item["attributes"]["mrc"] == "2.00"
    assert item["attributes"]["sku_id"] == sku_of(block)
    charge = Subscription.objects.get(did=did).charges.get(period_index=0)
    assert item["attributes"]["billed_from"] == charge.period_start.date().isoformat()
    assert item["attributes"]["billed_to"] == charge.period_end.date().isoformat()
    did.refresh_from_db()
    assert did.status == "active" and did.owner == buyer.account
    assert Subscription.objects.get(did=did).channels == block.channels_included


def test_order_by_sku_and_qty_takes_any_numbers(client_of, buyer, block):
    response = client_of.post("/v3/orders", order_body({"sku_id": sku_of(block, 3), "qty": 3}))
    assert response.status_code == 201, response.json()
    items = response.json()["data"]["attributes"]["items"]
    assert len(items) == 3 and {i["attributes"]["status"] for i in items} == {"completed"}
    assert {i["attributes"]["sku_id"] for i in items} == {sku_of(block, 3)}
    assert DID.objects.filter(block=block, owner=buyer.account).count() == 3
    assert set(
        Subscription.objects.filter(account=buyer.account).values_list("channels", flat=True)
    ) == {3}


def test_order_by_reservation_ends_it(client_of, buyer, block):
    did = numbers_of(block)[0]
    rid = client_of.post("/v3/did_reservations", reservation_body(did)).json()["data"]["id"]
    response = client_of.post(
        "/v3/orders", order_body({"did_reservation_id": rid, "sku_id": sku_of(block)})
    )
    assert response.status_code == 201, response.json()
    assert (
        response.json()["data"]["attributes"]["items"][0]["attributes"]["number"] == did.number[1:]
    )
    assert DidReservation.objects.get(pk=rid).ended_at is not None
    assert client_of.get("/v3/did_reservations").json()["data"] == []
    again = client_of.post("/v3/orders", order_body({"did_reservation_id": rid}))
    assert again.status_code == 422
    assert "does not exist or has expired" in again.json()["errors"][0]["detail"]


def test_a_number_another_buyer_reserved_fails_its_item_uncharged(
    client_of, buyer, block, stranger
):
    taken, free = numbers_of(block)[:2]
    fund(stranger.account, "100.00")
    jsonapi_client(stranger).post("/v3/did_reservations", reservation_body(taken))
    before = balance(buyer.account)
    response = client_of.post(
        "/v3/orders", order_body({"available_did_id": taken.pk}, {"available_did_id": free.pk})
    )
    assert response.status_code == 201
    attributes = response.json()["data"]["attributes"]
    assert attributes["status"] == "completed"  # partly: the items say which failed
    by_number = {i["attributes"]["number"]: i["attributes"] for i in attributes["items"]}
    assert by_number[taken.number[1:]]["status"] == "failed"
    assert "no longer available" in by_number[taken.number[1:]]["failure_reason"]
    assert by_number[taken.number[1:]]["amount"] == "0.00"
    assert before - balance(buyer.account) == Decimal(attributes["amount"])
    assert Decimal(attributes["amount"]) == Decimal(by_number[free.number[1:]]["amount"])


def test_nothing_available_is_a_canceled_order_charging_nothing(client_of, buyer, block, stranger):
    taken = numbers_of(block)[0]
    fund(stranger.account, "100.00")
    jsonapi_client(stranger).post("/v3/did_reservations", reservation_body(taken))
    before = balance(buyer.account)
    response = client_of.post("/v3/orders", order_body({"available_did_id": taken.pk}))
    assert response.status_code == 201
    assert response.json()["data"]["attributes"]["status"] == "canceled"
    assert response.json()["data"]["attributes"]["amount"] == "0.00"
    assert balance(buyer.account) == before


def test_allow_back_ordering_false_orders_nothing_unless_all_available(
    client_of, buyer, block, stranger
):
    taken, free = numbers_of(block)[:2]
    fund(stranger.account, "100.00")
    jsonapi_client(stranger).post("/v3/did_reservations", reservation_body(taken))
    before = balance(buyer.account)
    response = client_of.post(
        "/v3/orders",
        order_body(
            {"available_did_id": taken.pk}, {"available_did_id": free.pk}, allow_back_ordering=False
        ),
    )
    assert response.status_code == 422
    details = [e["detail"] for e in response.json()["errors"]]
    assert "allow_back_ordering is false" in details[0]
    assert any("no longer available" in d for d in details[1:])
    assert balance(buyer.account) == before
    assert not Order.objects.filter(account=buyer.account).exists()
    free.refresh_from_db()
    assert free.status == "in_stock" and free.owner is None
    more = client_of.post(
        "/v3/orders", order_body({"sku_id": sku_of(block), "qty": 50}, allow_back_ordering=False)
    )
    assert more.status_code == 422
    ok = client_of.post(
        "/v3/orders", order_body({"available_did_id": free.pk}, allow_back_ordering=False)
    )
    assert ok.status_code == 201


def test_external_reference_id_makes_a_retry_return_the_first_order(client_of, buyer, block):
    dids = numbers_of(block)
    body = order_body({"available_did_id": dids[0].pk}, external_reference_id="po-7")
    first = client_of.post("/v3/orders", body)
    assert first.status_code == 201
    after_first = balance(buyer.account)
    retry = client_of.post(
        "/v3/orders", order_body({"available_did_id": dids[1].pk}, external_reference_id="po-7")
    )
    assert retry.status_code == 200
    assert retry.json()["data"]["id"] == first.json()["data"]["id"]
    assert retry.json()["data"]["attributes"]["external_reference_id"] == "po-7"
    assert balance(buyer.account) == after_first
    assert DID.objects.get(pk=dids[1].pk).status == "in_stock"
    # The reference is the account's own: another account may use the same words.
    other_user = jsonapi_client(buyer)  # same account, another key: still the same order
    assert other_user.post("/v3/orders", body).json()["data"]["id"] == first.json()["data"]["id"]


def test_same_reference_in_another_account_is_another_order(block, buyer, stranger):
    fund(stranger.account, "100.00")
    dids = numbers_of(block)
    mine = jsonapi_client(buyer).post(
        "/v3/orders", order_body({"available_did_id": dids[0].pk}, external_reference_id="x")
    )
    theirs = jsonapi_client(stranger).post(
        "/v3/orders", order_body({"available_did_id": dids[1].pk}, external_reference_id="x")
    )
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["data"]["id"] != theirs.json()["data"]["id"]


def test_insufficient_balance_is_422_with_checkouts_words_and_charges_nothing(
    customer_admin, platform_admin
):
    block = stocked_block(platform_admin, monthly_price=Decimal("10.00"))
    fund(customer_admin.account, "60.00")
    client = jsonapi_client(customer_admin)
    response = client.post(
        "/v3/orders", order_body({"sku_id": sku_of(block), "qty": 10}, external_reference_id="big")
    )
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["status"] == "422"
    assert error["detail"] == (
        "Your balance is 60.00 USD and this order costs 130.90 USD: top up at least 70.90 USD "
        "to complete it."
    )
    assert balance(customer_admin.account) == Decimal("60.00")
    assert not Order.objects.exists()
    assert DID.objects.filter(block=block, status="in_stock").count() == 10
    # Nothing was saved, so a retry with the same reference after a top-up goes through.
    fund(customer_admin.account, "100.00")
    assert (
        client.post(
            "/v3/orders",
            order_body({"sku_id": sku_of(block), "qty": 10}, external_reference_id="big"),
        ).status_code
        == 201
    )


def test_below_the_minimum_balance_is_refused(customer_admin, block):
    fund(customer_admin.account, str(settings.MIN_PURCHASE_BALANCE - 1))
    response = jsonapi_client(customer_admin).post(
        "/v3/orders", order_body({"sku_id": sku_of(block), "qty": 1})
    )
    assert response.status_code == 422
    assert "buying needs a balance of at least" in response.json()["errors"][0]["detail"]


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ({"available_did_id": "987654321"}, "available number 987654321 does not exist"),
        ({"did_reservation_id": "987654321"}, "reservation 987654321 does not exist"),
        ({"sku_id": "987654321-2", "qty": 1}, "“987654321-2” does not exist"),
        ({"sku_id": "nonsense", "qty": 1}, "“nonsense” does not exist"),
    ],
)
def test_unknown_ids_are_422(client_of, buyer, block, item, words):
    response = client_of.post("/v3/orders", order_body(item))
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert words in error["detail"]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "attributes",
    [
        {"items": []},
        {"items": "x"},
        {"items": [{"type": "capacity_order_items", "attributes": {"qty": 1}}]},
        {"items": [{"type": "did_order_items", "attributes": {"qty": "two", "sku_id": "1-2"}}]},
        {
            "items": [
                {
                    "type": "did_order_items",
                    "attributes": {"available_did_id": 1, "did_reservation_id": 2},
                }
            ]
        },
        {"items": [{"type": "did_order_items", "attributes": {"available_did_id": 1, "qty": 3}}]},
        {"items": [{"type": "did_order_items", "attributes": {"colour": "red"}}]},
        {
            "items": [{"type": "did_order_items", "attributes": {"sku_id": "1-2", "qty": 1}}],
            "colour": 1,
        },
        {
            "items": [{"type": "did_order_items", "attributes": {"sku_id": "1-2", "qty": 1}}],
            "external_reference_id": "x" * 101,
        },
        {
            "items": [{"type": "did_order_items", "attributes": {"sku_id": "1-2", "qty": 1}}],
            "callback_method": "put",
            "callback_url": "https://example.com/",
        },
        {
            "items": [{"type": "did_order_items", "attributes": {"sku_id": "1-2", "qty": 1}}],
            "allow_back_ordering": "maybe",
        },
    ],
)
def test_malformed_orders_are_400(client_of, buyer, attributes):
    response = client_of.post("/v3/orders", {"data": {"type": "orders", "attributes": attributes}})
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["status"] == "400"


def test_qty_out_of_range_and_too_many_numbers_are_422(client_of, buyer, block):
    assert (
        client_of.post("/v3/orders", order_body({"sku_id": sku_of(block), "qty": 0})).status_code
        == 400
    )
    assert (
        client_of.post("/v3/orders", order_body({"sku_id": sku_of(block), "qty": 101})).status_code
        == 422
    )
    many = [{"sku_id": sku_of(block), "qty": 60}, {"sku_id": sku_of(block), "qty": 60}]
    response = client_of.post("/v3/orders", order_body(*many))
    assert response.status_code == 422
    assert "at most 100 numbers" in response.json()["errors"][0]["detail"]
    wrong_group = client_of.post(
        "/v3/orders",
        order_body({"available_did_id": numbers_of(block)[0].pk, "sku_id": "987654-2"}),
    )
    assert wrong_group.status_code == 422


def test_unsupported_item_attributes_are_refused(client_of, buyer, block):
    response = client_of.post(
        "/v3/orders", order_body({"sku_id": sku_of(block), "qty": 1, "billing_cycles_count": 3})
    )
    assert response.status_code == 400
    assert "billing_cycles_count is not supported" in response.json()["errors"][0]["detail"]


def test_callback_is_validated_and_queued_with_the_order(
    client_of, buyer, block, monkeypatch, settings
):
    queued = []
    monkeypatch.setattr(
        "api.services_orders.order_callback_queue",
        lambda **kwargs: queued.append(kwargs),
    )
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    plain = client_of.post(
        "/v3/orders",
        order_body({"sku_id": sku_of(block), "qty": 1}, callback_url="http://example.com/cb"),
    )
    assert plain.status_code == 422
    assert "https" in plain.json()["errors"][0]["detail"]
    assert not Order.objects.exists()
    response = client_of.post(
        "/v3/orders",
        order_body(
            {"sku_id": sku_of(block), "qty": 1},
            callback_url="https://93.184.215.14/cb",
            callback_method="GET",
            external_reference_id="cb-1",
        ),
    )
    assert response.status_code == 201, response.json()
    attributes = response.json()["data"]["attributes"]
    assert attributes["callback_url"] == "https://93.184.215.14/cb"
    assert attributes["callback_method"] == "get"
    order = Order.objects.get()
    assert queued == [{"order": order, "url": "https://93.184.215.14/cb", "method": "get"}]
    # A retry returns the order and queues nothing again.
    client_of.post(
        "/v3/orders",
        order_body(
            {"sku_id": sku_of(block), "qty": 1},
            callback_url="https://93.184.215.14/cb",
            external_reference_id="cb-1",
        ),
    )
    assert len(queued) == 1


def test_private_callback_urls_allowed_only_by_the_setting(
    client_of, buyer, block, monkeypatch, settings
):
    monkeypatch.setattr("api.services_orders.order_callback_queue", lambda **kwargs: None)
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    response = client_of.post(
        "/v3/orders",
        order_body({"sku_id": sku_of(block), "qty": 1}, callback_url="http://127.0.0.1:9/cb"),
    )
    assert response.status_code == 201
    assert response.json()["data"]["attributes"]["callback_method"] == "post"


def test_requirements_need_the_keys_agreement(customer_admin, block, platform_admin):
    requirement = RequirementFactory(country="NL")
    block.requirement = requirement
    block.save()
    fund(customer_admin.account, "100.00")
    key, secret = key_for(customer_admin)
    client = jsonapi_client()
    client.secret = secret
    refused = client.post("/v3/orders", order_body({"sku_id": sku_of(block), "qty": 1}))
    assert refused.status_code == 422
    assert requirement.title in refused.json()["errors"][0]["detail"]
    assert not Order.objects.exists()
    from django.utils import timezone  # noqa: PLC0415

    ApiKeyAgreement.objects.create(
        key=key,
        requirement=requirement,
        version=requirement.version,
        agreed_by=customer_admin,
        agreed_at=timezone.now(),
    )
    placed = client.post("/v3/orders", order_body({"sku_id": sku_of(block), "qty": 1}))
    assert placed.status_code == 201, placed.json()
    agreement = requirement.agreements.get()
    assert agreement.order_id == int(placed.json()["data"]["id"])


def test_large_orders_need_no_emailed_code_through_the_api(client_of, buyer, block, settings):
    """The web asks for an e-mailed code above CHECKOUT_CODE_ABOVE; a script cannot read
    e-mail, and its key is the admin's deliberate grant (optionally bound to IP ranges)."""
    settings.CHECKOUT_CODE_ABOVE = Decimal("1.00")
    response = client_of.post("/v3/orders", order_body({"sku_id": sku_of(block), "qty": 1}))
    assert response.status_code == 201, response.json()
    assert response.json()["data"]["attributes"]["status"] == "completed"
    order = Order.objects.get()
    assert order.gross > Decimal("1.00")
    assert order.api_key_id is not None


def test_read_only_key_member_and_suspended_account(buyer, block, customer_member):
    body = order_body({"sku_id": sku_of(block), "qty": 1})
    assert jsonapi_client(buyer, read_only=True).post("/v3/orders", body).status_code == 403
    customer_member.may_buy = False
    customer_member.save()
    assert jsonapi_client(customer_member).post("/v3/orders", body).status_code == 403
    assert not Order.objects.exists()
