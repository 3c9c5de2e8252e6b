"""A number's rental records its plan's included channels and what the channels chosen above
them cost per period, so those can be given up later (issue 10, item 17).

Existing rentals: included = the block's included channels (at most the rental's channels);
the extra part = extra channels × the extra-channel price of the block as checkout used it
then (per billing period: the block's monthly figure, or for a block without a monthly plan
the per-week / per-day figure the previous migration turned into a monthly one), rounded to
the cent and never more than the rental's price."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations, models

CENT = Decimal("0.01")
PERIODS_PER_YEAR = {"weekly_price": 52, "daily_price": 365}


def _old_channel_price(block):
    """The per-period figure the block had before it became per month."""
    price = block.extra_channel_monthly_price
    if block.monthly_price is not None:
        return price
    plan = next((p for p in PERIODS_PER_YEAR if getattr(block, p) is not None), None)
    return price if plan is None else price * 12 / Decimal(PERIODS_PER_YEAR[plan])


def forwards(apps, schema_editor):
    Subscription = apps.get_model("billing", "Subscription")
    rentals = Subscription.objects.filter(kind="number").select_related("did__block")
    for rental in rentals.iterator():
        block = rental.did.block
        included = min(rental.channels, block.channels_included)
        extra = (rental.channels - included) * _old_channel_price(block)
        rental.included_channels = included
        rental.extra_channels_price = min(
            extra.quantize(CENT, ROUND_HALF_UP), rental.recurring_price
        )
        rental.save(update_fields=["included_channels", "extra_channels_price"])


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0009_charge_buyer_vat_identity"),
        ("inventory", "0006_block_extra_channel_price_per_month"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="extra_channels_price",
            field=models.DecimalField(decimal_places=2, default=0, max_digits=14),
        ),
        migrations.AddField(
            model_name="subscription",
            name="included_channels",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="subscription",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("extra_channels_price__gte", 0),
                    ("extra_channels_price__lte", models.F("recurring_price")),
                    ("included_channels__lte", models.F("channels")),
                ),
                name="subscription_extra_channels_within",
            ),
        ),
    ]
