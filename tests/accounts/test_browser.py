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
