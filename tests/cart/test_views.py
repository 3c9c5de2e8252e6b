"""Cart pages: add → panel, the cart page, change, remove, clear, badge, access."""

from decimal import Decimal as D
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from cart import services
from cart.models import CartItem
from inventory.models import DID
from tests.billing.factories import fund
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

A0, A1 = "+31205550000", "+31205550001"
MUNICH = "+4989555000"
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/numbers/NL/search/"}


@pytest.fixture
def shopper(client, customer_admin, blocks, vat_rates):
    client.force_login(customer_admin)
    return client


def test_add_shows_the_panel_page_with_prices_and_vat(shopper, customer_admin):
    back = reverse("catalog:numbers", args=["DE"]) + "?n=555"
    response = shopper.post(
        reverse("cart:add"), {"numbers": [MUNICH], "next": back, "action": "selected"}
    )
    assert response.status_code == 302
    panel = shopper.get(response.url)
    page = panel.content.decode()
    assert "Added to your cart" in page
    assert "+49 89 555000" in page
    line = panel.context["view"].lines[0]
    assert (line.quote.setup_fee, line.quote.recurring, line.quote.vat) == (
        D("5.00"),
        D("3.00"),
        D("1.52"),
    )
    assert "VAT 19%" in page and "9.52" in page
    assert f'href="{back}"' in page.replace("&amp;", "&")  # Continue shopping
    assert reverse("cart:checkout") in page
    assert DID.objects.get(number=MUNICH).cart_held_by == customer_admin


def test_htmx_add_answers_the_panel_for_the_modal(shopper):
    response = shopper.post(reverse("cart:add"), {"numbers": [A0, A1]}, **HTMX)
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "cart/_panel.html"
    page = response.content.decode()
    assert 'data-bs-dismiss="modal"' in page
    assert 'id="cart-badge"' in page and 'hx-swap-oob="true"' in page
    assert ">2<" in page  # the badge counts two numbers


def test_add_reports_numbers_someone_else_holds(shopper, blocks):
    other = UserFactory(role="customer_admin")
    services.cart_add_numbers(user=other, numbers=[A0])
    response = shopper.post(reverse("cart:add"), {"numbers": [A0, A1]}, follow=True)
    page = response.content.decode()
    assert "No longer available: +31205550000." in page
    assert [line.item.did.number for line in response.context["view"].lines] == [A1]


def test_add_any_n_from_an_area(shopper, blocks):
    response = shopper.post(
        reverse("cart:add"),
        {"block": blocks["munich"].pk, "quantity": "3", "action": "any"},
        **HTMX,
    )
    assert "Any 3 numbers" in response.content.decode()
    assert CartItem.objects.get().quantity == 3


def test_add_any_n_beyond_the_stock_says_how_many_there_are(shopper, blocks):
    response = shopper.post(
        reverse("cart:add"),
        {"block": blocks["munich"].pk, "quantity": "9", "action": "any"},
        **HTMX,
    )
    assert "Only 5 numbers available in München right now." in response.content.decode()
    assert not CartItem.objects.exists()


def test_add_any_with_a_bad_quantity_names_the_field(shopper, blocks):
    response = shopper.post(
        reverse("cart:add"),
        {"block": blocks["munich"].pk, "quantity": "x", "action": "any"},
        **HTMX,
    )
    assert "Quantity must be a whole number." in response.content.decode()


def test_anonymous_htmx_add_is_sent_to_sign_in(client, blocks):
    response = client.post(
        reverse("cart:add"), {"numbers": [A0], "next": "/numbers/NL/search/"}, **HTMX
    )
    login = urlparse(response["HX-Redirect"])
    assert login.path == reverse("accounts:login")
    assert parse_qs(login.query)["next"] == [reverse("cart:add_pending")]
    assert "Sign in or create an account" in client.get(response["HX-Redirect"]).content.decode()


def test_picks_made_before_sign_up_are_in_the_new_cart(client, blocks, vat_rates):
    response = client.post(
        reverse("cart:add"),
        {"block": blocks["amsterdam"].pk, "quantity": "3", "action": "any", "next": "/numbers/"},
    )
    signup = reverse("accounts:signup") + "?" + urlparse(response.url).query
    created = client.post(
        signup,
        {
            "full_name": "Newcomer",
            "email": "new@example.test",
            "company_name": "New Co",
            "country": "NL",
            "password": "a-long-enough-passphrase-2026",
        },
        follow=True,
    )
    [line] = created.context["view"].lines
    assert line.item.block_id == blocks["amsterdam"].pk and line.item.quantity == 3
    assert CartItem.objects.get().cart.user.email == "new@example.test"


