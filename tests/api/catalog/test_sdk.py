"""The official DIDWW SDK (``didww`` on PyPI, unmodified) against a live test server: a
script written for DIDWW browses our catalog by changing only the base URL and the key."""

from decimal import Decimal

import pytest
from didww.enums import Feature
from didww.exceptions import DidwwApiError
from didww.query_params import QueryParams

from api.ids import city_id, region_id
from tests.api.conftest import key_for, sdk_for

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def sdk(live_server, user):
    return sdk_for(live_server, key_for(user, read_only=True)[1])


def test_countries_regions_cities_and_types(live_server, stock, customer_admin):
    client = sdk(live_server, customer_admin)
    countries = client.countries().list().data
    assert [(c.iso, c.name, c.prefix) for c in countries] == [
        ("DE", "Germany", "49"),
        ("NL", "Netherlands", "31"),
    ]
    (germany,) = client.countries().list(QueryParams().filter("iso", "DE")).data
    assert client.countries().find(germany.id).data.name == "Germany"

    regions = client.regions().list(QueryParams().filter("country.id", "NL").sort("-name")).data
    assert [r.name for r in regions] == ["South Holland", "North Holland"]
    assert regions[0].id == region_id("NL", "South Holland")

    cities = client.cities().list(QueryParams().include("region", "country")).data
    munich = next(c for c in cities if c.name == "München")
    assert munich.id == city_id("DE", "Bavaria", "München")
    assert munich.region.name == "Bavaria"
    assert munich.country.iso == "DE"

    types = client.did_group_types().list().data
    assert [t.name for t in types][:3] == ["Local", "National", "Mobile"]


def _skus(client, block):
    params = QueryParams().include("stock_keeping_units").filter("id", str(block.pk))
    (group,) = client.did_groups().list(params).data
    return group, {
        sku.channels_included_count: (D(sku.setup_price), D(sku.monthly_price))
        for sku in group.stock_keeping_units
    }


def test_groups_with_prices_as_each_buyer_pays(
    live_server, stock, customer_admin, reseller_user, resold_customer_admin
):
    amsterdam = stock["amsterdam"]
    group, direct = _skus(sdk(live_server, customer_admin), amsterdam)
    assert group.area_name == "Amsterdam"
    assert group.prefix == "20"
    assert group.features == [Feature.VOICE_IN, Feature.SMS_IN]
    assert group.meta == {
        "needs_registration": False,
        "is_available": True,
        "available_dids_enabled": True,
        "total_count": 30,
    }
    assert direct == {
        2: (D("1.00"), D("2.00")),
        10: (D("1.00"), D("6.00")),
        30: (D("1.00"), D("16.00")),
    }
    _, wholesale = _skus(sdk(live_server, reseller_user), amsterdam)
    assert wholesale[2] == (D("0.90"), D("1.80"))
    _, retail = _skus(sdk(live_server, resold_customer_admin), amsterdam)
    assert retail[2] == (D("1.39"), D("3.79"))
    assert retail[10] == (D("1.39"), D("7.71"))

    client = sdk(live_server, customer_admin)
    needing = client.did_groups().list(QueryParams().filter("needs_registration", "true")).data
    assert [g.id for g in needing] == [str(stock["munich"].pk)]
    found = client.did_groups().find(str(stock["munich"].pk), QueryParams().include("city"))
    assert found.data.city.name == "München"
    assert found.data.meta["needs_registration"] is True


def test_available_numbers_page_by_page_in_order(live_server, stock, customer_admin):
    client = sdk(live_server, customer_admin)
    first = client.available_dids().list(QueryParams().page(number=1, size=8))
    total = first.meta["total_records"]
    assert total == 50
    seen = [d.number for d in first.data]
    for page in range(2, -(-total // 8) + 1):
        seen += [
            d.number
            for d in client.available_dids().list(QueryParams().page(number=page, size=8)).data
        ]
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 50

    params = (
        QueryParams()
        .filter("did_group.id", str(stock["rotterdam"].pk))
        .include("did_group.stock_keeping_units")
        .page(size=2)
    )
    numbers = client.available_dids().list(params).data
    assert [n.number for n in numbers] == ["31105550000", "31105550001"]
    group = numbers[0].did_group
    assert group.area_name == "Rotterdam"
    assert [(s.channels_included_count, s.monthly_price) for s in group.stock_keeping_units] == [
        (2, "1.50")
    ]
    contains = client.available_dids().list(QueryParams().filter("number_contains", "612345")).data
    assert [n.number for n in contains] == [f"3161234500{i}" for i in range(5)]
    one = client.available_dids().find(numbers[1].id).data
    assert one.number == "31105550001"


def test_errors_come_back_as_jsonapi_errors(live_server, stock, customer_admin):
    client = sdk(live_server, customer_admin)
    with pytest.raises(DidwwApiError) as bad_filter:
        client.did_groups().list(QueryParams().filter("nanpa_prefix.id", "1"))
    assert bad_filter.value.status_code == 400
    assert bad_filter.value.errors[0]["source"] == {"parameter": "filter[nanpa_prefix.id]"}
    with pytest.raises(DidwwApiError) as unknown:
        client.did_groups().find("999999")
    assert unknown.value.status_code == 404
    with pytest.raises(DidwwApiError) as bad_sort:
        client.countries().list(QueryParams().sort("population"))
    assert bad_sort.value.status_code == 400
