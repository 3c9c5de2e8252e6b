from decimal import Decimal

import factory

from inventory.models import DID, ClientPackage, NumberBlock, Operator, Package
from tests.factories import AccountFactory


class OperatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Operator
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Operator {n}")


class NumberBlockFactory(factory.django.DjangoModelFactory):
    """An Amsterdam local block: area code 20, so short form 5550000 is +31205550000."""

    class Meta:
        model = NumberBlock

    operator = factory.SubFactory(OperatorFactory)
    country = "NL"
    region = "North Holland"
    city = "Amsterdam"
    area_code = "20"
    number_type = "local"
    setup_fee = Decimal("1.00")
    monthly_price = Decimal("2.00")
    rate_per_minute = Decimal("0.00600")
    buy_monthly_cost = Decimal("0.80")


class DIDFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DID

    number = factory.Sequence(lambda n: f"+3120555{n % 10000:04d}")
    block = factory.SubFactory(NumberBlockFactory)


class PackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Package

    name = factory.Sequence(lambda n: f"Package {n}")
    max_dids = 2
    # Numbers assigned under it are free, so package tests need no balance; tests about the
    # price of assigned numbers set it (None: the number's own price).
    number_price = Decimal("0.00")


class ClientPackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientPackage

    package = factory.SubFactory(PackageFactory)
    account = factory.SubFactory(AccountFactory)
