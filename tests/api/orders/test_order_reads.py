"""GET /v3/orders and /v3/orders/<id>: the key's account only, DIDWW's filters and sorts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cart.models_orders import Order
from tests.api.conftest import fund, jsonapi_client
from tests.api.orders.conftest import numbers_of, order_body, reservation_body, sku_of
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(client_of, buyer, block, stranger):
    """Three orders: completed (2 numbers), canceled (its number was taken), completed."""
    taken = numbers_of(block)[9]
    fund(stranger.account, "100.00")
    jsonapi_client(stranger).post("/v3/did_reservations", reservation_body(taken))
    made = [
        client_of.post(
            "/v3/orders", order_body({"sku_id": sku_of(block), "qty": 2}, external_reference_id="a")
        ),
        client_of.post(
            "/v3/orders", order_body({"available_did_id": taken.pk}, external_reference_id="b")
        ),
        client_of.post("/v3/orders", order_body({"sku_id": sku_of(block), "qty": 1})),
    ]
    assert [r.status_code for r in made] == [201, 201, 201]
    return [r.json()["data"] for r in made]


def ids(response):
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["data"]]


def test_list_is_newest_first_with_total(client_of, orders):
    response = client_of.get("/v3/orders")
    assert ids(response) == [o["id"] for o in orders[::-1]]
    assert response.json()["meta"]["total_records"] == 3
    assert [row["attributes"]["status"] for row in response.json()["data"]] == [
        "completed",
        "canceled",
        "completed",
    ]


def test_show_and_strangers_get_404(client_of, orders, stranger):
    order_id = orders[0]["id"]
    shown = client_of.get(f"/v3/orders/{order_id}").json()["data"]
    assert shown == orders[0]
    other = jsonapi_client(stranger)
    assert other.get(f"/v3/orders/{order_id}").status_code == 404
    assert ids(other.get("/v3/orders")) == []
    for bad in ("abc", "0", "-1", "99999999999999999999999", "1.0"):
        assert client_of.get(f"/v3/orders/{bad}").status_code == 404


def test_filters(client_of, orders):
    first, canceled, last = (o["id"] for o in orders)
    assert ids(client_of.get("/v3/orders?filter[status]=canceled")) == [canceled]
    assert ids(client_of.get("/v3/orders?filter[status]=completed")) == [last, first]
    assert ids(client_of.get("/v3/orders?filter[status]=completed,canceled")) == [
        last,
        canceled,
        first,
    ]
    assert ids(client_of.get("/v3/orders?filter[status]=pending")) == []
    assert ids(client_of.get("/v3/orders?filter[external_reference_id]=b")) == [canceled]
    assert ids(client_of.get(f"/v3/orders?filter[id]={first},{last}")) == [last, first]
    reference = orders[0]["attributes"]["reference"]
    assert ids(client_of.get(f"/v3/orders?filter[reference]={reference}")) == [first]
    now = timezone.now()
    later = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    earlier = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(client_of.get(f"/v3/orders?filter[created_at_gteq]={later}")) == []
    assert len(ids(client_of.get(f"/v3/orders?filter[created_at_gteq]={earlier}"))) == 3
    assert len(ids(client_of.get(f"/v3/orders?filter[created_at_lteq]={later}"))) == 3


@pytest.mark.parametrize(
    "query",
    [
        "filter[status]=shipped",
        "filter[id]=abc",
        "filter[id]=99999999999999999999999",
        "filter[reference]=ORD-x",
        "filter[created_at_gteq]=yesterday",
        "filter[colour]=red",
        "filter[external_reference_id]=" + "x" * 101,
        "sort=colour",
        "colour=red",
    ],
)
def test_bad_queries_are_400(client_of, orders, query):
    response = client_of.get(f"/v3/orders?{query}")
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["status"] == "400"
    assert client_of.get("/v3/orders?page[number]=abc").status_code == 400


def test_sorts_and_pages(client_of, orders):
    first, canceled, last = (o["id"] for o in orders)
    assert ids(client_of.get("/v3/orders?sort=created_at")) == [first, canceled, last]
    by_amount = ids(client_of.get("/v3/orders?sort=-amount"))
    assert by_amount[0] == first and by_amount[-1] == canceled
    assert ids(client_of.get("/v3/orders?sort=status,created_at"))[0] == first
    assert ids(client_of.get("/v3/orders?sort=external_reference_id"))[:2] == [last, first]
    page = client_of.get("/v3/orders?page[size]=2&page[number]=2")
    assert ids(page) == [first]
    assert page.json()["meta"]["total_records"] == 3


def test_list_query_count_does_not_grow_with_orders(client_of, orders, buyer, block):
    with CaptureQueriesContext(connection) as few:
        client_of.get("/v3/orders")
    for _ in range(3):
        client_of.post("/v3/orders", order_body({"sku_id": sku_of(block), "qty": 1}))
    assert Order.objects.filter(account=buyer.account).count() == 6
    with CaptureQueriesContext(connection) as more:
        client_of.get("/v3/orders")
    assert len(more) == len(few)


def test_a_resellers_key_reads_one_customers_orders_with_filter_customer_id(
    block, reseller, stranger
):
    """A reseller's own orders by default; a customer's with ``filter[customer.id]``;
    another reseller's customer or a direct customer is 404, a customer's key cannot use it."""
    admin = UserFactory(account=reseller, role="reseller_admin")
    fund(reseller, "100.00")
    shop = AccountFactory(kind="customer", parent=reseller, name="Shop")
    shop_admin = UserFactory(account=shop, role="customer_admin")
    fund(shop, "100.00")
    placed = jsonapi_client(shop_admin).post(
        "/v3/orders", order_body({"sku_id": sku_of(block), "qty": 1})
    )
    assert placed.status_code == 201, placed.json()
    order_id = placed.json()["data"]["id"]

    reseller_api = jsonapi_client(admin)
    assert reseller_api.get("/v3/orders").json()["data"] == []  # its own: none yet
    listed = reseller_api.get(f"/v3/orders?filter[customer.id]={shop.pk}").json()
    assert [row["id"] for row in listed["data"]] == [order_id]
    shown = reseller_api.get(f"/v3/orders/{order_id}?filter[customer.id]={shop.pk}")
    assert shown.status_code == 200
    # A show opens what the web's Orders page shows the reseller: its customers' too.
    assert reseller_api.get(f"/v3/orders/{order_id}").status_code == 200

    other_reseller = UserFactory(
        account=AccountFactory(kind="reseller", name="Other"), role="reseller_admin"
    )
    for client, customer_id in (
        (jsonapi_client(other_reseller), shop.pk),
        (reseller_api, stranger.account_id),
        (jsonapi_client(shop_admin), shop.pk),
    ):
        response = client.get(f"/v3/orders?filter[customer.id]={customer_id}")
        assert response.status_code == 404, response.json()
