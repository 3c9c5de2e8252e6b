from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory import services as inventory_services
from inventory.models import DID
from tests.factories import TEST_PASSWORD
from tests.inventory.factories import NumberBlockFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_visitors_browse_countries(client, stock):
    response = client.get(reverse("catalog:coverage"))
    assert response.status_code == 200
    assert b"Germany" in response.content and b"Netherlands" in response.content
    assert "catalog/coverage.html" in [t.name for t in response.templates]


def test_htmx_gets_only_the_results_and_history_restore_gets_the_page(client, stock):
    url = reverse("catalog:coverage") + "?type=mobile"
    partial = client.get(url, **HTMX)
    assert "catalog/coverage.html" not in [t.name for t in partial.templates]
    assert b"Netherlands" in partial.content and b"Germany" not in partial.content
    assert "HX-Request" in partial["Vary"]
    restored = client.get(url, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "catalog/coverage.html" in [t.name for t in restored.templates]


def test_empty_results_suggest_loosening_a_filter(client, stock):
    response = client.get(reverse("catalog:coverage") + "?service=sms&type=mobile")
    assert b"No numbers match these filters" in response.content
    assert b"loosening a filter" in response.content


def test_country_page_lists_cities_with_prices_and_requirement_badge(client, stock):
    response = client.get(reverse("catalog:country", args=["de"]))
    content = response.content.decode()
    assert "München" in content and "(89)" in content
    assert "Terms to agree" in content  # agreeing to its text is all it asks
    assert "0.90 / week" in content and "3.00 / month" in content


def test_buy_cost_is_never_shown_to_buyers(client, stock):
    for url in (
        reverse("catalog:country", args=["NL"]),
        reverse("catalog:numbers", args=["NL"]) + f"?block={stock['dutch_mobile'].pk}",
    ):
        assert b"1.23457" not in client.get(url).content
        assert b"1.2346" not in client.get(url).content


def test_unknown_country_is_404(client):
    assert client.get(reverse("catalog:country", args=["XX"])).status_code == 404


def test_number_search_page_formats_numbers(client, stock):
    url = reverse("catalog:numbers", args=["DE"]) + "?n=19&match=ends"
    content = client.get(url).content.decode()
    assert "+49 89 555019" in content and "089 555019" in content
    assert 'value="+4989555019"' in content


def test_number_search_query_count_does_not_grow_with_the_rows(client, stock, platform_admin):
    # Spread the shown numbers over more blocks to catch per-row queries.
    extra = NumberBlockFactory(operator=stock["amsterdam"].operator, city="Haarlem", area_code="23")
    inventory_services.dids_add(block=extra, spec_text="5550000-5550039", actor=platform_admin)
    counts = {}
    for digits in ("5550001", "555"):  # a handful of rows, then a full page
        url = reverse("catalog:numbers", args=["NL"]) + f"?n={digits}&match=contains"
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        counts[len(response.context["rows"])] = len(queries)
    assert sorted(counts) == [2, 25]
    assert counts[2] == counts[25] <= 6


@pytest.mark.parametrize("name", ["catalog:coverage", "catalog:country"])
def test_list_pages_query_count_is_flat(client, stock, name, django_assert_max_num_queries):
    args = [] if name == "catalog:coverage" else ["NL"]
    with django_assert_max_num_queries(4):
        client.get(reverse(name, args=args))


def test_anonymous_add_to_cart_says_why_and_adds_the_picks_after_sign_in(
    client, stock, customer_admin
):
    search = reverse("catalog:numbers", args=["NL"]) + "?n=12&match=ends"
    response = client.post(
        reverse("cart:add"), {"numbers": ["+31205550012"], "next": search, "action": "selected"}
    )
    assert response.status_code == 302
    login = urlparse(response.url)
    assert login.path == reverse("accounts:login")
    back = parse_qs(login.query)["next"][0]
    assert back == reverse("cart:add_pending")
    page = client.get(response.url).content.decode()
    assert "Sign in or create an account to add numbers to your cart." in page

    signed_in = client.post(
        response.url, {"username": customer_admin.email, "password": TEST_PASSWORD}, follow=True
    )
    lines = signed_in.context["view"].lines
    assert [line.item.did.number for line in lines] == ["+31205550012"]
    assert signed_in.context["back"] == search  # the panel leads back to the search


def test_customer_adds_the_selection_to_the_cart(client, stock, customer_admin, platform_admin):
    gone = DID.objects.get(number="+31205550013")
    inventory_services.did_transition(
        did=gone, to_status="reserved", actor=platform_admin, reason="x"
    )
    client.force_login(customer_admin)
    response = client.post(
        reverse("cart:add"),
        {"numbers": ["+31205550012", "+31205550013"], "action": "selected"},
        follow=True,
    )
    assert [line.item.did.number for line in response.context["view"].lines] == ["+31205550012"]
    assert "No longer available: +31205550013." in response.content.decode()


def test_open_redirect_is_refused(client, stock):
    response = client.post(reverse("cart:add"), {"numbers": [], "next": "https://evil.test/"})
    assert "evil.test" not in response.url
