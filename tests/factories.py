import secrets

import factory

from accounts.models import Account, User

TEST_PASSWORD = "correct-horse-battery-staple"  # noqa: S105


def platform():
    account, _ = Account.objects.get_or_create(
        kind=Account.Kind.PLATFORM,
        defaults={"name": "Test Carrier", "legal_name": "Test Carrier B.V.", "country": "NL"},
    )
    return account


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Customer {n}")
    kind = Account.Kind.CUSTOMER
    parent = factory.LazyFunction(platform)
    legal_name = factory.LazyAttribute(lambda o: f"{o.name} Ltd")
    country = "DE"
    signup_code = factory.LazyAttribute(
        lambda o: secrets.token_urlsafe(12) if o.kind == "reseller" else None
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Sequence(lambda n: f"User {n}")
    account = factory.SubFactory(AccountFactory)
    role = "customer_admin"
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def reseller_account(**fields):
    """A reseller under the platform (``wholesale_discount`` percent off list, default 0)."""
    return AccountFactory(kind=Account.Kind.RESELLER, **fields)


class MarkupRuleFactory(factory.django.DjangoModelFactory):
    """A rule of a reseller's price list: the default scope, no markup unless given."""

    class Meta:
        model = "catalog.MarkupRule"

    reseller = factory.LazyFunction(reseller_account)
    scope = "default"
