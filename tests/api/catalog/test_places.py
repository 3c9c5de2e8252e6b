"""Countries, regions, cities and DID group types: what the blocks make of them, their
stable ids, filters, sorting, includes, and refusals of what cannot be parsed."""

import pytest

from api.ids import city_id, region_id
from inventory import services as inventory_services
from inventory.models import DID
from tests.api.conftest import jsonapi_client
from tests.inventory.factories import NumberBlockFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(customer_admin):
    return jsonapi_client(customer_admin, read_only=True)


def data(response, status=200):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/vnd.api+json"
    return response.json()["data"]


def ids(rows):
    return [row["id"] for row in rows]


def test_countries_are_those_with_blocks(api, stock):
    rows = data(api.get("/v3/countries?include=regions"))
    assert [(r["id"], r["attributes"]) for r in rows] == [
        ("DE", {"name": "Germany", "prefix": "49", "iso": "DE"}),
        ("NL", {"name": "Netherlands", "prefix": "31", "iso": "NL"}),
    ]
    regions = rows[1]["relationships"]["regions"]["data"]
    assert {r["id"] for r in regions} == {
        region_id("NL", "North Holland"),
        region_id("NL", "South Holland"),
    }


def test_country_filters_and_sort(api, stock, platform_admin):
    assert ids(data(api.get("/v3/countries?filter[iso]=nl"))) == ["NL"]
    assert ids(data(api.get("/v3/countries?filter[id]=DE,FR"))) == ["DE"]
    assert ids(data(api.get("/v3/countries?filter[name]=germany"))) == ["DE"]
    assert ids(data(api.get("/v3/countries?filter[prefix]=%2B31"))) == ["NL"]
    assert ids(data(api.get("/v3/countries?sort=-prefix"))) == ["DE", "NL"]
    assert ids(data(api.get("/v3/countries?sort=prefix"))) == ["NL", "DE"]
    # Sold out: still a country we cover, no longer available.
    inventory_services.dids_transition(
        dids_queryset_or_ids=DID.objects.filter(block=stock["munich"]).values("pk"),
        to_status="reserved",
        actor=platform_admin,
        reason="held back",
    )
    assert ids(data(api.get("/v3/countries?filter[is_available]=true"))) == ["NL"]
    assert ids(data(api.get("/v3/countries?filter[is_available]=false"))) == ["DE"]


def test_country_detail_and_its_regions_included(api, stock):
    response = api.get("/v3/countries/de?include=regions")
    assert data(response)["id"] == "DE"
    (region,) = response.json()["included"]
    assert region["type"] == "regions"
    assert region["attributes"] == {"name": "Bavaria", "iso": None}
    assert region["relationships"]["country"]["data"] == {"type": "countries", "id": "DE"}
    for missing in ("FR", "ZZ", "x" * 300, "1"):
        error = api.get(f"/v3/countries/{missing}").json()["errors"][0]
        assert error["status"] == "404"


def test_regions_and_cities_have_stable_name_based_ids(api, stock):
    regions = data(api.get("/v3/regions"))
    assert [(r["attributes"]["name"], r["id"]) for r in regions] == [
        ("Bavaria", region_id("DE", "Bavaria")),
        ("North Holland", region_id("NL", "North Holland")),
        ("South Holland", region_id("NL", "South Holland")),
    ]
    cities = data(api.get("/v3/cities?include=region,country"))
    assert [c["attributes"]["name"] for c in cities] == ["Amsterdam", "München", "Rotterdam"]
    munich = cities[1]
    assert munich["id"] == city_id("DE", "Bavaria", "München")
    assert munich["relationships"]["region"]["data"]["id"] == region_id("DE", "Bavaria")
    assert munich["relationships"]["country"]["data"]["id"] == "DE"
    # Another block typed differently is the same city; the same name elsewhere is not.
    NumberBlockFactory(country="DE", region=" bavaria", city="MUNCHEN ", area_code="89")
    NumberBlockFactory(country="DE", region="Saxony", city="München", area_code="35")
    again = data(api.get("/v3/cities?filter[country.id]=DE"))
    assert sorted(ids(again)) == sorted([munich["id"], city_id("DE", "Saxony", "München")])
    assert data(api.get(f"/v3/cities/{munich['id']}"))["attributes"]["name"] == "München"


