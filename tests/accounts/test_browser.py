import re

import pytest

from tests.factories import TEST_PASSWORD, AccountFactory, UserFactory, platform

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = [
    ("platform_admin", "Platform dashboard", "Inventory"),
    ("platform_finance", "Finance dashboard", "Invoices"),
    ("reseller_admin", "Reseller dashboard", "Customers"),
    ("customer_admin", "Welcome", "Buy numbers"),
    ("customer_member", "Welcome", "My numbers"),
]


@pytest.mark.parametrize(("role", "heading", "nav_label"), ROLES)
def test_each_role_signs_in_and_sees_its_dashboard(page, role, heading, nav_label):
    kind = role.split("_")[0]
    account = platform() if kind == "platform" else AccountFactory(kind=kind, name="Demo Tenant")
    user = UserFactory(account=account, role=role, full_name="Pat Person")

    page.goto("/")
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("heading", level=1).filter(has_text=heading).wait_for()
    nav = page.get_by_role("navigation", name="Main navigation")
    assert nav.get_by_text(nav_label, exact=True).is_visible()
    assert account.name in page.content()


def _sign_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_signup_confirms_the_address_through_the_banner_and_link(page):
    """Item 22, as a newcomer clicks it (on a phone-sized screen)."""
    from outbox.models import OutgoingEmail

    platform()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/accounts/signup/")
    page.get_by_label("Your name").fill("Nina New")
    page.get_by_label("E-mail address").fill("nina@example.test")
    page.get_by_label("Company name").fill("Nina Co")
    page.get_by_label("Country").select_option("FR")
    page.get_by_label("Password").fill("purple-elephant-42")
    page.get_by_role("button", name="Create account").click()
    banner = page.locator("#verify-email-banner")
    banner.wait_for()
    assert "nina@example.test" in banner.inner_text()
    page.screenshot(path="test-artifacts/verify-email-banner-390.png", full_page=True)

    banner.get_by_role("button", name="Send the link again").click()
    page.get_by_text("We sent a new confirmation link").wait_for()
    assert OutgoingEmail.objects.filter(to=["nina@example.test"]).count() == 2

    link = re.search(
        r"https?://\S+(/accounts/verify-email/\S+/)", OutgoingEmail.objects.last().text
    )
    page.goto(link.group(1))
    page.get_by_text("nina@example.test is confirmed").wait_for()
    assert page.locator("#verify-email-banner").count() == 0


def test_admin_allows_a_member_to_buy_on_the_team_page(page):
    """Item 16: the role choice and the "may buy" switch, as an admin clicks them."""
    account = AccountFactory(kind="customer", name="Team Co")
    admin = UserFactory(account=account, role="customer_admin")
    member = UserFactory(account=account, role="customer_member", full_name="Mo Member")
    _sign_in(page, admin)
    page.goto("/accounts/team/")
    page.get_by_role("row", name=re.compile("Mo Member")).get_by_role(
        "link", name=re.compile("^Edit")
    ).click()
    page.get_by_label("May buy numbers").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("row", name=re.compile("Mo Member")).get_by_text("Allowed").wait_for()
    member.refresh_from_db()
    assert member.may_buy

    page.get_by_role("link", name="Add a user").click()
    page.get_by_label("Name").fill("Abe Accountant")
    page.get_by_label("E-mail address").fill("abe@example.test")
    page.get_by_role("radio", name=re.compile("Billing")).check()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="test-artifacts/team-add-390.png", full_page=True)
    page.get_by_role("button", name="Add user").click()
    page.get_by_role("row", name=re.compile("abe@example.test")).wait_for()
