from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from compliance.models import Requirement
from inventory.models import NumberBlock
from tests.inventory.factories import DIDFactory, NumberBlockFactory

pytestmark = pytest.mark.django_db


def refused(**fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        DIDFactory(**fields)


def test_owner_only_while_active_or_on_hold(customer):
    refused(status="in_stock", owner=customer)
    refused(status="active", owner=None, ever_sold=True)
    refused(status="hold", owner=None, hold_started_at=timezone.now())
    DIDFactory(status="active", owner=customer, ever_sold=True)


def test_hold_started_only_while_on_hold(customer):
    refused(status="hold", owner=customer, ever_sold=True)
    refused(status="active", owner=customer, ever_sold=True, hold_started_at=timezone.now())


def test_after_hold_status_and_status_are_checked():
    refused(after_hold_status="active")
    refused(status="sold")


def test_number_is_unique():
    DIDFactory(number="+31205550000")
    refused(number="+31205550000")


def test_block_needs_a_capability():
    with pytest.raises(IntegrityError), transaction.atomic():
        NumberBlockFactory(voice=False, sms=False, fax=False)


def test_recurring_block_needs_a_period_price():
    with pytest.raises(IntegrityError), transaction.atomic():
        NumberBlockFactory(billing_type="recurring", monthly_price=None)
    NumberBlockFactory(billing_type="one_time", monthly_price=None)


@pytest.mark.parametrize("field", ["setup_fee", "monthly_price", "daily_price", "rate_per_minute"])
def test_prices_cannot_be_negative(field):
    with pytest.raises(IntegrityError), transaction.atomic():
        NumberBlockFactory(**{field: Decimal("-0.01")})


def test_billing_periods_and_margin():
    block = NumberBlock(
        monthly_price=Decimal("2.00"), daily_price=Decimal("0.10"), buy_monthly_cost=Decimal("0.8")
    )
    assert block.billing_periods == ["monthly", "daily"]
    assert block.margin_monthly == Decimal("1.20")
    assert NumberBlock(monthly_price=None).margin_monthly is None


def test_block_can_point_to_a_requirement():
    requirement = Requirement.objects.create(
        country="DE", number_type="local", title="Proof of address", text="..."
    )
    block = NumberBlockFactory(country="DE", requirement=requirement)
    requirement.delete()
    block.refresh_from_db()
    assert block.requirement is None
    assert str(requirement) == "Proof of address (DE, Local, v1)"