def test_the_picks_are_added_once(client, customer_admin, blocks, vat_rates):
    client.post(reverse("cart:add"), {"numbers": [A0, A1], "next": "/numbers/NL/search/"})
    client.force_login(customer_admin)
    first = client.get(reverse("cart:add_pending"))
    assert urlparse(first.url).path == reverse("cart:added")
    again = client.get(reverse("cart:add_pending"))  # a reload: nothing is waiting any more
    assert again.url == reverse("cart:cart")
    assert sorted(CartItem.objects.values_list("did__number", flat=True)) == [A0, A1]


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/", "https:evil.example", "/\\evil.example"],
)
def test_the_way_back_after_sign_in_stays_on_the_site(client, customer_admin, blocks, next_url):
    client.post(reverse("cart:add"), {"numbers": [A0], "next": next_url})
    client.force_login(customer_admin)
    panel = client.get(reverse("cart:add_pending"), follow=True)
    assert panel.context["back"] == "/numbers/"
    assert "evil.example" not in panel.content.decode()


def test_a_signed_in_role_that_cannot_buy_is_refused_after_sign_in(client, platform_admin, blocks):
    client.post(reverse("cart:add"), {"numbers": [A0], "next": "/numbers/NL/search/"})
    client.force_login(platform_admin)
    assert client.get(reverse("cart:add_pending")).status_code == 403
    assert not CartItem.objects.exists()


def test_update_from_the_panel_rerenders_it_with_the_new_price(shopper, customer_admin):
    item = services.cart_add_numbers(user=customer_admin, numbers=[MUNICH]).items[0]
    prefix = f"item-{item.pk}"
    response = shopper.post(
        reverse("cart:item_update", args=[item.pk]),
        {
            f"{prefix}-channels": "4",
            f"{prefix}-billing_period": "weekly",
            "return": "panel",
            "items": str(item.pk),
            "back": "/numbers/DE/search/",
        },
        **HTMX,
    )
    line = response.context["view"].lines[0]
    # 1.50 a month per extra channel is 0.34615 a week: 0.90 + 2 × 0.34615 = 1.59 a week.
    assert (line.quote.recurring, line.quote.billing_period) == (D("1.59"), "weekly")
    item.refresh_from_db()
    assert (item.channels, item.billing_period) == (4, "weekly")


def test_update_with_bad_values_shows_the_field_errors_and_saves_nothing(shopper, customer_admin):
    item = services.cart_add_numbers(user=customer_admin, numbers=[MUNICH]).items[0]
    prefix = f"item-{item.pk}"
    response = shopper.post(
        reverse("cart:item_update", args=[item.pk]),
        {f"{prefix}-channels": "0", f"{prefix}-billing_period": "daily"},
    )
    assert response.status_code == 200
    form = response.context["view"].lines[0].form
    assert form.errors["channels"] == ["Ensure this value is greater than or equal to 1."]
    assert "daily is not one of the available choices" in form.errors["billing_period"][0]
    item.refresh_from_db()
    assert (item.channels, item.billing_period) == (2, "monthly")


def test_update_from_the_cart_page_redirects_back(shopper, customer_admin):
    item = services.cart_add_any(
        user=customer_admin, block=DID.objects.get(number=A0).block, quantity=1
    ).items[0]
    prefix = f"item-{item.pk}"
    response = shopper.post(
        reverse("cart:item_update", args=[item.pk]),
        {
            f"{prefix}-channels": "2",
            f"{prefix}-billing_period": "monthly",
            f"{prefix}-quantity": "4",
        },
    )
    assert response.url == reverse("cart:cart")
    item.refresh_from_db()
    assert item.quantity == 4


def test_cart_page_lists_lines_totals_and_hold_time(shopper, customer_admin, blocks):
    services.cart_add_numbers(user=customer_admin, numbers=[MUNICH])
    services.cart_add_any(user=customer_admin, block=blocks["amsterdam"], quantity=2)
    response = shopper.get(reverse("cart:cart"))
    page = response.content.decode()
    assert "+49 89 555000" in page and "Any 2 numbers" in page and "Amsterdam (20)" in page
    assert "Held for you until" in page and "data-hold-until" in page
    assert response.context["view"].quote.gross == D("16.66")  # 9.52 + 2 × 3.57
    assert 'id="cart-total">16.66 USD' in page
    assert reverse("cart:checkout") in page


def test_empty_cart_says_so(shopper):
    page = shopper.get(reverse("cart:cart")).content.decode()
    assert "Your cart is empty." in page
    assert reverse("catalog:coverage") in page


