"""The auto top-up settings form."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator


class AutoTopupForm(forms.Form):
    enabled = forms.BooleanField(
        required=False,
        label="Top up automatically",
        help_text="Charge the saved card when the balance falls under the threshold.",
    )
    threshold = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.00"),
        label="When the balance falls under",
    )
    amount = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("1.00"), label="Top up by"
    )

    def __init__(self, *args, currency="USD", **kwargs):
        super().__init__(*args, **kwargs)
        maximum = settings.CARD_TOPUP_MAXIMUM
        for name in ("threshold", "amount"):
            field = self.fields[name]
            field.validators.append(MaxValueValidator(maximum))
            field.label = f"{field.label} ({currency})"
            field.widget.attrs.update(min=str(field.min_value), max=str(maximum), step="0.01")
