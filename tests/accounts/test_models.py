import pytest
from django.db import IntegrityError, transaction

from accounts.models import Account, User
from tests.factories import AccountFactory, UserFactory, platform

pytestmark = pytest.mark.django_db


def test_only_one_platform_account_can_exist():
    platform()
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(kind=Account.Kind.PLATFORM, name="Second platform")


def test_customer_without_parent_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(kind=Account.Kind.CUSTOMER, name="Orphan")


def test_platform_with_parent_is_refused_by_the_database():
    reseller = AccountFactory(kind="reseller")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(kind="platform").update(parent=reseller)


def test_portal_user_needs_an_account_and_a_role():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email="nobody@example.test", password="x", role="customer_admin")


def test_superuser_has_no_tenant():
    admin = User.objects.create_superuser(email="Ops@Example.test", password="x")
    assert admin.account is None and admin.role == ""
    assert admin.email == "ops@example.test"


def test_email_is_unique_whatever_the_case():
    UserFactory(email="someone@example.test")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(email="SOMEONE@example.test")
