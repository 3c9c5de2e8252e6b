"""The migrations that make the extra-channel price per month and record a rental's extra
channels keep what buyers paid (issue 10, items 17 and 18)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BEFORE = [("inventory", "0005_did_unpaid_hold"), ("billing", "0009_charge_buyer_vat_identity")]
AFTER = [
    ("inventory", "0006_block_extra_channel_price_per_month"),
    ("billing", "0010_subscription_included_and_extra_channels"),
]
NOW = datetime(2026, 4, 1, tzinfo=UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_prices_become_per_month_and_rentals_record_their_extra_channels(customer):
    apps = migrate(BEFORE)
    try:
        Account = apps.get_model("accounts", "Account")
        Operator = apps.get_model("inventory", "Operator")
        Block = apps.get_model("inventory", "NumberBlock")
        DID = apps.get_model("inventory", "DID")
        Subscription = apps.get_model("billing", "Subscription")
        operator = Operator.objects.create(name="Range")
        monthly = Block.objects.create(
            operator=operator,
            country="NL",
            monthly_price=Decimal("2"),
            weekly_price=Decimal("0.60"),
            extra_channel_price=Decimal("1.50"),
        )
        weekly_only = Block.objects.create(
            operator=operator,
            country="NL",
            weekly_price=Decimal("0.60"),
            extra_channel_price=Decimal("0.50"),
        )
        account = Account.objects.get(pk=customer.pk)
        rentals = []
        for n, (block, unit, price) in enumerate(
            [(monthly, "month", "5.00"), (weekly_only, "week", "1.60"), (monthly, "week", "3.60")]
        ):
            did = DID.objects.create(
                number=f"+3120555000{n}",
                block=block,
                owner=account,
                status="active",
                ever_sold=True,
            )
            rentals.append(
                Subscription.objects.create(
                    account=account,
                    did=did,
                    billing_type="recurring",
                    period_unit=unit,
                    anchor_at=NOW,
                    channels=4,
                    recurring_price=Decimal(price),
                    currency="USD",
                    current_period_start=NOW,
                    current_period_end=datetime(2026, 5, 1, tzinfo=UTC),
                    idempotency_key=f"migration:{n}",
                )
            )
        apps = migrate(AFTER)
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    Block = apps.get_model("inventory", "NumberBlock")
    assert Block.objects.get(pk=monthly.pk).extra_channel_monthly_price == Decimal("1.50")
    # 0.50 a week on a block sold only weekly is 0.50 × 52 / 12 = 2.16667 a month.
    assert Block.objects.get(pk=weekly_only.pk).extra_channel_monthly_price == Decimal("2.16667")
    Subscription = apps.get_model("billing", "Subscription")
    got = [
        (sub.included_channels, sub.extra_channels_price)
        for sub in Subscription.objects.filter(pk__in=[r.pk for r in rentals]).order_by("pk")
    ]
    # 2 extra channels each, at the figure checkout charged per period then.
    assert got == [(2, Decimal("3.00")), (2, Decimal("1.00")), (2, Decimal("3.00"))]
