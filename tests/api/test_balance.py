"""The balance through the API, by the test client and by DIDWW's own SDK."""

from decimal import Decimal

import pytest
from didww.exceptions import DidwwApiError

from tests.api.conftest import fund, jsonapi_client, key_for, sdk_for

pytestmark = pytest.mark.django_db


def test_balance_is_the_keys_account_balance(customer_admin, stranger):
    fund(customer_admin.account, "25.50")
    response = jsonapi_client(customer_admin).get("/v3/balance")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.api+json"
    data = response.json()["data"]
    assert data["type"] == "balances"
    assert data["attributes"] == {
        "total_balance": "25.50",
        "credit": "0.00",
        "balance": "25.50",
    }
    other = jsonapi_client(stranger).get("/v3/balance").json()["data"]
    assert other["attributes"]["balance"] == "0.00"


@pytest.mark.parametrize("header", [None, "", "dpk_wrong", "  "])
def test_no_or_bad_key_is_401_as_jsonapi(client, header):
    extra = {} if header is None else {"HTTP_API_KEY": header}
    response = client.get("/v3/balance", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    (error,) = response.json()["errors"]
    assert error["status"] == "401"
    assert error["title"] == "Unauthorized"


def test_revoked_key_and_outside_networks_are_refused(customer_admin):
    from api.services import api_key_revoke

    key, secret = key_for(customer_admin)
    api_key_revoke(key=key, user=customer_admin)
    assert jsonapi_client().get("/v3/balance", HTTP_API_KEY=secret).status_code == 401
    _key, secret = key_for(customer_admin, allowed_networks="10.1.0.0/16")
    assert jsonapi_client().get("/v3/balance", HTTP_API_KEY=secret).status_code == 401
    _key, secret = key_for(customer_admin, allowed_networks="127.0.0.0/8")
    assert jsonapi_client().get("/v3/balance", HTTP_API_KEY=secret).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_official_sdk_reads_the_balance(live_server, customer_admin):
    fund(customer_admin.account, "7.25")
    _key, secret = key_for(customer_admin)
    balance = sdk_for(live_server, secret).balance().find().data
    assert Decimal(balance.balance) == Decimal("7.25")
    assert Decimal(balance.total_balance) == Decimal("7.25")
    with pytest.raises(DidwwApiError) as refused:
        sdk_for(live_server, "dpk_not-a-key").balance().find()
    assert refused.value.status_code == 401


def test_an_unknown_api_path_is_a_jsonapi_404(api_client):
    response = api_client.get("/v3/no_such_thing/12?filter[x]=1")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/vnd.api+json"
    assert response.json()["errors"][0]["status"] == "404"


def test_pages_past_the_end_are_empty_and_bad_page_parameters_are_400(api_client):
    """Pagination as every /v3/ list has it (did_group_types: five fixed rows)."""
    last = api_client.get("/v3/did_group_types?page[size]=2&page[number]=99")
    assert last.status_code == 200
    body = last.json()
    assert body["data"] == []
    assert body["meta"]["total_records"] == 5
    assert "page%5Bnumber%5D=3" in body["links"]["prev"]
    assert body["links"]["next"] is None
    for query in (
        "page[number]=abc",
        "page[number]=0",
        "page[size]=101",
        "page[size]=-1",
        "page[number]=١",
    ):
        response = api_client.get(f"/v3/did_group_types?{query}")
        assert response.status_code == 400, query
        assert "page[" in response.json()["errors"][0]["detail"]


def test_an_unexpected_error_is_a_jsonapi_500_without_details(api_client, monkeypatch):
    from api import views_balance

    def broken(account):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views_balance, "balance_for", broken)
    api_client.raise_request_exception = False
    response = api_client.get("/v3/balance")
    assert response.status_code == 500
    (error,) = response.json()["errors"]
    assert error["status"] == "500"
    assert "secret" not in response.content.decode()
