"""The card top-up form and the top-up page's query string."""

import uuid
from decimal import ROUND_CEILING, Decimal

from django import forms

from didportal.forms import QueryForm

from .models import CardPayment

ROUND_AMOUNTS = (Decimal(50), Decimal(100), Decimal(250), Decimal(500))
PRESETS = 3
AMOUNT = {"max_digits": 12, "decimal_places": 2}


def shortfall_preset(shortfall, minimum):
    """What to offer for a checkout's shortfall: rounded up to a whole unit, never below
    the least a top-up may be."""
    return max(shortfall.to_integral_value(rounding=ROUND_CEILING), minimum).quantize(
        Decimal("0.01")
    )


def presets(*, minimum, maximum, shortfall=None):
    """The amounts offered as one-click buttons: the shortfall's first (when paying for a
    checkout), then round amounts the account may pay."""
    found = [shortfall_preset(shortfall, minimum)] if shortfall and shortfall > 0 else []
    for amount in ROUND_AMOUNTS:
        amount = amount.quantize(Decimal("0.01"))
        if len(found) < PRESETS and minimum <= amount <= maximum and amount not in found:
            found.append(amount)
    return [amount for amount in found if amount <= maximum]


class CardTopupQuery(QueryForm):
    """``?return_to=checkout&amount=…``: where to go back to, and an amount to start from
    (only a suggestion: the checkout's shortfall is recomputed on the server)."""

    return_to = forms.ChoiceField(choices=CardPayment.ReturnTo.choices, required=False)
    amount = forms.DecimalField(**AMOUNT, required=False, min_value=Decimal("0.01"))


class CardTopupForm(forms.Form):
    amount = forms.DecimalField(
        **AMOUNT,
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    save_card = forms.BooleanField(required=False, label="Save this card for automatic top-ups")
    return_to = forms.ChoiceField(
        choices=CardPayment.ReturnTo.choices, required=False, widget=forms.HiddenInput
    )
    # A one-time key of this form: a double click opens one payment.
    token = forms.UUIDField(
        widget=forms.HiddenInput,
        initial=uuid.uuid4,
        error_messages={
            "required": "This form is out of date: reload the page and try again.",
            "invalid": "This form is out of date: reload the page and try again.",
        },
    )

    def __init__(self, *args, minimum, maximum, currency, **kwargs):
        super().__init__(*args, **kwargs)
        self.minimum, self.maximum, self.currency = minimum, maximum, currency
        self.fields["amount"].label = f"Amount ({currency})"
        self.fields["amount"].widget.attrs.update(min=str(minimum), max=str(maximum))

    def clean(self):
        cleaned = super().clean()
        # A preset button sends its own amount ("preset"); the field is the typed amount.
        amount = cleaned.get("amount")
        preset = self.data.get("preset")
        if preset not in (None, ""):
            try:
                amount = self.fields["amount"].clean(preset)
            except forms.ValidationError as exc:
                self.add_error("amount", exc)
                return cleaned
        if "amount" in self.errors:
            return cleaned
        if amount is None:
            self.add_error("amount", "Enter the amount to pay.")
        elif amount < self.minimum:
            self.add_error(
                "amount", f"The least you can pay by card is {self.minimum} {self.currency}."
            )
        elif amount > self.maximum:
            self.add_error(
                "amount",
                f"The most you can pay by card at once is {self.maximum} {self.currency}.",
            )
        else:
            cleaned["amount"] = amount
        cleaned["return_to"] = cleaned.get("return_to") or CardPayment.ReturnTo.BALANCE
        return cleaned
