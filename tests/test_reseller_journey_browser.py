"""Issue 11 end to end, clicked in Chromium: a reseller marks up its price list (+50 %) with
the preview's wholesale/retail/margin; its customer, on the reseller's brand, buys a number
at the retail price and downloads the reseller's invoice; the reseller sees the sale's
margin; with the reseller's balance drained the customer's next number fails with the
clear message and moves no money on either side."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Balance, LedgerEntry, SubscriptionCharge
from billing.services import adjustment_record
from cart.models import Order
from cart.orders import RESELLER_SHORT
from catalog.selectors import formatted
from inventory.services import dids_add
from tests.billing.factories import fund
from tests.billing.resellers import customer_of, reseller_with_brand, user_of
from tests.billing.test_invoice_browser import downloaded_text, sign_in
from tests.factories import platform
from tests.inventory.factories import NumberBlockFactory, OperatorFactory

# Ledger rows outlive a transactional test on SQLite: PostgreSQL only.
pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = Decimal
LIST = D("2.00")  # the block's monthly list price
WHOLESALE = D("1.80")  # less Voxel's 10 % discount
RETAIL = WHOLESALE * D("1.5")  # +50 %: 2.70
MARGIN = RETAIL - WHOLESALE  # 0.90


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"


@pytest.fixture
def amsterdam(platform_admin):
    block = NumberBlockFactory(
        operator=OperatorFactory(name="EuroRange"),
        country="NL",
        region="North Holland",
        city="Amsterdam",
        area_code="20",
        setup_fee=D("0.00"),
        monthly_price=LIST,
        weekly_price=D("0.60"),
        channels_included=1,
        requirement=None,
    )
    dids_add(block=block, spec_text="+31205550000-+31205550003", actor=platform_admin)
    return block


def ledger_sum(account):
    return LedgerEntry.objects.filter(account=account).aggregate(s=Sum("amount"))["s"] or D(0)


def money(value):
    return f"{value.quantize(D('0.01'))}"


def add_number(page, number):
    page.goto("/numbers/NL/")
    page.get_by_role("row", name=re.compile("Amsterdam")).get_by_role(
        "link", name="Numbers"
    ).click()
    page.get_by_label(number).check()
    page.get_by_role("button", name="Add selected to cart").click()
    panel = page.locator("#cart-modal")
    expect(panel.get_by_role("heading", name="Added to your cart")).to_be_visible()
    panel.get_by_label("Billing period").select_option("monthly")
    panel.get_by_role("button", name="Update").click()
    return panel


def test_reseller_marks_up_its_customer_buys_and_a_short_reseller_fails_cleanly(
    page, amsterdam, finance_user
):
    platform()
    voxel = reseller_with_brand("Voxel", vat_number="NL859048267B01", bank="IBAN NL91 VOXL 01")
    voxel.wholesale_discount = D("10")
    voxel.save(update_fields=["wholesale_discount"])
    admin = user_of(voxel, "reseller_admin")
    fund(voxel, "100.00")
    buyer = customer_of(voxel, "Kunde Inc", country="US")  # outside the EU: no VAT on the sale
    customer = user_of(buyer, "customer_admin")
    fund(buyer, "100.00")

    # (a) The reseller's admin adds a +50 % default markup, previews and saves it.
    sign_in(page, admin)
    page.get_by_role("link", name="Pricing").click()
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Applies to").select_option("default")
    page.get_by_label("Recurring: percent").fill("50")
    page.get_by_role("button", name="Preview").click()
    rows = page.locator("#preview-rows tbody tr")
    monthly = rows.filter(has_text="month")
    expect(monthly).to_have_count(1)
    cells = monthly.locator("td")
    expect(cells.nth(2)).to_have_text(money(WHOLESALE))  # wholesale
    expect(cells.nth(4)).to_have_text(money(RETAIL))  # retail after
    expect(cells.nth(5)).to_have_text(money(MARGIN))  # margin
    expect(cells.nth(6)).to_have_text("33.3 %")
    page.get_by_role("button", name="Save the rule").click()
    expect(page.locator("#price-rules")).to_contain_text("Recurring +50 %")

    # (b) Its customer sees the reseller's brand and the retail price, and buys a number.
    sign_in(page, customer)
    expect(page.locator("nav .navbar-brand")).to_have_text("Voxel Voice")
    page.goto("/numbers/NL/")
    expect(page.locator("#results")).to_contain_text(f"{money(RETAIL)} / month")
    expect(page.locator("#results")).not_to_contain_text(f"{money(LIST)} / month")
    panel = add_number(page, formatted("+31205550000")[1])
    expect(panel.locator("#panel-total")).to_have_text(money(RETAIL))
    panel.get_by_role("link", name="Proceed to checkout").click()
    expect(page.locator("#checkout-total")).to_have_text(f"{money(RETAIL)} USD")
    page.get_by_role("button", name="Complete order").click()
    expect(page.get_by_role("heading", name="Your order is complete")).to_be_visible()
    order = Order.objects.get(account=buyer)
    assert (order.status, order.gross) == ("completed", RETAIL)
    sale = SubscriptionCharge.objects.get(account=buyer, side="sale")
    wholesale = SubscriptionCharge.objects.get(account=voxel, side="wholesale")
    assert (sale.net, wholesale.net) == (RETAIL, WHOLESALE)
    assert order.invoice.issuer_id == voxel.pk

    page.get_by_role("link", name=order.invoice.number, exact=True).click()
    expect(page.locator("#seller-brand")).to_have_text("Voxel Voice")
    name, text = downloaded_text(
        page, lambda: page.get_by_role("link", name="Download PDF").click()
    )
    assert name == f"{order.invoice.number}.pdf"
    assert "Voxel Voice" in text and "NL859048267B01" in text and money(RETAIL) in text
    assert platform().name not in text and money(WHOLESALE) not in text

    # (c) The reseller's margin report shows that sale's margin.
    sign_in(page, admin)
    page.goto("/billing/margin/")
    today = timezone.localdate()
    page.get_by_label("From", exact=True).fill(f"{today - timedelta(days=1):%Y-%m-%d}")
    page.get_by_label("To", exact=True).fill(f"{today:%Y-%m-%d}")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#margin-retail")).to_have_text(money(RETAIL))
    expect(page.locator("#margin-wholesale")).to_have_text(money(WHOLESALE))
    expect(page.locator("#margin-total")).to_have_text(money(MARGIN))

    # (d) The reseller's balance is drained; its customer's next number fails cleanly.
    drained = Balance.objects.get(account=voxel).amount
    adjustment_record(
        account=voxel,
        amount=-drained,
        reason="test: balance drained",
        actor=finance_user,
        idempotency_key="drain-voxel",
    )
    before = (ledger_sum(buyer), ledger_sum(voxel))
    charges_before = SubscriptionCharge.objects.count()
    sign_in(page, customer)
    panel = add_number(page, formatted("+31205550001")[1])
    panel.get_by_role("link", name="Proceed to checkout").click()
    page.get_by_role("button", name="Complete order").click()
    expect(page.get_by_role("heading", name="Your order could not be completed")).to_be_visible()
    message = RESELLER_SHORT.format(seller="Voxel Voice")
    expect(page.locator("#order-items")).to_contain_text(message)
    expect(page.locator("#order-items")).to_contain_text("Failed")
    assert (ledger_sum(buyer), ledger_sum(voxel)) == before
    assert SubscriptionCharge.objects.count() == charges_before
    failed = Order.objects.filter(account=buyer).latest("pk")
    assert failed.status == "failed"
    assert [i.failure_reason for i in failed.items.all()] == [message]