def test_region_and_city_filters(api, stock):
    holland = region_id("NL", "North Holland")
    assert ids(data(api.get(f"/v3/cities?filter[region.id]={holland}"))) == [
        city_id("NL", "North Holland", "Amsterdam")
    ]
    assert ids(data(api.get("/v3/regions?filter[country.id]=de"))) == [region_id("DE", "Bavaria")]
    assert ids(data(api.get("/v3/regions?filter[name]=south holland"))) == [
        region_id("NL", "South Holland")
    ]
    assert [c["attributes"]["name"] for c in data(api.get("/v3/cities?filter[name]=munchen"))] == [
        "München"
    ]
    assert [c["attributes"]["name"] for c in data(api.get("/v3/cities?sort=-name"))] == [
        "Rotterdam",
        "München",
        "Amsterdam",
    ]


def test_city_includes_its_region_and_country(api, stock):
    response = api.get("/v3/cities?filter[name]=Rotterdam&include=region,country")
    included = {(i["type"], i["id"]) for i in response.json()["included"]}
    assert included == {("regions", region_id("NL", "South Holland")), ("countries", "NL")}


def test_did_group_types_are_our_number_types(api, stock):
    rows = data(api.get("/v3/did_group_types"))
    assert [(r["id"], r["attributes"]["name"]) for r in rows] == [
        ("local", "Local"),
        ("national", "National"),
        ("mobile", "Mobile"),
        ("toll_free", "Toll-free"),
        ("shared_cost", "Shared cost"),
    ]
    assert data(api.get("/v3/did_group_types/toll_free"))["attributes"]["name"] == "Toll-free"
    assert ids(data(api.get("/v3/did_group_types?filter[name]=mobile"))) == ["mobile"]
    assert api.get("/v3/did_group_types/premium").status_code == 404


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/v3/countries?filter[bogus]=1", "filter[bogus]"),
        ("/v3/regions?filter[iso]=CA", "filter[iso]"),
        ("/v3/cities?filter[area.id]=1", "filter[area.id]"),
        ("/v3/countries?filter[is_available]=maybe", "filter[is_available]"),
        ("/v3/countries?filter[iso]=", "filter[iso]"),
        ("/v3/countries?filter[iso]=,,", "filter[iso]"),
        ("/v3/countries?filter[iso]=DE&filter[iso]=NL", "filter[iso]"),
        ("/v3/countries?filter=DE", "filter"),
        ("/v3/countries?sort=population", "sort"),
        ("/v3/countries?sort=name,,iso", "sort"),
        ("/v3/countries/DE?filter[iso]=DE", "filter[iso]"),
        ("/v3/countries/DE?sort=name", "sort"),
    ],
)
def test_what_cannot_be_used_is_a_400_naming_the_parameter(api, stock, url, parameter):
    response = api.get(url)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["status"] == "400"
    assert error["source"] == {"parameter": parameter}
    assert error["title"] and error["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "/v3/countries?include=bogus",
        "/v3/countries?unknown=1",
        "/v3/did_group_types?include=regions",
    ],
)
def test_unknown_includes_and_parameters_are_400(api, stock, url):
    response = api.get(url)
    assert response.status_code == 400
    assert response.json()["errors"][0]["status"] == "400"


def test_paging_with_total_records(api, stock):
    body = api.get("/v3/did_group_types?page[size]=2&page[number]=3").json()
    assert ids(body["data"]) == ["shared_cost"]
    assert body["meta"]["total_records"] == 5


def test_without_a_key_nothing_is_shown(client, stock):
    response = client.get("/v3/countries", HTTP_ACCEPT="application/vnd.api+json")
    assert response.status_code == 401


def test_linkage_only_for_what_is_included(api, stock):
    """As DIDWW: without ``include`` a relationship links to its resource and names no id
    (the official SDK builds an object from every id it reads)."""
    (netherlands,) = data(api.get("/v3/countries?filter[iso]=NL"))
    assert netherlands["relationships"]["regions"] == {"meta": {"count": 2}}
    (rotterdam,) = data(api.get("/v3/cities?filter[name]=rotterdam&include=country"))
    relationships = rotterdam["relationships"]
    assert relationships["country"] == {"data": {"type": "countries", "id": "NL"}}
    south_holland = region_id("NL", "South Holland")
    assert relationships["region"] == {
        "links": {"related": f"http://testserver/v3/regions/{south_holland}"}
    }
    assert data(api.get(relationships["region"]["links"]["related"]))["id"] == south_holland
