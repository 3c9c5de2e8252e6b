"""API orders follow the web checkout's rules: the caller's prices (a reseller's customer
pays retail, the reseller wholesale), requirements and awaiting registration, expiry of
reservations, and the database constraints behind idempotency."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from api.models import ApiKeyAgreement, DidReservation
from catalog.pricing import price_list_forget
from compliance.models import Requirement
from inventory.models import DID
from tests.api.conftest import fund, jsonapi_client, key_for
from tests.api.orders.conftest import balance, numbers_of, order_body, reservation_body, sku_of
from tests.factories import AccountFactory, MarkupRuleFactory, UserFactory

pytestmark = pytest.mark.django_db


def attributes(response):
    assert response.status_code == 201, response.json()
    return response.json()["data"]["attributes"]


def test_a_resellers_customer_pays_retail_and_the_reseller_wholesale(block):
    reseller = AccountFactory(kind="reseller", wholesale_discount=Decimal("10"))
    MarkupRuleFactory(reseller=reseller, recurring_percent=Decimal("50"))
    price_list_forget(reseller)
    customer = UserFactory(account=AccountFactory(parent=reseller), role="customer_admin")
    fund(customer.account, "100.00")
    fund(reseller, "100.00")

    bought = attributes(
        jsonapi_client(customer).post("/v3/orders", order_body({"sku_id": sku_of(block), "qty": 1}))
    )
    (item,) = bought["items"]
    assert item["attributes"]["mrc"] == "2.70"  # 2.00 list, 10 % off wholesale, +50 % retail
    assert item["attributes"]["nrc"] == "0.90"
    assert Decimal("100.00") - balance(customer.account) == Decimal(bought["amount"])
    assert balance(reseller) < Decimal("100.00")  # the wholesale side of the sale

    own = UserFactory(account=reseller, role="reseller_admin")
    for_itself = attributes(
        jsonapi_client(own).post("/v3/orders", order_body({"sku_id": sku_of(block), "qty": 1}))
    )
    assert for_itself["items"][0]["attributes"]["mrc"] == "1.80"  # wholesale


def test_numbers_needing_registration_are_sold_awaiting_it(buyer, block):
    requirement = Requirement.objects.create(
        country="NL",
        number_type="local",
        title="Dutch address",
        text="An address in the Netherlands.",
        address_scope="country",
    )
    block.requirement = requirement
    block.save()
    key, secret = key_for(buyer)
    ApiKeyAgreement.objects.create(
        key=key,
        requirement=requirement,
        version=requirement.version,
        agreed_by=buyer,
        agreed_at=timezone.now(),
    )
    client = jsonapi_client()
    client.secret = secret
    bought = attributes(client.post("/v3/orders", order_body({"sku_id": sku_of(block), "qty": 1})))
    (item,) = bought["items"]
    assert item["attributes"]["status"] == "completed"
    assert item["attributes"]["awaiting_registration"] is True
    did = DID.objects.get(pk=item["attributes"]["available_did_id"])
    assert did.status == "awaiting_registration" and did.owner == buyer.account


def test_a_changed_requirement_text_needs_agreeing_again(buyer, block):
    requirement = Requirement.objects.create(
        country="NL", number_type="local", title="Terms", text="Old text.", version=2
    )
    block.requirement = requirement
    block.save()
    key, secret = key_for(buyer)
    ApiKeyAgreement.objects.create(
        key=key, requirement=requirement, version=1, agreed_by=buyer, agreed_at=timezone.now()
    )
    client = jsonapi_client()
    client.secret = secret
    response = client.post("/v3/orders", order_body({"sku_id": sku_of(block), "qty": 1}))
    assert response.status_code == 422
    assert DID.objects.filter(owner=buyer.account).count() == 0


def test_an_expired_reservation_cannot_be_ordered(client_of, buyer, block):
    did = numbers_of(block)[0]
    rid = client_of.post("/v3/did_reservations", reservation_body(did)).json()["data"]["id"]
    later = timezone.now() + timedelta(minutes=settings.CART_HOLD_MINUTES, seconds=5)
    with time_machine.travel(later, tick=False):
        response = client_of.post("/v3/orders", order_body({"did_reservation_id": rid}))
    assert response.status_code == 422
    assert "has expired" in response.json()["errors"][0]["detail"]
    assert DID.objects.get(pk=did.pk).owner is None


def test_another_accounts_reservation_cannot_be_ordered(client_of, block, stranger):
    fund(stranger.account, "100.00")
    did = numbers_of(block)[0]
    rid = (
        jsonapi_client(stranger)
        .post("/v3/did_reservations", reservation_body(did))
        .json()["data"]["id"]
    )
    response = client_of.post("/v3/orders", order_body({"did_reservation_id": rid}))
    assert response.status_code == 422
    assert DID.objects.get(pk=did.pk).owner is None


def test_the_database_keeps_one_order_per_reference_and_one_open_reservation(
    client_of, buyer, block
):
    from cart.models_orders import Order  # noqa: PLC0415

    placed = client_of.post(
        "/v3/orders", order_body({"sku_id": sku_of(block), "qty": 1}, external_reference_id="r")
    )
    order = Order.objects.get(pk=placed.json()["data"]["id"])
    twin = Order.objects.get(pk=order.pk)
    twin.pk, twin.token, twin.invoice = None, "another-token", None
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    did = numbers_of(block)[5]
    rid = client_of.post("/v3/did_reservations", reservation_body(did)).json()["data"]["id"]
    first = DidReservation.objects.get(pk=rid)
    with pytest.raises(IntegrityError), transaction.atomic():
        DidReservation.objects.create(
            account=first.account,
            key=first.key,
            did=did,
            created_at=first.created_at,
            expires_at=first.expires_at,
        )


def test_a_teammates_reservation_is_ordered_with_my_key(buyer, block):
    teammate = UserFactory(account=buyer.account, role="customer_admin")
    did = numbers_of(block)[0]
    rid = jsonapi_client(teammate).post("/v3/did_reservations", reservation_body(did)).json()
    rid = rid["data"]["id"]
    mine = jsonapi_client(buyer)
    assert [r["id"] for r in mine.get("/v3/did_reservations").json()["data"]] == [rid]
    bought = attributes(mine.post("/v3/orders", order_body({"did_reservation_id": rid})))
    assert bought["status"] == "completed"
    assert bought["items"][0]["attributes"]["number"] == did.number[1:]
    assert DID.objects.get(pk=did.pk).owner == buyer.account
