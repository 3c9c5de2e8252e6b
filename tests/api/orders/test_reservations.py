"""/v3/did_reservations: the web cart's hold on a number, taken through the API."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from api.models import DidReservation
from cart.services import cart_add_numbers
from inventory.models import DID
from tests.api.conftest import fund, jsonapi_client
from tests.api.orders.conftest import numbers_of, reservation_body
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_reserve_holds_the_number_for_the_keys_user(client_of, buyer, block):
    did = numbers_of(block)[0]
    before = timezone.now()
    response = client_of.post(
        "/v3/did_reservations?include=available_did", reservation_body(did, "  shop   line ")
    )
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert data["type"] == "did_reservations"
    assert data["attributes"]["description"] == "shop line"
    assert data["relationships"]["available_did"]["data"] == {
        "type": "available_dids",
        "id": str(did.pk),
    }
    did.refresh_from_db()
    assert did.cart_held_by == buyer
    minutes = (did.cart_held_until - before).total_seconds() / 60
    assert settings.CART_HOLD_MINUTES - 1 < minutes <= settings.CART_HOLD_MINUTES + 1
    reservation = DidReservation.objects.get(pk=data["id"])
    assert reservation.expires_at == did.cart_held_until
    assert reservation.account == buyer.account


def test_list_show_delete(client_of, buyer, block):
    first, second = numbers_of(block)[:2]
    ids = [
        client_of.post("/v3/did_reservations", reservation_body(did)).json()["data"]["id"]
        for did in (first, second)
    ]
    listed = client_of.get("/v3/did_reservations").json()
    assert [row["id"] for row in listed["data"]] == ids[::-1]  # newest first
    assert listed["meta"]["total_records"] == 2
    shown = client_of.get(f"/v3/did_reservations/{ids[0]}?include=available_did").json()["data"]
    assert shown["relationships"]["available_did"]["data"]["id"] == str(first.pk)
    # Without include, DIDWW links the related resource instead of naming it.
    bare = client_of.get(f"/v3/did_reservations/{ids[0]}").json()["data"]
    assert "data" not in bare["relationships"]["available_did"]

    assert client_of.delete(f"/v3/did_reservations/{ids[0]}").status_code == 204
    first.refresh_from_db()
    assert first.cart_held_by is None and first.cart_held_until is None
    assert client_of.get(f"/v3/did_reservations/{ids[0]}").status_code == 404
    assert [r["id"] for r in client_of.get("/v3/did_reservations").json()["data"]] == [ids[1]]
    assert client_of.delete(f"/v3/did_reservations/{ids[0]}").status_code == 404


def test_deleting_keeps_a_hold_the_web_cart_also_has(client_of, buyer, block):
    did = numbers_of(block)[0]
    rid = client_of.post("/v3/did_reservations", reservation_body(did)).json()["data"]["id"]
    cart_add_numbers(user=buyer, numbers=[did.number])
    assert client_of.delete(f"/v3/did_reservations/{rid}").status_code == 204
    did.refresh_from_db()
    assert did.cart_held_by == buyer


def test_expired_reservations_leave_the_list(client_of, buyer, block):
    did = numbers_of(block)[0]
    rid = client_of.post("/v3/did_reservations", reservation_body(did)).json()["data"]["id"]
    later = timezone.now() + timedelta(minutes=settings.CART_HOLD_MINUTES, seconds=1)
    with time_machine.travel(later, tick=False):
        assert client_of.get("/v3/did_reservations").json()["data"] == []
        assert client_of.get(f"/v3/did_reservations/{rid}").status_code == 404
        # and the number can be reserved again, by anybody
        other = UserFactory(account__name="Other Ltd")
        fund(other.account, "100.00")
        again = jsonapi_client(other).post("/v3/did_reservations", reservation_body(did))
        assert again.status_code == 201, again.json()
    assert DidReservation.objects.get(pk=rid).ended_at is not None


def test_a_number_held_or_sold_elsewhere_is_refused(client_of, buyer, block, stranger):
    did = numbers_of(block)[0]
    fund(stranger.account, "100.00")
    assert (
        jsonapi_client(stranger).post("/v3/did_reservations", reservation_body(did)).status_code
        == 201
    )
    response = client_of.post("/v3/did_reservations", reservation_body(did))
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert "no longer available" in error["detail"]
    assert DidReservation.objects.filter(account=buyer.account).count() == 0


def test_reserving_twice_is_refused(client_of, block):
    did = numbers_of(block)[0]
    assert client_of.post("/v3/did_reservations", reservation_body(did)).status_code == 201
    response = client_of.post("/v3/did_reservations", reservation_body(did))
    assert response.status_code == 422
    assert "already reserved" in response.json()["errors"][0]["detail"]


def test_unknown_number_is_422_and_malformed_link_400(client_of, block):
    body = reservation_body(numbers_of(block)[0])
    body["data"]["relationships"]["available_did"]["data"]["id"] = "999999999"
    response = client_of.post("/v3/did_reservations", body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["detail"] == "This available number does not exist."
    for bad in ("abc", "", None, "1e3", "-1", "99999999999999999999999"):
        body["data"]["relationships"]["available_did"]["data"]["id"] = bad
        assert client_of.post("/v3/did_reservations", body).status_code == 400, bad
    del body["data"]["relationships"]
    assert client_of.post("/v3/did_reservations", body).status_code == 400
    wrong_type = reservation_body(numbers_of(block)[0])
    wrong_type["data"]["type"] = "orders"
    assert client_of.post("/v3/did_reservations", wrong_type).status_code == 409


def test_unfunded_accounts_hold_few_numbers(customer_admin, block):
    client = jsonapi_client(customer_admin)  # no balance: the web cart's unfunded limits
    dids = numbers_of(block)
    for did in dids[: settings.CART_HOLDS_UNFUNDED]:
        assert client.post("/v3/did_reservations", reservation_body(did)).status_code == 201
    response = client.post(
        "/v3/did_reservations", reservation_body(dids[settings.CART_HOLDS_UNFUNDED])
    )
    assert response.status_code == 422
    assert "at a time until it is topped up" in response.json()["errors"][0]["detail"]
    assert (
        dids[settings.CART_HOLDS_UNFUNDED]
        .__class__.objects.get(pk=dids[settings.CART_HOLDS_UNFUNDED].pk)
        .cart_held_by
        is None
    )


def test_web_cart_holds_count_against_the_limit(customer_admin, block):
    dids = numbers_of(block)
    cart_add_numbers(
        user=customer_admin, numbers=[d.number for d in dids[: settings.CART_HOLDS_UNFUNDED]]
    )
    response = jsonapi_client(customer_admin).post(
        "/v3/did_reservations", reservation_body(dids[settings.CART_HOLDS_UNFUNDED])
    )
    assert response.status_code == 422


def test_unfunded_account_reserves_one_number_again_a_limited_number_of_times(
    customer_admin, block
):
    client = jsonapi_client(customer_admin)
    did = numbers_of(block)[0]
    now = timezone.now()
    allowed = 1 + settings.CART_HOLD_RENEWALS_UNFUNDED
    for attempt in range(allowed):
        moment = now + timedelta(minutes=(settings.CART_HOLD_MINUTES + 1) * attempt)
        with time_machine.travel(moment, tick=False):
            assert client.post("/v3/did_reservations", reservation_body(did)).status_code == 201
    with time_machine.travel(
        now + timedelta(minutes=(settings.CART_HOLD_MINUTES + 1) * allowed), tick=False
    ):
        response = client.post("/v3/did_reservations", reservation_body(did))
    assert response.status_code == 422
    assert "reserved again" in response.json()["errors"][0]["detail"]


def test_other_accounts_reservations_are_404(client_of, block, stranger):
    did = numbers_of(block)[0]
    rid = client_of.post("/v3/did_reservations", reservation_body(did)).json()["data"]["id"]
    other = jsonapi_client(stranger)
    assert other.get(f"/v3/did_reservations/{rid}").status_code == 404
    assert other.delete(f"/v3/did_reservations/{rid}").status_code == 404
    assert other.get("/v3/did_reservations").json()["data"] == []
    assert DID.objects.get(pk=did.pk).cart_held_until is not None
    for bad in ("abc", "0", "99999999999999999999999", "1.5"):
        assert other.get(f"/v3/did_reservations/{bad}").status_code == 404


def test_read_only_key_and_member_without_buying_right(buyer, block, customer_member):
    did = numbers_of(block)[0]
    response = jsonapi_client(buyer, read_only=True).post(
        "/v3/did_reservations", reservation_body(did)
    )
    assert response.status_code == 403
    customer_member.may_buy = False
    customer_member.save()
    response = jsonapi_client(customer_member).post("/v3/did_reservations", reservation_body(did))
    assert response.status_code == 403
    assert DID.objects.get(pk=did.pk).cart_held_until is None


def test_include_available_did_gives_the_number_and_its_group(client_of, block):
    did = numbers_of(block)[0]
    created = client_of.post("/v3/did_reservations?include=available_did", reservation_body(did))
    assert created.status_code == 201
    (included,) = created.json()["included"]
    assert included == {
        "type": "available_dids",
        "id": str(did.pk),
        "attributes": {"number": did.number[1:]},
        "relationships": {
            "did_group": {"links": {"related": f"http://testserver/v3/did_groups/{block.pk}"}}
        },
    }
    listed = client_of.get("/v3/did_reservations?include=available_did").json()
    assert listed["included"] == [included]
    assert client_of.get("/v3/did_reservations?include=colour").status_code == 400
