import pytest
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import Account, Role
from tests.factories import AccountFactory, UserFactory, platform

pytestmark = pytest.mark.django_db


def test_reseller_must_hang_under_the_platform():
    other_reseller = AccountFactory(kind="reseller")
    with pytest.raises(ValidationError, match="must belong to the platform"):
        services.account_create(kind="reseller", name="Nested", parent=other_reseller)


def test_customer_may_hang_under_a_reseller():
    reseller = AccountFactory(kind="reseller")
    customer = services.account_create(kind="customer", name="Shop", parent=reseller)
    assert customer.parent == reseller


def test_customer_cannot_hang_under_another_customer():
    with pytest.raises(ValidationError):
        services.account_create(kind="customer", name="Shop", parent=AccountFactory())


def test_reseller_gets_a_signup_code():
    reseller = services.account_create(kind="reseller", name="Resell", parent=platform())
    assert reseller.signup_code and len(reseller.signup_code) >= 12


def test_role_must_fit_the_account_kind():
    with pytest.raises(ValidationError, match="cannot have the role"):
        services.user_create(
            account=AccountFactory(), email="x@example.test", role=Role.PLATFORM_ADMIN
        )


@pytest.mark.parametrize(
    ("country", "vat", "expected"),
    [
        ("DE", "DE 136 695 976", "DE136695976"),
        ("DE", "136695976", "DE136695976"),
        ("NL", "NL004495445B01", "NL004495445B01"),
        ("US", "", ""),
    ],
)
def test_vat_numbers_are_normalised(country, vat, expected):
    account = AccountFactory(country=country)
    services.account_update_identity(account=account, vat_number=vat)
    account.refresh_from_db()
    assert account.vat_number == expected


@pytest.mark.parametrize(
    ("country", "vat", "message"),
    [
        ("DE", "DE123", "not a valid EU VAT number"),
        ("FR", "DE136695976", "is from DE but the account's country is FR"),
    ],
)
def test_bad_vat_numbers_are_refused_and_nothing_saved(country, vat, message):
    account = AccountFactory(country=country, vat_number="")
    with pytest.raises(ValidationError, match=message):
        services.account_update_identity(account=account, vat_number=vat)
    account.refresh_from_db()
    assert account.vat_number == ""


def test_signup_creates_customer_under_platform_with_admin_user():
    platform()
    user = services.customer_signup(
        email="New@Example.test",
        password="a-long-password-1",
        full_name="New Person",
        company_name="New Co",
        country="FR",
    )
    assert user.email == "new@example.test"
    assert user.role == Role.CUSTOMER_ADMIN
    assert user.account.kind == Account.Kind.CUSTOMER
    assert user.account.parent == platform()
    assert user.check_password("a-long-password-1")


def test_signup_through_suspended_reseller_is_refused():
    reseller = AccountFactory(kind="reseller", status="suspended")
    with pytest.raises(ValidationError, match="no longer active"):
        services.customer_signup(
            email="a@example.test",
            password="a-long-password-1",
            full_name="A",
            company_name="A Co",
            country="FR",
            parent=reseller,
        )


def test_user_cannot_demote_themselves():
    admin = UserFactory(role="customer_admin")
    with pytest.raises(ValidationError, match="your own role"):
        services.user_update(user=admin, actor=admin, role="customer_member")


def test_platform_cannot_be_suspended(platform_admin):
    with pytest.raises(ValidationError):
        services.account_set_status(account=platform(), status="suspended", actor=platform_admin)
