import pytest

from accounts import permissions
from accounts.scoping import visible_accounts
from tests.factories import AccountFactory, UserFactory, platform

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    reseller_a = AccountFactory(kind="reseller", name="Reseller A")
    reseller_b = AccountFactory(kind="reseller", name="Reseller B")
    return {
        "platform": platform(),
        "reseller_a": reseller_a,
        "reseller_b": reseller_b,
        "customer_a1": AccountFactory(parent=reseller_a, name="A1"),
        "customer_b1": AccountFactory(parent=reseller_b, name="B1"),
        "direct": AccountFactory(name="Direct"),
    }


def names(user):
    return set(visible_accounts(user).values_list("name", flat=True))


@pytest.mark.parametrize("role", ["platform_admin", "platform_finance"])
def test_platform_staff_see_every_account(tree, role):
    user = UserFactory(account=tree["platform"], role=role)
    assert len(names(user)) == 6


def test_reseller_sees_itself_and_its_customers_only(tree):
    user = UserFactory(account=tree["reseller_a"], role="reseller_admin")
    assert names(user) == {"Reseller A", "A1"}


def test_customer_sees_only_itself(tree):
    user = UserFactory(account=tree["customer_a1"], role="customer_member")
    assert names(user) == {"A1"}


def test_inactive_user_sees_nothing(tree):
    user = UserFactory(account=tree["platform"], role="platform_admin", is_active=False)
    assert names(user) == set()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("platform_admin", {"is_platform_admin", "is_finance", "is_platform_staff"}),
        ("platform_finance", {"is_finance", "is_platform_staff"}),
        ("reseller_admin", {"is_reseller_admin"}),
        ("customer_admin", {"is_customer", "is_customer_admin"}),
        ("customer_member", {"is_customer"}),
    ],
)
def test_role_predicates(role, allowed):
    kind = role.split("_")[0]
    account = platform() if kind == "platform" else AccountFactory(kind=kind)
    user = UserFactory(account=account, role=role)
    checked = [
        "is_platform_admin",
        "is_finance",
        "is_platform_staff",
        "is_reseller_admin",
        "is_customer",
        "is_customer_admin",
    ]
    assert {name for name in checked if getattr(permissions, name)(user)} == allowed


def test_suspended_account_loses_portal_access():
    user = UserFactory(account=AccountFactory(status="suspended"), role="customer_admin")
    assert not permissions.is_portal_user(user)
