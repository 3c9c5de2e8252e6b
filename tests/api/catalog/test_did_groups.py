"""DID groups (our number blocks) and their stock keeping units: attributes, meta, filters,
sorting, includes, and prices as each kind of buyer pays them."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.ids import city_id, region_id
from cart.pricing import line_quote
from compliance.models import Requirement
from inventory import services as inventory_services
from inventory.models import DID
from tests.api.conftest import jsonapi_client
from tests.inventory.factories import NumberBlockFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def api(customer_admin):
    return jsonapi_client(customer_admin, read_only=True)


def body(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def by_id(rows):
    return {row["id"]: row for row in rows}


def group_ids(api, query=""):
    return {int(row["id"]) for row in body(api.get(f"/v3/did_groups{query}"))["data"]}


def skus(response_body):
    """``{sku id: attributes}`` of the included stock keeping units."""
    return {
        item["id"]: item["attributes"]
        for item in response_body.get("included", [])
        if item["type"] == "stock_keeping_units"
    }


def test_a_group_is_a_block_with_didww_names(api, stock):
    munich = stock["munich"]
    include = "country,region,city,did_group_type,stock_keeping_units"
    group = body(api.get(f"/v3/did_groups/{munich.pk}?include={include}"))["data"]
    assert group["type"] == "did_groups"
    assert group["attributes"] == {
        "prefix": "89",
        "area_name": "München",
        "features": ["voice_in", "t38"],
        "is_metered": True,
        "allow_additional_channels": True,
        "service_restrictions": None,
    }
    assert group["meta"] == {
        "needs_registration": True,
        "is_available": True,
        "available_dids_enabled": True,
        "total_count": 10,
    }
    relations = {name: rel["data"] for name, rel in group["relationships"].items()}
    assert relations["country"] == {"type": "countries", "id": "DE"}
    assert relations["region"] == {"type": "regions", "id": region_id("DE", "Bavaria")}
    assert relations["city"] == {"type": "cities", "id": city_id("DE", "Bavaria", "München")}
    assert relations["did_group_type"] == {"type": "did_group_types", "id": "local"}
    assert [s["id"] for s in relations["stock_keeping_units"]] == [
        f"{munich.pk}-2",
        f"{munich.pk}-10",
        f"{munich.pk}-30",
    ]


def test_a_block_without_city_or_region(api, stock):
    url = f"/v3/did_groups/{stock['dutch_mobile'].pk}?include=region,city,did_group_type"
    mobile = body(api.get(f"{url},stock_keeping_units"))["data"]
    assert mobile["attributes"]["area_name"] == "Mobile"
    assert mobile["relationships"]["city"]["data"] is None
    assert mobile["relationships"]["region"]["data"] is None
    assert mobile["relationships"]["did_group_type"]["data"]["id"] == "mobile"
    # One included channel, so the options start at one.
    assert [s["id"] for s in mobile["relationships"]["stock_keeping_units"]["data"]][0] == (
        f"{stock['dutch_mobile'].pk}-1"
    )


def test_stock_follows_sales_and_holds(api, stock, platform_admin, customer_admin):
    amsterdam = stock["amsterdam"]
    sold = DID.objects.filter(block=amsterdam).order_by("number")[:3]
    inventory_services.dids_transition(
        dids_queryset_or_ids=[d.pk for d in sold],
        to_status="reserved",
        actor=platform_admin,
        reason="kept",
    )
    meta = body(api.get(f"/v3/did_groups/{amsterdam.pk}"))["data"]["meta"]
    assert meta["total_count"] == 27
    everything = DID.objects.filter(block=stock["rotterdam"]).values("pk")
    inventory_services.dids_transition(
        dids_queryset_or_ids=everything, to_status="reserved", actor=platform_admin, reason="x"
    )
    rotterdam = body(api.get(f"/v3/did_groups/{stock['rotterdam'].pk}"))["data"]["meta"]
    assert rotterdam["is_available"] is False
    assert rotterdam["total_count"] == 0
    assert stock["rotterdam"].pk not in group_ids(api, "?filter[is_available]=true")
    assert group_ids(api, "?filter[is_available]=false") == {stock["rotterdam"].pk}


def test_a_text_to_agree_to_or_an_inactive_requirement_needs_no_registration(api, stock):
    munich = stock["munich"]
    Requirement.objects.filter(pk=munich.requirement_id).update(active=False)
    assert body(api.get(f"/v3/did_groups/{munich.pk}"))["data"]["meta"]["needs_registration"] is (
        False
    )
    Requirement.objects.filter(pk=munich.requirement_id).update(active=True, address_scope="")
    assert group_ids(api, "?filter[needs_registration]=true") == set()
    Requirement.objects.filter(pk=munich.requirement_id).update(address_scope="area")
    assert group_ids(api, "?filter[needs_registration]=true") == {munich.pk}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?filter[country.id]=de", {"munich"}),
        ("?filter[country.id]=NL&filter[did_group_type.id]=mobile", {"dutch_mobile"}),
        (
            "?filter[did_group_type.id]=local,mobile",
            {"amsterdam", "rotterdam", "munich", "dutch_mobile"},
        ),
        ("?filter[features]=sms_in", {"amsterdam"}),
        ("?filter[features]=voice_in,t38", {"munich"}),
        ("?filter[features]=voice_out", set()),
        ("?filter[prefix]=10,89", {"rotterdam", "munich"}),
        ("?filter[area_name]=munchen,AMSTERDAM", {"amsterdam", "munich"}),
        ("?filter[is_metered]=false", {"rotterdam"}),
        ("?filter[allow_additional_channels]=false", {"rotterdam"}),
        (
            "?filter[available_dids_enabled]=true",
            {"amsterdam", "rotterdam", "munich", "dutch_mobile"},
        ),
        ("?filter[meta.total_count_gteq]=10", {"amsterdam", "munich"}),
        ("?filter[meta.total_count_gteq]=11", {"amsterdam"}),
    ],
)
def test_filters(api, stock, query, expected):
    assert group_ids(api, query) == {stock[name].pk for name in expected}


def test_place_and_id_filters(api, stock):
    rotterdam = stock["rotterdam"]
    region = region_id("NL", "South Holland")
    city = city_id("NL", "North Holland", "Amsterdam")
    assert group_ids(api, f"?filter[region.id]={region}") == {rotterdam.pk}
    assert group_ids(api, f"?filter[city.id]={city}") == {stock["amsterdam"].pk}
    assert group_ids(api, f"?filter[id]={rotterdam.pk},999999") == {rotterdam.pk}


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("?filter[id]=abc", "filter[id]"),
        ("?filter[id]=1,-2", "filter[id]"),
        ("?filter[meta.total_count_gteq]=-1", "filter[meta.total_count_gteq]"),
        ("?filter[meta.total_count_gteq]=many", "filter[meta.total_count_gteq]"),
        ("?filter[nanpa_prefix.id]=1", "filter[nanpa_prefix.id]"),
        ("?filter[is_metered]=\x00", "filter[is_metered]"),
        ("?sort=price", "sort"),
    ],
)
def test_refusals(api, stock, query, parameter):
    response = api.get(f"/v3/did_groups{query}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"parameter": parameter}


def test_sorting(api, stock):
    names = lambda query: [  # noqa: E731
        (r["relationships"]["country"]["data"]["id"], r["attributes"]["area_name"])
        for r in body(api.get(f"/v3/did_groups?include=country&{query.lstrip('?')}"))["data"]
    ]
    assert names("") == [
        ("DE", "München"),
        ("NL", "Amsterdam"),
        ("NL", "Mobile"),
        ("NL", "Rotterdam"),
    ]
    assert names("?sort=-country.name,-area_name") == [
        ("NL", "Rotterdam"),
        ("NL", "Mobile"),
        ("NL", "Amsterdam"),
        ("DE", "München"),
    ]
    assert names("?sort=did_group_type.name,prefix")[0] == ("NL", "Rotterdam")
    assert names("?sort=is_metered,area_name")[0] == ("NL", "Rotterdam")


def test_unknown_ids_are_404(api, stock):
    for pk in ("999999", "abc", "-1", "1.0", "9" * 40):
        response = api.get(f"/v3/did_groups/{pk}")
        assert response.status_code == 404
        assert response.json()["errors"][0]["status"] == "404"


def test_a_direct_customer_pays_the_list_price(api, stock):
    amsterdam = stock["amsterdam"]  # 1.00 setup, 2.00 a month, 2 channels, 0.50 per extra
    units = skus(body(api.get(f"/v3/did_groups/{amsterdam.pk}?include=stock_keeping_units")))
    assert units == {
        f"{amsterdam.pk}-2": {
            "setup_price": "1.00",
            "monthly_price": "2.00",
            "channels_included_count": 2,
            "billing_period": "monthly",
        },
        f"{amsterdam.pk}-10": {
            "setup_price": "1.00",
            "monthly_price": "6.00",
            "channels_included_count": 10,
            "billing_period": "monthly",
        },
        f"{amsterdam.pk}-30": {
            "setup_price": "1.00",
            "monthly_price": "16.00",
            "channels_included_count": 30,
            "billing_period": "monthly",
        },
    }


def test_a_reseller_pays_wholesale_and_its_customer_the_retail_price(
    stock, reseller_user, resold_customer_admin
):
    amsterdam = stock["amsterdam"]
    url = f"/v3/did_groups/{amsterdam.pk}?include=stock_keeping_units"
    wholesale = skus(body(jsonapi_client(reseller_user).get(url)))
    # 10 % off: 0.90 setup, 1.80 a month, 0.45 per extra channel.
    assert wholesale[f"{amsterdam.pk}-2"]["setup_price"] == "0.90"
    assert wholesale[f"{amsterdam.pk}-2"]["monthly_price"] == "1.80"
    assert wholesale[f"{amsterdam.pk}-10"]["monthly_price"] == "5.40"
    retail = skus(body(jsonapi_client(resold_customer_admin).get(url)))
    # Setup 0.90 × 1.5 = 1.35 → 1.39; monthly 1.80 × 1.5 + 1.00 = 3.70 → 3.79; extra
    # channel 0.45 → 0.49 (x9 rounding): 10 channels 3.79 + 8 × 0.49 = 7.71.
    assert retail[f"{amsterdam.pk}-2"]["setup_price"] == "1.39"
    assert retail[f"{amsterdam.pk}-2"]["monthly_price"] == "3.79"
    assert retail[f"{amsterdam.pk}-10"]["monthly_price"] == "7.71"


def test_sku_prices_are_what_checkout_quotes(stock, resold_customer_admin):
    """The same figures as ``cart.pricing.line_quote`` (what order_place charges, net)."""
    account = resold_customer_admin.account
    api = jsonapi_client(resold_customer_admin)
    response = body(api.get("/v3/did_groups?include=stock_keeping_units"))
    for sku_id, attributes in skus(response).items():
        block_pk, channels = (int(part) for part in sku_id.split("-"))
        block = next(b for b in stock.values() if b.pk == block_pk)
        quote = line_quote(
            block=block,
            channels=channels,
            billing_period=attributes["billing_period"],
            account=account,
        )
        assert D(attributes["setup_price"]) == quote.setup_fee
        assert D(attributes["monthly_price"]) == quote.recurring


def test_weekly_and_one_time_blocks_say_their_period(api, stock):
    munich = stock["munich"]  # weekly only: 0.90 a week
    units = skus(body(api.get(f"/v3/did_groups/{munich.pk}?include=stock_keeping_units")))
    assert units[f"{munich.pk}-2"]["billing_period"] == "weekly"
    assert units[f"{munich.pk}-2"]["monthly_price"] == "0.90"
    once = NumberBlockFactory(
        billing_type="one_time", monthly_price=None, setup_fee=D("25.00"), area_code="30"
    )
    units = skus(body(api.get(f"/v3/did_groups/{once.pk}?include=stock_keeping_units")))
    assert units[f"{once.pk}-2"] == {
        "setup_price": "25.00",
        "monthly_price": "0.00",
        "channels_included_count": 2,
        "billing_period": "one_time",
    }


def test_channel_options_stop_at_the_blocks_maximum(api, stock):
    rotterdam = stock["rotterdam"]  # at most 2 concurrent calls, 2 included
    group = body(api.get(f"/v3/did_groups/{rotterdam.pk}?include=stock_keeping_units"))["data"]
    assert group["attributes"]["allow_additional_channels"] is False
    assert [s["id"] for s in group["relationships"]["stock_keeping_units"]["data"]] == [
        f"{rotterdam.pk}-2"
    ]


def test_without_include_relationships_link(api, stock):
    group = body(api.get(f"/v3/did_groups/{stock['amsterdam'].pk}"))["data"]
    relationships = group["relationships"]
    assert relationships["country"] == {"links": {"related": "http://testserver/v3/countries/NL"}}
    assert relationships["did_group_type"]["links"]["related"].endswith("/v3/did_group_types/local")
    assert relationships["stock_keeping_units"] == {"meta": {"count": 3}}
    assert all("data" not in rel for rel in relationships.values())


def test_includes_of_a_list(api, stock):
    response = body(api.get("/v3/did_groups?include=country,region,city,did_group_type"))
    kinds = {(i["type"], i["id"]) for i in response["included"]}
    assert ("countries", "DE") in kinds
    assert ("regions", region_id("DE", "Bavaria")) in kinds
    assert ("cities", city_id("NL", "South Holland", "Rotterdam")) in kinds
    assert ("did_group_types", "mobile") in kinds
    assert not any(kind == "stock_keeping_units" for kind, _ in kinds)


def test_query_count_does_not_grow_with_the_groups(api, stock):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            body(api.get("/v3/did_groups?include=stock_keeping_units,country"))
        return len(captured)

    queries()  # the key's first use is recorded once
    before = queries()
    for area in range(10):
        NumberBlockFactory(area_code=f"7{area}", city=f"Town {area}")
    assert queries() == before


def test_paging(api, stock):
    page = body(api.get("/v3/did_groups?page[size]=3&page[number]=2"))
    assert len(page["data"]) == 1
    assert page["meta"]["total_records"] == 4
