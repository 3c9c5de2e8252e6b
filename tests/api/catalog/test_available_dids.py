"""Available DIDs: the numbers the caller could buy now, in number order, paged, with
their group; others' cart holds left out, the caller's own kept (as the web's number
search does); counted without scanning the numbers."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.ids import city_id, region_id
from api.selectors_catalog import AvailableDids
from catalog.selectors import buyable_dids
from inventory import services as inventory_services
from inventory.models import DID
from tests.api.conftest import jsonapi_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(customer_admin):
    return jsonapi_client(customer_admin, read_only=True)


def body(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def numbers(api, query=""):
    return [
        row["attributes"]["number"] for row in body(api.get(f"/v3/available_dids{query}"))["data"]
    ]


def all_numbers(block=None):
    dids = DID.objects.filter(status="in_stock")
    if block is not None:
        dids = dids.filter(block=block)
    return sorted(d.number.removeprefix("+") for d in dids)


def hold(did_ids, user, minutes=15):
    now = timezone.now()
    inventory_services.dids_cart_hold(
        dids=did_ids, user=user, until=now + timedelta(minutes=minutes), now=now
    )


def test_numbers_in_number_order_with_their_group(api, stock):
    response = body(api.get("/v3/available_dids?page[size]=100&include=did_group"))
    rows = response["data"]
    assert [r["attributes"]["number"] for r in rows] == all_numbers()
    assert response["meta"]["total_records"] == 50
    first = rows[0]
    did = DID.objects.get(number=f"+{first['attributes']['number']}")
    assert first["type"] == "available_dids"
    assert first["id"] == str(did.pk)
    assert first["relationships"]["did_group"]["data"] == {
        "type": "did_groups",
        "id": str(did.block_id),
    }


def test_pages_follow_each_other_without_gaps(api, stock):
    seen = []
    for page in range(1, 6):
        chunk = body(api.get(f"/v3/available_dids?page[size]=12&page[number]={page}"))
        assert chunk["meta"]["total_records"] == 50
        seen += [r["attributes"]["number"] for r in chunk["data"]]
    assert seen == all_numbers()
    assert numbers(api, "?sort=-number&page[size]=3") == all_numbers()[::-1][:3]


def test_default_page_is_fifty(api, stock, platform_admin):
    inventory_services.dids_add(
        block=stock["amsterdam"], spec_text="+31205551000-+31205551019", actor=platform_admin
    )
    response = body(api.get("/v3/available_dids"))
    assert len(response["data"]) == 50
    assert response["meta"]["total_records"] == 70


@pytest.mark.parametrize(
    ("query", "blocks"),
    [
        ("?filter[country.id]=de", {"munich"}),
        ("?filter[did_group_type.id]=mobile", {"dutch_mobile"}),
        ("?filter[did_group.features]=sms_in", {"amsterdam"}),
        ("?filter[did_group.needs_registration]=true", {"munich"}),
        ("?filter[did_group.needs_registration]=false", {"amsterdam", "rotterdam", "dutch_mobile"}),
    ],
)
def test_group_filters(api, stock, query, blocks):
    expected = sorted(n for name in blocks for n in all_numbers(stock[name]))
    response = body(api.get(f"/v3/available_dids{query}&page[size]=100"))
    assert [r["attributes"]["number"] for r in response["data"]] == expected
    assert response["meta"]["total_records"] == len(expected)


def test_group_city_region_and_id_filters(api, stock):
    rotterdam = stock["rotterdam"]
    assert numbers(api, f"?filter[did_group.id]={rotterdam.pk}") == all_numbers(rotterdam)
    city = city_id("NL", "South Holland", "Rotterdam")
    assert numbers(api, f"?filter[city.id]={city}") == all_numbers(rotterdam)
    region = region_id("NL", "North Holland")
    assert numbers(api, f"?filter[region.id]={region}") == all_numbers(stock["amsterdam"])
    assert numbers(api, "?filter[did_group.id]=999999") == []
    some = DID.objects.filter(block=rotterdam).order_by("-number")[:2]
    assert numbers(api, f"?filter[id]={some[0].pk},{some[1].pk}") == sorted(
        d.number.removeprefix("+") for d in some
    )


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("5550003", ["31105550003", "31205550003"]),
        ("+49 89", [f"498955500{n}" for n in range(10)]),
        ("612-345-004", ["31612345004"]),
    ],
)
def test_number_contains(api, stock, typed, expected):
    from urllib.parse import quote

    response = body(api.get(f"/v3/available_dids?filter[number_contains]={quote(typed)}"))
    assert [r["attributes"]["number"] for r in response["data"]] == expected
    assert response["meta"]["total_records"] == len(expected)


def test_others_holds_are_not_for_sale_and_mine_are(stock, customer_admin):
    amsterdam = list(DID.objects.filter(block=stock["amsterdam"]).order_by("number"))
    other = UserFactory()
    hold([amsterdam[0].pk], other)
    hold([amsterdam[1].pk], customer_admin)
    expired = amsterdam[2]
    hold([expired.pk], other)
    DID.objects.filter(pk=expired.pk).update(cart_held_until=timezone.now() - timedelta(minutes=1))
    api = jsonapi_client(customer_admin)
    response = body(api.get(f"/v3/available_dids?filter[did_group.id]={stock['amsterdam'].pk}"))
    shown = [r["attributes"]["number"] for r in response["data"]]
    assert amsterdam[0].number.removeprefix("+") not in shown
    assert amsterdam[1].number.removeprefix("+") in shown
    assert expired.number.removeprefix("+") in shown
    assert response["meta"]["total_records"] == len(shown) == 29
    assert api.get(f"/v3/available_dids/{amsterdam[0].pk}").status_code == 404
    assert body(api.get(f"/v3/available_dids/{amsterdam[1].pk}"))["data"]["id"] == str(
        amsterdam[1].pk
    )
    # The other user sees the mirror image.
    theirs = jsonapi_client(other).get("/v3/available_dids?page[size]=100").json()
    shown = {r["attributes"]["number"] for r in theirs["data"]}
    assert amsterdam[0].number.removeprefix("+") in shown
    assert amsterdam[1].number.removeprefix("+") not in shown
    assert theirs["meta"]["total_records"] == len(shown) == 49


@pytest.mark.parametrize(
    "block_ids", [None, "amsterdam", "both"], ids=["all", "one block", "two blocks"]
)
def test_the_cheap_count_is_the_exact_count(stock, customer_admin, platform_admin, block_ids):
    """Stock deltas plus expired and own holds = a count(*) of what the query lists, after
    sales, holds of three kinds and a release."""
    amsterdam = list(DID.objects.filter(block=stock["amsterdam"]).order_by("number"))
    munich = list(DID.objects.filter(block=stock["munich"]).order_by("number"))
    other = UserFactory()
    hold([d.pk for d in amsterdam[:4]], other)
    hold([d.pk for d in amsterdam[4:6] + munich[:2]], customer_admin)
    DID.objects.filter(pk=amsterdam[0].pk).update(
        cart_held_until=timezone.now() - timedelta(seconds=5)
    )
    inventory_services.dids_transition(
        dids_queryset_or_ids=[d.pk for d in munich[5:8]],
        to_status="reserved",
        actor=platform_admin,
        reason="kept",
    )
    chosen = {
        None: None,
        "amsterdam": [stock["amsterdam"].pk],
        "both": [stock["amsterdam"].pk, stock["munich"].pk],
    }[block_ids]
    listing = AvailableDids(holder=customer_admin, block_ids=chosen)
    exact = buyable_dids(customer_admin)
    if chosen is not None:
        exact = exact.filter(block_id__in=chosen)
    assert listing.count() == exact.count()
    assert len(listing[0:1000]) == exact.count()


def test_one_page_costs_a_fixed_number_of_queries(api, stock, platform_admin):
    def queries(size):
        with CaptureQueriesContext(connection) as captured:
            body(
                api.get(
                    f"/v3/available_dids?page[size]={size}&include=did_group.stock_keeping_units"
                )
            )
        return len(captured)

    queries(5)  # the key's first use is recorded once
    assert queries(5) == queries(50)


def test_included_group_carries_the_callers_prices(stock, reseller_user):
    api = jsonapi_client(reseller_user)
    rotterdam = stock["rotterdam"]
    response = body(
        api.get(
            f"/v3/available_dids?filter[did_group.id]={rotterdam.pk}"
            "&include=did_group.stock_keeping_units&page[size]=2"
        )
    )
    included = {(i["type"], i["id"]): i for i in response["included"]}
    assert included[("did_groups", str(rotterdam.pk))]["meta"]["total_count"] == 5
    unit = included[("stock_keeping_units", f"{rotterdam.pk}-2")]["attributes"]
    assert unit["monthly_price"] == "1.35"  # 1.50 less the reseller's 10 %


def test_a_sold_number_is_gone(api, stock, platform_admin, customer):
    did = DID.objects.filter(block=stock["amsterdam"]).first()
    inventory_services.did_transition(
        did=did, to_status="active", owner=customer, actor=platform_admin, reason="sold"
    )
    assert api.get(f"/v3/available_dids/{did.pk}").status_code == 404
    assert did.number.removeprefix("+") not in numbers(api, "?page[size]=100")
    for pk in ("0", "abc", "1e3", "9" * 30):
        assert api.get(f"/v3/available_dids/{pk}").status_code == 404


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("?filter[number_contains]=abc", "filter[number_contains]"),
        ("?filter[number_contains]=%2B", "filter[number_contains]"),
        ("?filter[number_contains]=" + "1" * 41, "filter[number_contains]"),
        ("?filter[nanpa_prefix.id]=x", "filter[nanpa_prefix.id]"),
        ("?filter[did_group.id]=x", "filter[did_group.id]"),
        ("?filter[did_group.needs_registration]=yes", "filter[did_group.needs_registration]"),
        ("?sort=did_group", "sort"),
    ],
)
def test_refusals(api, stock, query, parameter):
    response = api.get(f"/v3/available_dids{query}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"parameter": parameter}


ODD = ["\x00", "1\x00", "x" * 5000, "-1", "99999999999999999999999", "²", "☎ Zürich 東京"]


@pytest.mark.parametrize("value", ODD)
def test_odd_values_never_break_a_list(api, stock, value):
    from api.filters_catalog import AVAILABLE_DID_FILTERS, COUNTRY_FILTERS, GROUP_FILTERS

    for resource, form in (
        ("available_dids", AVAILABLE_DID_FILTERS),
        ("did_groups", GROUP_FILTERS),
        ("countries", COUNTRY_FILTERS),
    ):
        for name in form.base_fields:
            response = api.get(f"/v3/{resource}", {f"filter[{name}]": value})
            assert response.status_code in (200, 400), (resource, name, response.content)
        for parameter in ("sort", "include", "page[number]", "page[size]"):
            response = api.get(f"/v3/{resource}", {parameter: value})
            assert response.status_code in (200, 400, 404), (resource, parameter)


@pytest.mark.postgres
def test_pages_are_read_from_an_index_in_number_order():
    """Catalog migration 0006: in-stock numbers in number order with what the hold check
    reads, so a page (and an OFFSET's skipped rows) needs no table reads."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'catalog_did_in_stock_by_number'"
        )
        (definition,) = cursor.fetchone()
        # Only index-only scans left to the planner (small test tables would otherwise be
        # read whole): the plan shows the index can answer the page by itself.
        for scan in ("seqscan", "indexscan", "bitmapscan"):
            cursor.execute(f"SET LOCAL enable_{scan} = off")
        cursor.execute(
            "EXPLAIN SELECT id, number, block_id FROM inventory_did WHERE status = 'in_stock' "
            "AND (cart_held_until IS NULL OR cart_held_until < now() OR cart_held_by_id = 1) "
            "ORDER BY number LIMIT 50 OFFSET 100"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "(number) INCLUDE (id, block_id, cart_held_until, cart_held_by_id)" in definition
    assert "WHERE ((status)::text = 'in_stock'::text)" in definition
    assert "Index Only Scan using catalog_did_in_stock_by_number" in plan
