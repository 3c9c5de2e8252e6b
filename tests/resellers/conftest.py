"""Two resellers (A with a 20 % wholesale discount), their teams and customers, a direct
customer and platform finance; a block of numbers to sell."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from inventory import services as inventory_services
from tests.factories import AccountFactory, UserFactory, platform
from tests.inventory.factories import NumberBlockFactory, OperatorFactory


@pytest.fixture
def world(db):
    plat = platform()
    a = AccountFactory(kind="reseller", name="Reseller A", wholesale_discount=Decimal("20"))
    b = AccountFactory(kind="reseller", name="Reseller B")
    a1 = AccountFactory(parent=a, name="A's customer")
    b1 = AccountFactory(parent=b, name="B's customer")
    direct = AccountFactory(parent=plat, name="Direct Ltd")
    return SimpleNamespace(
        platform=plat,
        a=a,
        b=b,
        a1=a1,
        b1=b1,
        direct=direct,
        admin_a=UserFactory(account=a, role="reseller_admin"),
        support_a=UserFactory(account=a, role="reseller_support"),
        finance_a=UserFactory(account=a, role="reseller_finance"),
        admin_b=UserFactory(account=b, role="reseller_admin"),
        finance_b=UserFactory(account=b, role="reseller_finance"),
        a1_admin=UserFactory(account=a1, role="customer_admin"),
        direct_admin=UserFactory(account=direct, role="customer_admin"),
        platform_finance=UserFactory(account=plat, role="platform_finance"),
        platform_admin=UserFactory(account=plat, role="platform_admin"),
    )


@pytest.fixture
def block(world):
    """Amsterdam: setup 1.00, 2.00 a month, ten numbers."""
    block = NumberBlockFactory(operator=OperatorFactory(name="EuroRange"))
    inventory_services.dids_add(
        block=block, spec_text="5550000-5550009", actor=world.platform_admin
    )
    return block
