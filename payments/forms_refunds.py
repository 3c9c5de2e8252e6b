"""Forms of payouts: a customer's request, finance's payment, decline and start."""

from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from didportal.forms import QueryForm

from .models import Payout

AMOUNT = dict(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))


class _Form(forms.Form):
    submit_label = "Save"
    submit_class = "btn-primary"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.add_input(Submit("submit", self.submit_label, css_class=self.submit_class))


class PayoutRequestForm(_Form):
    submit_label = "Ask for the money back"
    amount = forms.DecimalField(**AMOUNT, label="Amount (USD)")
    note = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Note (optional)",
        help_text="Where to send a bank transfer (IBAN, account holder), or anything finance "
        "should know. Card payments go back to the card.",
    )


class PayoutPayForm(_Form):
    submit_label = "Pay out"
    method = forms.ChoiceField(
        choices=Payout.Method.choices, widget=forms.RadioSelect, label="Pay back"
    )
    amount = forms.DecimalField(**AMOUNT, label="Amount (USD)")
    bank_reference = forms.CharField(
        max_length=100,
        required=False,
        label="Bank transfer reference",
        help_text="For a bank transfer: the reference of the transfer you made.",
    )
    note = forms.CharField(
        max_length=500, required=False, label="Note (optional)", help_text="Kept with the payout."
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("method") == Payout.Method.BANK_TRANSFER
            and not data.get("bank_reference", "").strip()
        ):
            self.add_error("bank_reference", "Enter the reference of the bank transfer you made.")
        return data


class PayoutStartForm(PayoutPayForm):
    submit_label = "Pay out now"


class PayoutDeclineForm(_Form):
    submit_label = "Decline"
    submit_class = "btn-outline-danger"
    note = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why (the customer reads this)",
    )


STATUS_TABS = [("requested", "Open"), ("paid", "Paid"), ("declined", "Declined"), ("all", "All")]


class PayoutListQuery(QueryForm):
    status = forms.ChoiceField(required=False, choices=STATUS_TABS)
