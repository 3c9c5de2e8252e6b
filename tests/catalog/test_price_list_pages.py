"""What each viewer sees through the pages: a reseller's customer (and an anonymous visitor
on the reseller's host) its retail price, a direct customer the list price, the reseller its
wholesale price; the platform's buy cost nobody. Query counts stay flat."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account
from cart import services as cart_services
from tests.billing.factories import fund
from tests.factories import AccountFactory, MarkupRuleFactory, UserFactory, reseller_account

pytestmark = pytest.mark.django_db
D = Decimal
MUNICH_1 = "+4989555000"
BUY_COST = ("1.23457", "1.2346")  # dutch_mobile's buy cost, in the forms a page could show


@pytest.fixture
def voxel(db):
    """A reseller with 10 % off list: +50 % on recurring prices, +1.00 on setup fees in
    Germany (a country rule, so Germany's recurring prices are at wholesale + 0 %)."""
    reseller = reseller_account(name="Voxel", wholesale_discount=D("10"))
    MarkupRuleFactory(reseller=reseller, recurring_percent=D("50"))
    MarkupRuleFactory(
        reseller=reseller,
        scope="country",
        country="DE",
        recurring_percent=D("20"),
        setup_fixed=D("1.00"),
    )
    return reseller


@pytest.fixture
def voxel_customer(voxel):
    return UserFactory(account=AccountFactory(parent=voxel, country="US"), role="customer_admin")


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def viewers(voxel, voxel_customer):
    return {
        "retail": voxel_customer,
        "list": UserFactory(account=AccountFactory(country="US"), role="customer_admin"),
        "wholesale": UserFactory(account=voxel, role="reseller_admin"),
    }


# Munich: list 3.00 / month, 0.90 / week, setup 5.00. Wholesale: 2.70, 0.81, 4.50.
# Retail (Germany's rule: +20 %, setup +1.00): 3.24, 0.972, 5.50.
MUNICH = {
    "list": ("3.00 / month", "0.90 / week", "5.00"),
    "wholesale": ("2.70 / month", "0.81 / week", "4.50"),
    "retail": ("3.24 / month", "0.972 / week", "5.50"),
}


def test_each_viewer_sees_its_price_on_the_country_page(client, stock, voxel, voxel_customer):
    for kind, user in viewers(voxel, voxel_customer).items():
        client.force_login(user)
        page = text(client.get(reverse("catalog:country", args=["DE"])))
        assert all(figure in page for figure in MUNICH[kind]), kind
        others = {f for k, figures in MUNICH.items() if k != kind for f in figures[:2]}
        assert not any(figure in page for figure in others), kind


def test_search_and_coverage_show_the_retail_price(client, stock, voxel, voxel_customer):
    client.force_login(voxel_customer)
    search = client.get(reverse("catalog:numbers", args=["DE"]))
    prices = {row["prices"].monthly for row in search.context["rows"]}
    assert prices == {D("3.24")}
    coverage = client.get(reverse("catalog:coverage"))
    rows = {row["country"]: row for row in coverage.context["rows"]}
    # Germany: the country rule; the Netherlands: the default +50 % on 1.80 and 3.60.
    assert (rows["DE"]["from_monthly"], rows["DE"]["from_setup"]) == (D("3.24"), D("5.50"))
    assert (rows["NL"]["from_monthly"], rows["NL"]["from_setup"]) == (D("2.70"), D("0.90"))


def test_from_figures_follow_per_block_rules(client, stock, voxel, voxel_customer):
    """A block rule can make the list's cheapest block the dearest: "from" is the minimum of
    the retail prices, not the retail price of the cheapest list price."""
    MarkupRuleFactory(
        reseller=voxel, scope="block", block=stock["amsterdam"], recurring_fixed=D("10")
    )
    client.force_login(voxel_customer)
    rows = {r["country"]: r for r in client.get(reverse("catalog:coverage")).context["rows"]}
    assert rows["NL"]["from_monthly"] == D("5.40")  # dutch_mobile: 3.60 × 1.5


def host_reseller_from_header(get_response):
    """Stands in for the brand lane's host middleware: ``request.host_reseller`` from a
    header naming the reseller's id."""

    def middleware(request):
        reseller_id = request.headers.get("X-Test-Host-Reseller")
        request.host_reseller = Account.objects.get(pk=reseller_id) if reseller_id else None
        return get_response(request)

    return middleware


def test_anonymous_visitor_of_a_resellers_host_sees_retail(client, settings, stock, voxel):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.host_reseller_from_header"]
    host = {"HTTP_X_TEST_HOST_RESELLER": str(voxel.pk)}
    page = text(client.get(reverse("catalog:country", args=["DE"]), **host))
    assert "3.24 / month" in page and "3.00 / month" not in page
    search = client.get(reverse("catalog:numbers", args=["DE"]), **host)
    assert {row["prices"].monthly for row in search.context["rows"]} == {D("3.24")}
    assert "3.24 USD" in text(client.get(reverse("catalog:coverage"), **host))
    assert "3.00 / month" in text(client.get(reverse("catalog:country", args=["DE"])))


def test_anonymous_visitor_of_the_platform_sees_the_list_price(client, stock, voxel):
    assert "3.00 / month" in text(client.get(reverse("catalog:country", args=["DE"])))


def test_cart_and_checkout_quote_the_retail_price(client, blocks, voxel, voxel_customer):
    # cart's fixture: Munich list 3.00 / month, setup 5.00, extra channel 1.50 / month.
    fund(voxel_customer.account, "100.00")
    cart_services.cart_add_numbers(user=voxel_customer, numbers=[MUNICH_1], channels=3)
    client.force_login(voxel_customer)
    cart = client.get(reverse("cart:cart"))
    (_, quote), *_ = [(line.item, line.quote) for line in cart.context["view"].lines]
    # Wholesale 2.70 + 1.35 extra; Germany's rule: +20 % recurring and extra channel at
    # wholesale (no extra-channel markup), setup 4.50 + 1.00.
    assert quote.period_price == D("3.24") and quote.extra_capacity == D("1.35")
    assert quote.setup_fee == D("5.50")
    checkout = client.get(reverse("cart:checkout"))
    net = checkout.context["page"].cart.quote.net
    assert net == D("5.50") + D("3.24") + D("1.35")
    assert "10.09" in text(checkout)


@pytest.fixture
def blocks(db, platform_admin):
    from tests.cart.conftest import blocks as make  # noqa: PLC0415

    return make.__wrapped__(db, platform_admin)


def test_the_buy_cost_never_shows(client, stock, voxel, voxel_customer):
    pages = [
        reverse("catalog:coverage"),
        reverse("catalog:country", args=["NL"]),
        reverse("catalog:numbers", args=["NL"]) + f"?block={stock['dutch_mobile'].pk}",
    ]
    for user in viewers(voxel, voxel_customer).values():
        client.force_login(user)
        for url in pages:
            html = client.get(url).content.decode()
            assert not any(cost in html for cost in BUY_COST), (user, url)
    client.force_login(viewers(voxel, voxel_customer)["wholesale"])
    response = client.post(
        reverse("catalog:price_rule_new"),
        {"scope": "country", "country": "NL", "recurring_percent": "10", "rounding": "none"},
    )
    assert response.status_code == 200 and "Retail after" in response.content.decode()
    assert not any(cost in response.content.decode() for cost in BUY_COST)


@pytest.mark.parametrize("name", ["catalog:coverage", "catalog:country", "catalog:numbers"])
def test_a_resellers_customer_costs_two_queries_more_at_most(
    client, stock, voxel, voxel_customer, name
):
    """The reseller (the customer's parent) and its rules: read once per request, however
    many rows the page shows."""
    url = reverse(name, args=[] if name == "catalog:coverage" else ["NL"])
    counts = {}
    for kind, user in viewers(voxel, voxel_customer).items():
        client.force_login(user)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts[kind] = len(queries)
    assert counts["retail"] <= counts["list"] + 2
