"""/v3/dids through the test client: the attributes DIDWW's SDK reads, filters, sorting,
paging, updates through the number page's services, roles, and other tenants (404)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Subscription
from billing.selectors import balance_for
from billing.services.capacity import number_channels
from inventory.choices import DIDStatus
from inventory.models import DID
from inventory.services import did_transition
from tests.api.conftest import jsonapi_client
from tests.billing.factories import fund
from tests.billing.test_subscriptions_helpers import held_did, start
from tests.factories import AccountFactory, UserFactory
from tests.inventory.factories import NumberBlockFactory

pytestmark = pytest.mark.django_db

S = Subscription.Status
APRIL = datetime(2026, 4, 1, tzinfo=UTC)


def rent(account, number, *, block=None, price="3.00", channels=2, **kw):
    fields = {"number": number}
    if block is not None:
        fields["block"] = block
    return start(account, did=held_did(account, **fields), price=price, channels=channels, **kw)


@pytest.fixture
def funded(customer):
    fund(customer, "200.00")
    return customer


@pytest.fixture
def priced_block():
    return NumberBlockFactory(extra_channel_monthly_price=Decimal("1.50"), channels_included=2)


def attrs(response):
    return response.json()["data"]["attributes"]


def numbers(response):
    return [row["attributes"]["number"] for row in response.json()["data"]]


# --- Reading --------------------------------------------------------------------------------


def test_list_shows_the_accounts_numbers_as_didww_does(funded, customer_admin, stranger):
    fund(stranger.account, "50.00")
    rent(stranger.account, "+31205550999")
    rental = rent(funded, "+31205550001", channels=2)
    rent(funded, "+31205550002")
    DID.objects.filter(pk=rental.did_id).update(description="Sales line")

    response = jsonapi_client(customer_admin).get("/v3/dids")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.api+json"
    body = response.json()
    assert body["meta"]["total_records"] == 2
    first = body["data"][0]
    assert first["type"] == "dids" and first["id"] == str(rental.did_id)
    a = first["attributes"]
    assert a["number"] == "31205550001"
    assert a["description"] == "Sales line"
    assert a["blocked"] is False and a["awaiting_registration"] is False
    assert a["terminated"] is False and a["billing_cycles_count"] is None
    assert a["capacity_limit"] == 2 and a["channels_included_count"] == 2
    assert a["dedicated_channels_count"] == 0
    assert a["expires_at"].startswith(rental.current_period_end.strftime("%Y-%m-%dT"))
    assert a["destination"] == "" and a["ring_timeout"] is None
    # DIDWW's linkage: relationship data only for what is included (nothing here).
    # (No order: the number was not bought through an order, so ``data: null`` stays.)
    relationships = first.get("relationships", {})
    assert all(rel.get("data") is None for rel in relationships.values())
    assert "did_group" not in relationships or "data" not in relationships["did_group"]
    assert "31205550999" not in numbers(response)


def test_a_page_costs_a_fixed_number_of_queries(funded, customer_admin):
    client = jsonapi_client(customer_admin)
    rent(funded, "+31205550001")
    client.get("/v3/dids")  # the key's first use is noted once
    with CaptureQueriesContext(connection) as one:
        assert client.get("/v3/dids").status_code == 200
    for n in range(2, 8):
        rent(funded, f"+3120555000{n}")
    with CaptureQueriesContext(connection) as seven:
        assert len(client.get("/v3/dids").json()["data"]) == 7
    assert len(seven) == len(one)


def test_paging_and_sorting(funded, customer_admin):
    for n in (3, 1, 2):
        rent(funded, f"+3120555000{n}")
    client = jsonapi_client(customer_admin)
    page = client.get("/v3/dids?page[size]=2&page[number]=2")
    assert numbers(page) == ["31205550003"]
    assert page.json()["meta"]["total_records"] == 3
    assert numbers(client.get("/v3/dids?sort=-number")) == [
        "31205550003",
        "31205550002",
        "31205550001",
    ]
    by_age = numbers(client.get("/v3/dids?sort=created_at"))
    assert by_age == ["31205550003", "31205550001", "31205550002"]


def test_filters(funded, customer_admin):
    plain = rent(funded, "+31205550001")
    ending = rent(funded, "+31205550002")
    held = rent(funded, "+31205550003")
    other_group = rent(funded, "+4930555000", block=NumberBlockFactory(country="DE"))
    Subscription.objects.filter(pk=ending.pk).update(status=S.CANCELLED, next_renewal_at=None)
    did_transition(did=held.did, to_status=DIDStatus.HOLD, job="tests", reason="package")
    DID.objects.filter(pk=plain.did_id).update(description="Front desk")
    client = jsonapi_client(customer_admin)

    def found(query):
        response = client.get(f"/v3/dids?{query}")
        assert response.status_code == 200, response.content
        return numbers(response)

    assert found("filter[terminated]=true") == ["31205550002"]
    assert "31205550002" not in found("filter[terminated]=false")
    assert found("filter[blocked]=true") == ["31205550003"]
    assert found("filter[awaiting_registration]=true") == []
    assert found("filter[description]=front") == ["31205550001"]
    assert found("filter[number]=31205550001,+31205550003") == ["31205550001", "31205550003"]
    assert found(f"filter[did_group.id]={other_group.did.block_id}") == ["4930555000"]
    assert found("filter[country.id]=de") == ["4930555000"]
    assert found(f"filter[id]={plain.did_id}") == ["31205550001"]


@pytest.mark.parametrize(
    "query",
    [
        "filter[colour]=red",
        "filter[terminated]=maybe",
        "filter[number]=abc",
        "filter[did_group.id]=1e9",
        "filter[id]=99999999999999999999999",
        "filter[country.id]=Neverland",
        "sort=price",
        "sort=-",
        "bogus=1",
    ],
)
def test_bad_parameters_are_400_as_jsonapi(customer_admin, query):
    response = jsonapi_client(customer_admin).get(f"/v3/dids?{query}")
    assert response.status_code in (400, 404), response.content
    (error,) = response.json()["errors"]
    assert error["status"] in ("400", "404")


@pytest.mark.parametrize("pk", ["0", "abc", "99999999999999999999999", "1.5"])
def test_malformed_or_unknown_ids_are_404(customer_admin, pk):
    response = jsonapi_client(customer_admin).get(f"/v3/dids/{pk}")
    assert response.status_code == 404
    assert response.json()["errors"][0]["status"] == "404"


def test_show_and_another_accounts_number_is_404(funded, customer_admin, stranger):
    mine = rent(funded, "+31205550001")
    fund(stranger.account, "50.00")
    theirs = rent(stranger.account, "+31205550999")
    client = jsonapi_client(customer_admin)
    assert attrs(client.get(f"/v3/dids/{mine.did_id}"))["number"] == "31205550001"
    assert client.get(f"/v3/dids/{theirs.did_id}").status_code == 404
    patch = {"data": {"type": "dids", "id": str(theirs.did_id), "attributes": {"description": "x"}}}
    assert client.patch(f"/v3/dids/{theirs.did_id}", patch).status_code == 404
    theirs.did.refresh_from_db()
    assert theirs.did.description == ""


# --- Updating -------------------------------------------------------------------------------


def patch(client, did_id, **attributes):
    body = {"data": {"type": "dids", "id": str(did_id), "attributes": attributes}}
    return client.patch(f"/v3/dids/{did_id}", body)


def test_description_and_destination(funded, customer_admin):
    rental = rent(funded, "+31205550001")
    client = jsonapi_client(customer_admin)
    response = patch(
        client,
        rental.did_id,
        description="  Support   line ",
        destination="sip:desk@pbx.example.com",
        ring_timeout=30,
    )
    assert response.status_code == 200, response.content
    a = attrs(response)
    assert a["description"] == "Support line"
    assert a["destination"] == "sip:desk@pbx.example.com" and a["ring_timeout"] == 30
    did = DID.objects.get(pk=rental.did_id)
    assert (did.description, did.destination, did.ring_timeout) == (
        "Support line",
        "sip:desk@pbx.example.com",
        30,
    )
    latest = did.history.latest()
    assert latest.history_user_id == customer_admin.pk


def test_bad_values_save_nothing(funded, customer_admin):
    rental = rent(funded, "+31205550001")
    client = jsonapi_client(customer_admin)
    bad = patch(client, rental.did_id, description="ok", destination="not a destination")
    assert bad.status_code == 422
    (error,) = bad.json()["errors"]
    assert error["source"]["pointer"] == "/data/attributes/destination"
    assert "E.164" in error["detail"]
    assert DID.objects.get(pk=rental.did_id).description == ""  # all or nothing
    assert patch(client, rental.did_id, ring_timeout=1).status_code == 400
    assert patch(client, rental.did_id, number="+999").status_code == 400
    assert patch(client, rental.did_id, billing_cycles_count=5).status_code == 400
    assert patch(client, rental.did_id, description="x" * 101).status_code == 400


def test_terminated_cancels_at_period_end_and_false_keeps_it(funded, customer_admin):
    rental = rent(funded, "+31205550001")
    client = jsonapi_client(customer_admin)
    response = patch(client, rental.did_id, terminated=True)
    assert response.status_code == 200, response.content
    assert attrs(response)["terminated"] is True
    assert attrs(response)["billing_cycles_count"] == 0
    rental.refresh_from_db()
    assert rental.status == S.CANCELLED
    assert DID.objects.get(pk=rental.did_id).status == DIDStatus.ACTIVE  # until the period end

    again = patch(client, rental.did_id, billing_cycles_count=None)
    assert again.status_code == 200
    assert attrs(again)["terminated"] is False
    rental.refresh_from_db()
    assert rental.status == S.ACTIVE and rental.next_renewal_at is not None


def test_terminating_a_held_number_releases_it_now(funded, customer_admin):
    rental = rent(funded, "+31205550001")
    Subscription.objects.filter(pk=rental.pk).update(
        status=S.HOLD,
        next_renewal_at=None,
        renewal_failed_at=rental.current_period_end,
        hold_cause="customer_unpaid",
    )
    did_transition(did=rental.did, to_status=DIDStatus.HOLD, job="tests", reason="unpaid")
    client = jsonapi_client(customer_admin)
    response = patch(client, rental.did_id, terminated=True)
    assert response.status_code == 200, response.content
    assert attrs(response)["terminated"] is True
    assert DID.objects.get(pk=rental.did_id).owner_id is None
    assert client.get(f"/v3/dids/{rental.did_id}").status_code == 404


def test_capacity_limit_buys_channels_once_and_gives_them_up_at_period_end(
    funded, customer_admin, priced_block
):
    with time_machine.travel(APRIL, tick=False) as clock:
        rental = rent(funded, "+31205550001", block=priced_block)
        clock.move_to(APRIL + timedelta(days=20))
        client = jsonapi_client(customer_admin)
        before = balance_for(funded)
        response = patch(client, rental.did_id, capacity_limit=4)
        assert response.status_code == 200, response.content
        assert attrs(response)["capacity_limit"] == 4
        assert attrs(response)["dedicated_channels_count"] == 2
        assert patch(client, rental.did_id, capacity_limit=4).status_code == 200  # a retry
        assert Subscription.objects.filter(kind="capacity").count() == 1
        assert balance_for(funded) == before - Decimal("1.19")  # 1.00 pro rata + 19 % VAT

        fewer = patch(client, rental.did_id, capacity_limit=2)
        assert fewer.status_code == 200
        assert attrs(fewer)["capacity_limit"] == 2  # from the next period on
        capacity = Subscription.objects.get(kind="capacity")
        assert capacity.status == S.CANCELLED
        assert number_channels(rental).now == 4  # until the paid period ends
        assert patch(client, rental.did_id, capacity_limit=2).status_code == 200
        assert Subscription.objects.filter(kind="capacity").count() == 1


def test_capacity_limit_without_the_balance_is_422_and_charges_nothing(
    customer, customer_admin, priced_block
):
    with time_machine.travel(APRIL, tick=False) as clock:
        fund(customer, "3.57")
        rental = rent(customer, "+31205550001", block=priced_block)
        clock.move_to(APRIL + timedelta(days=20))
        response = patch(jsonapi_client(customer_admin), rental.did_id, capacity_limit=4)
    assert response.status_code == 422
    assert "Insufficient balance" in response.json()["errors"][0]["detail"]
    assert not Subscription.objects.filter(kind="capacity").exists()


def test_read_only_key_may_read_not_write(funded, customer_admin):
    rental = rent(funded, "+31205550001")
    client = jsonapi_client(customer_admin, read_only=True)
    assert client.get(f"/v3/dids/{rental.did_id}").status_code == 200
    response = patch(client, rental.did_id, description="x")
    assert response.status_code == 403
    assert DID.objects.get(pk=rental.did_id).description == ""


def test_roles_change_only_what_the_web_lets_them(funded, customer, customer_admin):
    rental = rent(funded, "+31205550001")
    member = UserFactory(account=customer, role="customer_member")
    billing = UserFactory(account=customer, role="customer_billing")
    # A member not assigned the number, and a billing user: read, never change.
    for user in (member, billing):
        client = jsonapi_client(user)
        assert client.get(f"/v3/dids/{rental.did_id}").status_code == 200
        assert patch(client, rental.did_id, description="x").status_code == 403
        assert patch(client, rental.did_id, terminated=True).status_code == 403
    from inventory.customer import did_users_assign  # noqa: PLC0415

    did_users_assign(did=rental.did, actor=customer_admin, users=[member])
    client = jsonapi_client(member)
    assert patch(client, rental.did_id, destination="+31201234567").status_code == 200
    assert patch(client, rental.did_id, terminated=True).status_code == 403  # admins cancel
    rental.refresh_from_db()
    assert rental.status == S.ACTIVE


def test_a_description_leaves_with_the_number(funded, customer_admin):
    rental = rent(funded, "+31205550001")
    patch(jsonapi_client(customer_admin), rental.did_id, description="Mine")
    did_transition(did=rental.did, to_status=DIDStatus.HOLD, job="tests", reason="x")
    did_transition(did=rental.did, to_status=DIDStatus.IN_STOCK, job="tests", reason="released")
    assert DID.objects.get(pk=rental.did_id).description == ""


# --- Resellers ------------------------------------------------------------------------------


@pytest.fixture
def resold(reseller):
    customer = AccountFactory(kind="customer", parent=reseller, name="Resold GmbH")
    fund(reseller, "100.00")
    fund(customer, "100.00")
    return customer


def test_reseller_lists_its_own_by_default_and_a_customers_with_the_filter(
    reseller, reseller_admin, resold, stranger
):
    rent(reseller, "+31205550001")
    rent(resold, "+31205550002")
    client = jsonapi_client(reseller_admin)
    assert numbers(client.get("/v3/dids")) == ["31205550001"]
    theirs = client.get(f"/v3/dids?filter[customer.id]={resold.pk}")
    assert theirs.status_code == 200
    assert numbers(theirs) == ["31205550002"]
    # Another reseller's customer, a direct customer, nonsense: 404.
    other_reseller = AccountFactory(kind="reseller", name="Other Reseller")
    foreign = AccountFactory(kind="customer", parent=other_reseller)
    for customer_id in (foreign.pk, stranger.account_id, reseller.pk, "abc", "1e3"):
        response = client.get(f"/v3/dids?filter[customer.id]={customer_id}")
        assert response.status_code == 404, customer_id


def test_a_customers_key_cannot_use_the_customer_filter(funded, customer_admin, resold):
    client = jsonapi_client(customer_admin)
    assert client.get(f"/v3/dids?filter[customer.id]={resold.pk}").status_code == 404
    assert client.get(f"/v3/dids?filter[customer.id]={funded.pk}").status_code == 404


def test_reseller_support_acts_for_a_customer_finance_does_not(reseller, resold):
    rental = rent(resold, "+31205550002")
    support = UserFactory(account=reseller, role="reseller_support")
    finance = UserFactory(account=reseller, role="reseller_finance")
    client = jsonapi_client(support)
    assert numbers(client.get(f"/v3/dids?filter[customer.id]={resold.pk}")) == ["31205550002"]
    assert patch(client, rental.did_id, destination="+31201234567").status_code == 200
    finance_client = jsonapi_client(finance)
    assert finance_client.get(f"/v3/dids?filter[customer.id]={resold.pk}").status_code == 403
    assert finance_client.get(f"/v3/dids/{rental.did_id}").status_code == 404


def test_customers_resource_lists_only_the_resellers_customers(
    reseller, reseller_admin, resold, customer_admin
):
    other_reseller = AccountFactory(kind="reseller", name="Other Reseller")
    foreign = AccountFactory(kind="customer", parent=other_reseller)
    AccountFactory(kind="customer", parent=reseller, name="Another Ltd", status="suspended")
    client = jsonapi_client(reseller_admin)
    listed = client.get("/v3/customers?sort=name")
    assert listed.status_code == 200
    names = [row["attributes"]["name"] for row in listed.json()["data"]]
    assert names == ["Another Ltd", "Resold GmbH"]
    assert listed.json()["data"][0]["type"] == "customers"
    assert [
        r["attributes"]["name"]
        for r in client.get("/v3/customers?filter[status]=active").json()["data"]
    ] == ["Resold GmbH"]
    shown = client.get(f"/v3/customers/{resold.pk}")
    assert shown.status_code == 200 and attrs(shown)["name"] == "Resold GmbH"
    assert client.get(f"/v3/customers/{foreign.pk}").status_code == 404
    assert client.get(f"/v3/customers/{reseller.pk}").status_code == 404
    assert client.get("/v3/customers/abc").status_code == 404
    customer_client = jsonapi_client(customer_admin)
    assert customer_client.get("/v3/customers").json()["data"] == []
    assert customer_client.get(f"/v3/customers/{resold.pk}").status_code == 404


def test_a_number_awaiting_registration_is_cancelled_from_its_registration(funded, customer_admin):
    from tests.inventory.factories import DIDFactory  # noqa: PLC0415

    did = did_transition(
        did=DIDFactory(number="+31205550007"),
        to_status=DIDStatus.AWAITING_REGISTRATION,
        owner=funded,
        job="tests",
        reason="sold awaiting registration",
    )
    rental = start(funded, did=did)
    Subscription.objects.filter(pk=rental.pk).update(status=S.PENDING, next_renewal_at=None)
    client = jsonapi_client(customer_admin)
    listed = client.get("/v3/dids?filter[awaiting_registration]=true")
    assert numbers(listed) == ["31205550007"]
    assert listed.json()["data"][0]["attributes"]["awaiting_registration"] is True
    refused = patch(client, did.pk, terminated=True)
    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert "registration" in error["detail"]
    assert error["source"]["pointer"] == "/data/attributes/terminated"
    rental.refresh_from_db()
    assert rental.status == S.PENDING


@pytest.mark.parametrize(
    "attributes",
    [
        {"capacity_limit": "abc"},
        {"capacity_limit": True},
        {"capacity_limit": 10**12},
        {"capacity_limit": []},
        {"description": {"a": 1}},
        {"description": "nul\x00byte"},
        {"terminated": "perhaps"},
        {"terminated": None},
        {"destination": "+31\x00"},
        {"destination": ["sip:a@b.c"]},
        {"ring_timeout": "30s"},
        {"billing_cycles_count": -1},
        {"billing_cycles_count": 0, "terminated": False},
    ],
)
def test_odd_bodies_are_refused_not_500(funded, customer_admin, attributes):
    rental = rent(funded, "+31205550001")
    response = patch(jsonapi_client(customer_admin), rental.did_id, **attributes)
    assert response.status_code in (400, 422), response.content
    assert response.json()["errors"][0]["status"] in ("400", "422")
    rental.refresh_from_db()
    did = DID.objects.get(pk=rental.did_id)
    assert (rental.status, did.description, did.destination) == (S.ACTIVE, "", "")


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"type": "orders", "id": "1", "attributes": {}}},
        {"data": []},
        {"data": {"type": "dids", "attributes": {"description": "x"}}},
        {"nothing": True},
    ],
)
def test_malformed_documents_are_refused(funded, customer_admin, body):
    rental = rent(funded, "+31205550001")
    response = jsonapi_client(customer_admin).patch(f"/v3/dids/{rental.did_id}", body)
    assert 400 <= response.status_code < 500, response.content
    assert DID.objects.get(pk=rental.did_id).description == ""
