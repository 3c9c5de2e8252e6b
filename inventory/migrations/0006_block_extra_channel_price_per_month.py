"""The extra-channel price is per month (it was "per billing period": the same figure a
month, a week or a day). A block that offers a monthly plan keeps its figure (it was already
the monthly one); a block sold only weekly or daily has its per-week / per-day figure turned
into the per-month one (× 52 / 12, × 365 / 12), so buyers of its plan pay what they paid.
Running subscriptions keep their price snapshots."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations, models

PERIODS_PER_YEAR = {"weekly_price": 52, "daily_price": 365}


def _rescale(apps, to_monthly):
    """Blocks without a monthly plan: their weekly (else daily) figure ↔ the monthly one."""
    NumberBlock = apps.get_model("inventory", "NumberBlock")
    blocks = NumberBlock.objects.filter(
        monthly_price__isnull=True, extra_channel_monthly_price__gt=0
    )
    for block in blocks:
        plan = next((p for p in PERIODS_PER_YEAR if getattr(block, p) is not None), None)
        if plan is None:
            continue
        per_year = Decimal(PERIODS_PER_YEAR[plan])
        factor = per_year / 12 if to_monthly else 12 / per_year
        price = block.extra_channel_monthly_price * factor
        block.extra_channel_monthly_price = price.quantize(Decimal("0.00001"), ROUND_HALF_UP)
        block.save(update_fields=["extra_channel_monthly_price"])


def to_monthly(apps, schema_editor):
    _rescale(apps, to_monthly=True)


def to_per_period(apps, schema_editor):
    _rescale(apps, to_monthly=False)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0005_did_unpaid_hold"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="numberblock", name="block_prices_not_negative"),
        migrations.RenameField(
            model_name="numberblock",
            old_name="extra_channel_price",
            new_name="extra_channel_monthly_price",
        ),
        migrations.RenameField(
            model_name="historicalnumberblock",
            old_name="extra_channel_price",
            new_name="extra_channel_monthly_price",
        ),
        migrations.AlterField(
            model_name="numberblock",
            name="extra_channel_monthly_price",
            field=models.DecimalField(
                decimal_places=5,
                default=0,
                help_text="Per channel above the included ones, per month. Weekly plans pay monthly × 12 / 52 a week and daily plans monthly × 12 / 365 a day (rounded half-up to 5 decimals); a one-time block charges it once.",
                max_digits=14,
                verbose_name="Extra channel price per month",
            ),
        ),
        migrations.AlterField(
            model_name="historicalnumberblock",
            name="extra_channel_monthly_price",
            field=models.DecimalField(
                decimal_places=5,
                default=0,
                help_text="Per channel above the included ones, per month. Weekly plans pay monthly × 12 / 52 a week and daily plans monthly × 12 / 365 a day (rounded half-up to 5 decimals); a one-time block charges it once.",
                max_digits=14,
                verbose_name="Extra channel price per month",
            ),
        ),
        migrations.AddConstraint(
            model_name="numberblock",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("buy_monthly_cost__gte", 0),
                    ("buy_setup_cost__gte", 0),
                    ("connection_fee__gte", 0),
                    ("extra_channel_monthly_price__gte", 0),
                    ("rate_per_minute__gte", 0),
                    ("setup_fee__gte", 0),
                    models.Q(
                        ("monthly_price__isnull", True), ("monthly_price__gte", 0), _connector="OR"
                    ),
                    models.Q(
                        ("weekly_price__isnull", True), ("weekly_price__gte", 0), _connector="OR"
                    ),
                    models.Q(
                        ("daily_price__isnull", True), ("daily_price__gte", 0), _connector="OR"
                    ),
                ),
                name="block_prices_not_negative",
            ),
        ),
        migrations.RunPython(to_monthly, to_per_period),
    ]