def test_remove_asks_first_then_removes(shopper, customer_admin):
    item = services.cart_add_numbers(user=customer_admin, numbers=[A0]).items[0]
    url = reverse("cart:item_remove", args=[item.pk])
    assert "Remove +31205550000 from your cart?" in shopper.get(url).content.decode()
    assert CartItem.objects.exists()
    response = shopper.post(url, follow=True)
    assert "Removed +31205550000 from your cart." in response.content.decode()
    assert not CartItem.objects.exists()
    assert DID.objects.get(number=A0).cart_held_by is None


def test_remove_from_the_panel_keeps_the_rest_of_the_panel(shopper, customer_admin):
    items = services.cart_add_numbers(user=customer_admin, numbers=[A0, A1]).items
    ids = ",".join(str(i.pk) for i in items)
    response = shopper.post(
        reverse("cart:item_remove", args=[items[0].pk]),
        {"return": "panel", "items": ids, "back": "/numbers/"},
        **HTMX,
    )
    assert [line.item.pk for line in response.context["view"].lines] == [items[1].pk]


def test_clear_asks_first_then_empties(shopper, customer_admin):
    services.cart_add_numbers(user=customer_admin, numbers=[A0, A1])
    url = reverse("cart:clear")
    assert "Clear your cart?" in shopper.get(url).content.decode()
    assert CartItem.objects.count() == 2
    response = shopper.post(url, follow=True)
    assert "Your cart is empty (2 lines removed)." in response.content.decode()
    assert not DID.objects.filter(cart_held_by__isnull=False).exists()


def test_hold_again_from_the_cart(shopper, customer_admin):
    from datetime import timedelta

    from django.utils import timezone

    services.cart_add_numbers(
        user=customer_admin, numbers=[A0], now=timezone.now() - timedelta(hours=1)
    )
    page = shopper.get(reverse("cart:cart")).content.decode()
    assert "Hold them again" in page
    response = shopper.post(reverse("cart:hold_again"), follow=True)
    assert "Your numbers are held for you again." in response.content.decode()
    assert response.context["view"].lines[0].state == "held"


def test_the_nav_badge_counts_numbers(shopper, customer_admin, blocks):
    services.cart_add_numbers(user=customer_admin, numbers=[A0])
    services.cart_add_any(user=customer_admin, block=blocks["munich"], quantity=3)
    page = shopper.get(reverse("billing:balance")).content.decode()
    assert f'href="{reverse("cart:cart")}">Cart<span id="cart-badge"' in page
    assert '>4<span class="visually-hidden"> numbers in your cart' in page


def test_a_strangers_line_is_404(shopper, blocks):
    other = UserFactory(role="customer_admin")
    item = services.cart_add_numbers(user=other, numbers=[A0]).items[0]
    assert shopper.get(reverse("cart:item_remove", args=[item.pk])).status_code == 404
    assert shopper.post(reverse("cart:item_remove", args=[item.pk])).status_code == 404
    assert shopper.post(reverse("cart:item_update", args=[item.pk])).status_code == 404
    assert CartItem.objects.filter(pk=item.pk).exists()


def test_a_teammates_line_is_404_too(client, customer_admin, customer_member, blocks):
    item = services.cart_add_numbers(user=customer_admin, numbers=[A0]).items[0]
    client.force_login(customer_member)
    assert client.post(reverse("cart:item_remove", args=[item.pk])).status_code == 404
    assert client.get(reverse("cart:cart")).context["view"].lines == []


@pytest.mark.parametrize("role", ["platform_admin", "platform_finance"])
def test_other_roles_have_no_cart(client, role, platform_admin, blocks):
    from tests.factories import AccountFactory, platform

    account = platform() if role.startswith("platform") else AccountFactory(kind="reseller")
    client.force_login(UserFactory(account=account, role=role))
    assert client.get(reverse("cart:cart")).status_code == 403
    assert client.post(reverse("cart:add"), {"numbers": [A0]}).status_code == 403
    assert client.get(reverse("cart:checkout")).status_code == 403
    assert not DID.objects.filter(cart_held_by__isnull=False).exists()


def test_cart_page_query_count_is_flat(
    shopper, customer_admin, blocks, django_assert_max_num_queries
):
    fund(customer_admin.account, "100.00")  # unfunded accounts hold 3 numbers at most
    services.cart_add_numbers(user=customer_admin, numbers=[A0])
    with django_assert_max_num_queries(12) as few:
        shopper.get(reverse("cart:cart"))
    services.cart_add_numbers(
        user=customer_admin, numbers=[f"+3120555000{i}" for i in range(1, 10)]
    )
    services.cart_add_any(user=customer_admin, block=blocks["munich"], quantity=2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = shopper.get(reverse("cart:cart"))
    assert len(response.context["view"].lines) == 11
