"""A reseller sets a markup, previews it, saves it; its customer sees the retail price."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD, AccountFactory, UserFactory, reseller_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_reseller_marks_up_germany_previews_saves_and_its_customer_sees_it(page, stock):
    voxel = reseller_account(name="Voxel", wholesale_discount=Decimal("10"))
    admin = UserFactory(account=voxel, role="reseller_admin")
    customer = UserFactory(account=AccountFactory(parent=voxel), role="customer_admin")

    sign_in(page, admin)
    page.get_by_role("link", name="Pricing").click()
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Applies to").select_option("country")
    page.get_by_label("Country").select_option("DE")
    page.get_by_label("Recurring: percent").fill("50")
    page.get_by_role("button", name="Preview").click()

    rows = page.locator("#preview-rows tbody tr")
    expect(rows).to_have_count(1)  # Munich only
    expect(rows.first).to_contain_text("2.70")  # wholesale
    expect(rows.first).to_contain_text("4.05")  # retail after
    expect(rows.first).to_contain_text("33.3 %")
    page.get_by_role("button", name="Save the rule").click()
    expect(page.locator("#price-rules")).to_contain_text("Germany")
    expect(page.locator("#price-rules")).to_contain_text("Recurring +50 %")

    page.get_by_role("button", name=admin.get_short_name()).click()
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, customer)
    page.goto("/numbers/DE/")
    expect(page.locator("#results")).to_contain_text("4.05 / month")
    expect(page.locator("#results")).not_to_contain_text("3.00 / month")
